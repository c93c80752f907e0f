// The interface every layer and model implements: four exact, hand-derived operations.
//
//   forward           y  = f(x; theta)                                  x (B, in),   y (B, out)
//   backward          gx = (df/dx)^T gy, theta_grad += (df/dtheta)^T gy
//   forward_tangent   ty = (df/dx) tx      for K tangents per sample    tx (K*B, in), ty (K*B, out)
//   backward_tangent  reverse mode through the tangent pass: given gty, the adjoint of ty,
//                     gtx = (d ty/d tx)^T gty, gx += (d ty/d x)^T gty, theta_grad += (d ty/d
//                     theta)^T gty
//
// Tangent row k*B + b belongs to sample b. Tangent passes treat batch-norm statistics as
// constants taken from the primal pass (the per-sample divergence of DESIGN.md 1.2), while
// backward_tangent differentiates those statistics with respect to the primal inputs and
// parameters, so the gradient of a loss built from tangents is exact.
//
// Layers keep handles to the inputs of the last forward / forward_tangent call; callers keep
// those Views unchanged until the backward calls that follow. An empty `gx` / `gtx` (size 0)
// means the caller does not need that input adjoint.
#pragma once

#include <cstddef>
#include <string>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/nn/parameters.hpp"

namespace eqflow::nn {

//! How layers with batch statistics behave in `forward`.
enum class Mode {
  Train,   //!< batch statistics (differentiated), running statistics updated
  Eval,    //!< running statistics (constants)
  Frozen,  //!< the statistics of the last Train forward, as constants
};

template <class Scalar>
class Layer {
 public:
  using ConstView = Kokkos::View<const Scalar**, Layout, MemSpace>;
  using MutView = Kokkos::View<Scalar**, Layout, MemSpace>;

  virtual ~Layer() = default;
  virtual std::string kind() const = 0;
  virtual std::size_t in_features() const = 0;
  virtual std::size_t out_features() const = 0;

  //! Declares parameters and buffers under `prefix` (e.g. "layers.2.").
  virtual void declare(ParameterStore<Scalar>& /*store*/, const std::string& /*prefix*/) {}
  //! Binds to the allocated store (views into its flat arrays).
  virtual void bind(const ParameterStore<Scalar>& /*store*/) {}
  //! Default initialisation (PyTorch's), a pure function of `seed` and `layer_id`.
  virtual void initialize(std::uint64_t /*seed*/, std::uint64_t /*layer_id*/) {}

  virtual void forward(const ConstView& x, const MutView& y, Mode mode) = 0;
  virtual void backward(const ConstView& gy, const MutView& gx) = 0;
  virtual void forward_tangent(const ConstView& tx, const MutView& ty) = 0;
  virtual void backward_tangent(const ConstView& gty, const MutView& gtx, const MutView& gx) = 0;

  //! backward followed by backward_tangent: the complete reverse pass of a layer whose
  //! primal output and tangent outputs both reach the loss. Composite models override it to
  //! interleave their layers.
  virtual void backward_dual(const ConstView& gy, const ConstView& gty, const MutView& gx,
                             const MutView& gtx) {
    backward(gy, gx);
    backward_tangent(gty, gtx, gx);
  }
};

}  // namespace eqflow::nn
