// Group normalisation (Wu & He 2018) with per-channel affine parameters, as
// torch.nn.GroupNorm: each sample's channels split into G groups, each group normalised by
// the mean and (biased) variance over its channels and positions. Statistics are per sample,
// so there is no train/eval difference and no running state.
#pragma once

#include "eqflow/nn/field_layer.hpp"

namespace eqflow::nn {

template <class Scalar>
class GroupNorm final : public FieldLayer<Scalar> {
 public:
  //! Throws ShapeError unless `groups` divides `channels`.
  GroupNorm(std::size_t groups, std::size_t channels, double eps = 1e-5);
  std::string kind() const override { return "GroupNorm"; }
  FieldShape output_shape(const FieldShape& in) const override;

  void declare(ParameterStore<Scalar>& store, const std::string& prefix) override;
  void bind(const ParameterStore<Scalar>& store) override;
  //! weight 1, bias 0 (PyTorch's default).
  void initialize(std::uint64_t seed, std::uint64_t layer_id) override;

  void forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode mode) override;
  void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) override;

 private:
  std::size_t groups_, channels_;
  Scalar eps_;
  std::size_t w_offset_ = 0, b_offset_ = 0;
  Unmanaged1<Scalar> w_, gw_, b_, gb_;  // (C)
  ConstField<Scalar> x_;
  View2<Scalar> mean_, istd_;  // (N, G) of the last forward
  View3<Scalar> sums_;         // backward: (N, C, 2) sums of gy and gy xhat per channel
};

}  // namespace eqflow::nn
