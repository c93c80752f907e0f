// Batch normalisation over the batch axis (PyTorch BatchNorm1d semantics): per feature
// y = gamma (x - mean) / sqrt(var + eps) + beta, biased batch variance in training, running
// statistics updated with `momentum` using the unbiased variance. Without affine parameters
// (the flow models' final layer) it forces every output coordinate to zero mean and unit
// variance over the batch, which excludes the trivial flow v = 0.
//
// Tangents use the statistics of the primal pass as constants; backward and
// backward_tangent differentiate through the batch statistics in Train mode.
#pragma once

#include "eqflow/nn/layer.hpp"

namespace eqflow::nn {

template <class Scalar>
class BatchNorm final : public Layer<Scalar> {
 public:
  using typename Layer<Scalar>::ConstView;
  using typename Layer<Scalar>::MutView;

  BatchNorm(std::size_t features, bool affine, Scalar eps = Scalar(1e-5),
            Scalar momentum = Scalar(0.1));
  std::string kind() const override { return affine_ ? "BatchNorm" : "BatchNorm(affine=false)"; }
  std::size_t in_features() const override { return n_; }
  std::size_t out_features() const override { return n_; }

  void declare(ParameterStore<Scalar>& store, const std::string& prefix) override;
  void bind(const ParameterStore<Scalar>& store) override;
  //! gamma = 1, beta = 0, running mean 0, running variance 1.
  void initialize(std::uint64_t seed, std::uint64_t layer_id) override;

  void forward(const ConstView& x, const MutView& y, Mode mode) override;
  void backward(const ConstView& gy, const MutView& gx) override;
  void forward_tangent(const ConstView& tx, const MutView& ty) override;
  void backward_tangent(const ConstView& gty, const MutView& gtx, const MutView& gx) override;

  Unmanaged1<Scalar> running_mean() const { return running_mean_; }  // (F)
  Unmanaged1<Scalar> running_var() const { return running_var_; }    // (F)
  View1<Scalar> batch_mean() const { return batch_mean_; }           // (F)
  View1<Scalar> batch_inv_std() const { return batch_inv_std_; }     // (F)

 private:
  std::size_t n_;
  bool affine_;
  Scalar eps_, momentum_;
  std::size_t gamma_offset_ = 0, beta_offset_ = 0, buffer_offset_ = 0;
  Unmanaged1<Scalar> gamma_, beta_, ggamma_, gbeta_;
  Unmanaged1<Scalar> running_mean_, running_var_;
  View1<Scalar> batch_mean_, batch_inv_std_;  // statistics of the last Train forward
  View1<Scalar> mean_, inv_std_;              // statistics used by the last forward
  bool differentiate_stats_ = false;          // true after a Train forward
  View2<Scalar> xhat_;                        // (B, F) normalised input
  ConstView tx_;
  View2<Scalar> partial_;       // (row blocks, 2 F) partial column sums
  View2<Scalar> coefficients_;  // (3, F) per-feature factors of the elementwise passes
  void ensure_coefficients(std::size_t count);
};

}  // namespace eqflow::nn
