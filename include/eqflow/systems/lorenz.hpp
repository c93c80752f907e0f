// The Lorenz-63 equations, the one definition of the system's physics in eqflow: the velocity
// and its Jacobian-vector product at a raw point, callable in kernels and on the host (the
// dataset generator of toy_systems and dynamics::LorenzField both use it).
#pragma once

#include <Kokkos_Core.hpp>

namespace eqflow::systems {

//! dx/dt = sigma (y - x), dy/dt = x (rho - z) - y, dz/dt = x y - beta z.
template <class T>
struct LorenzEquations {
  T sigma, rho, beta;

  //! The velocity at (x, y, z).
  KOKKOS_INLINE_FUNCTION Kokkos::Array<T, 3> velocity(T x, T y, T z) const {
    return {{sigma * (y - x), x * (rho - z) - y, x * y - beta * z}};
  }

  //! J(x, y, z) (a, b, c) with J = [[-sigma, sigma, 0], [rho - z, -1, -x], [y, x, -beta]].
  KOKKOS_INLINE_FUNCTION Kokkos::Array<T, 3> tangent(T x, T y, T z, T a, T b, T c) const {
    return {{sigma * (b - a), (rho - z) * a - b - x * c, y * a + x * b - beta * c}};
  }
};

}  // namespace eqflow::systems
