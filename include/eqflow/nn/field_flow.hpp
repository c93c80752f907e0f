// The trained flow model of the pattern systems (DESIGN.md section 2, "FlowModel"): a symmetric
// 3x3 convolution with circular padding (independent weights for the centre, the 4 edge and the
// 4 corner neighbours) C -> hidden, batch norm, SiLU, 1x1 convolution hidden -> hidden, batch
// norm, SiLU, 1x1 convolution hidden -> C, optionally a final affine-free batch norm.
//
// Everything after the first convolution acts on each pixel alone, so the network is computed
// on pixel rows (N H W, channels), channels last:
//   - the symmetric convolution is a parameter-free linear stencil, giving per pixel and input
//     channel i the three features [centre, sum of 4 edge neighbours, sum of 4 corners]
//     (column cls * C + i), followed by a Dense layer (3C -> hidden): torch's Conv2d weight
//     W[o][i][dy][dx] = layers.0.weight[o][cls(dy, dx) * C + i];
//   - a 1x1 convolution is a Dense layer on the rows, BatchNorm2d is nn::BatchNorm over the
//     rows (statistics over samples and pixels).
// The per-pixel part is an nn::Sequential, so its four exact operations (forward, backward,
// forward_tangent, backward_tangent) are the point layers' and follow DESIGN.md 1.2: tangents
// use the primal pass's batch statistics as constants (the per-sample divergence), while the
// reverse passes differentiate them. The stencil is linear and self-adjoint (the symmetric
// kernel is its own flip), so its tangent is itself and its adjoint the same stencil.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "eqflow/nn/field_layer.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/nn/sequential.hpp"

namespace eqflow::nn {

//! Pixel rows (N H W, channels) or any (batch, features) matrix, read-only.
template <class Scalar>
using ConstRows = Kokkos::View<const Scalar**, Layout, MemSpace>;

//! Features per input channel of the symmetric stencil: centre, edge sum, corner sum.
inline constexpr std::size_t kSymmetricStencilFeatures = 3;

//! rows (N H W, 3 C) = the symmetric stencil features of x (N, C, H, W), periodic; row
//! (n H + h) W + w, column cls * C + i.
template <class Scalar>
void symmetric_stencil(const ConstField<Scalar>& x, const View2<Scalar>& rows);

//! The adjoint: gx (N, C, H, W) = stencil^T g for g (N H W, 3 C) (overwrites gx).
template <class Scalar>
void symmetric_stencil_adjoint(const ConstRows<Scalar>& g, const MutField<Scalar>& gx);

//! v (N, C, H, W) from pixel rows (N H W, C).
template <class Scalar>
void rows_to_field(const ConstRows<Scalar>& rows, const MutField<Scalar>& v);
//! Pixel rows (N H W, C) from a field (N, C, H, W).
template <class Scalar>
void field_to_rows(const ConstField<Scalar>& v, const View2<Scalar>& rows);

struct FieldFlowConfig {
  std::size_t channels = 2;
  std::size_t hidden = 32;
  bool final_norm = false;  //!< the affine-free batch norm after the last convolution
};

template <class Scalar>
class FieldFlowNetwork {
 public:
  FieldFlowNetwork(FieldFlowConfig config, std::uint64_t seed);

  const FieldFlowConfig& config() const { return config_; }
  Model<Scalar>& model() { return model_; }
  ParameterStore<Scalar>& parameters() { return model_.parameters(); }
  const ParameterStore<Scalar>& parameters() const { return model_.parameters(); }

  //! v = f(x) as pixel rows (N H W, C); x (N, C, H, W) is kept for the calls that follow.
  void forward(const ConstField<Scalar>& x, const View2<Scalar>& v_rows, Mode mode);
  //! v = f(x) as a field (N, C, H, W).
  void velocity(const ConstField<Scalar>& x, const MutField<Scalar>& v, Mode mode);
  //! Tangents at the last forward's x: tx (K N, C, H, W), field k N + n is tangent k of
  //! sample n; ty as pixel rows (K N H W, C).
  void forward_tangent(const ConstField<Scalar>& tx, const View2<Scalar>& ty_rows);
  //! The reverse pass of a loss of v and its tangents: gv (N H W, C) and gtv (K N H W, C) are
  //! the adjoints of the last forward's and forward_tangent's outputs. Accumulates the
  //! parameter gradients; gx (N, C, H, W) gets the input adjoint unless it is empty (the
  //! tangents' adjoint is not returned: probes are constants of the loss).
  void backward_dual(const ConstRows<Scalar>& gv, const ConstRows<Scalar>& gtv,
                     const MutField<Scalar>& gx);

 private:
  FieldFlowConfig config_;
  Model<Scalar> model_;
  std::size_t n_ = 0, h_ = 0, w_ = 0;
  View2<Scalar> features_, tangent_features_, gfeatures_, v_rows_;
};

}  // namespace eqflow::nn
