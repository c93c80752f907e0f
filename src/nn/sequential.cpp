// Sequential composition, the residual wrapper, Model and the reference model factories.
#include "eqflow/nn/sequential.hpp"

#include <fmt/core.h>

#include "eqflow/core/error.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/nn/activation.hpp"
#include "eqflow/nn/architecture.hpp"
#include "eqflow/nn/batch_norm.hpp"
#include "eqflow/nn/dense.hpp"
#include "eqflow/nn/fourier_encoding.hpp"
#include "eqflow/nn/model.hpp"

namespace eqflow::nn {

// ----------------------------------------------------------------------------- Sequential

template <class Scalar>
Sequential<Scalar>& Sequential<Scalar>::add(std::unique_ptr<Layer<Scalar>> layer) {
  const std::size_t expected = out_features();
  if (layer->in_features() != expected) {
    throw ShapeError(fmt::format("Sequential: layer {} ({}) takes {} features, previous gives {}",
                                 layers_.size(), layer->kind(), layer->in_features(), expected));
  }
  const std::string name = fmt::format("eqflow::layers.{}.{}", layers_.size(), layer->kind());
  region_names_.push_back({name + "::forward", name + "::backward", name + "::forward_tangent",
                           name + "::backward_tangent"});
  layers_.push_back(std::move(layer));
  return *this;
}

template <class Scalar>
std::size_t Sequential<Scalar>::out_features() const {
  return layers_.empty() ? in_ : layers_.back()->out_features();
}

template <class Scalar>
void Sequential<Scalar>::declare(ParameterStore<Scalar>& store, const std::string& prefix) {
  first_trainable_ = layers_.size();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const std::size_t before = store.num_parameters();
    layers_[i]->declare(store, fmt::format("{}layers.{}.", prefix, i));
    if (store.num_parameters() > before && first_trainable_ == layers_.size()) {
      first_trainable_ = i;
    }
  }
}

template <class Scalar>
void Sequential<Scalar>::bind(const ParameterStore<Scalar>& store) {
  for (auto& layer : layers_) layer->bind(store);
}

template <class Scalar>
void Sequential<Scalar>::initialize(std::uint64_t seed, std::uint64_t layer_id) {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->initialize(seed, mix64(layer_id * 0x100000001B3ull + i + 1));
  }
}

template <class Scalar>
void Sequential<Scalar>::ensure_buffers(std::vector<View2<Scalar>>& buffers, std::size_t rows,
                                        const char* label) const {
  if (layers_.empty()) throw ShapeError("Sequential: no layers");
  buffers.resize(layers_.size() - 1);
  for (std::size_t i = 0; i + 1 < layers_.size(); ++i) {
    const std::size_t width = layers_[i]->out_features();
    if (buffers[i].extent(0) != rows || buffers[i].extent(1) != width) {
      buffers[i] = View2<Scalar>(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, fmt::format("{}.{}", label, i)), rows,
          width);
    }
  }
}

template <class Scalar>
void Sequential<Scalar>::forward(const ConstView& x, const MutView& y, Mode mode) {
  ensure_buffers(acts_, x.extent(0), "eqflow::Sequential::activation");
  batch_ = x.extent(0);
  const std::size_t last = layers_.size() - 1;
  for (std::size_t i = 0; i <= last; ++i) {
    const ConstView in = i == 0 ? x : ConstView(acts_[i - 1]);
    const MutView out = i == last ? y : acts_[i];
    ScopedRegion region(region_names_[i][0]);
    layers_[i]->forward(in, out, mode);
  }
}

template <class Scalar>
void Sequential<Scalar>::forward_tangent(const ConstView& tx, const MutView& ty) {
  ensure_buffers(tangents_, tx.extent(0), "eqflow::Sequential::tangent");
  const std::size_t last = layers_.size() - 1;
  for (std::size_t i = 0; i <= last; ++i) {
    const ConstView in = i == 0 ? tx : ConstView(tangents_[i - 1]);
    const MutView out = i == last ? ty : tangents_[i];
    ScopedRegion region(region_names_[i][2]);
    layers_[i]->forward_tangent(in, out);
  }
}

// Adjoint of layer i's input: the caller's view for layer 0, an internal buffer otherwise;
// empty when the caller wants no input adjoint and no trainable layer lies at or before i.
template <class Scalar>
typename Sequential<Scalar>::MutView Sequential<Scalar>::input_adjoint(
    std::size_t i, const MutView& caller, std::vector<View2<Scalar>>& buffers) const {
  if (caller.size() == 0 && i <= first_trainable_) return MutView();
  return i == 0 ? caller : MutView(buffers[i - 1]);
}

template <class Scalar>
void Sequential<Scalar>::backward(const ConstView& gy, const MutView& gx) {
  ensure_buffers(grads_, batch_, "eqflow::Sequential::gradient");
  for (std::size_t i = layers_.size(); i-- > 0;) {
    if (gx.size() == 0 && i < first_trainable_) break;
    const ConstView g_out = i + 1 == layers_.size() ? gy : ConstView(grads_[i]);
    ScopedRegion region(region_names_[i][1]);
    layers_[i]->backward(g_out, input_adjoint(i, gx, grads_));
  }
}

template <class Scalar>
void Sequential<Scalar>::backward_dual(const ConstView& gy, const ConstView& gty, const MutView& gx,
                                       const MutView& gtx) {
  ensure_buffers(grads_, batch_, "eqflow::Sequential::gradient");
  ensure_buffers(tangent_grads_, gty.extent(0), "eqflow::Sequential::tangent_gradient");
  for (std::size_t i = layers_.size(); i-- > 0;) {
    if (gx.size() == 0 && gtx.size() == 0 && i < first_trainable_) break;
    const bool last = i + 1 == layers_.size();
    const ConstView g_out = last ? gy : ConstView(grads_[i]);
    const ConstView gt_out = last ? gty : ConstView(tangent_grads_[i]);
    ScopedRegion region(region_names_[i][3]);
    layers_[i]->backward_dual(g_out, gt_out, input_adjoint(i, gx, grads_),
                              input_adjoint(i, gtx, tangent_grads_));
  }
}

template <class Scalar>
void Sequential<Scalar>::backward_tangent(const ConstView& gty, const MutView& gtx,
                                          const MutView& gx) {
  // The tangent path's contribution to gx still has to pass back through the primal
  // layers before it: run the interleaved pass with a zero primal adjoint, then add.
  const std::size_t out = out_features();
  if (zero_gy_.extent(0) != batch_ || zero_gy_.extent(1) != out) {
    zero_gy_ = View2<Scalar>("eqflow::Sequential::zero_gy", batch_, out);
  }
  if (gx.size() == 0) {
    backward_dual(zero_gy_, gty, MutView(), gtx);
    return;
  }
  View2<Scalar> extra(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Sequential::gx"),
                      gx.extent(0), gx.extent(1));
  backward_dual(zero_gy_, gty, extra, gtx);
  Kokkos::parallel_for(
      "eqflow::Sequential::accumulate", RangePolicy(0, gx.size()),
      KOKKOS_LAMBDA(const std::size_t i) { gx.data()[i] += extra.data()[i]; });
}

// ------------------------------------------------------------------------------- Residual

namespace {
// y[:, :w] += x[:, :w] where w = y.extent(1).
template <class Scalar>
void add_leading_columns(const Kokkos::View<const Scalar**, Layout, MemSpace>& x,
                         const Kokkos::View<Scalar**, Layout, MemSpace>& y) {
  if (y.size() == 0) return;
  const std::size_t w = y.extent(1);
  Kokkos::parallel_for(
      "eqflow::Residual::add", RangePolicy(0, y.size()),
      KOKKOS_LAMBDA(const std::size_t i) { y(i / w, i % w) += x(i / w, i % w); });
}
// gx[:, :w] += gy where w = gy.extent(1).
template <class Scalar>
void add_into_leading_columns(const Kokkos::View<const Scalar**, Layout, MemSpace>& gy,
                              const Kokkos::View<Scalar**, Layout, MemSpace>& gx) {
  if (gx.size() == 0) return;
  const std::size_t w = gy.extent(1);
  Kokkos::parallel_for(
      "eqflow::Residual::add_adjoint", RangePolicy(0, gy.size()),
      KOKKOS_LAMBDA(const std::size_t i) { gx(i / w, i % w) += gy(i / w, i % w); });
}
}  // namespace

template <class Scalar>
Residual<Scalar>::Residual(std::unique_ptr<Layer<Scalar>> inner) : inner_(std::move(inner)) {
  if (inner_->out_features() > inner_->in_features()) {
    throw ShapeError("Residual: the inner layer's output is wider than its input");
  }
}

template <class Scalar>
void Residual<Scalar>::forward(const ConstView& x, const MutView& y, Mode mode) {
  inner_->forward(x, y, mode);
  add_leading_columns<Scalar>(x, y);
}

template <class Scalar>
void Residual<Scalar>::backward(const ConstView& gy, const MutView& gx) {
  inner_->backward(gy, gx);
  add_into_leading_columns<Scalar>(gy, gx);
}

template <class Scalar>
void Residual<Scalar>::forward_tangent(const ConstView& tx, const MutView& ty) {
  inner_->forward_tangent(tx, ty);
  add_leading_columns<Scalar>(tx, ty);
}

template <class Scalar>
void Residual<Scalar>::backward_tangent(const ConstView& gty, const MutView& gtx,
                                        const MutView& gx) {
  inner_->backward_tangent(gty, gtx, gx);
  add_into_leading_columns<Scalar>(gty, gtx);
}

template <class Scalar>
void Residual<Scalar>::backward_dual(const ConstView& gy, const ConstView& gty, const MutView& gx,
                                     const MutView& gtx) {
  inner_->backward_dual(gy, gty, gx, gtx);
  add_into_leading_columns<Scalar>(gy, gx);
  add_into_leading_columns<Scalar>(gty, gtx);
}

// ---------------------------------------------------------------------------------- Model

template <class Scalar>
Model<Scalar>::Model(std::unique_ptr<Layer<Scalar>> net, std::uint64_t seed)
    : net_(std::move(net)) {
  net_->declare(store_, "");
  store_.allocate();
  net_->bind(store_);
  net_->initialize(seed, 0);
}

template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_score_mlp(std::size_t d, std::size_t hidden) {
  auto mlp = std::make_unique<Sequential<Scalar>>(d + 1);
  mlp->template emplace<Dense<Scalar>>(d + 1, hidden)
      .template emplace<ReLU<Scalar>>(hidden)
      .template emplace<Dense<Scalar>>(hidden, hidden)
      .template emplace<ReLU<Scalar>>(hidden)
      .template emplace<Dense<Scalar>>(hidden, d);
  return std::make_unique<Residual<Scalar>>(std::move(mlp));
}

template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_flow_kernel(std::size_t d, std::size_t hidden, int frequencies,
                                                bool final_norm) {
  auto net = std::make_unique<Sequential<Scalar>>(d);
  net->template emplace<FourierEncoding<Scalar>>(d, frequencies);
  net->template emplace<Dense<Scalar>>(net->out_features(), hidden)
      .template emplace<SiLU<Scalar>>(hidden)
      .template emplace<Dense<Scalar>>(hidden, hidden)
      .template emplace<SiLU<Scalar>>(hidden)
      .template emplace<Dense<Scalar>>(hidden, d);
  if (final_norm) net->template emplace<BatchNorm<Scalar>>(d, false);
  return net;
}

template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_flow_mlp(std::size_t d, std::size_t hidden, bool final_norm) {
  auto net = std::make_unique<Sequential<Scalar>>(d);
  net->template emplace<Dense<Scalar>>(d, hidden)
      .template emplace<SiLU<Scalar>>(hidden)
      .template emplace<Dense<Scalar>>(hidden, hidden)
      .template emplace<SiLU<Scalar>>(hidden)
      .template emplace<Dense<Scalar>>(hidden, hidden)
      .template emplace<SiLU<Scalar>>(hidden)
      .template emplace<Dense<Scalar>>(hidden, d);
  if (final_norm) net->template emplace<BatchNorm<Scalar>>(d, false);
  return net;
}

template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_flow_network(const FlowArchitecture& arch) {
  if (arch.dim == 0) throw Error("flow network: dimension 0");
  if (arch.kind == "mlp") return make_flow_mlp<Scalar>(arch.dim, arch.hidden, arch.final_norm);
  if (arch.kind == "flow_kernel") {
    return make_flow_kernel<Scalar>(arch.dim, arch.hidden, arch.frequencies, arch.final_norm);
  }
  throw Error(
      fmt::format("flow network: unknown kind '{}' (expected flow_kernel or mlp)", arch.kind));
}

template class Sequential<float>;
template class Sequential<double>;
template class Residual<float>;
template class Residual<double>;
template class Model<float>;
template class Model<double>;
template std::unique_ptr<Layer<float>> make_score_mlp<float>(std::size_t, std::size_t);
template std::unique_ptr<Layer<double>> make_score_mlp<double>(std::size_t, std::size_t);
template std::unique_ptr<Layer<float>> make_flow_kernel<float>(std::size_t, std::size_t, int, bool);
template std::unique_ptr<Layer<double>> make_flow_kernel<double>(std::size_t, std::size_t, int,
                                                                 bool);
template std::unique_ptr<Layer<float>> make_flow_mlp<float>(std::size_t, std::size_t, bool);
template std::unique_ptr<Layer<double>> make_flow_mlp<double>(std::size_t, std::size_t, bool);
template std::unique_ptr<Layer<float>> make_flow_network<float>(const FlowArchitecture&);
template std::unique_ptr<Layer<double>> make_flow_network<double>(const FlowArchitecture&);

}  // namespace eqflow::nn
