// A network together with its flat parameter store: the unit that is trained, checkpointed
// and all-reduced. The reference models of DESIGN.md section 2 are built by the factories.
#pragma once

#include <memory>

#include "eqflow/nn/layer.hpp"
#include "eqflow/nn/parameters.hpp"

namespace eqflow::nn {

template <class Scalar>
class Model {
 public:
  using ConstView = typename Layer<Scalar>::ConstView;
  using MutView = typename Layer<Scalar>::MutView;

  //! Declares, allocates, binds and initialises the parameters of `net` (seeded).
  Model(std::unique_ptr<Layer<Scalar>> net, std::uint64_t seed);

  Layer<Scalar>& net() { return *net_; }
  ParameterStore<Scalar>& parameters() { return store_; }
  const ParameterStore<Scalar>& parameters() const { return store_; }
  std::size_t in_features() const { return net_->in_features(); }
  std::size_t out_features() const { return net_->out_features(); }
  void zero_gradients() { store_.zero_gradients(); }

  void forward(const ConstView& x, const MutView& y, Mode mode) { net_->forward(x, y, mode); }
  void backward(const ConstView& gy, const MutView& gx) { net_->backward(gy, gx); }
  void forward_tangent(const ConstView& tx, const MutView& ty) { net_->forward_tangent(tx, ty); }
  void backward_dual(const ConstView& gy, const ConstView& gty, const MutView& gx,
                     const MutView& gtx) {
    net_->backward_dual(gy, gty, gx, gtx);
  }

 private:
  std::unique_ptr<Layer<Scalar>> net_;
  ParameterStore<Scalar> store_;
};

//! Score MLP: input [x, 2t-1] (B, d+1) -> hidden -> hidden -> d, ReLU, output mlp(.) + x
//! (an eps-predictor).
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_score_mlp(std::size_t d, std::size_t hidden = 64);

//! FlowKernel: Fourier encoding (frequencies 2^0..2^(F-1)) -> hidden -> hidden -> d with SiLU,
//! then (optionally) the affine-free batch norm.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_flow_kernel(std::size_t d, std::size_t hidden = 64,
                                                int frequencies = 4, bool final_norm = true);

//! Plain flow MLP: d -> hidden -> hidden -> hidden -> d with SiLU, then (optionally) the
//! affine-free batch norm.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_flow_mlp(std::size_t d, std::size_t hidden = 64,
                                             bool final_norm = true);

//! Copies the parameters and buffers (batch-norm running statistics) of `from` into `to`,
//! casting each value, so that a float-trained model can be analysed in double. Throws
//! ShapeError unless the two models have the same named tensors with the same extents.
template <class From, class To>
void copy_parameters(const Model<From>& from, Model<To>& to) {
  copy_parameters(from.parameters(), to.parameters());
}

}  // namespace eqflow::nn
