// Kernels of the elementary layers (Dense, activations, Fourier encoding, batch norm):
// forward, backward, forward_tangent and backward_tangent, instantiated for float and double.
// Derivations are in the comments next to each kernel; every one is checked against central
// finite differences in tests/nn/test_layers.cpp.
#include <fmt/core.h>

#include "eqflow/core/blas.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/nn/activation.hpp"
#include "eqflow/nn/batch_norm.hpp"
#include "eqflow/nn/dense.hpp"
#include "eqflow/nn/fourier_encoding.hpp"
#include "eqflow/nn/impl/team_reduction.hpp"

namespace eqflow::nn {
namespace {

template <class V>
bool empty(const V& v) {
  return v.size() == 0;
}

void check_width(const char* layer, const char* what, std::size_t got, std::size_t expected) {
  if (got != expected) {
    throw ShapeError(fmt::format("{}: {} has {} columns, expected {}", layer, what, got, expected));
  }
}

void check_rows(const char* layer, const char* what, std::size_t got, std::size_t expected) {
  if (got != expected) {
    throw ShapeError(fmt::format("{}: {} has {} rows, expected {}", layer, what, got, expected));
  }
}

//! Rows of a tangent batch (K*B) must be a multiple of the primal batch B.
std::size_t probes_of(const char* layer, std::size_t tangent_rows, std::size_t batch) {
  if (batch == 0 || tangent_rows % batch != 0) {
    throw ShapeError(fmt::format("{}: {} tangent rows is not a multiple of the batch {}", layer,
                                 tangent_rows, batch));
  }
  return tangent_rows / batch;
}

using impl::SumPair;

// Column sums of row-major (rows, cols) operands in two stages: one range iteration per block
// of kRowBlock rows, the columns innermost (contiguous, vectorised) into partial (blocks, M
// cols); then the blocks of each column in order (block_sum). A per-column pass would read
// every cache line of the operand once per column.
constexpr std::size_t kRowBlock = 256;
constexpr std::size_t kColumnChunk = 64;

std::size_t row_blocks(std::size_t rows) {
  return (rows + kRowBlock - 1) / kRowBlock;
}

//! Grows partial to at least (row_blocks(rows), columns); never shrinks it, so the primal and
//! tangent passes of a layer share one buffer.
template <class Scalar>
void ensure_partial(View2<Scalar>& partial, std::size_t rows, std::size_t columns) {
  const std::size_t blocks = row_blocks(rows);
  if (partial.extent(0) < blocks || partial.extent(1) < columns) {
    const std::size_t b = std::max(blocks, partial.extent(0));
    const std::size_t c = std::max(columns, partial.extent(1));
    partial = View2<Scalar>();
    partial = View2<Scalar>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::column_sums::partial"), b, c);
  }
}

//! partial(block, m cols + c) = sum over the block's rows r of term(r, c) (M = 1: a Scalar;
//! M = 2: a SumPair, its first and second). `term` may also write outputs of (r, c).
template <int M, class Scalar, class Term>
void column_sums(const char* label, std::size_t rows, std::size_t cols,
                 const View2<Scalar>& partial, const Term& term) {
  Kokkos::parallel_for(
      label, RangePolicy(0, row_blocks(rows)), KOKKOS_LAMBDA(const std::size_t block) {
        const std::size_t r0 = block * kRowBlock;
        const std::size_t r1 = r0 + kRowBlock < rows ? r0 + kRowBlock : rows;
        for (std::size_t c0 = 0; c0 < cols; c0 += kColumnChunk) {
          const std::size_t width = cols - c0 < kColumnChunk ? cols - c0 : kColumnChunk;
          Scalar acc[M][kColumnChunk];
          for (int m = 0; m < M; ++m)
            for (std::size_t j = 0; j < width; ++j) acc[m][j] = Scalar(0);
          for (std::size_t r = r0; r < r1; ++r) {
            for (std::size_t j = 0; j < width; ++j) {
              if constexpr (M == 1) {
                acc[0][j] += term(r, c0 + j);
              } else {
                const SumPair<Scalar> t = term(r, c0 + j);
                acc[0][j] += t.first;
                acc[1][j] += t.second;
              }
            }
          }
          for (int m = 0; m < M; ++m)
            for (std::size_t j = 0; j < width; ++j) partial(block, m * cols + c0 + j) = acc[m][j];
        }
      });
}

//! The sum of column `column` of partial over its first `blocks` blocks, in order.
template <class Scalar>
KOKKOS_INLINE_FUNCTION Scalar block_sum(const View2<Scalar>& partial, std::size_t blocks,
                                        std::size_t column) {
  Scalar sum = 0;
  for (std::size_t b = 0; b < blocks; ++b) sum += partial(b, column);
  return sum;
}

}  // namespace

// ---------------------------------------------------------------------------------- Dense

template <class Scalar>
Dense<Scalar>::Dense(std::size_t in, std::size_t out, bool bias)
    : in_(in), out_(out), has_bias_(bias) {}

template <class Scalar>
void Dense<Scalar>::declare(ParameterStore<Scalar>& store, const std::string& prefix) {
  w_offset_ = store.add_parameter(prefix + "weight", {out_, in_});
  if (has_bias_) b_offset_ = store.add_parameter(prefix + "bias", {out_});
}

template <class Scalar>
void Dense<Scalar>::bind(const ParameterStore<Scalar>& store) {
  w_ = Unmanaged2<Scalar>(store.values().data() + w_offset_, out_, in_);
  gw_ = Unmanaged2<Scalar>(store.gradients().data() + w_offset_, out_, in_);
  if (has_bias_) {
    b_ = Unmanaged1<Scalar>(store.values().data() + b_offset_, out_);
    gb_ = Unmanaged1<Scalar>(store.gradients().data() + b_offset_, out_);
  }
}

template <class Scalar>
void Dense<Scalar>::initialize(std::uint64_t seed, std::uint64_t layer_id) {
  const CounterRng rng(seed, mix64(layer_id));
  const Scalar bound = Scalar(1) / math::sqrt(static_cast<Scalar>(in_ > 0 ? in_ : 1));
  fill_uniform(w_, rng, 0, -bound, bound);
  if (has_bias_) fill_uniform(b_, rng, out_ * in_, -bound, bound);
}

template <class Scalar>
void Dense<Scalar>::forward(const ConstView& x, const MutView& y, Mode) {
  check_width("Dense", "input", x.extent(1), in_);
  check_width("Dense", "output", y.extent(1), out_);
  check_rows("Dense", "output", y.extent(0), x.extent(0));
  x_ = x;
  if (has_bias_) {
    const auto b = b_;
    const std::size_t n = out_;
    Kokkos::parallel_for(
        "eqflow::Dense::bias", RangePolicy(0, y.extent(0)), KOKKOS_LAMBDA(const std::size_t r) {
          for (std::size_t o = 0; o < n; ++o) y(r, o) = b(o);
        });
  }
  gemm<Scalar>("N", "T", Scalar(1), x, w_, has_bias_ ? Scalar(1) : Scalar(0), y);
}

template <class Scalar>
void Dense<Scalar>::backward(const ConstView& gy, const MutView& gx) {
  check_rows("Dense", "output gradient", gy.extent(0), x_.extent(0));
  // gx = gy W ; gW += gy^T x ; gb += sum_b gy
  if (!empty(gx)) gemm<Scalar>("N", "N", Scalar(1), gy, w_, Scalar(0), gx);
  gemm<Scalar>("T", "N", Scalar(1), gy, x_, Scalar(1), gw_);
  if (has_bias_) {
    const auto gb = gb_;
    const std::size_t rows = gy.extent(0);
    ensure_partial(partial_, rows, out_);
    const auto partial = partial_;
    const std::size_t blocks = row_blocks(rows);
    column_sums<1>(
        "eqflow::Dense::bias_grad", rows, out_, partial,
        KOKKOS_LAMBDA(const std::size_t r, const std::size_t o) { return gy(r, o); });
    Kokkos::parallel_for(
        "eqflow::Dense::bias_grad_sum", RangePolicy(0, out_),
        KOKKOS_LAMBDA(const std::size_t o) { gb(o) += block_sum(partial, blocks, o); });
  }
}

template <class Scalar>
void Dense<Scalar>::forward_tangent(const ConstView& tx, const MutView& ty) {
  check_width("Dense", "tangent input", tx.extent(1), in_);
  check_rows("Dense", "tangent output", ty.extent(0), tx.extent(0));
  tx_ = tx;
  gemm<Scalar>("N", "T", Scalar(1), tx, w_, Scalar(0), ty);  // ty = tx W^T
}

template <class Scalar>
void Dense<Scalar>::backward_tangent(const ConstView& gty, const MutView& gtx, const MutView&) {
  check_rows("Dense", "tangent gradient", gty.extent(0), tx_.extent(0));
  // ty = tx W^T is linear in tx and independent of x: gtx = gty W, gW += gty^T tx.
  if (!empty(gtx)) gemm<Scalar>("N", "N", Scalar(1), gty, w_, Scalar(0), gtx);
  gemm<Scalar>("T", "N", Scalar(1), gty, tx_, Scalar(1), gw_);
}

// ----------------------------------------------------------------------------- Activation

template <class Scalar, class F>
void Activation<Scalar, F>::forward(const ConstView& x, const MutView& y, Mode) {
  check_width(F::name, "input", x.extent(1), features_);
  check_rows(F::name, "output", y.extent(0), x.extent(0));
  x_ = x;
  derivatives_valid_ = false;
  Kokkos::parallel_for(
      "eqflow::Activation::forward", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) { y.data()[i] = F::value(x.data()[i]); });
}

template <class Scalar, class F>
void Activation<Scalar, F>::ensure_derivatives() {
  if (derivatives_valid_) return;
  const auto x = x_;
  if (first_.extent(0) != x.extent(0)) {
    first_ =
        View2<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Activation::d1"),
                      x.extent(0), features_);
    second_ =
        View2<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Activation::d2"),
                      x.extent(0), features_);
  }
  const auto d1 = first_, d2 = second_;
  Kokkos::parallel_for(
      "eqflow::Activation::derivatives", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        F::derivatives(x.data()[i], d1.data()[i], d2.data()[i]);
      });
  derivatives_valid_ = true;
}

template <class Scalar, class F>
void Activation<Scalar, F>::backward(const ConstView& gy, const MutView& gx) {
  if (empty(gx)) return;
  ensure_derivatives();
  const auto d1 = first_;
  Kokkos::parallel_for(
      "eqflow::Activation::backward", RangePolicy(0, d1.size()),
      KOKKOS_LAMBDA(const std::size_t i) { gx.data()[i] = d1.data()[i] * gy.data()[i]; });
}

template <class Scalar, class F>
void Activation<Scalar, F>::forward_tangent(const ConstView& tx, const MutView& ty) {
  ensure_derivatives();
  const auto d1 = first_;
  const std::size_t primal = d1.size();
  const std::size_t probes = probes_of(F::name, tx.extent(0), d1.extent(0));
  tx_ = tx;
  // ty = sigma'(x) tx; tangent row k*B + b sits at flat offset k*B*F + (b*F + f).
  Kokkos::parallel_for(
      "eqflow::Activation::forward_tangent", Policy2D({0, 0}, {probes, primal}),
      KOKKOS_LAMBDA(const std::size_t k, const std::size_t i) {
        ty.data()[k * primal + i] = d1.data()[i] * tx.data()[k * primal + i];
      });
}

template <class Scalar, class F>
void Activation<Scalar, F>::backward_tangent(const ConstView& gty, const MutView& gtx,
                                             const MutView& gx) {
  ensure_derivatives();
  const auto d1 = first_, d2 = second_;
  const auto tx = tx_;
  const std::size_t primal = d1.size();
  const std::size_t probes = tx.size() / (primal > 0 ? primal : 1);
  // gtx = sigma'(x) gty and gx += sigma''(x) sum_k gty_k tx_k in one contiguous pass over
  // each tangent block k (a kernel per k: striding across blocks in one kernel would jump
  // B*F elements, a power of two, and thrash the cache sets).
  const bool want_gtx = !empty(gtx), want_gx = !empty(gx);
  if (want_gx && sums_.extent(0) != primal) {
    sums_ = View1<Scalar>(std::string("eqflow::Activation::sums"), primal);
  }
  const auto sums = sums_;
  for (std::size_t k = 0; k < probes; ++k) {
    const std::size_t offset = k * primal;
    const bool first_block = k == 0;
    Kokkos::parallel_for(
        "eqflow::Activation::backward_tangent", RangePolicy(0, primal),
        KOKKOS_LAMBDA(const std::size_t i) {
          const Scalar g = gty.data()[offset + i];
          if (want_gtx) gtx.data()[offset + i] = d1.data()[i] * g;
          if (want_gx) {
            const Scalar p = g * tx.data()[offset + i];
            sums(i) = first_block ? p : sums(i) + p;
          }
        });
  }
  if (want_gx) {
    Kokkos::parallel_for(
        "eqflow::Activation::backward_tangent_x", RangePolicy(0, primal),
        KOKKOS_LAMBDA(const std::size_t i) { gx.data()[i] += d2.data()[i] * sums(i); });
  }
}

// ------------------------------------------------------------------------ FourierEncoding

// trig_(b, 2 j d + c) = sin(2^j x_bc), trig_(b, (2 j + 1) d + c) = cos(2^j x_bc): computed once
// in forward, reused by every tangent and adjoint pass.

template <class Scalar>
void FourierEncoding<Scalar>::forward(const ConstView& x, const MutView& y, Mode) {
  check_width("FourierEncoding", "input", x.extent(1), d_);
  check_width("FourierEncoding", "output", y.extent(1), out_features());
  const std::size_t d = d_;
  const int nf = frequencies_;
  if (trig_.extent(0) != x.extent(0)) {
    trig_ = View2<Scalar>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::FourierEncoding::trig"),
        x.extent(0), 2 * nf * d);
  }
  const auto trig = trig_;
  Kokkos::parallel_for(
      "eqflow::FourierEncoding::forward", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t b = i / d, c = i % d;
        const Scalar v = x(b, c);
        y(b, c) = v;
        // One sin/cos, then the double-angle formulas for frequencies 2, 4, ...
        Scalar sn = math::sin(v), cs = math::cos(v);
        for (int j = 0; j < nf; ++j) {
          trig(b, 2 * j * d + c) = sn;
          trig(b, (2 * j + 1) * d + c) = cs;
          y(b, (1 + 2 * j) * d + c) = sn;
          y(b, (2 + 2 * j) * d + c) = cs;
          const Scalar s2 = Scalar(2) * sn * cs;
          cs = (cs - sn) * (cs + sn);
          sn = s2;
        }
      });
}

// out(r, :) = J(x_b)^T in(r, :) for rows r of `in` (a primal adjoint, or tangent adjoints with
// r = k*B + b): out_c = in_c + sum_j a (cos(a x) in_sin - sin(a x) in_cos), a = 2^j.
template <class Scalar>
void FourierEncoding<Scalar>::apply_transposed_jacobian(const ConstView& in, const MutView& out,
                                                        const char* label) const {
  const auto trig = trig_;
  const std::size_t batch = trig.extent(0), d = d_;
  const int nf = frequencies_;
  Kokkos::parallel_for(
      label, RangePolicy(0, in.extent(0)), KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t b = r % batch;
        for (std::size_t c = 0; c < d; ++c) {
          Scalar g = in(r, c);
          Scalar a = 1;
          for (int j = 0; j < nf; ++j, a *= 2) {
            g += a * (trig(b, (2 * j + 1) * d + c) * in(r, (1 + 2 * j) * d + c) -
                      trig(b, 2 * j * d + c) * in(r, (2 + 2 * j) * d + c));
          }
          out(r, c) = g;
        }
      });
}

template <class Scalar>
void FourierEncoding<Scalar>::backward(const ConstView& gy, const MutView& gx) {
  if (empty(gx)) return;
  apply_transposed_jacobian(gy, gx, "eqflow::FourierEncoding::backward");
}

template <class Scalar>
void FourierEncoding<Scalar>::forward_tangent(const ConstView& tx, const MutView& ty) {
  const auto trig = trig_;
  const std::size_t batch = trig.extent(0);
  probes_of("FourierEncoding", tx.extent(0), batch);
  tx_ = tx;
  const std::size_t d = d_;
  const int nf = frequencies_;
  Kokkos::parallel_for(
      "eqflow::FourierEncoding::forward_tangent", RangePolicy(0, tx.extent(0)),
      KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t b = r % batch;
        for (std::size_t c = 0; c < d; ++c) {
          const Scalar t = tx(r, c);
          ty(r, c) = t;
          Scalar a = 1;
          for (int j = 0; j < nf; ++j, a *= 2) {
            ty(r, (1 + 2 * j) * d + c) = a * trig(b, (2 * j + 1) * d + c) * t;
            ty(r, (2 + 2 * j) * d + c) = -a * trig(b, 2 * j * d + c) * t;
          }
        }
      });
}

template <class Scalar>
void FourierEncoding<Scalar>::backward_tangent(const ConstView& gty, const MutView& gtx,
                                               const MutView& gx) {
  const auto trig = trig_;
  const auto tx = tx_;
  const std::size_t batch = trig.extent(0);
  const std::size_t probes = tx.extent(0) / batch;
  const std::size_t d = d_;
  const int nf = frequencies_;
  // The tangent map is linear with the primal Jacobian: the same transpose applies.
  if (!empty(gtx)) {
    apply_transposed_jacobian(gty, gtx, "eqflow::FourierEncoding::backward_tangent_t");
  }
  // ty_sin = a cos(a x) t, ty_cos = -a sin(a x) t:
  // gx += sum_k t_k sum_j (-a^2 sin(a x) gty_sin - a^2 cos(a x) gty_cos)
  if (!empty(gx)) {
    Kokkos::parallel_for(
        "eqflow::FourierEncoding::backward_tangent_x", RangePolicy(0, gx.size()),
        KOKKOS_LAMBDA(const std::size_t i) {
          const std::size_t b = i / d, c = i % d;
          Scalar g = 0;
          Scalar a = 1;
          for (int j = 0; j < nf; ++j, a *= 2) {
            const Scalar sn = trig(b, 2 * j * d + c), cs = trig(b, (2 * j + 1) * d + c);
            Scalar acc = 0;
            for (std::size_t k = 0; k < probes; ++k) {
              const std::size_t r = k * batch + b;
              acc +=
                  tx(r, c) * (sn * gty(r, (1 + 2 * j) * d + c) + cs * gty(r, (2 + 2 * j) * d + c));
            }
            g -= a * a * acc;
          }
          gx(b, c) += g;
        });
  }
}

// ------------------------------------------------------------------------------ BatchNorm

template <class Scalar>
BatchNorm<Scalar>::BatchNorm(std::size_t features, bool affine, Scalar eps, Scalar momentum)
    : n_(features),
      affine_(affine),
      eps_(eps),
      momentum_(momentum),
      batch_mean_("eqflow::BatchNorm::batch_mean", features),
      batch_inv_std_("eqflow::BatchNorm::batch_inv_std", features),
      mean_("eqflow::BatchNorm::mean", features),
      inv_std_("eqflow::BatchNorm::inv_std", features) {}

template <class Scalar>
void BatchNorm<Scalar>::declare(ParameterStore<Scalar>& store, const std::string& prefix) {
  if (affine_) {
    gamma_offset_ = store.add_parameter(prefix + "weight", {n_});
    beta_offset_ = store.add_parameter(prefix + "bias", {n_});
  }
  buffer_offset_ = store.add_buffer(prefix + "running_mean", {n_});
  store.add_buffer(prefix + "running_var", {n_});
}

template <class Scalar>
void BatchNorm<Scalar>::bind(const ParameterStore<Scalar>& store) {
  if (affine_) {
    gamma_ = Unmanaged1<Scalar>(store.values().data() + gamma_offset_, n_);
    beta_ = Unmanaged1<Scalar>(store.values().data() + beta_offset_, n_);
    ggamma_ = Unmanaged1<Scalar>(store.gradients().data() + gamma_offset_, n_);
    gbeta_ = Unmanaged1<Scalar>(store.gradients().data() + beta_offset_, n_);
  }
  running_mean_ = Unmanaged1<Scalar>(store.buffers().data() + buffer_offset_, n_);
  running_var_ = Unmanaged1<Scalar>(store.buffers().data() + buffer_offset_ + n_, n_);
}

template <class Scalar>
void BatchNorm<Scalar>::initialize(std::uint64_t, std::uint64_t) {
  if (affine_) {
    Kokkos::deep_copy(gamma_, Scalar(1));
    Kokkos::deep_copy(beta_, Scalar(0));
  }
  Kokkos::deep_copy(running_mean_, Scalar(0));
  Kokkos::deep_copy(running_var_, Scalar(1));
}

template <class Scalar>
void BatchNorm<Scalar>::forward(const ConstView& x, const MutView& y, Mode mode) {
  check_width("BatchNorm", "input", x.extent(1), n_);
  check_rows("BatchNorm", "output", y.extent(0), x.extent(0));
  const std::size_t rows = x.extent(0), n = n_;
  const Scalar eps = eps_, momentum = momentum_;
  const auto mean = mean_, inv_std = inv_std_;
  if (mode == Mode::Train) {
    if (rows < 2) throw ShapeError("BatchNorm: training mode needs a batch of at least 2");
    const auto bm = batch_mean_, bs = batch_inv_std_;
    const auto rm = running_mean_, rv = running_var_;
    // Two passes (mean, then the centred sum of squares), as the plain loop would.
    ensure_partial(partial_, rows, n);
    const auto partial = partial_;
    const std::size_t blocks = row_blocks(rows);
    column_sums<1>(
        "eqflow::BatchNorm::statistics", rows, n, partial,
        KOKKOS_LAMBDA(const std::size_t r, const std::size_t f) { return x(r, f); });
    Kokkos::parallel_for(
        "eqflow::BatchNorm::mean", RangePolicy(0, n), KOKKOS_LAMBDA(const std::size_t f) {
          bm(f) = block_sum(partial, blocks, f) / Scalar(rows);
        });
    column_sums<1>(
        "eqflow::BatchNorm::statistics", rows, n, partial,
        KOKKOS_LAMBDA(const std::size_t r, const std::size_t f) {
          return (x(r, f) - bm(f)) * (x(r, f) - bm(f));
        });
    Kokkos::parallel_for(
        "eqflow::BatchNorm::variance", RangePolicy(0, n), KOKKOS_LAMBDA(const std::size_t f) {
          const Scalar mu = bm(f), ss = block_sum(partial, blocks, f);
          const Scalar s = Scalar(1) / math::sqrt(ss / Scalar(rows) + eps);
          bs(f) = s;
          mean(f) = mu;
          inv_std(f) = s;
          rm(f) = (Scalar(1) - momentum) * rm(f) + momentum * mu;
          rv(f) = (Scalar(1) - momentum) * rv(f) + momentum * ss / Scalar(rows - 1);
        });
    differentiate_stats_ = true;
  } else if (mode == Mode::Eval) {
    const auto rm = running_mean_, rv = running_var_;
    Kokkos::parallel_for(
        "eqflow::BatchNorm::running", RangePolicy(0, n), KOKKOS_LAMBDA(const std::size_t f) {
          mean(f) = rm(f);
          inv_std(f) = Scalar(1) / math::sqrt(rv(f) + eps);
        });
    differentiate_stats_ = false;
  } else {
    Kokkos::deep_copy(mean_, batch_mean_);
    Kokkos::deep_copy(inv_std_, batch_inv_std_);
    differentiate_stats_ = false;
  }
  if (xhat_.extent(0) != rows || xhat_.extent(1) != n) {
    xhat_ = View2<Scalar>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::BatchNorm::xhat"), rows, n);
  }
  const auto xhat = xhat_;
  const bool affine = affine_;
  const auto gamma = gamma_, beta = beta_;
  Kokkos::parallel_for(
      "eqflow::BatchNorm::normalise", RangePolicy(0, rows), KOKKOS_LAMBDA(const std::size_t r) {
        for (std::size_t f = 0; f < n; ++f) {
          const Scalar h = (x(r, f) - mean(f)) * inv_std(f);
          xhat(r, f) = h;
          y(r, f) = affine ? gamma(f) * h + beta(f) : h;
        }
      });
}

template <class Scalar>
void BatchNorm<Scalar>::backward(const ConstView& gy, const MutView& gx) {
  const auto xhat = xhat_;
  const std::size_t rows = xhat.extent(0), n = n_;
  check_rows("BatchNorm", "output gradient", gy.extent(0), rows);
  const bool affine = affine_, stats = differentiate_stats_, want_gx = !empty(gx);
  const auto gamma = gamma_, ggamma = ggamma_, gbeta = gbeta_;
  const auto inv_std = inv_std_;
  // With batch statistics, g = gamma gy:
  //   gx = inv_std / B (B g - sum_b g - xhat sum_b (g xhat)).
  ensure_partial(partial_, rows, 2 * n);
  ensure_coefficients(3);
  const auto partial = partial_, coef = coefficients_;
  const std::size_t blocks = row_blocks(rows);
  column_sums<2>(
      "eqflow::BatchNorm::backward", rows, n, partial,
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t f) {
        return SumPair<Scalar>{gy(r, f), gy(r, f) * xhat(r, f)};
      });
  Kokkos::parallel_for(
      "eqflow::BatchNorm::backward_sums", RangePolicy(0, n), KOKKOS_LAMBDA(const std::size_t f) {
        const Scalar sum_g = block_sum(partial, blocks, f),
                     sum_gx = block_sum(partial, blocks, n + f);
        if (affine) {
          ggamma(f) += sum_gx;
          gbeta(f) += sum_g;
        }
        coef(0, f) = (affine ? gamma(f) : Scalar(1)) * inv_std(f);
        coef(1, f) = sum_g / Scalar(rows);
        coef(2, f) = sum_gx / Scalar(rows);
      });
  if (!want_gx) return;
  Kokkos::parallel_for(
      "eqflow::BatchNorm::backward_input", RangePolicy(0, rows),
      KOKKOS_LAMBDA(const std::size_t r) {
        for (std::size_t f = 0; f < n; ++f) {
          gx(r, f) = stats ? coef(0, f) * (gy(r, f) - coef(1, f) - xhat(r, f) * coef(2, f))
                           : coef(0, f) * gy(r, f);
        }
      });
}

template <class Scalar>
void BatchNorm<Scalar>::forward_tangent(const ConstView& tx, const MutView& ty) {
  probes_of("BatchNorm", tx.extent(0), xhat_.extent(0));
  tx_ = tx;
  const std::size_t n = n_;
  const bool affine = affine_;
  const auto gamma = gamma_;
  const auto inv_std = inv_std_;
  // Statistics are constants of the tangent pass: ty = gamma inv_std tx.
  Kokkos::parallel_for(
      "eqflow::BatchNorm::forward_tangent", RangePolicy(0, tx.extent(0)),
      KOKKOS_LAMBDA(const std::size_t r) {
        for (std::size_t f = 0; f < n; ++f) {
          ty(r, f) = (affine ? gamma(f) : Scalar(1)) * inv_std(f) * tx(r, f);
        }
      });
}

template <class Scalar>
void BatchNorm<Scalar>::backward_tangent(const ConstView& gty, const MutView& gtx,
                                         const MutView& gx) {
  const auto xhat = xhat_;
  const auto tx = tx_;
  const std::size_t rows = xhat.extent(0), n = n_, trows = tx.extent(0);
  const bool affine = affine_, stats = differentiate_stats_, want_gx = !empty(gx),
             want_gtx = !empty(gtx);
  const auto gamma = gamma_, ggamma = ggamma_;
  const auto inv_std = inv_std_;
  // ty = gamma s tx with s = (var + eps)^(-1/2). With q = sum_rows gty tx:
  //   gtx = gamma s gty, ggamma += s q, and through the batch variance
  //   ds/dx_b = -s^3 (x_b - mean) / B = -s^2 xhat_b / B, so gx_b += -gamma q s^2 xhat_b / B.
  ensure_partial(partial_, trows, n);
  ensure_coefficients(1);
  const auto partial = partial_, coef = coefficients_;
  const std::size_t blocks = row_blocks(trows);
  column_sums<1>(
      "eqflow::BatchNorm::backward_tangent", trows, n, partial,
      KOKKOS_LAMBDA(const std::size_t r, const std::size_t f) {
        if (want_gtx) gtx(r, f) = (affine ? gamma(f) : Scalar(1)) * inv_std(f) * gty(r, f);
        return gty(r, f) * tx(r, f);
      });
  Kokkos::parallel_for(
      "eqflow::BatchNorm::backward_tangent_sums", RangePolicy(0, n),
      KOKKOS_LAMBDA(const std::size_t f) {
        const Scalar g = affine ? gamma(f) : Scalar(1), s = inv_std(f),
                     q = block_sum(partial, blocks, f);
        if (affine) ggamma(f) += s * q;
        coef(0, f) = -g * q * s * s / Scalar(rows);
      });
  if (stats && want_gx) {
    Kokkos::parallel_for(
        "eqflow::BatchNorm::backward_tangent_input", RangePolicy(0, rows),
        KOKKOS_LAMBDA(const std::size_t r) {
          for (std::size_t f = 0; f < n; ++f) gx(r, f) += coef(0, f) * xhat(r, f);
        });
  }
}

template <class Scalar>
void BatchNorm<Scalar>::ensure_coefficients(std::size_t count) {
  if (coefficients_.extent(0) < count) {
    coefficients_ = View2<Scalar>("eqflow::BatchNorm::coefficients", count, n_);
  }
}

template class Dense<float>;
template class Dense<double>;
template class Activation<float, ReluFunction>;
template class Activation<double, ReluFunction>;
template class Activation<float, SiluFunction>;
template class Activation<double, SiluFunction>;
template class FourierEncoding<float>;
template class FourierEncoding<double>;
template class BatchNorm<float>;
template class BatchNorm<double>;

}  // namespace eqflow::nn
