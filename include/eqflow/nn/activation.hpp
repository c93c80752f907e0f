// Elementwise activations with their first and second derivatives (the second is needed
// by backward_tangent: d/dx of sigma'(x) tx).
#pragma once

#include "eqflow/core/math.hpp"
#include "eqflow/nn/layer.hpp"

namespace eqflow::nn {

struct ReluFunction {
  static constexpr const char* name = "ReLU";
  template <class T>
  KOKKOS_INLINE_FUNCTION static T value(T x) {
    return x > T(0) ? x : T(0);
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T first(T x) {
    return x > T(0) ? T(1) : T(0);
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T second(T) {
    return T(0);
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static void derivatives(T x, T& d1, T& d2) {
    d1 = first(x);
    d2 = T(0);
  }
};

//! SiLU x * sigmoid(x).
struct SiluFunction {
  static constexpr const char* name = "SiLU";
  template <class T>
  KOKKOS_INLINE_FUNCTION static T value(T x) {
    return x * math::sigmoid(x);
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T first(T x) {
    const T s = math::sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
  }
  template <class T>
  KOKKOS_INLINE_FUNCTION static T second(T x) {
    const T s = math::sigmoid(x);
    return s * (T(1) - s) * (T(2) + x * (T(1) - T(2) * s));
  }
  //! first and second with one exponential.
  template <class T>
  KOKKOS_INLINE_FUNCTION static void derivatives(T x, T& d1, T& d2) {
    const T s = math::sigmoid(x);
    d1 = s * (T(1) + x * (T(1) - s));
    d2 = s * (T(1) - s) * (T(2) + x * (T(1) - T(2) * s));
  }
};

template <class Scalar, class Function>
class Activation final : public Layer<Scalar> {
 public:
  using typename Layer<Scalar>::ConstView;
  using typename Layer<Scalar>::MutView;

  explicit Activation(std::size_t features) : features_(features) {}
  std::string kind() const override { return Function::name; }
  std::size_t in_features() const override { return features_; }
  std::size_t out_features() const override { return features_; }

  void forward(const ConstView& x, const MutView& y, Mode mode) override;
  void backward(const ConstView& gy, const MutView& gx) override;
  void forward_tangent(const ConstView& tx, const MutView& ty) override;
  void backward_tangent(const ConstView& gty, const MutView& gtx, const MutView& gx) override;

 private:
  //! sigma'(x) and sigma''(x) of the last forward's input, computed on first use (a forward
  //! pass alone, as in simulation, does not pay for them).
  void ensure_derivatives();

  std::size_t features_;
  ConstView x_, tx_;
  bool derivatives_valid_ = false;
  View2<Scalar> first_, second_;  // (B, F) sigma'(x) and sigma''(x) of the last forward
  View1<Scalar> sums_;            // (B F) sum_k gty_k tx_k
};

template <class Scalar>
using ReLU = Activation<Scalar, ReluFunction>;
template <class Scalar>
using SiLU = Activation<Scalar, SiluFunction>;

}  // namespace eqflow::nn
