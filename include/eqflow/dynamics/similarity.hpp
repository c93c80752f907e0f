// Field similarity (DESIGN.md "Uniqueness"): the velocities of two fields at the same points,
// each flattened into one vector, compared by the absolute value of their cosine.
#pragma once

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/dynamics/vector_field.hpp"

namespace eqflow::dynamics {

//! |<a, b>| / (|a| |b|) of two Views of equal shape, each flattened, accumulated in double.
//! NaN when either vector is zero. Throws ShapeError on a shape mismatch.
template <class Scalar>
double abs_cosine(const Kokkos::View<const Scalar**, Layout, MemSpace>& a,
                  const Kokkos::View<const Scalar**, Layout, MemSpace>& b);

//! |cosine| between the velocities of two fields at the points x (N, d).
template <class Scalar>
double field_similarity(VectorField<Scalar>& a, VectorField<Scalar>& b,
                        const Kokkos::View<const Scalar**, Layout, MemSpace>& x);

}  // namespace eqflow::dynamics
