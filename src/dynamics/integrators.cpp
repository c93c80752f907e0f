// RK4 steppers and trajectory integration, instantiated for float and double. The stages are
// the per-coordinate operations of core/rk4.hpp (the same rounding as every RK4 in eqflow):
// after stage s the sum buffer holds the running slope sum and the stage buffer the next
// evaluation point, both written by one fused kernel.
#include "eqflow/dynamics/integrators.hpp"

#include <fmt/core.h>

#include <cmath>
#include <string>

#include "eqflow/core/error.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rk4.hpp"

namespace eqflow::dynamics {
namespace {

template <class Scalar>
View2<Scalar> scratch(const std::string& label, std::size_t rows, std::size_t cols) {
  return View2<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, cols);
}

//! sum = rk4::slope_sum(sum, k, first) ;  stage = rk4::stage_point(x, ch, k).   All (R, d).
template <class Scalar>
void rk4_stage(const View2<Scalar>& x, const View2<Scalar>& k, const View2<Scalar>& stage,
               const View2<Scalar>& sum, Scalar ch, bool first) {
  Kokkos::parallel_for(
      "eqflow::dynamics::rk4_stage", RangePolicy(0, x.size()), KOKKOS_LAMBDA(const std::size_t i) {
        const Scalar ki = k.data()[i];
        sum.data()[i] = rk4::slope_sum(sum.data()[i], ki, first);
        stage.data()[i] = rk4::stage_point(x.data()[i], ch, ki);
      });
}

//! x = rk4::end_point(x, h / 6, sum, k4).   All (R, d).
template <class Scalar>
void rk4_finish(const View2<Scalar>& x, const View2<Scalar>& k, const View2<Scalar>& sum,
                Scalar h_sixth) {
  Kokkos::parallel_for(
      "eqflow::dynamics::rk4_finish", RangePolicy(0, x.size()), KOKKOS_LAMBDA(const std::size_t i) {
        x.data()[i] = rk4::end_point(x.data()[i], h_sixth, sum.data()[i], k.data()[i]);
      });
}

template <class V>
void check_state(const char* who, const V& x, std::size_t rows, std::size_t cols) {
  if (x.extent(0) != rows || x.extent(1) != cols) {
    throw ShapeError(fmt::format("{}: state ({}, {}), the stepper was made for ({}, {})", who,
                                 x.extent(0), x.extent(1), rows, cols));
  }
}

template <class Scalar>
void check_field(const char* who, const VectorField<Scalar>& field, std::size_t d) {
  if (field.dim() != d) {
    throw ShapeError(
        fmt::format("{}: field in {} dimensions, the state has {}", who, field.dim(), d));
  }
}

}  // namespace

// ------------------------------------------------------------------------------------ Rk4

template <class Scalar>
Rk4<Scalar>::Rk4(std::size_t n, std::size_t d)
    : k1_(scratch<Scalar>("eqflow::Rk4::k1", n, d)),
      k_(scratch<Scalar>("eqflow::Rk4::k", n, d)),
      stage_(scratch<Scalar>("eqflow::Rk4::stage", n, d)),
      sum_(scratch<Scalar>("eqflow::Rk4::sum", n, d)) {}

template <class Scalar>
void Rk4<Scalar>::step(VectorField<Scalar>& field, const View2<Scalar>& x, Scalar dt) {
  ScopedRegion region("eqflow::Rk4::step");
  check_state("Rk4", x, k1_.extent(0), k1_.extent(1));
  check_field("Rk4", field, x.extent(1));
  const Scalar half = dt / 2, sixth = dt / 6;
  field.velocity(x, k1_);
  rk4_stage(x, k1_, stage_, sum_, half, true);
  field.velocity(stage_, k_);
  rk4_stage(x, k_, stage_, sum_, half, false);
  field.velocity(stage_, k_);
  rk4_stage(x, k_, stage_, sum_, dt, false);
  field.velocity(stage_, k_);
  rk4_finish(x, k_, sum_, sixth);
}

// ----------------------------------------------------------------------------- TangentRk4

template <class Scalar>
TangentRk4<Scalar>::TangentRk4(std::size_t n, std::size_t d, std::size_t tangents)
    : kx_(scratch<Scalar>("eqflow::TangentRk4::kx", n, d)),
      sx_(scratch<Scalar>("eqflow::TangentRk4::sx", n, d)),
      ax_(scratch<Scalar>("eqflow::TangentRk4::ax", n, d)),
      kt_(scratch<Scalar>("eqflow::TangentRk4::kt", tangents * n, d)),
      st_(scratch<Scalar>("eqflow::TangentRk4::st", tangents * n, d)),
      at_(scratch<Scalar>("eqflow::TangentRk4::at", tangents * n, d)) {}

template <class Scalar>
void TangentRk4<Scalar>::step(VectorField<Scalar>& field, const View2<Scalar>& x,
                              const View2<Scalar>& t, Scalar dt) {
  ScopedRegion region("eqflow::TangentRk4::step");
  check_state("TangentRk4", x, kx_.extent(0), kx_.extent(1));
  check_state("TangentRk4 tangents", t, kt_.extent(0), kt_.extent(1));
  check_field("TangentRk4", field, x.extent(1));
  const Scalar half = dt / 2, sixth = dt / 6;
  field.velocity_and_jvp(x, kx_, t, kt_);
  rk4_stage(x, kx_, sx_, ax_, half, true);
  rk4_stage(t, kt_, st_, at_, half, true);
  field.velocity_and_jvp(sx_, kx_, st_, kt_);
  rk4_stage(x, kx_, sx_, ax_, half, false);
  rk4_stage(t, kt_, st_, at_, half, false);
  field.velocity_and_jvp(sx_, kx_, st_, kt_);
  rk4_stage(x, kx_, sx_, ax_, dt, false);
  rk4_stage(t, kt_, st_, at_, dt, false);
  field.velocity_and_jvp(sx_, kx_, st_, kt_);
  rk4_finish(x, kx_, ax_, sixth);
  rk4_finish(t, kt_, at_, sixth);
}

// ---------------------------------------------------------------------------- integration

// ---------------------------------------------------------------------------- LangevinHeun

template <class Scalar>
LangevinHeun<Scalar>::LangevinHeun(std::size_t n, std::size_t d)
    : s1_(scratch<Scalar>("eqflow::LangevinHeun::s1", n, d)),
      s2_(scratch<Scalar>("eqflow::LangevinHeun::s2", n, d)),
      noise_(scratch<Scalar>("eqflow::LangevinHeun::noise", n, d)),
      stage_(scratch<Scalar>("eqflow::LangevinHeun::stage", n, d)) {}

template <class Scalar>
void LangevinHeun<Scalar>::step(VectorField<Scalar>& score, const View2<Scalar>& x, Scalar eta,
                                Scalar dt, const CounterRng& noise, std::uint64_t index) {
  ScopedRegion region("eqflow::LangevinHeun::step");
  check_state("LangevinHeun", x, s1_.extent(0), s1_.extent(1));
  check_field("LangevinHeun", score, x.extent(1));
  if (!(eta >= 0)) throw Error(fmt::format("LangevinHeun: eta = {}, expected >= 0", eta));
  fill_normal(noise_, noise, static_cast<std::uint64_t>(index * x.size()));
  const Scalar drift = eta * dt, amplitude = std::sqrt(2 * eta * dt);
  const auto s1 = s1_, s2 = s2_, w = noise_, stage = stage_;
  score.velocity(x, s1);
  Kokkos::parallel_for(
      "eqflow::LangevinHeun::predict", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        w.data()[i] *= amplitude;
        stage.data()[i] = x.data()[i] + drift * s1.data()[i] + w.data()[i];
      });
  score.velocity(stage, s2);
  const Scalar half = drift / 2;
  Kokkos::parallel_for(
      "eqflow::LangevinHeun::correct", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        x.data()[i] += half * (s1.data()[i] + s2.data()[i]) + w.data()[i];
      });
}

template <class Scalar>
void rk4_step(VectorField<Scalar>& field, const View2<Scalar>& x, Scalar dt) {
  Rk4<Scalar>(x.extent(0), x.extent(1)).step(field, x, dt);
}

template <class Scalar>
View3<Scalar> integrate(VectorField<Scalar>& field,
                        const Kokkos::View<const Scalar**, Layout, MemSpace>& x0, Scalar dt,
                        std::size_t steps, std::size_t record_every,
                        const LangevinCorrection<Scalar>& correction) {
  ScopedRegion region("eqflow::dynamics::integrate");
  if (record_every == 0) throw Error("integrate: record_every must be >= 1");
  const std::size_t n = x0.extent(0), d = x0.extent(1);
  const std::size_t frames = steps / record_every + 1;
  View3<Scalar> trajectory(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::trajectory")), frames, n,
      d);
  View2<Scalar> x(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::state")), n,
                  d);
  Kokkos::deep_copy(x, x0);
  Kokkos::deep_copy(Kokkos::subview(trajectory, 0, Kokkos::ALL(), Kokkos::ALL()), x);
  Rk4<Scalar> stepper(n, d);
  const bool langevin = correction.score != nullptr && correction.eta != 0;
  LangevinHeun<Scalar> corrector(langevin ? n : 0, langevin ? d : 0);
  for (std::size_t s = 1; s <= steps; ++s) {
    stepper.step(field, x, dt);
    if (langevin) corrector.step(*correction.score, x, correction.eta, dt, correction.noise, s - 1);
    if (s % record_every == 0) {
      Kokkos::deep_copy(Kokkos::subview(trajectory, s / record_every, Kokkos::ALL(), Kokkos::ALL()),
                        x);
    }
  }
  return trajectory;
}

template <class Scalar>
View2<Scalar> integrate_end(VectorField<Scalar>& field,
                            const Kokkos::View<const Scalar**, Layout, MemSpace>& x0, Scalar dt,
                            std::size_t steps) {
  ScopedRegion region("eqflow::dynamics::integrate_end");
  View2<Scalar> x(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::state")),
                  x0.extent(0), x0.extent(1));
  Kokkos::deep_copy(x, x0);
  Rk4<Scalar> stepper(x.extent(0), x.extent(1));
  for (std::size_t s = 0; s < steps; ++s) stepper.step(field, x, dt);
  return x;
}

template class Rk4<float>;
template class TangentRk4<float>;
template class LangevinHeun<float>;
template void rk4_step(VectorField<float>&, const View2<float>&, float);
template View3<float> integrate(VectorField<float>&,
                                const Kokkos::View<const float**, Layout, MemSpace>&, float,
                                std::size_t, std::size_t, const LangevinCorrection<float>&);
template View2<float> integrate_end(VectorField<float>&,
                                    const Kokkos::View<const float**, Layout, MemSpace>&, float,
                                    std::size_t);
template class Rk4<double>;
template class TangentRk4<double>;
template class LangevinHeun<double>;
template void rk4_step(VectorField<double>&, const View2<double>&, double);
template View3<double> integrate(VectorField<double>&,
                                 const Kokkos::View<const double**, Layout, MemSpace>&, double,
                                 std::size_t, std::size_t, const LangevinCorrection<double>&);
template View2<double> integrate_end(VectorField<double>&,
                                     const Kokkos::View<const double**, Layout, MemSpace>&, double,
                                     std::size_t);

}  // namespace eqflow::dynamics
