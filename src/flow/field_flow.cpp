// Flows on fields (flow/field_flow.hpp): antisymmetric kernels, the baselines, the trained
// flow's loss and its trainer, for float and double. Tests: tests/flow/test_field_flow.cpp
// (div(p v) = 0 for a Gaussian, finite differences, the PyTorch cross-check).
#include "eqflow/flow/field_flow.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/nn/impl/team_reduction.hpp"

namespace eqflow::flow {
namespace {

using nn::impl::SumPair;
using nn::impl::SumPairReducer;
using nn::impl::TeamMember;
using nn::impl::TeamPolicy;

constexpr std::uint64_t kOrderStream = 0x0DE5;
constexpr std::uint64_t kDiffusionNoise = 0xD1F;
constexpr std::uint64_t kProbes = 0x9B0;
constexpr std::uint64_t kKeptNoise = 0xCE7;

//! xt = signal x0 + spread eps, eps[l] = N(counter0 + l) of `noise` (flat over the batch).
template <class Scalar, class X0, class XT>
void diffuse(const X0& x0, const XT& xt, Scalar signal, Scalar spread, const CounterRng& noise,
             std::uint64_t counter0) {
  Kokkos::parallel_for(
      "eqflow::field_flow_diffuse", RangePolicy(0, xt.size()), KOKKOS_LAMBDA(const std::size_t l) {
        xt.data()[l] = signal * x0.data()[l] + spread * Scalar(noise.normal(counter0 + l));
      });
}

template <class Scalar>
void ensure(View2<Scalar>& v, std::size_t rows, std::size_t cols, const std::string& label) {
  if (v.extent(0) != rows || v.extent(1) != cols) {
    v = View2<Scalar>();
    v = View2<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, cols);
  }
}

template <class Scalar>
void ensure(View4<Scalar>& v, std::size_t n, const nn::FieldShape& s, const std::string& label) {
  if (v.extent(0) != n || !(nn::shape_of(v) == s)) {
    v = View4<Scalar>();
    v = View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), n, s.channels,
                      s.height, s.width);
  }
}

ChannelKernel normalised(ChannelKernel k, const char* what) {
  const double n = k.norm();
  if (!(n > 0)) throw Error(fmt::format("{} kernel: zero norm (it needs >= 2 channels)", what));
  for (auto& v : k.values) v /= n;
  return k;
}

}  // namespace

// ------------------------------------------------------------------------------- kernels

double ChannelKernel::antisymmetry_defect() const {
  double worst = 0.0;
  for (std::size_t o = 0; o < channels; ++o)
    for (std::size_t i = 0; i < channels; ++i)
      for (std::size_t ky = 0; ky < size; ++ky)
        for (std::size_t kx = 0; kx < size; ++kx)
          worst =
              std::max(worst, std::abs(at(o, i, ky, kx) + at(i, o, size - 1 - ky, size - 1 - kx)));
  return worst;
}

double ChannelKernel::norm() const {
  double sum = 0.0;
  for (double v : values) sum += v * v;
  return std::sqrt(sum);
}

ChannelKernel swap_kernel(int g) {
  if (g != 1 && g != -1) throw Error(fmt::format("swap kernel: g must be +1 or -1 (got {})", g));
  const double a = g / std::sqrt(2.0);
  return ChannelKernel{2, 1, {0.0, a, -a, 0.0}};
}

ChannelKernel random_antisymmetric_kernel(std::size_t channels, std::size_t size,
                                          const CounterRng& rng) {
  if (size != 1 && size != 3) {
    throw Error(fmt::format("random antisymmetric kernel: size must be 1 or 3 (got {})", size));
  }
  ChannelKernel p{channels, size, std::vector<double>(channels * channels * size * size)};
  for (std::size_t j = 0; j < p.values.size(); ++j) p.values[j] = rng.normal(j);
  ChannelKernel k = p;
  for (std::size_t o = 0; o < channels; ++o)
    for (std::size_t i = 0; i < channels; ++i)
      for (std::size_t ky = 0; ky < size; ++ky)
        for (std::size_t kx = 0; kx < size; ++kx)
          k.at(o, i, ky, kx) = p.at(o, i, ky, kx) - p.at(i, o, size - 1 - ky, size - 1 - kx);
  return normalised(std::move(k), "random antisymmetric");
}

ChannelKernel random_kernel(std::size_t channels, const CounterRng& rng) {
  ChannelKernel k{channels, 1, std::vector<double>(channels * channels)};
  for (std::size_t j = 0; j < k.values.size(); ++j) k.values[j] = rng.normal(j);
  return normalised(std::move(k), "random");
}

ChannelKernel make_kernel(const std::string& kind, std::size_t channels, int g,
                          const CounterRng& rng) {
  if (kind == "swap") {
    if (channels != 2) {
      throw Error(
          fmt::format("kernel 'swap' needs 2 channels (the data has {}); use random or "
                      "spatial",
                      channels));
    }
    return swap_kernel(g);
  }
  if (kind == "random") return random_antisymmetric_kernel(channels, 1, rng);
  if (kind == "spatial") return random_antisymmetric_kernel(channels, 3, rng);
  throw Error(fmt::format("unknown kernel '{}' (expected swap, random or spatial)", kind));
}

template <class Scalar>
void apply_kernel(const View1<Scalar>& weights, std::size_t size, const nn::ConstField<Scalar>& in,
                  const nn::MutField<Scalar>& out) {
  const std::size_t n = in.extent(0), c = in.extent(1), h = in.extent(2), w = in.extent(3);
  if (weights.extent(0) != c * c * size * size || out.extent(0) != n || out.extent(1) != c ||
      out.extent(2) != h || out.extent(3) != w) {
    throw ShapeError(fmt::format(
        "kernel flow: a ({0}, {0}, {1}, {1}) kernel does not map "
        "({2}, {3}, {4}, {5}) to ({6}, {7}, {8}, {9})",
        c, size, n, c, h, w, out.extent(0), out.extent(1), out.extent(2), out.extent(3)));
  }
  const std::size_t r = size / 2;
  Kokkos::parallel_for(
      "eqflow::apply_kernel", RangePolicy(0, n * c * h * w), KOKKOS_LAMBDA(const std::size_t l) {
        const std::size_t x = l % w, y = (l / w) % h, o = (l / (h * w)) % c, s = l / (c * h * w);
        Scalar acc = 0;
        for (std::size_t i = 0; i < c; ++i) {
          const Scalar* f = in.data() + (s * c + i) * h * w;
          const Scalar* k = weights.data() + (o * c + i) * size * size;
          for (std::size_t ky = 0; ky < size; ++ky) {
            const std::size_t yy = (y + h + ky - r) % h;
            for (std::size_t kx = 0; kx < size; ++kx) {
              acc += k[ky * size + kx] * f[yy * w + (x + w + kx - r) % w];
            }
          }
        }
        out.data()[l] = acc;
      });
}

template <class Scalar>
KernelFlow<Scalar>::KernelFlow(ChannelKernel kernel)
    : kernel_(std::move(kernel)), weights_("eqflow::KernelFlow::weights", kernel_.values.size()) {
  auto host = Kokkos::create_mirror_view(weights_);
  for (std::size_t j = 0; j < kernel_.values.size(); ++j) host(j) = Scalar(kernel_.values[j]);
  Kokkos::deep_copy(weights_, host);
}

template <class Scalar>
void KernelFlow<Scalar>::velocity(const nn::ConstField<Scalar>&, const nn::ConstField<Scalar>& s,
                                  const nn::MutField<Scalar>& v) {
  apply_kernel(weights_, kernel_.size, s, v);
}

template <class Scalar>
void UNetOutputFlow<Scalar>::velocity(const nn::ConstField<Scalar>& x,
                                      const nn::ConstField<Scalar>&,
                                      const nn::MutField<Scalar>& v) {
  model_.predict(x, std::vector<int>(x.extent(0), step_), v);
}

template <class Scalar>
void reweight_parameters(nn::ParameterStore<Scalar>& store, const CounterRng& rng) {
  auto values = Kokkos::create_mirror_view_and_copy(HostSpace(), store.values());
  for (const auto& slot : store.parameter_slots()) {
    const std::size_t n = slot.size();
    double mean = 0.0, sq = 0.0;
    for (std::size_t j = 0; j < n; ++j) mean += double(values(slot.offset + j));
    mean /= double(n);
    for (std::size_t j = 0; j < n; ++j) sq += std::pow(double(values(slot.offset + j)) - mean, 2);
    // torch.std: the unbiased estimate (a one-element tensor keeps its value).
    const double sd = n > 1 ? std::sqrt(sq / double(n - 1)) : 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      values(slot.offset + j) = Scalar(mean + sd * rng.normal(slot.offset + j));
    }
  }
  Kokkos::deep_copy(store.values(), values);
}

// --------------------------------------------------------------------------------- loss

template <class Scalar>
FieldEquilibriumLoss<Scalar>::FieldEquilibriumLoss(int probes) : probes_(probes) {
  if (probes < 2 || probes % 2 != 0) {
    throw Error(fmt::format("field flow loss: probes must be even and >= 2 (got {})", probes));
  }
}

template <class Scalar>
double FieldEquilibriumLoss<Scalar>::evaluate(nn::FieldFlowNetwork<Scalar>& net,
                                              const nn::ConstField<Scalar>& x,
                                              const nn::ConstField<Scalar>& s,
                                              const CounterRng& rng, std::uint64_t first_sample,
                                              nn::Mode mode, bool gradient, double weight) {
  const std::size_t b = x.extent(0), k = std::size_t(probes_), d = nn::shape_of(x).size();
  ensure(z_, k * b, nn::shape_of(x), "eqflow::FieldEquilibriumLoss::probes");
  auto z = z_;
  if (d % 2 == 0) {
    // A probe's counters start even, so elements 2j and 2j + 1 are the two normals of one
    // Philox block (normal_pair): the same values as normal() per element, for half the cost.
    const std::size_t half = d / 2;
    Kokkos::parallel_for(
        "eqflow::field_flow_probes", RangePolicy(0, k * b * half),
        KOKKOS_LAMBDA(const std::size_t l) {
          const std::size_t j = l % half, row = l / half, probe = row / b, sample = row % b;
          const std::uint64_t pair = ((first_sample + sample) * k + probe) * half + j;
          double first, second;
          rng.normal_pair(pair, first, second);
          z.data()[2 * l] = static_cast<Scalar>(first);
          z.data()[2 * l + 1] = static_cast<Scalar>(second);
        });
  } else {
    Kokkos::parallel_for(
        "eqflow::field_flow_probes", RangePolicy(0, k * b * d), KOKKOS_LAMBDA(const std::size_t l) {
          const std::size_t e = l % d, row = l / d, probe = row / b, sample = row % b;
          const std::uint64_t counter = ((first_sample + sample) * k + probe) * d + e;
          z.data()[l] = static_cast<Scalar>(rng.normal(counter));
        });
  }
  return evaluate_with_probes(net, x, s, z_, mode, gradient, weight);
}

template <class Scalar>
double FieldEquilibriumLoss<Scalar>::evaluate_with_probes(nn::FieldFlowNetwork<Scalar>& net,
                                                          const nn::ConstField<Scalar>& x,
                                                          const nn::ConstField<Scalar>& s,
                                                          const nn::ConstField<Scalar>& z,
                                                          nn::Mode mode, bool gradient,
                                                          double weight) {
  const std::size_t b = x.extent(0), c = x.extent(1), p = x.extent(2) * x.extent(3);
  const std::size_t k = std::size_t(probes_), d = c * p;
  if (!(nn::shape_of(s) == nn::shape_of(x)) || s.extent(0) != b || z.extent(0) != k * b ||
      !(nn::shape_of(z) == nn::shape_of(x))) {
    throw ShapeError(fmt::format(
        "field flow loss: x ({}, {}, {}, {}) needs scores of its shape and {} probes per sample", b,
        c, x.extent(2), x.extent(3), k));
  }
  ensure(v_rows_, b * p, c, "eqflow::FieldEquilibriumLoss::v");
  ensure(jz_rows_, k * b * p, c, "eqflow::FieldEquilibriumLoss::jz");
  ensure(q_, k, b, "eqflow::FieldEquilibriumLoss::q");
  ensure(moments_, b, 2, "eqflow::FieldEquilibriumLoss::moments");
  ensure(coefficients_, k + 2, b, "eqflow::FieldEquilibriumLoss::coefficients");
  net.forward(x, v_rows_, mode);
  net.forward_tangent(z, jz_rows_);

  // One team per (probe, sample): z . J z; then one per sample: v . s and |v|^2.
  const auto v = v_rows_, jz = jz_rows_;
  const auto q = q_, moments = moments_;
  Kokkos::parallel_for(
      "eqflow::field_flow_residual", TeamPolicy(int(k * b + b), Kokkos::AUTO),
      KOKKOS_LAMBDA(const TeamMember& member) {
        const std::size_t l = std::size_t(member.league_rank());
        if (l < k * b) {
          double sum = 0.0;
          const Scalar* zl = z.data() + l * d;
          Kokkos::parallel_reduce(
              Kokkos::TeamThreadRange(member, d),
              [&](const std::size_t e, double& acc) {
                acc += double(zl[e]) * double(jz(l * p + e % p, e / p));
              },
              sum);
          Kokkos::single(Kokkos::PerTeam(member), [&]() { q(l / b, l % b) = sum; });
        } else {
          const std::size_t n = l - k * b;
          SumPair<double> sums{0.0, 0.0};
          const Scalar* sn = s.data() + n * d;
          Kokkos::parallel_reduce(
              Kokkos::TeamThreadRange(member, d),
              [&](const std::size_t e, SumPair<double>& acc) {
                const double vi = double(v(n * p + e % p, e / p));
                acc.first += vi * double(sn[e]);
                acc.second += vi * vi;
              },
              SumPairReducer<double>(sums));
          Kokkos::single(Kokkos::PerTeam(member), [&]() {
            moments(n, 0) = sums.first;
            moments(n, 1) = sums.second;
          });
        }
      });

  const auto hq = Kokkos::create_mirror_view_and_copy(HostSpace(), q_);
  const auto hm = Kokkos::create_mirror_view_and_copy(HostSpace(), moments_);
  r1_.assign(b, 0.0);
  r2_.assign(b, 0.0);
  double product = 0.0, norm = 0.0;
  const double half = double(k / 2);
  for (std::size_t n = 0; n < b; ++n) {
    for (std::size_t j = 0; j < k; ++j) (j < k / 2 ? r1_[n] : r2_[n]) += hq(j, n) / half;
    r1_[n] += hm(n, 0);
    r2_[n] += hm(n, 0);
    product += r1_[n] * r2_[n];
    norm += hm(n, 1);
  }
  product /= double(b);
  norm /= double(b);
  if (!(norm > 0)) throw Error("field flow loss: the velocity is zero on the whole batch");
  const double loss = product / norm;
  if (!gradient) return loss;

  // dL/dq(j, n) = (dL/dr1 or dL/dr2) / half; dL/d(v.s) = dL/dr1 + dL/dr2;
  // dL/d|v|^2 = -loss / (B norm).
  auto hc = Kokkos::create_mirror_view(coefficients_);
  for (std::size_t n = 0; n < b; ++n) {
    const double d1 = weight * r2_[n] / (double(b) * norm),
                 d2 = weight * r1_[n] / (double(b) * norm);
    for (std::size_t j = 0; j < k; ++j) hc(j, n) = (j < k / 2 ? d1 : d2) / half;
    hc(k, n) = d1 + d2;
    hc(k + 1, n) = -weight * loss / (double(b) * norm);
  }
  Kokkos::deep_copy(coefficients_, hc);
  ensure(gv_rows_, b * p, c, "eqflow::FieldEquilibriumLoss::gv");
  ensure(gjz_rows_, k * b * p, c, "eqflow::FieldEquilibriumLoss::gjz");
  const auto coef = coefficients_;
  const auto gv = gv_rows_, gjz = gjz_rows_;
  Kokkos::parallel_for(
      "eqflow::field_flow_velocity_adjoint", RangePolicy(0, b * d),
      KOKKOS_LAMBDA(const std::size_t l) {
        const std::size_t n = l / d, e = l % d, row = n * p + e % p, col = e / p;
        gv(row, col) = static_cast<Scalar>(coef(k, n) * double(s.data()[l]) +
                                           2.0 * coef(k + 1, n) * double(v(row, col)));
      });
  Kokkos::parallel_for(
      "eqflow::field_flow_tangent_adjoint", RangePolicy(0, k * b * d),
      KOKKOS_LAMBDA(const std::size_t l) {
        const std::size_t row = l / d, e = l % d;
        gjz(row * p + e % p, e / p) =
            static_cast<Scalar>(coef(row / b, row % b) * double(z.data()[l]));
      });
  net.backward_dual(gv_rows_, gjz_rows_, nn::MutField<Scalar>());
  return loss;
}

// ------------------------------------------------------------------------------ trainer

template <class Scalar>
FieldFlowTrainer<Scalar>::FieldFlowTrainer(nn::FieldFlowNetwork<Scalar>& net,
                                           diffusion::FieldScore<Scalar>& score,
                                           diffusion::FieldSource<Scalar> source,
                                           FieldFlowTrainingSettings settings,
                                           const CounterRng& rng)
    : net_(net),
      score_(score),
      source_(std::move(source)),
      settings_(settings),
      rng_(rng),
      adam_(net.parameters().num_parameters(),
            nn::AdamConfig{0.9, 0.999, 1e-8, settings.weight_decay, true}),
      loss_(settings.probes) {
  if (settings_.batch < 1 || settings_.epochs < 0 || settings_.accumulation < 1 ||
      settings_.score_draws < 0) {
    throw Error(fmt::format(
        "flow training: batch and accumulation must be >= 1, epochs and score_draws >= 0 (got "
        "{}, {}, {}, {})",
        settings_.batch, settings_.accumulation, settings_.epochs, settings_.score_draws));
  }
  if (source_.train < 1 || !source_.load) throw Error("flow training: no training fields");
  const int steps = score_.schedule().steps();
  if (settings_.step < 0 || settings_.step >= steps) {
    throw Error(
        fmt::format("flow training: diffusion step {} is outside [0, {})", settings_.step, steps));
  }
  const std::size_t n = std::size_t(std::min<std::int64_t>(settings_.batch, source_.train));
  ensure(x0_, n, source_.shape, "eqflow::FieldFlowTrainer::x0");
  ensure(xt_, n, source_.shape, "eqflow::FieldFlowTrainer::xt");
  ensure(s_, n, source_.shape, "eqflow::FieldFlowTrainer::score");
}

template <class Scalar>
void FieldFlowTrainer<Scalar>::ensure_draw(std::size_t draw) {
  if (kept_xt_.size() <= draw) {
    kept_xt_.resize(draw + 1);
    kept_s_.resize(draw + 1);
  }
  if (!kept_xt_[draw].empty()) return;
  const std::int64_t n = source_.train, batch = settings_.batch;
  const std::size_t d = source_.shape.size();
  const double a = score_.schedule().alpha_bar(settings_.step);
  const CounterRng noise = derive_stream(rng_, kKeptNoise, draw);
  kept_xt_[draw].resize(std::size_t(n) * d);
  kept_s_[draw].resize(std::size_t(n) * d);
  for (std::int64_t first = 0; first < n; first += batch) {
    const std::int64_t size = std::min(batch, n - first);
    std::vector<std::int64_t> indices(static_cast<std::size_t>(size));
    for (std::int64_t i = 0; i < size; ++i) indices[std::size_t(i)] = first + i;
    const auto rows = std::make_pair(std::size_t(0), std::size_t(size));
    const auto x0 = Kokkos::subview(x0_, rows, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    const auto xt = Kokkos::subview(xt_, rows, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    const auto s = Kokkos::subview(s_, rows, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    source_.load(indices, x0);
    diffuse(x0, xt, Scalar(std::sqrt(a)), Scalar(std::sqrt(1.0 - a)), noise,
            std::uint64_t(first) * d);
    score_.score(xt, settings_.step, s);
    const auto hx = Kokkos::create_mirror_view_and_copy(HostSpace(), xt);
    const auto hs = Kokkos::create_mirror_view_and_copy(HostSpace(), s);
    std::copy(hx.data(), hx.data() + hx.size(), kept_xt_[draw].begin() + long(first) * long(d));
    std::copy(hs.data(), hs.data() + hs.size(), kept_s_[draw].begin() + long(first) * long(d));
  }
}

template <class Scalar>
void FieldFlowTrainer<Scalar>::run_epoch(
    const std::function<void(std::int64_t, double)>& on_batch) {
  const std::int64_t e = epoch(), n = source_.train, batch = settings_.batch;
  const auto order = diffusion::epoch_permutation(
      CounterRng(rng_.seed(), mix64(rng_.stream() ^ kOrderStream)), e, n);
  const CounterRng noise = derive_stream(rng_, kDiffusionNoise, std::uint64_t(e));
  const CounterRng probes = derive_stream(rng_, kProbes, std::uint64_t(e));
  const double a = score_.schedule().alpha_bar(settings_.step);
  const std::size_t d = source_.shape.size();
  const bool kept = settings_.score_draws > 0;
  const std::size_t draw = kept ? std::size_t(e % settings_.score_draws) : 0;
  if (kept) ensure_draw(draw);
  auto& store = net_.parameters();
  const std::int64_t micro = (n + batch - 1) / batch;
  double total = 0.0;
  store.zero_gradients();
  for (std::int64_t m = 0; m < micro; ++m) {
    const std::int64_t first = m * batch, size = std::min(batch, n - first);
    const std::vector<std::int64_t> indices(order.begin() + first, order.begin() + first + size);
    const auto rows = std::make_pair(std::size_t(0), std::size_t(size));
    const auto x0 = Kokkos::subview(x0_, rows, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    const auto xt = Kokkos::subview(xt_, rows, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    const auto s = Kokkos::subview(s_, rows, Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    if (kept) {
      // The kept copies of this epoch's fields.
      auto hx = Kokkos::create_mirror_view(xt);
      auto hs = Kokkos::create_mirror_view(s);
      for (std::size_t i = 0; i < indices.size(); ++i) {
        const auto from = long(indices[i]) * long(d);
        std::copy(kept_xt_[draw].begin() + from, kept_xt_[draw].begin() + from + long(d),
                  hx.data() + i * d);
        std::copy(kept_s_[draw].begin() + from, kept_s_[draw].begin() + from + long(d),
                  hs.data() + i * d);
      }
      Kokkos::deep_copy(xt, hx);
      Kokkos::deep_copy(s, hs);
    } else {
      // x_t = sqrt(a) x0 + sqrt(1 - a) eps, eps of position first + i.
      source_.load(indices, x0);
      diffuse(x0, xt, Scalar(std::sqrt(a)), Scalar(std::sqrt(1.0 - a)), noise,
              std::uint64_t(first) * d);
      score_.score(xt, settings_.step, s);
    }
    total += loss_.evaluate(net_, xt, s, probes, std::uint64_t(first), nn::Mode::Train, true,
                            1.0 / settings_.accumulation);
    if ((m + 1) % settings_.accumulation == 0 || m + 1 == micro) {
      if (settings_.clip > 0) nn::clip_gradient_norm(store.gradients(), settings_.clip);
      adam_.step(store.values(), store.gradients(), settings_.lr);
      store.zero_gradients();
    }
    if (on_batch) on_batch(m + 1, total / double(m + 1));
  }
  history_.push_back(total / double(micro));
}

template class KernelFlow<float>;
template class KernelFlow<double>;
template class UNetOutputFlow<float>;
template class UNetOutputFlow<double>;
template class FieldEquilibriumLoss<float>;
template class FieldEquilibriumLoss<double>;
template class FieldFlowTrainer<float>;
template class FieldFlowTrainer<double>;
template void apply_kernel(const View1<float>&, std::size_t, const nn::ConstField<float>&,
                           const nn::MutField<float>&);
template void apply_kernel(const View1<double>&, std::size_t, const nn::ConstField<double>&,
                           const nn::MutField<double>&);
template void reweight_parameters(nn::ParameterStore<float>&, const CounterRng&);
template void reweight_parameters(nn::ParameterStore<double>&, const CounterRng&);

}  // namespace eqflow::flow
