// The score at a fixed diffusion time as a vector field, instantiated for float and double.
#include "eqflow/dynamics/score_field.hpp"

#include <string>

namespace eqflow::dynamics {

template <class Scalar>
void ScoreField<Scalar>::jvp(const ConstView& x, const ConstView& t, const MutView& jt) {
  if (primal_.extent(0) != x.extent(0) || primal_.extent(1) != dim()) {
    primal_ = View2<Scalar>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::ScoreField::primal")),
        x.extent(0), dim());
  }
  score_.score_and_jvp(x, tau_, primal_, t, jt);
}

template class ScoreField<float>;
template class ScoreField<double>;

}  // namespace eqflow::dynamics
