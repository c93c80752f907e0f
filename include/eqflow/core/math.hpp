// Device-callable math that compiles on Kokkos 3.4 (Kokkos::Experimental:: names) and on
// Kokkos >= 3.7 / 4.x (Kokkos:: names; 4.3 removed the Experimental ones). Constants are our
// own constexpr values because Kokkos 3.4 has no Kokkos::numbers.
#pragma once

#include <Kokkos_Core.hpp>

namespace eqflow::math {

#if KOKKOS_VERSION >= 30700
namespace kmath = ::Kokkos;
#else
namespace kmath = ::Kokkos::Experimental;
#endif

template <class T>
inline constexpr T pi = T(3.14159265358979323846264338327950288);

template <class T>
KOKKOS_INLINE_FUNCTION T sqrt(T x) {
  return kmath::sqrt(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T exp(T x) {
  return kmath::exp(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T log(T x) {
  return kmath::log(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T sin(T x) {
  return kmath::sin(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T cos(T x) {
  return kmath::cos(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T tanh(T x) {
  return kmath::tanh(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T abs(T x) {
  return x < T(0) ? -x : x;
}
template <class T>
KOKKOS_INLINE_FUNCTION T min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
KOKKOS_INLINE_FUNCTION T max(T a, T b) {
  return a < b ? b : a;
}
template <class T>
KOKKOS_INLINE_FUNCTION T clamp(T x, T lo, T hi) {
  return x < lo ? lo : (hi < x ? hi : x);
}

//! Logistic sigmoid 1 / (1 + exp(-x)). Branch-free (vectorisable): for large negative x,
//! exp(-x) overflows to inf and the result is the correct limit 0.
template <class T>
KOKKOS_INLINE_FUNCTION T sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

}  // namespace eqflow::math
