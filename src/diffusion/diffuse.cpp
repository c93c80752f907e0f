// The forward diffusion of a batch at one time, instantiated for the arithmetic and storage
// types eqflow uses: float in float (flow training), double in float and double (analyses).
#include "eqflow/diffusion/diffuse.hpp"

#include "eqflow/core/error.hpp"

namespace eqflow::diffusion {

template <class Real, class Scalar>
void diffuse(const typename View2<Scalar>::const_type& x0, double alpha_bar,
             const CounterRng& noise, const View2<Scalar>& out, double noise_scale) {
  require_shape(x0.extent(0) == out.extent(0) && x0.extent(1) == out.extent(1),
                "diffuse: x0 and out must have the same shape");
  const ForwardDiffusion<Real> step(alpha_bar, noise_scale);
  if (noise_scale == 0) {
    Kokkos::parallel_for(
        "eqflow::diffusion::scale", RangePolicy(0, x0.size()), KOKKOS_LAMBDA(const std::size_t i) {
          out.data()[i] = static_cast<Scalar>(step(static_cast<Real>(x0.data()[i]), Real(0)));
        });
    return;
  }
  Kokkos::parallel_for(
      "eqflow::diffusion::diffuse", RangePolicy(0, x0.size()), KOKKOS_LAMBDA(const std::size_t i) {
        out.data()[i] = static_cast<Scalar>(
            step.with_draw(static_cast<Real>(x0.data()[i]), [&] { return noise.normal(i); }));
      });
}

template void diffuse<float, float>(const View2<float>::const_type&, double, const CounterRng&,
                                    const View2<float>&, double);
template void diffuse<double, float>(const View2<float>::const_type&, double, const CounterRng&,
                                     const View2<float>&, double);
template void diffuse<double, double>(const View2<double>::const_type&, double, const CounterRng&,
                                      const View2<double>&, double);

}  // namespace eqflow::diffusion
