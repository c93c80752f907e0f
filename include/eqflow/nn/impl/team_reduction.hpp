// Team-level reductions shared by the layer kernels. Reductions over the rows of one column
// (or the elements of one group) run as one team per column, the elements spread over the
// team's threads (TeamThreadRange), so a GPU has work for more than one thread per feature;
// on Serial a team is one thread and the loops are the plain ones.
#pragma once

#include "eqflow/core/kokkos_types.hpp"

namespace eqflow::nn::impl {

using TeamPolicy = Kokkos::TeamPolicy<ExecSpace>;
using TeamMember = TeamPolicy::member_type;

//! Two sums taken in one pass.
template <class Scalar>
struct SumPair {
  Scalar first, second;
  KOKKOS_INLINE_FUNCTION void operator+=(const SumPair& o) {
    first += o.first;
    second += o.second;
  }
};

//! Partial sums in interleaved lanes (element i in lane i mod width).
template <class Scalar>
struct Lanes {
  static constexpr std::size_t width = 8;
  Scalar v[width];
  KOKKOS_INLINE_FUNCTION void operator+=(const Lanes& o) {
    for (std::size_t l = 0; l < width; ++l) v[l] += o.v[l];
  }
};

//! Kokkos reducer adding values of an aggregate T with += whose T{} is zero (SumPair, Lanes);
//! non-volatile join: Kokkos 3.4 host teams and 4.x.
template <class T>
class SumReducer {
 public:
  using reducer = SumReducer;
  using value_type = T;
  using result_view_type = Kokkos::View<value_type, MemSpace, Kokkos::MemoryUnmanaged>;

  KOKKOS_INLINE_FUNCTION explicit SumReducer(value_type& value) : value_(&value) {}
  KOKKOS_INLINE_FUNCTION void join(value_type& dest, const value_type& src) const { dest += src; }
  KOKKOS_INLINE_FUNCTION void init(value_type& value) const { value = value_type{}; }
  KOKKOS_INLINE_FUNCTION value_type& reference() const { return *value_; }
  KOKKOS_INLINE_FUNCTION result_view_type view() const { return result_view_type(value_); }
  KOKKOS_INLINE_FUNCTION bool references_scalar() const { return true; }

 private:
  value_type* value_;
};

template <class Scalar>
using SumPairReducer = SumReducer<SumPair<Scalar>>;

//! The sum of f(i) for i in [0, m) over a team, in Lanes::width independent partial sums (one
//! serial chain of additions is latency-bound; the lanes vectorise), added in a fixed order, so
//! the result is deterministic. Every thread of the team returns it.
template <class Scalar, class F>
KOKKOS_INLINE_FUNCTION Scalar team_sum(const TeamMember& team, std::size_t m, const F& f) {
  constexpr std::size_t width = Lanes<Scalar>::width;
  Lanes<Scalar> lanes;
  Kokkos::parallel_reduce(
      Kokkos::TeamThreadRange(team, m / width),
      [&](const std::size_t j, Lanes<Scalar>& acc) {
        for (std::size_t l = 0; l < width; ++l) acc.v[l] += f(j * width + l);
      },
      SumReducer<Lanes<Scalar>>(lanes));
  Scalar total = 0;
  for (std::size_t l = 0; l < width; ++l) total += lanes.v[l];
  for (std::size_t i = m - m % width; i < m; ++i) total += f(i);
  return total;
}

//! One team per column (or group).
inline TeamPolicy per_team(std::size_t teams) {
  return TeamPolicy(static_cast<int>(teams), Kokkos::AUTO);
}

}  // namespace eqflow::nn::impl
