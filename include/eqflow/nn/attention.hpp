// Multi-head self-attention over the H W positions of a field, with a residual connection:
// diffusers' Attention as UNet2DModel's mid block uses it (GroupNorm on the input, linear
// query / key / value / output projections with bias, heads of `head_dim` channels, softmax of
// q k^T / sqrt(head_dim), output + input). Per (sample, head) the scores are one (HW, HW)
// gemm into a shared workspace; backward recomputes them (memory of one score matrix, not of
// the batch's).
#pragma once

#include <memory>

#include "eqflow/nn/conv2d.hpp"
#include "eqflow/nn/dense.hpp"
#include "eqflow/nn/group_norm.hpp"

namespace eqflow::nn {

template <class Scalar>
class SpatialSelfAttention final : public FieldLayer<Scalar> {
 public:
  //! Throws ShapeError unless head_dim divides channels.
  SpatialSelfAttention(std::size_t channels, std::size_t head_dim = 8, std::size_t groups = 8,
                       double eps = 1e-5, std::shared_ptr<Workspace<Scalar>> workspace = nullptr);
  std::string kind() const override { return "SpatialSelfAttention"; }
  FieldShape output_shape(const FieldShape& in) const override;

  //! group_norm, to_q, to_k, to_v, to_out.0 under `prefix` (diffusers' names).
  void declare(ParameterStore<Scalar>& store, const std::string& prefix) override;
  void bind(const ParameterStore<Scalar>& store) override;
  void initialize(std::uint64_t seed, std::uint64_t layer_id) override;

  void forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode mode) override;
  void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) override;

 private:
  void ensure_buffers(std::size_t n, std::size_t positions);

  std::size_t channels_, head_dim_, heads_;
  std::shared_ptr<Workspace<Scalar>> workspace_;
  GroupNorm<Scalar> norm_;
  Dense<Scalar> to_q_, to_k_, to_v_, to_out_;
  View4<Scalar> normed_, gnormed_;           // (N, C, H, W) group_norm(x) and its adjoint
  View2<Scalar> tokens_, q_, k_, v_;         // (N HW, C)
  View2<Scalar> merged_, projected_;         // (N HW, C) heads merged, after to_out
  View4<Scalar> qh_, kh_, vh_, oh_;          // (N, heads, HW, head_dim)
  View4<Scalar> gqh_, gkh_, gvh_;            // (N, heads, HW, head_dim)
  View2<Scalar> gtokens_, gtemp_, gmerged_;  // (N HW, C)
};

}  // namespace eqflow::nn
