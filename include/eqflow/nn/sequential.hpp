// Composition of layers, itself a Layer. Owns the intermediate activations, tangents and
// adjoints (resized when the batch changes) and interleaves the primal and tangent reverse
// passes layer by layer in `backward_dual`.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "eqflow/nn/layer.hpp"

namespace eqflow::nn {

template <class Scalar>
class Sequential final : public Layer<Scalar> {
 public:
  using typename Layer<Scalar>::ConstView;
  using typename Layer<Scalar>::MutView;

  explicit Sequential(std::size_t in_features) : in_(in_features) {}
  //! Appends a layer; throws ShapeError if its input width differs from the current output.
  Sequential& add(std::unique_ptr<Layer<Scalar>> layer);
  template <class L, class... Args>
  Sequential& emplace(Args&&... args) {
    return add(std::make_unique<L>(std::forward<Args>(args)...));
  }

  std::string kind() const override { return "Sequential"; }
  std::size_t in_features() const override { return in_; }
  std::size_t out_features() const override;
  std::size_t size() const { return layers_.size(); }
  Layer<Scalar>& layer(std::size_t i) { return *layers_.at(i); }

  void declare(ParameterStore<Scalar>& store, const std::string& prefix) override;
  void bind(const ParameterStore<Scalar>& store) override;
  void initialize(std::uint64_t seed, std::uint64_t layer_id) override;

  void forward(const ConstView& x, const MutView& y, Mode mode) override;
  void backward(const ConstView& gy, const MutView& gx) override;
  void forward_tangent(const ConstView& tx, const MutView& ty) override;
  void backward_tangent(const ConstView& gty, const MutView& gtx, const MutView& gx) override;
  void backward_dual(const ConstView& gy, const ConstView& gty, const MutView& gx,
                     const MutView& gtx) override;

 private:
  void ensure_buffers(std::vector<View2<Scalar>>& buffers, std::size_t rows,
                      const char* label) const;
  MutView input_adjoint(std::size_t i, const MutView& caller,
                        std::vector<View2<Scalar>>& buffers) const;

  std::size_t in_;
  std::size_t batch_ = 0;            // rows of the last forward
  std::size_t first_trainable_ = 0;  // index of the first layer with parameters
  std::vector<std::unique_ptr<Layer<Scalar>>> layers_;
  // Profiling region names per layer: forward, backward, forward_tangent, backward_dual.
  std::vector<std::array<std::string, 4>> region_names_;
  std::vector<View2<Scalar>> acts_, tangents_, grads_, tangent_grads_;  // per layer boundary
  View2<Scalar> zero_gy_;
};

//! y = inner(x) + x[:, :out]: a residual connection over the first `out` input columns
//! (the score MLP predicts eps as mlp([x, 2t-1]) + x).
template <class Scalar>
class Residual final : public Layer<Scalar> {
 public:
  using typename Layer<Scalar>::ConstView;
  using typename Layer<Scalar>::MutView;

  explicit Residual(std::unique_ptr<Layer<Scalar>> inner);
  std::string kind() const override { return "Residual"; }
  std::size_t in_features() const override { return inner_->in_features(); }
  std::size_t out_features() const override { return inner_->out_features(); }
  Layer<Scalar>& inner() { return *inner_; }

  void declare(ParameterStore<Scalar>& store, const std::string& prefix) override {
    inner_->declare(store, prefix);
  }
  void bind(const ParameterStore<Scalar>& store) override { inner_->bind(store); }
  void initialize(std::uint64_t seed, std::uint64_t layer_id) override {
    inner_->initialize(seed, layer_id);
  }

  void forward(const ConstView& x, const MutView& y, Mode mode) override;
  void backward(const ConstView& gy, const MutView& gx) override;
  void forward_tangent(const ConstView& tx, const MutView& ty) override;
  void backward_tangent(const ConstView& gty, const MutView& gtx, const MutView& gx) override;
  void backward_dual(const ConstView& gy, const ConstView& gty, const MutView& gx,
                     const MutView& gtx) override;

 private:
  std::unique_ptr<Layer<Scalar>> inner_;
};

}  // namespace eqflow::nn
