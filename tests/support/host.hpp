// Test helpers: host copies of Views, comparisons with atol + rtol |ref|, and central finite
// differences over the entries of a View.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"

namespace eqflow::test {

//! A host copy (never an alias) of any View's contiguous data.
template <class V>
std::vector<double> to_vector(const V& v) {
  auto h = Kokkos::create_mirror(v);
  Kokkos::deep_copy(h, v);
  std::vector<double> out(v.span());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(h.data()[i]);
  return out;
}

//! Writes `values` into the View `v` (same number of entries).
template <class V>
void from_vector(const V& v, const std::vector<double>& values) {
  auto h = Kokkos::create_mirror(v);
  for (std::size_t i = 0; i < values.size(); ++i) {
    h.data()[i] = static_cast<typename V::non_const_value_type>(values[i]);
  }
  Kokkos::deep_copy(v, h);
}

//! Expects |got - ref| <= atol + rtol |ref| entry by entry; reports the first few failures.
inline void expect_close(const std::vector<double>& got, const std::vector<double>& ref,
                         double atol, double rtol, const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  int failures = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double tol = atol + rtol * std::abs(ref[i]);
    if (!(std::abs(got[i] - ref[i]) <= tol) && failures++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", expected " << ref[i]
                    << " (tolerance " << tol << ")";
    }
  }
}

//! Central differences of `f` with respect to the entries `indices` of the View `v` (for
//! Views too large to difference entry by entry).
template <class V>
std::vector<double> finite_difference_at(const V& v, const std::function<double()>& f,
                                         const std::vector<std::size_t>& indices, double h = 1e-6) {
  std::vector<double> base = to_vector(v);
  std::vector<double> grad;
  for (const std::size_t i : indices) {
    std::vector<double> p = base;
    p[i] = base[i] + h;
    from_vector(v, p);
    const double up = f();
    p[i] = base[i] - h;
    from_vector(v, p);
    const double down = f();
    grad.push_back((up - down) / (2 * h));
  }
  from_vector(v, base);
  return grad;
}

//! Central differences of the scalar `f` with respect to each entry of the View `v`.
template <class V>
std::vector<double> finite_difference(const V& v, const std::function<double()>& f,
                                      double h = 1e-6) {
  std::vector<std::size_t> all(v.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return finite_difference_at(v, f, all, h);
}

//! sum_i a_i b_i of two Views of equal size.
template <class A, class B>
double dot(const A& a, const B& b) {
  const auto x = to_vector(a), y = to_vector(b);
  double s = 0;
  for (std::size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}

}  // namespace eqflow::test
