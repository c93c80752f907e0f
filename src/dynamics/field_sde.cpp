// The Heun integrator of the pattern SDE and the similarity helpers (dynamics/field_sde.hpp),
// for float and double. Tests: tests/dynamics/test_field_sde.cpp.
#include "eqflow/dynamics/field_sde.hpp"

#include <fmt/core.h>

#include <cmath>
#include <limits>

#include "eqflow/core/error.hpp"
#include "eqflow/nn/impl/team_reduction.hpp"

namespace eqflow::dynamics {
namespace {

template <class Scalar>
View4<Scalar> like(const nn::ConstField<Scalar>& x, const std::string& label) {
  return View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), x.extent(0),
                       x.extent(1), x.extent(2), x.extent(3));
}

//! out = a + alpha b + beta c, elementwise over whole fields (c may alias nothing).
template <class Scalar>
void combine(const View4<Scalar>& out, const View4<Scalar>& a, Scalar alpha, const View4<Scalar>& b,
             Scalar beta, const View4<Scalar>& c) {
  Kokkos::parallel_for(
      "eqflow::field_sde_combine", RangePolicy(0, out.size()), KOKKOS_LAMBDA(const std::size_t l) {
        out.data()[l] = a.data()[l] + alpha * b.data()[l] + beta * c.data()[l];
      });
}

}  // namespace

template <class Scalar>
FieldSde<Scalar>::FieldSde(diffusion::FieldScore<Scalar>& score, Velocity velocity,
                           FieldSdeSettings settings, const nn::ConstField<Scalar>& x0,
                           const CounterRng& noise, std::uint64_t first_sample)
    : score_(score),
      velocity_(std::move(velocity)),
      settings_(settings),
      noise_(noise),
      first_sample_(first_sample) {
  if (!(settings_.dt > 0) || !(settings_.eta >= 0)) {
    throw Error(fmt::format("field SDE: dt must be > 0 and eta >= 0 (got {}, {})", settings_.dt,
                            settings_.eta));
  }
  if (settings_.step < 0 || settings_.step >= score_.schedule().steps()) {
    throw Error(fmt::format("field SDE: diffusion step {} is outside [0, {})", settings_.step,
                            score_.schedule().steps()));
  }
  alpha_bar_ = score_.schedule().alpha_bar(settings_.step);
  x_ = like(x0, "eqflow::FieldSde::x");
  Kokkos::deep_copy(x_, x0);
  s_ = like(x0, "eqflow::FieldSde::s");
  drift_ = like(x0, "eqflow::FieldSde::drift");
  w_ = like(x0, "eqflow::FieldSde::w");
  xp_ = like(x0, "eqflow::FieldSde::predictor");
  sp_ = like(x0, "eqflow::FieldSde::predictor_score");
  v_ = like(x0, "eqflow::FieldSde::v");
}

template <class Scalar>
void FieldSde<Scalar>::ensure_score() {
  if (score_valid_) return;
  score_.score(x_, settings_.step, s_);
  score_valid_ = true;
}

template <class Scalar>
void FieldSde<Scalar>::step() {
  const Scalar dt = Scalar(settings_.dt), eta = Scalar(settings_.eta);
  const Scalar amplitude = Scalar(std::sqrt(2.0 * settings_.eta * settings_.dt));
  const std::size_t d = x_.size() / x_.extent(0);
  const std::uint64_t counter0 = first_sample_ * d;
  const CounterRng noise = derive_stream(noise_, 0, std::uint64_t(steps_));
  const auto w = w_;
  if (counter0 % 2 == 0 && w.size() % 2 == 0) {
    // Counters 2j and 2j + 1 are the two normals of one Philox block (normal_pair): the same
    // values as normal() per element, for half the cost.
    const std::uint64_t pair0 = counter0 / 2;
    Kokkos::parallel_for(
        "eqflow::field_sde_noise", RangePolicy(0, w.size() / 2),
        KOKKOS_LAMBDA(const std::size_t j) {
          double first, second;
          noise.normal_pair(pair0 + j, first, second);
          w.data()[2 * j] = amplitude * Scalar(first);
          w.data()[2 * j + 1] = amplitude * Scalar(second);
        });
  } else {
    Kokkos::parallel_for(
        "eqflow::field_sde_noise", RangePolicy(0, w.size()), KOKKOS_LAMBDA(const std::size_t l) {
          w.data()[l] = amplitude * Scalar(noise.normal(counter0 + l));
        });
  }
  // Predictor: drift d(x) = v(x, s) + eta s, x~ = x + dt d(x) + w.
  ensure_score();
  velocity_(x_, s_, v_);
  combine(drift_, v_, eta, s_, Scalar(0), s_);
  combine(xp_, x_, dt, drift_, Scalar(1), w_);
  // Corrector: x <- x + dt/2 (d(x) + d(x~)) + w.
  score_.score(xp_, settings_.step, sp_);
  velocity_(xp_, sp_, v_);
  const auto x = x_, drift = drift_, v = v_, sp = sp_;
  const Scalar half = dt / Scalar(2);
  Kokkos::parallel_for(
      "eqflow::field_sde_corrector", RangePolicy(0, x.size()), KOKKOS_LAMBDA(const std::size_t l) {
        x.data()[l] += half * (drift.data()[l] + (v.data()[l] + eta * sp.data()[l])) + w.data()[l];
      });
  score_valid_ = false;
  ++steps_;
}

template <class Scalar>
void FieldSde<Scalar>::denoised(const nn::MutField<Scalar>& out) {
  if (out.size() != x_.size()) throw ShapeError("field SDE: the frame does not match the state");
  ensure_score();
  const Scalar noise = Scalar(1.0 - alpha_bar_), inv = Scalar(1.0 / std::sqrt(alpha_bar_));
  const auto x = x_, s = s_;
  Kokkos::parallel_for(
      "eqflow::field_sde_denoised", RangePolicy(0, x.size()), KOKKOS_LAMBDA(const std::size_t l) {
        const Scalar v = (x.data()[l] + noise * s.data()[l]) * inv;
        out.data()[l] = v < Scalar(-1) ? Scalar(-1) : (v > Scalar(1) ? Scalar(1) : v);
      });
}

template <class Scalar>
void exponential_average(const View4<Scalar>& ema, const nn::ConstField<Scalar>& x, Scalar keep) {
  if (ema.size() != x.size()) throw ShapeError("exponential_average: shapes differ");
  Kokkos::parallel_for(
      "eqflow::exponential_average", RangePolicy(0, ema.size()),
      KOKKOS_LAMBDA(const std::size_t l) {
        ema.data()[l] = keep * ema.data()[l] + (Scalar(1) - keep) * x.data()[l];
      });
}

template <class Scalar>
std::vector<double> per_sample_abs_cosine(const nn::ConstField<Scalar>& a,
                                          const nn::ConstField<Scalar>& b) {
  if (a.extent(0) != b.extent(0) || !(nn::shape_of(a) == nn::shape_of(b))) {
    throw ShapeError("per_sample_abs_cosine: shapes differ");
  }
  const std::size_t n = a.extent(0), d = nn::shape_of(a).size();
  View2<double> sums("eqflow::abs_cosine::sums", n, 3);
  using nn::impl::TeamMember;
  Kokkos::parallel_for(
      "eqflow::per_sample_abs_cosine", nn::impl::TeamPolicy(int(n), Kokkos::AUTO),
      KOKKOS_LAMBDA(const TeamMember& member) {
        const std::size_t s = std::size_t(member.league_rank());
        const Scalar* pa = a.data() + s * d;
        const Scalar* pb = b.data() + s * d;
        double ab = 0.0, aa = 0.0, bb = 0.0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(member, d),
            [&](const std::size_t e, double& acc) { acc += double(pa[e]) * double(pb[e]); }, ab);
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(member, d),
            [&](const std::size_t e, double& acc) { acc += double(pa[e]) * double(pa[e]); }, aa);
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(member, d),
            [&](const std::size_t e, double& acc) { acc += double(pb[e]) * double(pb[e]); }, bb);
        Kokkos::single(Kokkos::PerTeam(member), [&]() {
          sums(s, 0) = ab;
          sums(s, 1) = aa;
          sums(s, 2) = bb;
        });
      });
  const auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), sums);
  std::vector<double> out(n);
  for (std::size_t s = 0; s < n; ++s) {
    const double den = std::sqrt(h(s, 1) * h(s, 2));
    out[s] = den > 0 ? std::abs(h(s, 0)) / den : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

template class FieldSde<float>;
template class FieldSde<double>;
template void exponential_average(const View4<float>&, const nn::ConstField<float>&, float);
template void exponential_average(const View4<double>&, const nn::ConstField<double>&, double);
template std::vector<double> per_sample_abs_cosine(const nn::ConstField<float>&,
                                                   const nn::ConstField<float>&);
template std::vector<double> per_sample_abs_cosine(const nn::ConstField<double>&,
                                                   const nn::ConstField<double>&);

}  // namespace eqflow::dynamics
