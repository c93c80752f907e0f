// Fully connected layer y = x W^T + b, W (out, in), b (out); products through gemm.
#pragma once

#include "eqflow/nn/layer.hpp"

namespace eqflow::nn {

template <class Scalar>
class Dense final : public Layer<Scalar> {
 public:
  using typename Layer<Scalar>::ConstView;
  using typename Layer<Scalar>::MutView;

  Dense(std::size_t in, std::size_t out, bool bias = true);
  std::string kind() const override { return "Dense"; }
  std::size_t in_features() const override { return in_; }
  std::size_t out_features() const override { return out_; }

  void declare(ParameterStore<Scalar>& store, const std::string& prefix) override;
  void bind(const ParameterStore<Scalar>& store) override;
  //! PyTorch's nn.Linear default: W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
  void initialize(std::uint64_t seed, std::uint64_t layer_id) override;

  void forward(const ConstView& x, const MutView& y, Mode mode) override;  // (B,in)->(B,out)
  void backward(const ConstView& gy, const MutView& gx) override;          // (B,out)->(B,in)
  void forward_tangent(const ConstView& tx, const MutView& ty) override;   // (KB,in)->(KB,out)
  void backward_tangent(const ConstView& gty, const MutView& gtx, const MutView& gx) override;

  Unmanaged2<Scalar> weight() const { return w_; }  // (out, in)
  Unmanaged1<Scalar> bias() const { return b_; }    // (out)

 private:
  std::size_t in_, out_;
  bool has_bias_;
  std::size_t w_offset_ = 0, b_offset_ = 0;
  Unmanaged2<Scalar> w_, gw_;
  Unmanaged1<Scalar> b_, gb_;
  ConstView x_, tx_;
  View2<Scalar> partial_;  // (row blocks, out) partial bias-gradient sums
};

}  // namespace eqflow::nn
