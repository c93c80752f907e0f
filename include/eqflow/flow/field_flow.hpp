// Flows on fields (the pattern systems, DESIGN.md 1.3 and section 2): velocity fields v(x) on
// batches of fields (N, C, H, W) that keep the data density p stationary, given the score s at x.
//
//   training-free  v = K * s with an antisymmetric convolution kernel K, k[o][i](d) =
//                  -k[i][o](-d), applied with circular padding: div(p K grad log p) =
//                  div(K grad p) = 0 exactly. Kernels: the 1x1 swap [[0, g], [-g, 0]] / sqrt(2),
//                  a random antisymmetric 1x1 or 3x3 kernel (p - p^T, normalised).
//   trained        v = the FieldFlowNetwork of nn/field_flow.hpp, trained on the equilibrium
//                  residual r = div v + v . s at diffused fields.
//   baselines      v = K * s with a random, not antisymmetric, 1x1 kernel; v = the output of a
//                  "reweighted" score UNet (each parameter tensor redrawn from its mean and std).
//
// The trained flow's loss (the reference's) is mean_b(r1_b r2_b) / mean_b(|v_b|^2), r1 and r2
// two independent Hutchinson estimates of the residual from K/2 Gaussian probes each, |v_b|^2
// the sum over sample b's elements; its gradient is exact (reverse mode through the tangent
// passes, batch statistics as in DESIGN.md 1.2).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/field_diffusion.hpp"
#include "eqflow/diffusion/field_trainer.hpp"
#include "eqflow/nn/field_flow.hpp"
#include "eqflow/nn/optimizer.hpp"

namespace eqflow::flow {

//! A velocity field on fields.
template <class Scalar>
class FieldFlow {
 public:
  virtual ~FieldFlow() = default;
  //! v (N, C, H, W) at x given the score s at x (flows that do not need s ignore it).
  virtual void velocity(const nn::ConstField<Scalar>& x, const nn::ConstField<Scalar>& s,
                        const nn::MutField<Scalar>& v) = 0;
};

//! A convolution kernel over channels and space, (C, C, size, size), size odd; (K * s)[o](y, x)
//! = sum_i sum_{dy, dx} k[o][i](dy, dx) s[i](y + dy, x + dx) with periodic indices, dy, dx in
//! [-size/2, size/2].
struct ChannelKernel {
  std::size_t channels = 0, size = 1;
  std::vector<double> values;  //!< [o][i][dy + size/2][dx + size/2], row-major

  double& at(std::size_t o, std::size_t i, std::size_t ky, std::size_t kx) {
    return values[((o * channels + i) * size + ky) * size + kx];
  }
  double at(std::size_t o, std::size_t i, std::size_t ky, std::size_t kx) const {
    return values[((o * channels + i) * size + ky) * size + kx];
  }
  //! max |k[o][i](d) + k[i][o](-d)|: 0 for an antisymmetric kernel.
  double antisymmetry_defect() const;
  //! The Frobenius norm.
  double norm() const;
};

//! [[0, g], [-g, 0]] / sqrt(2) (two channels), g = +1 or -1.
ChannelKernel swap_kernel(int g);
//! k = p - p^T (p[o][i](d) iid standard normal, p^T[o][i](d) = p[i][o](-d)), divided by its
//! Frobenius norm; size 1 or 3. A pure function of (seed, stream).
ChannelKernel random_antisymmetric_kernel(std::size_t channels, std::size_t size,
                                          const CounterRng& rng);
//! A 1x1 kernel with iid standard normal entries divided by its norm (not antisymmetric: the
//! reference's random baseline).
ChannelKernel random_kernel(std::size_t channels, const CounterRng& rng);
//! The kernel a deck names: "swap" (with g), "random" (1x1 antisymmetric) or "spatial" (3x3
//! antisymmetric). Throws Error naming the choices otherwise.
ChannelKernel make_kernel(const std::string& kind, std::size_t channels, int g,
                          const CounterRng& rng);

//! v = K * s.
template <class Scalar>
class KernelFlow final : public FieldFlow<Scalar> {
 public:
  explicit KernelFlow(ChannelKernel kernel);
  const ChannelKernel& kernel() const { return kernel_; }
  void velocity(const nn::ConstField<Scalar>& x, const nn::ConstField<Scalar>& s,
                const nn::MutField<Scalar>& v) override;

 private:
  ChannelKernel kernel_;
  View1<Scalar> weights_;  // the kernel on the device
};

//! out = K * in, circular (the operation of KernelFlow).
template <class Scalar>
void apply_kernel(const View1<Scalar>& weights, std::size_t size, const nn::ConstField<Scalar>& in,
                  const nn::MutField<Scalar>& out);

//! v = the trained network (batch norms with their running statistics). Keeps a reference.
template <class Scalar>
class NetworkFlow final : public FieldFlow<Scalar> {
 public:
  explicit NetworkFlow(nn::FieldFlowNetwork<Scalar>& net) : net_(net) {}
  void velocity(const nn::ConstField<Scalar>& x, const nn::ConstField<Scalar>&,
                const nn::MutField<Scalar>& v) override {
    net_.velocity(x, v, nn::Mode::Eval);
  }

 private:
  nn::FieldFlowNetwork<Scalar>& net_;
};

//! v = the raw output of a score model's UNet at a diffusion step (the "reweighted" baseline
//! uses a UNet with redrawn parameters). Keeps a reference.
template <class Scalar>
class UNetOutputFlow final : public FieldFlow<Scalar> {
 public:
  UNetOutputFlow(diffusion::FieldDiffusion<Scalar>& model, int step) : model_(model), step_(step) {}
  void velocity(const nn::ConstField<Scalar>& x, const nn::ConstField<Scalar>&,
                const nn::MutField<Scalar>& v) override;

 private:
  diffusion::FieldDiffusion<Scalar>& model_;
  int step_;
};

//! Redraws every parameter tensor of `store` elementwise from a normal with that tensor's mean
//! and standard deviation (the reference's "random reweighted" network). Pure function of rng.
template <class Scalar>
void reweight_parameters(nn::ParameterStore<Scalar>& store, const CounterRng& rng);

//! The reference's loss of the trained flow and its gradient (see the top of this file).
template <class Scalar>
class FieldEquilibriumLoss {
 public:
  //! `probes` K, even and >= 2.
  explicit FieldEquilibriumLoss(int probes = 4);
  int probes() const { return probes_; }

  //! Loss at x with scores s (B, C, H, W). Probe k of sample b has the normals of counters
  //! ((first_sample + b) K + k) D + e on `rng` (D = C H W). When `gradient`, accumulates
  //! `weight` times the loss's parameter gradient into the network's store.
  double evaluate(nn::FieldFlowNetwork<Scalar>& net, const nn::ConstField<Scalar>& x,
                  const nn::ConstField<Scalar>& s, const CounterRng& rng,
                  std::uint64_t first_sample, nn::Mode mode, bool gradient, double weight = 1.0);
  //! The same with the probes given: (K B, C, H, W), field k B + b is probe k of sample b.
  double evaluate_with_probes(nn::FieldFlowNetwork<Scalar>& net, const nn::ConstField<Scalar>& x,
                              const nn::ConstField<Scalar>& s, const nn::ConstField<Scalar>& probes,
                              nn::Mode mode, bool gradient, double weight = 1.0);

  //! Of the last evaluation: the two residual estimates (B) and the velocity rows (B H W, C).
  const std::vector<double>& residual1() const { return r1_; }
  const std::vector<double>& residual2() const { return r2_; }
  View2<Scalar> velocity_rows() const { return v_rows_; }

 private:
  int probes_;
  View4<Scalar> z_;
  View2<Scalar> v_rows_, jz_rows_, gv_rows_, gjz_rows_;
  View2<double> q_;              // (K, B): z . J z per probe and sample
  View2<double> moments_;        // (B, 2): v . s and |v|^2 per sample
  View2<double> coefficients_;   // (K + 2, B): dL/dq, then dL/d(v . s), dL/d|v|^2
  std::vector<double> r1_, r2_;  // (B)
};

struct FieldFlowTrainingSettings {
  std::int64_t epochs = 1000;
  std::int64_t batch = 128;  //!< fields per micro-batch
  int accumulation = 8;      //!< micro-batches per optimiser step
  double lr = 1e-2;
  double weight_decay = 1e-5;  //!< AdamW (decoupled)
  double clip = 1.0;           //!< gradient-norm clip; 0: none
  int probes = 4;
  int step = 10;  //!< diffusion step of the training fields x_t and their score
  //! 0: fresh noise for every field in every epoch (the reference); K > 0: K noisy copies x_t
  //! of every training field, diffused and scored once and kept in host memory (2 K N C H W
  //! values), epoch e using copy e mod K, so an epoch costs the flow alone, not the score
  //! network.
  int score_draws = 0;
};

//! Trains a FieldFlowNetwork on one rank (seeds fan out over ranks): every epoch visits the
//! training fields in a permutation that is a pure function of (rng, epoch), diffuses each
//! micro-batch to step t (x_t = sqrt(a) x0 + sqrt(1 - a) eps, eps a function of (rng, epoch,
//! position)), takes the score s(x_t) as a constant, and accumulates the loss's gradient over
//! `accumulation` micro-batches (each weighted 1/accumulation) before an AdamW step with
//! gradient clipping. A run resumed at an epoch boundary continues bit for bit.
template <class Scalar>
class FieldFlowTrainer {
 public:
  FieldFlowTrainer(nn::FieldFlowNetwork<Scalar>& net, diffusion::FieldScore<Scalar>& score,
                   diffusion::FieldSource<Scalar> source, FieldFlowTrainingSettings settings,
                   const CounterRng& rng);

  std::int64_t epoch() const { return static_cast<std::int64_t>(history_.size()); }
  bool done() const { return epoch() >= settings_.epochs; }
  //! Mean micro-batch loss per epoch.
  const std::vector<double>& history() const { return history_; }
  nn::Adam<Scalar>& optimizer() { return adam_; }
  const FieldFlowTrainingSettings& settings() const { return settings_; }
  //! Trains one epoch; `on_batch(micro-batch, mean loss so far)` after every micro-batch.
  void run_epoch(const std::function<void(std::int64_t, double)>& on_batch = {});
  //! Resumes after a checkpointed epoch (parameters and optimiser restored by the caller).
  void restore(std::vector<double> history) { history_ = std::move(history); }

 private:
  //! Fills the kept copy `draw` (score_draws > 0) unless it is there.
  void ensure_draw(std::size_t draw);

  nn::FieldFlowNetwork<Scalar>& net_;
  diffusion::FieldScore<Scalar>& score_;
  diffusion::FieldSource<Scalar> source_;
  FieldFlowTrainingSettings settings_;
  CounterRng rng_;
  nn::Adam<Scalar> adam_;
  FieldEquilibriumLoss<Scalar> loss_;
  std::vector<double> history_;
  View4<Scalar> x0_, xt_, s_;
  std::vector<std::vector<Scalar>> kept_xt_, kept_s_;  // per draw, (N, C, H, W) on the host
};

}  // namespace eqflow::flow
