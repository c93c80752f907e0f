// Flat parameter / gradient / buffer storage with named slots.
#include "eqflow/nn/parameters.hpp"

#include <fmt/core.h>

#include "eqflow/core/error.hpp"

namespace eqflow::nn {

template <class Scalar>
std::size_t ParameterStore<Scalar>::add_parameter(const std::string& name,
                                                  std::vector<std::size_t> extents) {
  if (values_.size() > 0) throw Error(fmt::format("parameter '{}' added after allocate", name));
  TensorSlot slot{name, std::move(extents), num_parameters_};
  num_parameters_ += slot.size();
  parameter_slots_.push_back(std::move(slot));
  return parameter_slots_.back().offset;
}

template <class Scalar>
std::size_t ParameterStore<Scalar>::add_buffer(const std::string& name,
                                               std::vector<std::size_t> extents) {
  if (buffers_.size() > 0) throw Error(fmt::format("buffer '{}' added after allocate", name));
  TensorSlot slot{name, std::move(extents), num_buffers_};
  num_buffers_ += slot.size();
  buffer_slots_.push_back(std::move(slot));
  return buffer_slots_.back().offset;
}

template <class Scalar>
void ParameterStore<Scalar>::allocate() {
  values_ = View1<Scalar>("eqflow::parameters", num_parameters_);
  gradients_ = View1<Scalar>("eqflow::gradients", num_parameters_);
  buffers_ = View1<Scalar>("eqflow::buffers", num_buffers_);
}

template <class Scalar>
void ParameterStore<Scalar>::zero_gradients() const {
  Kokkos::deep_copy(gradients_, Scalar(0));
}

template class ParameterStore<float>;
template class ParameterStore<double>;

}  // namespace eqflow::nn
