// The Gray-Scott reaction-diffusion system of the Turing-pattern data (DESIGN.md section 2): the
// 15 parameter presets by name, the reference's initial condition drawn from counter-based random
// numbers (a pure function of (seed, global sample index), so any split of the samples over ranks
// gives the same fields), and a fused periodic 5-point stencil step for a batch of fields
// (N, 2, H, W) (channel 0 = u, 1 = v): explicit Euler with dt = 1, then a clamp to [0, 1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eqflow/core/hash.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/core/rng.hpp"

namespace eqflow::systems {

//! du/dt = Du lap(u) - u v^2 + F (1 - u), dv/dt = Dv lap(v) + u v^2 - (F + k) v.
struct GrayScottParameters {
  double Du = 0.16;
  double Dv = 0.08;
  double F = 0.029;
  double k = 0.057;
};

//! The preset names of DESIGN.md section 2, in its order ("life", "maze", ..., "fingerprints").
const std::vector<std::string>& gray_scott_presets();

//! The parameters of a named preset. Throws Error naming the unknown name and listing the valid
//! ones.
GrayScottParameters gray_scott_preset(const std::string& name);

//! Throws Error naming the parameter unless Du, Dv >= 0, F, k >= 0 and every value is finite.
//! (Explicit Euler with dt = 1 is stable for D <= 0.25; larger values are accepted but warned
//! about by the callers that know the context.)
void validate(const GrayScottParameters& parameters);

//! The reference's initial condition: u = 1, v = 0 everywhere, then `discs` discs set to
//! u = 0.5, v = 0.25.
struct GrayScottInitialCondition {
  int discs = 5;
  int radius_min = 3;  //!< radii are integers uniform in [radius_min, radius_max]
  int radius_max = 7;
  double u_disc = 0.5;
  double v_disc = 0.25;
};

//! One disc of an initial condition: integer radius and centre (row cy, column cx).
struct GrayScottDisc {
  int radius, cy, cx;
};

//! The random stream of the initial discs: FNV-1a of "eqflow.systems.gray_scott.discs".
inline constexpr std::uint64_t kGrayScottDiscStream = stream_id("eqflow.systems.gray_scott.discs");

//! Disc `disc` of global sample `sample`: the radius uniform over the integers [radius_min,
//! radius_max] (as Python's random.randint), the centre uniform over the grid's cells. All three
//! come from Philox block `sample * discs + disc` of CounterRng(seed, kGrayScottDiscStream) (one
//! 32-bit word each, mapped to [0, n) by the multiply-high method, bias < n / 2^32): a pure
//! function of (seed, sample, disc), the same on any rank, thread or device.
KOKKOS_INLINE_FUNCTION GrayScottDisc gray_scott_disc(const GrayScottInitialCondition& ic,
                                                     std::uint64_t seed, std::uint64_t sample,
                                                     int disc, std::size_t height,
                                                     std::size_t width) {
  const CounterRng rng(seed, kGrayScottDiscStream);
  const auto block =
      rng.bits(sample * static_cast<std::uint64_t>(ic.discs) + static_cast<std::uint64_t>(disc));
  const auto below = [](std::uint32_t word, std::uint64_t n) {
    return static_cast<int>((static_cast<std::uint64_t>(word) * n) >> 32);
  };
  const auto radii = static_cast<std::uint64_t>(ic.radius_max - ic.radius_min + 1);
  return {ic.radius_min + below(block.v[0], radii), below(block.v[1], height),
          below(block.v[2], width)};
}

//! Fills fields (N, 2, H, W) with the initial conditions of global samples first_sample ..
//! first_sample + N - 1: a cell belongs to a disc when its periodic (minimum-image) distance to
//! the centre is <= the radius, so discs wrap around the edges.
template <class T>
void gray_scott_initial_state(const View4<T>& fields, std::uint64_t seed,
                              std::uint64_t first_sample,
                              const GrayScottInitialCondition& ic = GrayScottInitialCondition{});

//! One explicit Euler step (dt = 1) of every field of `in` (N, 2, H, W) into `out` (same
//! shape, another View): the periodic 5-point Laplacian, the reaction terms, then both
//! channels clamped to [0, 1]. One pass over u and v. H, W >= 1.
template <class T>
void gray_scott_step(const GrayScottParameters& parameters, const View4<T>& in,
                     const View4<T>& out);

//! Advances batches of fields in place, double buffered against a scratch batch allocated once
//! (no allocation per step).
template <class T>
class GrayScottSimulator {
 public:
  //! Room for batches of up to `batch` fields of height x width.
  GrayScottSimulator(const GrayScottParameters& parameters, std::size_t batch, std::size_t height,
                     std::size_t width);
  //! `steps` steps of fields (n, 2, H, W), n <= batch, the result in `fields`.
  void advance(const View4<T>& fields, std::size_t steps);
  const GrayScottParameters& parameters() const { return parameters_; }

 private:
  GrayScottParameters parameters_;
  View4<T> scratch_;       // (batch, 2, H, W)
  std::size_t group_ = 1;  // samples advanced together through all steps
};

}  // namespace eqflow::systems
