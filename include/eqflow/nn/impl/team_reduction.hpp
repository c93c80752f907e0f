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
};

//! Kokkos reducer for SumPair (non-volatile join: Kokkos 3.4 host teams and 4.x).
template <class Scalar>
class SumPairReducer {
 public:
  using reducer = SumPairReducer;
  using value_type = SumPair<Scalar>;
  using result_view_type = Kokkos::View<value_type, MemSpace, Kokkos::MemoryUnmanaged>;

  KOKKOS_INLINE_FUNCTION explicit SumPairReducer(value_type& value) : value_(&value) {}
  KOKKOS_INLINE_FUNCTION void join(value_type& dest, const value_type& src) const {
    dest.first += src.first;
    dest.second += src.second;
  }
  KOKKOS_INLINE_FUNCTION void init(value_type& value) const {
    value.first = Scalar(0);
    value.second = Scalar(0);
  }
  KOKKOS_INLINE_FUNCTION value_type& reference() const { return *value_; }
  KOKKOS_INLINE_FUNCTION result_view_type view() const { return result_view_type(value_); }
  KOKKOS_INLINE_FUNCTION bool references_scalar() const { return true; }

 private:
  value_type* value_;
};

//! One team per column (or group).
inline TeamPolicy per_team(std::size_t teams) {
  return TeamPolicy(static_cast<int>(teams), Kokkos::AUTO);
}

}  // namespace eqflow::nn::impl
