// The classical fourth-order Runge-Kutta step, written once as per-coordinate operations:
//   k1 = f(x), k2 = f(x + h/2 k1), k3 = f(x + h/2 k2), k4 = f(x + h k3),
//   x <- x + h/6 (((k1 + 2 k2) + 2 k3) + k4)   (this summation order).
// The host integration of one point (rk4::step, e.g. the Lorenz dataset) and the batch
// steppers of eqflow::dynamics (one kernel per stage on Views) are both built from these, so
// every RK4 in eqflow rounds the same way. Between stages only the running slope sum and the
// next evaluation point are kept (low storage).
#pragma once

#include <array>
#include <cstddef>

#include <Kokkos_Core.hpp>

namespace eqflow::rk4 {

//! The evaluation point of the next stage: x + c h k with c h = h/2, h/2, h after stages
//! 1, 2, 3 and k the slope of the stage just evaluated.
template <class T>
KOKKOS_INLINE_FUNCTION T stage_point(T x, T ch, T k) {
  return x + ch * k;
}

//! The running slope sum after stages 1, 2, 3: k1, then sum + 2 k2, then sum + 2 k3.
template <class T>
KOKKOS_INLINE_FUNCTION T slope_sum(T sum, T k, bool first) {
  return first ? k : sum + T(2) * k;
}

//! The end point after stage 4: x + h/6 (sum + k4), `h_sixth` = h / 6.
template <class T>
KOKKOS_INLINE_FUNCTION T end_point(T x, T h_sixth, T sum, T k4) {
  return x + h_sixth * (sum + k4);
}

//! One step of size h for a single point in N dimensions (host): f maps a state to its
//! velocity, both std::array<T, N>.
template <class T, std::size_t N, class F>
std::array<T, N> step(const F& f, const std::array<T, N>& x, T h) {
  const auto shifted = [&x](const std::array<T, N>& k, T ch) {
    std::array<T, N> point;
    for (std::size_t i = 0; i < N; ++i) point[i] = stage_point(x[i], ch, k[i]);
    return point;
  };
  const T half = h / T(2), sixth = h / T(6);
  const auto k1 = f(x);
  const auto k2 = f(shifted(k1, half));
  const auto k3 = f(shifted(k2, half));
  const auto k4 = f(shifted(k3, h));
  std::array<T, N> next;
  for (std::size_t i = 0; i < N; ++i) {
    const T sum = slope_sum(slope_sum(k1[i], k2[i], false), k3[i], false);
    next[i] = end_point(x[i], sixth, sum, k4[i]);
  }
  return next;
}

}  // namespace eqflow::rk4
