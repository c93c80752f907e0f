// The interface of the layers on fields: batches of images (N, C, H, W) as LayoutRight Views.
// It mirrors nn::Layer (layer.hpp) for the convolutional networks of the pattern systems:
//
//   forward   y  = f(x; theta)                          x (N, C, H, W), y (N, C', H', W')
//   backward  gx = (df/dx)^T gy, theta_grad += (df/dtheta)^T gy
//
// The tangent operations of nn::Layer (forward_tangent and backward_tangent on K tangent
// fields per sample, row k*N + n belonging to sample n) join this interface with the flow
// models on fields; every layer therefore keeps handles to the inputs of its last forward
// (the primal point a tangent pass linearises at), and the caller keeps those Views unchanged
// until the backward call that follows. An empty `gx` (size 0) means the caller does not need
// the input adjoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/nn/layer.hpp"
#include "eqflow/nn/parameters.hpp"

namespace eqflow::nn {

//! The extents of one field: channels, height, width.
struct FieldShape {
  std::size_t channels = 0, height = 0, width = 0;
  std::size_t size() const { return channels * height * width; }
  bool operator==(const FieldShape& o) const {
    return channels == o.channels && height == o.height && width == o.width;
  }
};

template <class Scalar>
using ConstField = Kokkos::View<const Scalar****, Layout, MemSpace>;
template <class Scalar>
using MutField = Kokkos::View<Scalar****, Layout, MemSpace>;

//! The shape of field batch `x` without its batch extent.
template <class V>
FieldShape shape_of(const V& x) {
  return FieldShape{x.extent(1), x.extent(2), x.extent(3)};
}

template <class Scalar>
class FieldLayer {
 public:
  virtual ~FieldLayer() = default;
  virtual std::string kind() const = 0;
  //! The output shape for an input of shape `in`; throws ShapeError if the layer cannot take it.
  virtual FieldShape output_shape(const FieldShape& in) const = 0;

  //! Declares parameters under `prefix` (e.g. "conv_in.") in the flat store.
  virtual void declare(ParameterStore<Scalar>& /*store*/, const std::string& /*prefix*/) {}
  //! Binds to the allocated store (views into its flat arrays).
  virtual void bind(const ParameterStore<Scalar>& /*store*/) {}
  //! PyTorch's default initialisation, a pure function of `seed` and `layer_id`.
  virtual void initialize(std::uint64_t /*seed*/, std::uint64_t /*layer_id*/) {}

  virtual void forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode mode) = 0;
  virtual void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) = 0;
};

}  // namespace eqflow::nn
