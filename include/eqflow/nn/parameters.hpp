// Parameters, their gradients and non-trainable buffers (batch-norm running statistics) of a
// model, each in one flat View, with a table of named slices. A data-parallel step is one
// all-reduce of `gradients()`, a checkpoint is a few flat arrays.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"

namespace eqflow::nn {

//! One named tensor in a flat buffer: `extents` (row-major) starting at `offset`.
struct TensorSlot {
  std::string name;
  std::vector<std::size_t> extents;
  std::size_t offset = 0;
  std::size_t size() const {
    std::size_t n = 1;
    for (auto e : extents) n *= e;
    return n;
  }
};

//! Flat storage for a model's parameters (with gradients) and buffers.
template <class Scalar>
class ParameterStore {
 public:
  //! Reserves a named parameter tensor; returns its offset. Only before `allocate`.
  std::size_t add_parameter(const std::string& name, std::vector<std::size_t> extents);
  //! Reserves a named buffer (saved and restored, never trained).
  std::size_t add_buffer(const std::string& name, std::vector<std::size_t> extents);
  //! Allocates the flat Views (zero-filled).
  void allocate();

  std::size_t num_parameters() const { return num_parameters_; }
  std::size_t num_buffers() const { return num_buffers_; }
  const std::vector<TensorSlot>& parameter_slots() const { return parameter_slots_; }
  const std::vector<TensorSlot>& buffer_slots() const { return buffer_slots_; }

  View1<Scalar> values() const { return values_; }        // (P)
  View1<Scalar> gradients() const { return gradients_; }  // (P)
  View1<Scalar> buffers() const { return buffers_; }      // (Q)
  void zero_gradients() const;

 private:
  std::vector<TensorSlot> parameter_slots_;
  std::vector<TensorSlot> buffer_slots_;
  std::size_t num_parameters_ = 0;
  std::size_t num_buffers_ = 0;
  View1<Scalar> values_;
  View1<Scalar> gradients_;
  View1<Scalar> buffers_;
};

//! Copies the values and buffers of `from` into `to`, casting each value. Throws ShapeError
//! unless the two stores have the same named tensors with the same extents.
template <class From, class To>
void copy_parameters(const ParameterStore<From>& from, const ParameterStore<To>& to);

}  // namespace eqflow::nn
