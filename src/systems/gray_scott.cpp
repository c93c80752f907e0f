// The Gray-Scott presets, the initial condition kernel and the fused stencil step. The step is
// one team per (sample, row): the interior columns 1 .. W-2 in a TeamThreadRange whose
// neighbours are affine (x - 1, x + 1: the host loop vectorises, a GPU team reads coalesced),
// the two edge columns with their wrapped neighbours apart, so no modulo is left in the inner
// loop; the rows above and below are chosen once per row.
#include "eqflow/systems/gray_scott.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"

namespace eqflow::systems {
namespace {

using TeamPolicy = Kokkos::TeamPolicy<ExecSpace>;
using TeamMember = TeamPolicy::member_type;

//! (name, Du, Dv, F, k) in DESIGN.md's order.
const std::vector<std::pair<std::string, GrayScottParameters>>& preset_table() {
  static const std::vector<std::pair<std::string, GrayScottParameters>> table = {
      {"life", {0.16, 0.08, 0.006, 0.045}},
      {"maze", {0.16, 0.08, 0.029, 0.057}},
      {"waves", {0.16, 0.08, 0.018, 0.049}},
      {"spirals", {0.16, 0.08, 0.007, 0.028}},
      {"spots", {0.16, 0.08, 0.035, 0.065}},
      {"dots", {0.16, 0.08, 0.04, 0.07}},
      {"stripes", {0.16, 0.08, 0.035, 0.06}},
      {"holes", {0.16, 0.08, 0.039, 0.058}},
      {"chaos", {0.10, 0.05, 0.026, 0.051}},
      {"bubbles", {0.16, 0.08, 0.09, 0.059}},
      {"worms", {0.16, 0.08, 0.046, 0.063}},
      {"solitons", {0.10, 0.05, 0.03, 0.06}},
      {"pulsating_solitons", {0.10, 0.05, 0.025, 0.06}},
      {"u_skate", {0.16, 0.08, 0.062, 0.061}},
      {"fingerprints", {0.16, 0.08, 0.04, 0.064}},
  };
  return table;
}

//! The update of one cell from its value and the sum of its four neighbours, per channel.
template <class T>
struct Reaction {
  T Du, Dv, F, Fk;

  KOKKOS_INLINE_FUNCTION void operator()(T u, T v, T u_neighbours, T v_neighbours, T& u_out,
                                         T& v_out) const {
    const T lap_u = u_neighbours - T(4) * u;
    const T lap_v = v_neighbours - T(4) * v;
    const T uvv = u * v * v;
    u_out = math::clamp(u + (Du * lap_u - uvv + F * (T(1) - u)), T(0), T(1));
    v_out = math::clamp(v + (Dv * lap_v + uvv - Fk * v), T(0), T(1));
  }
};

//! Columns 1 .. w-2 of one row by one thread (a team of one: the host backends), in blocks of
//! kBlock: the loads of a block go to local arrays first, then the update reads only those. The
//! compiler then needs no run-time alias checks between the six input rows and the two output
//! rows (too many for GCC to version the loop) and vectorises both loops (measured: 2.4x faster
//! in float on AVX-512 than the plain loop). Teams of several threads take the plain loop.
constexpr int kBlock = 32;
template <class T>
KOKKOS_INLINE_FUNCTION void interior_blocked(const Reaction<T>& react, const T* uc, const T* uu,
                                             const T* ud, const T* vc, const T* vu, const T* vd,
                                             T* uo, T* vo, int w) {
  for (int x0 = 1; x0 < w - 1; x0 += kBlock) {
    const int m = math::min(kBlock, w - 1 - x0);
    T u[kBlock], v[kBlock], u_neighbours[kBlock], v_neighbours[kBlock];
    for (int i = 0; i < m; ++i) {
      const int x = x0 + i;
      u[i] = uc[x];
      v[i] = vc[x];
      u_neighbours[i] = uu[x] + ud[x] + uc[x - 1] + uc[x + 1];
      v_neighbours[i] = vu[x] + vd[x] + vc[x - 1] + vc[x + 1];
    }
    T* u_out = uo + x0;
    T* v_out = vo + x0;
    for (int i = 0; i < m; ++i)
      react(u[i], v[i], u_neighbours[i], v_neighbours[i], u_out[i], v_out[i]);
  }
}

void check_batch(const char* what, std::size_t n, std::size_t channels, std::size_t height,
                 std::size_t width) {
  require_shape(channels == 2 && height >= 1 && width >= 1,
                std::string(what) + ": fields must be (N, 2, H, W) with H, W >= 1, got (" +
                    std::to_string(n) + ", " + std::to_string(channels) + ", " +
                    std::to_string(height) + ", " + std::to_string(width) + ")");
}

}  // namespace

const std::vector<std::string>& gray_scott_presets() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, p] : preset_table()) out.push_back(name);
    return out;
  }();
  return names;
}

GrayScottParameters gray_scott_preset(const std::string& name) {
  for (const auto& [preset, p] : preset_table()) {
    if (preset == name) return p;
  }
  std::string known;
  for (const auto& n : gray_scott_presets()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown Gray-Scott preset '" + name + "': expected one of " + known);
}

void validate(const GrayScottParameters& p) {
  for (const auto& [key, value] :
       {std::pair<const char*, double>{"Du", p.Du}, {"Dv", p.Dv}, {"F", p.F}, {"k", p.k}}) {
    if (!(value >= 0.0) || !std::isfinite(value)) {
      throw Error(std::string("invalid Gray-Scott parameter ") + key + " = " +
                  std::to_string(value) + ": expected a finite number >= 0");
    }
  }
}

template <class T>
void gray_scott_initial_state(const View4<T>& fields, std::uint64_t seed,
                              std::uint64_t first_sample, const GrayScottInitialCondition& ic) {
  const std::size_t n = fields.extent(0), height = fields.extent(2), width = fields.extent(3);
  check_batch("gray_scott_initial_state", n, fields.extent(1), height, width);
  require_shape(ic.discs >= 0 && ic.radius_min >= 0 && ic.radius_max >= ic.radius_min,
                "gray_scott_initial_state: need discs >= 0 and 0 <= radius_min <= radius_max");
  const auto h = static_cast<int>(height), w = static_cast<int>(width);
  const T u_disc = static_cast<T>(ic.u_disc), v_disc = static_cast<T>(ic.v_disc);
  Kokkos::parallel_for(
      "eqflow::gray_scott::initial_state", TeamPolicy(static_cast<int>(n * height), Kokkos::AUTO),
      KOKKOS_LAMBDA(const TeamMember& team) {
        const int row = team.league_rank();
        const int s = row / h, y = row % h;
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, w), [&](const int x) {
          T u = T(1), v = T(0);
          for (int j = 0; j < ic.discs; ++j) {
            const GrayScottDisc d = gray_scott_disc(ic, seed, first_sample + s, j, height, width);
            // Minimum-image distance: discs wrap around the periodic edges.
            int dy = math::abs(y - d.cy), dx = math::abs(x - d.cx);
            dy = math::min(dy, h - dy);
            dx = math::min(dx, w - dx);
            if (dy * dy + dx * dx <= d.radius * d.radius) {
              u = u_disc;
              v = v_disc;
            }
          }
          fields(s, 0, y, x) = u;
          fields(s, 1, y, x) = v;
        });
      });
}

template <class T>
void gray_scott_step(const GrayScottParameters& p, const View4<T>& in, const View4<T>& out) {
  const std::size_t n = in.extent(0), height = in.extent(2), width = in.extent(3);
  check_batch("gray_scott_step", n, in.extent(1), height, width);
  require_shape(
      out.extent(0) == n && out.extent(1) == 2 && out.extent(2) == height && out.extent(3) == width,
      "gray_scott_step: out must have the shape of in");
  require_shape(in.data() != out.data() || n == 0, "gray_scott_step: out must not alias in");
  const Reaction<T> react{static_cast<T>(p.Du), static_cast<T>(p.Dv), static_cast<T>(p.F),
                          static_cast<T>(p.F + p.k)};
  const auto h = static_cast<int>(height), w = static_cast<int>(width);
  const std::size_t plane = height * width;  // LayoutRight: channel planes of H * W values
  const T* src = in.data();
  T* dst = out.data();
  Kokkos::parallel_for(
      "eqflow::gray_scott::step", TeamPolicy(static_cast<int>(n * height), Kokkos::AUTO),
      KOKKOS_LAMBDA(const TeamMember& team) {
        const int row = team.league_rank();
        const int s = row / h, y = row % h;
        const int up = y == 0 ? h - 1 : y - 1, down = y == h - 1 ? 0 : y + 1;
        const std::size_t base = static_cast<std::size_t>(s) * 2 * plane;
        const T* u = src + base;
        const T* v = u + plane;
        const T* uc = u + static_cast<std::size_t>(y) * width;
        const T* uu = u + static_cast<std::size_t>(up) * width;
        const T* ud = u + static_cast<std::size_t>(down) * width;
        const T* vc = v + static_cast<std::size_t>(y) * width;
        const T* vu = v + static_cast<std::size_t>(up) * width;
        const T* vd = v + static_cast<std::size_t>(down) * width;
        T* uo = dst + base + static_cast<std::size_t>(y) * width;
        T* vo = uo + plane;
        if (team.team_size() == 1) {
          interior_blocked(react, uc, uu, ud, vc, vu, vd, uo, vo, w);
        } else {
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, 1, w - 1), [=](const int x) {
            react(uc[x], vc[x], uu[x] + ud[x] + uc[x - 1] + uc[x + 1],
                  vu[x] + vd[x] + vc[x - 1] + vc[x + 1], uo[x], vo[x]);
          });
        }
        // The edge columns and their wrapped neighbours (one column: both are itself).
        Kokkos::single(Kokkos::PerTeam(team), [&]() {
          const int last = w - 1;
          for (int x = 0; x <= last; x += (last > 0 ? last : 1)) {
            const int left = x == 0 ? last : x - 1, right = x == last ? 0 : x + 1;
            react(uc[x], vc[x], uu[x] + ud[x] + uc[left] + uc[right],
                  vu[x] + vd[x] + vc[left] + vc[right], uo[x], vo[x]);
          }
        });
      });
}

template <class T>
GrayScottSimulator<T>::GrayScottSimulator(const GrayScottParameters& parameters, std::size_t batch,
                                          std::size_t height, std::size_t width)
    : parameters_(parameters),
      scratch_(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::gray_scott::scratch"),
               batch, 2, height, width) {
  validate(parameters);
  check_batch("GrayScottSimulator", batch, 2, height, width);
  // One sample per thread of the execution space at a time (Serial: one; a GPU: the batch).
  group_ = std::max<std::size_t>(1, static_cast<std::size_t>(ExecSpace().concurrency()));
}

template <class T>
void GrayScottSimulator<T>::advance(const View4<T>& fields, std::size_t steps) {
  const std::size_t n = fields.extent(0);
  require_shape(
      n <= scratch_.extent(0) && fields.extent(1) == 2 && fields.extent(2) == scratch_.extent(2) &&
          fields.extent(3) == scratch_.extent(3),
      "GrayScottSimulator::advance: fields must be (n <= " + std::to_string(scratch_.extent(0)) +
          ", 2, " + std::to_string(scratch_.extent(2)) + ", " + std::to_string(scratch_.extent(3)) +
          ")");
  if (n == 0 || steps == 0) return;
  // Samples are independent, so groups of them go through every step in turn: a group of
  // `group_` samples and its scratch stay in cache across the steps (a 128 x 128 float pair and
  // its scratch: 256 KiB) where the whole batch (4 MiB for 32 fields) would stream from memory at
  // each step. Views of the front of each buffer have the layout of `fields`.
  const std::size_t height = scratch_.extent(2), width = scratch_.extent(3);
  const std::size_t sample_size = 2 * height * width;
  for (std::size_t first = 0; first < n; first += group_) {
    const std::size_t count = std::min(group_, n - first);
    const View4<T> current(fields.data() + first * sample_size, count, 2, height, width);
    const View4<T> other(scratch_.data(), count, 2, height, width);
    for (std::size_t step = 0; step < steps; ++step) {
      if (step % 2 == 0) {
        gray_scott_step(parameters_, current, other);
      } else {
        gray_scott_step(parameters_, other, current);
      }
    }
    if (steps % 2 == 1) Kokkos::deep_copy(current, other);
  }
}

template void gray_scott_initial_state<float>(const View4<float>&, std::uint64_t, std::uint64_t,
                                              const GrayScottInitialCondition&);
template void gray_scott_initial_state<double>(const View4<double>&, std::uint64_t, std::uint64_t,
                                               const GrayScottInitialCondition&);
template void gray_scott_step<float>(const GrayScottParameters&, const View4<float>&,
                                     const View4<float>&);
template void gray_scott_step<double>(const GrayScottParameters&, const View4<double>&,
                                      const View4<double>&);
template class GrayScottSimulator<float>;
template class GrayScottSimulator<double>;

}  // namespace eqflow::systems
