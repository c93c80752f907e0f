// Fourier feature encoding of the FlowKernel: x (B, d) -> [x, sin(2^0 x), cos(2^0 x), ...,
// sin(2^(F-1) x), cos(2^(F-1) x)] (B, (2F+1) d), blocks of width d in that order.
#pragma once

#include "eqflow/nn/layer.hpp"

namespace eqflow::nn {

template <class Scalar>
class FourierEncoding final : public Layer<Scalar> {
 public:
  using typename Layer<Scalar>::ConstView;
  using typename Layer<Scalar>::MutView;

  FourierEncoding(std::size_t features, int frequencies = 4)
      : d_(features), frequencies_(frequencies) {}
  std::string kind() const override { return "FourierEncoding"; }
  std::size_t in_features() const override { return d_; }
  std::size_t out_features() const override { return d_ * (2 * frequencies_ + 1); }

  void forward(const ConstView& x, const MutView& y, Mode mode) override;
  void backward(const ConstView& gy, const MutView& gx) override;
  void forward_tangent(const ConstView& tx, const MutView& ty) override;
  void backward_tangent(const ConstView& gty, const MutView& gtx, const MutView& gx) override;

 private:
  void apply_transposed_jacobian(const ConstView& in, const MutView& out, const char* label) const;

  std::size_t d_;
  int frequencies_;
  ConstView tx_;
  View2<Scalar> trig_;  // (B, 2 F d) sin / cos of the last forward's inputs
};

}  // namespace eqflow::nn
