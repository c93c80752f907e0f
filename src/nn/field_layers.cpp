// Kernels of the layers on fields (N, C, H, W): circular convolution as im2col + gemm,
// group normalisation, elementwise activations, nearest x2 upsampling and channel
// concatenation, forward and backward, instantiated for float and double. Every one is
// checked against central finite differences and a plain-loop reference in
// tests/nn/test_field_layers.cpp.
#include <fmt/core.h>

#include "eqflow/core/blas.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/nn/conv2d.hpp"
#include "eqflow/nn/field_ops.hpp"
#include "eqflow/nn/group_norm.hpp"
#include "eqflow/nn/impl/team_reduction.hpp"

namespace eqflow::nn {
namespace {

using impl::SumPair;
using impl::SumPairReducer;
using impl::TeamMember;

template <class V>
bool empty(const V& v) {
  return v.size() == 0;
}

std::string describe(const FieldShape& s) {
  return fmt::format("({}, {}, {})", s.channels, s.height, s.width);
}

//! Throws unless the batch `y` has `n` samples of shape `expected`.
template <class V>
void check_field(const char* layer, const char* what, const V& y, std::size_t n,
                 const FieldShape& expected) {
  if (y.extent(0) != n || !(shape_of(y) == expected)) {
    throw ShapeError(fmt::format("{}: {} is ({}, {}, {}, {}), expected ({}, {}, {}, {})", layer,
                                 what, y.extent(0), y.extent(1), y.extent(2), y.extent(3), n,
                                 expected.channels, expected.height, expected.width));
  }
}

//! Sample n of a field batch as a (C, H W) matrix.
template <class Scalar, class V>
Unmanaged2<Scalar> sample_matrix(const V& x, std::size_t n) {
  const std::size_t c = x.extent(1), p = x.extent(2) * x.extent(3);
  return Unmanaged2<Scalar>(x.data() + n * c * p, c, p);
}

//! The first and one-past-last output column ox whose input column ox s + off lies inside
//! [0, w): the columns outside wrap around (circular padding); off = kx - k/2.
KOKKOS_INLINE_FUNCTION void interior_columns(long off, std::size_t s, std::size_t w, std::size_t wo,
                                             std::size_t& first, std::size_t& last) {
  const long stride = long(s);
  first = off < 0 ? std::size_t((-off + stride - 1) / stride) : 0;
  const long end = (long(w) - off + stride - 1) / stride;  // first ox with ox s + off >= w
  last = end < long(wo) ? std::size_t(end) : wo;
  if (first > last) first = last;
}

//! out[ox] = row[(ox s + off) mod W] for ox < wo: one row of im2col's columns.
template <class Scalar>
KOKKOS_INLINE_FUNCTION void gather_row(const Scalar* row, long off, std::size_t s, std::size_t w,
                                       std::size_t wo, Scalar* out) {
  std::size_t first, last;
  interior_columns(off, s, w, wo, first, last);
  for (std::size_t ox = 0; ox < first; ++ox) out[ox] = row[long(ox * s) + off + long(w)];
  if (s == 1) {
    const Scalar* src = row + off;
    for (std::size_t ox = first; ox < last; ++ox) out[ox] = src[ox];
  } else {
    for (std::size_t ox = first; ox < last; ++ox) out[ox] = row[long(ox * s) + off];
  }
  for (std::size_t ox = last; ox < wo; ++ox) out[ox] = row[long(ox * s) + off - long(w)];
}

//! col((c k + ky) k + kx, oy Wo + ox) = x(n, c, (oy s + ky - k/2) mod H, (ox s + kx - k/2) mod W)
//! for rows < C k k; a further row of ones when col has one (the bias as a weight column).
template <class Scalar>
void im2col(const ConstField<Scalar>& x, std::size_t n, std::size_t k, std::size_t s,
            const Unmanaged2<Scalar>& col) {
  const std::size_t channels = x.extent(1), h = x.extent(2), w = x.extent(3);
  const std::size_t ho = h / s, wo = w / s, pad = k / 2, rows = channels * k * k;
  const bool ones = col.extent(0) > rows;
  Kokkos::parallel_for(
      "eqflow::Conv2d::im2col", RangePolicy(0, (rows + (ones ? 1 : 0)) * ho),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t oy = i % ho, r = i / ho;
        Scalar* out = &col(r, oy * wo);
        if (r == rows) {
          for (std::size_t ox = 0; ox < wo; ++ox) out[ox] = Scalar(1);
          return;
        }
        const std::size_t kx = r % k, ky = (r / k) % k, c = r / (k * k);
        std::size_t iy = oy * s + ky + h - pad;
        iy = iy >= h ? iy - h : iy;
        iy = iy >= h ? iy - h : iy;
        gather_row(&x(n, c, iy, 0), long(kx) - long(pad), s, w, wo, out);
      });
}

//! The columns of a stride-1 3x3 convolution with the kernel rows left out:
//! s(c 3 + kx, r W + ox) = x(n, c, (r - 1) mod H, (ox + kx - 1) mod W) for r in [0, H + 2),
//! then a row of ones (the bias). Kernel row ky's columns (im2col's rows (c, ky, kx)) are the
//! window of columns [ky W, ky W + H W): a padded view, no copy. A third of im2col's writes.
template <class Scalar>
void shifted_columns(const ConstField<Scalar>& x, std::size_t n, const Unmanaged2<Scalar>& col) {
  const std::size_t channels = x.extent(1), h = x.extent(2), w = x.extent(3), rows = 3 * channels;
  Kokkos::parallel_for(
      "eqflow::Conv2d::shifted_columns", RangePolicy(0, (rows + 1) * (h + 2)),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t r = i % (h + 2), row = i / (h + 2);
        Scalar* out = &col(row, r * w);
        if (row == rows) {
          for (std::size_t ox = 0; ox < w; ++ox) out[ox] = Scalar(1);
          return;
        }
        const std::size_t iy = r == 0 ? h - 1 : (r == h + 1 ? 0 : r - 1);
        gather_row(&x(n, row / 3, iy, 0), long(row % 3) - 1, 1, w, w, out);
      });
}

//! wb(ky out + o, c 3 + kx) = w(o, (c 3 + ky) 3 + kx) for a 3x3 kernel, and the last column
//! b(o) (0 when b is empty: no bias).
template <class Scalar>
void gather_kernel_rows(const Unmanaged2<Scalar>& w, const Unmanaged1<Scalar>& b,
                        const View2<Scalar>& wb) {
  const std::size_t outs = w.extent(0), cols = wb.extent(1);
  const bool bias = b.size() != 0;
  Kokkos::parallel_for(
      "eqflow::Conv2d::gather_weights", RangePolicy(0, wb.extent(0)),
      KOKKOS_LAMBDA(const std::size_t row) {
        const std::size_t o = row % outs, ky = row / outs;
        for (std::size_t c = 0; c + 1 < cols; c += 3) {
          for (std::size_t kx = 0; kx < 3; ++kx) wb(row, c + kx) = w(o, (c + ky) * 3 + kx);
        }
        wb(row, cols - 1) = bias ? b(o) : Scalar(0);
      });
}

//! Rows [row, row + rows) and columns [col, col + cols) of `m`: a view with m's row stride
//! (LayoutRight with padding, which the gemm passes to BLAS as the leading dimension).
template <class Scalar>
Kokkos::View<const Scalar**, Layout, MemSpace> block(const Unmanaged2<const Scalar>& m,
                                                     std::size_t row, std::size_t rows,
                                                     std::size_t col, std::size_t cols) {
  return Kokkos::subview(m, std::make_pair(row, row + rows), std::make_pair(col, col + cols));
}

//! The adjoint of im2col, gathered per input row (no atomics): gx(n, c, iy, ix) = the sum of
//! the column entries that read (iy, ix). Rows of gcol past C k k are ignored.
template <class Scalar>
void col2im(const Unmanaged2<Scalar>& gcol, std::size_t k, std::size_t s,
            const MutField<Scalar>& gx, std::size_t n) {
  const std::size_t channels = gx.extent(1), h = gx.extent(2), w = gx.extent(3);
  const std::size_t wo = w / s, pad = k / 2;
  Kokkos::parallel_for(
      "eqflow::Conv2d::col2im", RangePolicy(0, channels * h), KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t iy = i % h, c = i / h;
        Scalar* out = &gx(n, c, iy, 0);
        for (std::size_t ix = 0; ix < w; ++ix) out[ix] = Scalar(0);
        for (std::size_t ky = 0; ky < k; ++ky) {
          // oy s = iy - ky + pad (mod H)
          std::size_t ty = iy + pad + h - ky;
          ty = ty >= h ? ty - h : ty;
          ty = ty >= h ? ty - h : ty;
          if (ty % s != 0) continue;
          const std::size_t oy = ty / s;
          for (std::size_t kx = 0; kx < k; ++kx) {
            // column ox was read from input column ox s + off (mod W)
            const Scalar* row = &gcol((c * k + ky) * k + kx, oy * wo);
            const long off = long(kx) - long(pad);
            std::size_t first, last;
            interior_columns(off, s, w, wo, first, last);
            for (std::size_t ox = 0; ox < first; ++ox) out[long(ox * s) + off + long(w)] += row[ox];
            if (s == 1) {
              Scalar* dst = out + off;
              for (std::size_t ox = first; ox < last; ++ox) dst[ox] += row[ox];
            } else {
              for (std::size_t ox = first; ox < last; ++ox) out[long(ox * s) + off] += row[ox];
            }
            for (std::size_t ox = last; ox < wo; ++ox) out[long(ox * s) + off - long(w)] += row[ox];
          }
        }
      });
}

//! Direct 3x3 (or 1x1) circular convolution: y(n, o, oy, ox) = b(o) + sum over c, ky, kx of
//! w(o, (c k + ky) k + kx) x(n, c, oy s + ky - k/2, ox s + kx - k/2), one output row per work
//! item (it stays in cache over the C k k taps). `b` may be empty.
template <class Scalar>
void direct_forward(const ConstField<Scalar>& x, const Unmanaged2<Scalar>& w,
                    const Unmanaged1<Scalar>& b, std::size_t k, std::size_t s,
                    const MutField<Scalar>& y) {
  const std::size_t n = x.extent(0), cin = x.extent(1), h = x.extent(2), wd = x.extent(3);
  const std::size_t cout = y.extent(1), ho = y.extent(2), wo = y.extent(3), pad = k / 2;
  const bool bias = b.size() != 0;
  Kokkos::parallel_for(
      "eqflow::Conv2d::direct_forward", RangePolicy(0, n * cout * ho),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t oy = i % ho, o = (i / ho) % cout, m = i / (ho * cout);
        Scalar* out = &y(m, o, oy, 0);
        const Scalar b0 = bias ? b(o) : Scalar(0);
        for (std::size_t ox = 0; ox < wo; ++ox) out[ox] = b0;
        for (std::size_t c = 0; c < cin; ++c) {
          for (std::size_t ky = 0; ky < k; ++ky) {
            std::size_t iy = oy * s + ky + h - pad;
            iy = iy >= h ? iy - h : iy;
            iy = iy >= h ? iy - h : iy;
            const Scalar* row = &x(m, c, iy, 0);
            for (std::size_t kx = 0; kx < k; ++kx) {
              const Scalar wv = w(o, (c * k + ky) * k + kx);
              const long off = long(kx) - long(pad);
              std::size_t first, last;
              interior_columns(off, s, wd, wo, first, last);
              for (std::size_t ox = 0; ox < first; ++ox)
                out[ox] += wv * row[long(ox * s) + off + long(wd)];
              if (s == 1) {
                const Scalar* src = row + off;
                for (std::size_t ox = first; ox < last; ++ox) out[ox] += wv * src[ox];
              } else {
                for (std::size_t ox = first; ox < last; ++ox)
                  out[ox] += wv * row[long(ox * s) + off];
              }
              for (std::size_t ox = last; ox < wo; ++ox)
                out[ox] += wv * row[long(ox * s) + off - long(wd)];
            }
          }
        }
      });
}

//! The input gradient of direct_forward, gathered per input row (no atomics).
template <class Scalar>
void direct_input_grad(const ConstField<Scalar>& gy, const Unmanaged2<Scalar>& w, std::size_t k,
                       std::size_t s, const MutField<Scalar>& gx) {
  const std::size_t n = gx.extent(0), cin = gx.extent(1), h = gx.extent(2), wd = gx.extent(3);
  const std::size_t cout = gy.extent(1), wo = gy.extent(3), pad = k / 2;
  Kokkos::parallel_for(
      "eqflow::Conv2d::direct_input_grad", RangePolicy(0, n * cin * h),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t iy = i % h, c = (i / h) % cin, m = i / (h * cin);
        Scalar* out = &gx(m, c, iy, 0);
        for (std::size_t ix = 0; ix < wd; ++ix) out[ix] = Scalar(0);
        for (std::size_t ky = 0; ky < k; ++ky) {
          std::size_t ty = iy + pad + h - ky;  // oy s = iy - ky + pad (mod H)
          ty = ty >= h ? ty - h : ty;
          ty = ty >= h ? ty - h : ty;
          if (ty % s != 0) continue;
          const std::size_t oy = ty / s;
          for (std::size_t o = 0; o < cout; ++o) {
            const Scalar* row = &gy(m, o, oy, 0);
            for (std::size_t kx = 0; kx < k; ++kx) {
              const Scalar wv = w(o, (c * k + ky) * k + kx);
              const long off = long(kx) - long(pad);
              std::size_t first, last;
              interior_columns(off, s, wd, wo, first, last);
              for (std::size_t ox = 0; ox < first; ++ox)
                out[long(ox * s) + off + long(wd)] += wv * row[ox];
              if (s == 1) {
                Scalar* dst = out + off;
                for (std::size_t ox = first; ox < last; ++ox) dst[ox] += wv * row[ox];
              } else {
                for (std::size_t ox = first; ox < last; ++ox)
                  out[long(ox * s) + off] += wv * row[ox];
              }
              for (std::size_t ox = last; ox < wo; ++ox)
                out[long(ox * s) + off - long(wd)] += wv * row[ox];
            }
          }
        }
      });
}

}  // namespace

// --------------------------------------------------------------------------------- Conv2d

template <class Scalar>
Conv2d<Scalar>::Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
                       std::size_t stride, bool bias, std::shared_ptr<Workspace<Scalar>> workspace)
    : in_(in_channels),
      out_(out_channels),
      kernel_(kernel),
      stride_(stride),
      has_bias_(bias),
      workspace_(workspace ? std::move(workspace) : std::make_shared<Workspace<Scalar>>()) {
  if (!((kernel == 1 && stride == 1) || (kernel == 3 && (stride == 1 || stride == 2)))) {
    throw ShapeError(fmt::format(
        "Conv2d: kernel {} with stride {} is not supported (kernel 1 stride 1, or kernel 3 "
        "stride 1 or 2)",
        kernel, stride));
  }
}

template <class Scalar>
FieldShape Conv2d<Scalar>::output_shape(const FieldShape& in) const {
  if (in.channels != in_ || in.height % stride_ != 0 || in.width % stride_ != 0 || in.height == 0 ||
      in.width == 0) {
    throw ShapeError(
        fmt::format("Conv2d({} -> {}, stride {}): input {} needs {} channels and "
                    "non-empty sides divisible by the stride",
                    in_, out_, stride_, describe(in), in_));
  }
  return FieldShape{out_, in.height / stride_, in.width / stride_};
}

template <class Scalar>
void Conv2d<Scalar>::declare(ParameterStore<Scalar>& store, const std::string& prefix) {
  w_offset_ = store.add_parameter(prefix + "weight", {out_, in_, kernel_, kernel_});
  if (has_bias_) b_offset_ = store.add_parameter(prefix + "bias", {out_});
}

template <class Scalar>
void Conv2d<Scalar>::bind(const ParameterStore<Scalar>& store) {
  const std::size_t cols = in_ * kernel_ * kernel_;
  w_ = Unmanaged2<Scalar>(store.values().data() + w_offset_, out_, cols);
  gw_ = Unmanaged2<Scalar>(store.gradients().data() + w_offset_, out_, cols);
  if (has_bias_) {
    b_ = Unmanaged1<Scalar>(store.values().data() + b_offset_, out_);
    gb_ = Unmanaged1<Scalar>(store.gradients().data() + b_offset_, out_);
  }
}

template <class Scalar>
void Conv2d<Scalar>::initialize(std::uint64_t seed, std::uint64_t layer_id) {
  const CounterRng rng(seed, mix64(layer_id));
  const Scalar bound = Scalar(1) / math::sqrt(static_cast<Scalar>(in_ * kernel_ * kernel_));
  fill_uniform(w_, rng, 0, -bound, bound);
  if (has_bias_) fill_uniform(b_, rng, w_.size(), -bound, bound);
}

template <class Scalar>
void Conv2d<Scalar>::forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode) {
  ScopedRegion region("eqflow::Conv2d::forward");
  const std::size_t n = x.extent(0);
  const FieldShape out = output_shape(shape_of(x));
  check_field("Conv2d", "output", y, n, out);
  x_ = x;
  const std::size_t p = out.height * out.width, channels = out_;
  if (kernel_ == 1) {
    if (has_bias_) {
      // One team per output plane (sample, channel): no division per element.
      const auto b = b_;
      Kokkos::parallel_for(
          "eqflow::Conv2d::bias", impl::per_team(n * channels),
          KOKKOS_LAMBDA(const TeamMember& team) {
            const std::size_t plane = team.league_rank();
            const Scalar value = b(plane % channels);
            Scalar* out = y.data() + plane * p;
            Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p),
                                 [&](const std::size_t i) { out[i] = value; });
          });
    }
    const Scalar beta = has_bias_ ? Scalar(1) : Scalar(0);
    for (std::size_t s = 0; s < n; ++s) {
      gemm<Scalar>("N", "N", Scalar(1), w_, sample_matrix<const Scalar>(x, s), beta,
                   sample_matrix<Scalar>(y, s));
    }
    return;
  }
  if (direct()) {
    direct_forward<Scalar>(x, w_, b_, kernel_, stride_, y);
    return;
  }
  if (stride_ == 1) {
    shifted_forward(x, y);
    return;
  }
  // (out, C k k [+ 1]): the weights and the bias column.
  const std::size_t cols = w_.extent(1), rows = cols + (has_bias_ ? 1 : 0);
  if (wb_.extent(0) != out_ || wb_.extent(1) != rows) {
    wb_ = View2<Scalar>("eqflow::Conv2d::weights_bias", out_, rows);
  }
  const auto wb = wb_;
  const auto w = w_;
  const auto b = b_;
  Kokkos::parallel_for(
      "eqflow::Conv2d::gather_weights", RangePolicy(0, wb.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t o = i / rows, j = i % rows;
        wb(o, j) = j < cols ? w(o, j) : b(o);
      });
  for (std::size_t s = 0; s < n; ++s) {
    const auto col = workspace_->matrix(0, rows, p);
    im2col<Scalar>(x, s, kernel_, stride_, col);
    gemm<Scalar>("N", "N", Scalar(1), wb, col, Scalar(0), sample_matrix<Scalar>(y, s));
  }
}

//! A stride-1 3x3 forward as three gemms per sample, one per kernel row ky, each on a window
//! of the shifted columns: y = sum over ky of W_ky (out, 3 C) s[:3 C, ky W : ky W + H W],
//! where W_ky(o, c 3 + kx) = w(o, (c 3 + ky) 3 + kx); the first gemm (ky = 1) writes y and
//! takes the bias column against the ones row.
template <class Scalar>
void Conv2d<Scalar>::shifted_forward(const ConstField<Scalar>& x, const MutField<Scalar>& y) {
  const std::size_t n = x.extent(0), h = x.extent(2), wd = x.extent(3), p = h * wd;
  const std::size_t cols = 3 * in_ + 1, outs = out_;
  if (wb_.extent(0) != 3 * outs || wb_.extent(1) != cols) {
    wb_ = View2<Scalar>("eqflow::Conv2d::weights_bias", 3 * out_, cols);
  }
  const auto wb = wb_;
  gather_kernel_rows<Scalar>(w_, b_, wb);
  const auto col = workspace_->matrix(0, cols, (h + 2) * wd);
  for (std::size_t s = 0; s < n; ++s) {
    shifted_columns<Scalar>(x, s, col);
    for (const std::size_t ky : {std::size_t(1), std::size_t(0), std::size_t(2)}) {
      // The bias (the ones row) once, with the first gemm.
      const std::size_t k = ky == 1 && has_bias_ ? cols : cols - 1;
      gemm<Scalar>("N", "N", Scalar(1), block<Scalar>(wb, ky * outs, outs, 0, k),
                   block<Scalar>(col, 0, k, ky * wd, p), ky == 1 ? Scalar(0) : Scalar(1),
                   sample_matrix<Scalar>(y, s));
    }
  }
}

template <class Scalar>
void Conv2d<Scalar>::backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) {
  ScopedRegion region("eqflow::Conv2d::backward");
  const std::size_t n = x_.extent(0);
  const FieldShape out = output_shape(shape_of(x_));
  check_field("Conv2d", "output gradient", gy, n, out);
  if (!empty(gx)) check_field("Conv2d", "input gradient", gx, n, shape_of(x_));
  const std::size_t p = out.height * out.width;
  if (kernel_ == 1) {
    if (has_bias_) {
      const auto gb = gb_;
      const std::size_t channels = out_;
      Kokkos::parallel_for(
          "eqflow::Conv2d::bias_grad", impl::per_team(out_), KOKKOS_LAMBDA(const TeamMember& team) {
            const std::size_t o = team.league_rank();
            Scalar sum = 0;
            Kokkos::parallel_reduce(
                Kokkos::TeamThreadRange(team, n * p),
                [&](const std::size_t i, Scalar& acc) {
                  acc += gy.data()[((i / p) * channels + o) * p + i % p];
                },
                sum);
            Kokkos::single(Kokkos::PerTeam(team), [&]() { gb(o) += sum; });
          });
    }
    for (std::size_t s = 0; s < n; ++s) {
      const auto gys = sample_matrix<const Scalar>(gy, s);
      gemm<Scalar>("N", "T", Scalar(1), gys, sample_matrix<const Scalar>(x_, s), Scalar(1), gw_);
      if (!empty(gx)) {
        gemm<Scalar>("T", "N", Scalar(1), w_, gys, Scalar(0), sample_matrix<Scalar>(gx, s));
      }
    }
    return;
  }
  if (n == 0) return;
  const bool direct_gx = direct() && !empty(gx);
  if (direct_gx) direct_input_grad<Scalar>(gy, w_, kernel_, stride_, gx);
  // The weight and bias gradients of the batch in gwb (the ones row of the columns gives the
  // bias's), added to the parameters' at the end.
  const std::size_t cols = w_.extent(1), rows = cols + (has_bias_ ? 1 : 0);
  if (gwb_.extent(0) != out_ || gwb_.extent(1) != rows) {
    gwb_ = View2<Scalar>("eqflow::Conv2d::weights_bias_grad", out_, rows);
  }
  for (std::size_t s = 0; s < n; ++s) {
    const auto gys = sample_matrix<const Scalar>(gy, s);
    const auto col = workspace_->matrix(0, rows, p);
    im2col<Scalar>(x_, s, kernel_, stride_, col);
    gemm<Scalar>("N", "T", Scalar(1), gys, col, s == 0 ? Scalar(0) : Scalar(1), gwb_);
    if (!empty(gx) && !direct_gx) {
      const auto gcol = workspace_->matrix(1, cols, p);
      gemm<Scalar>("T", "N", Scalar(1), w_, gys, Scalar(0), gcol);
      col2im<Scalar>(gcol, kernel_, stride_, gx, s);
    }
  }
  const auto gwb = gwb_;
  const auto gw = gw_;
  const auto gb = gb_;
  Kokkos::parallel_for(
      "eqflow::Conv2d::scatter_weight_grad", RangePolicy(0, gwb.size()),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t o = i / rows, j = i % rows;
        if (j < cols) {
          gw(o, j) += gwb(o, j);
        } else {
          gb(o) += gwb(o, j);
        }
      });
}

// ------------------------------------------------------------------------------ GroupNorm

template <class Scalar>
GroupNorm<Scalar>::GroupNorm(std::size_t groups, std::size_t channels, double eps)
    : groups_(groups), channels_(channels), eps_(static_cast<Scalar>(eps)) {
  if (groups == 0 || channels % groups != 0) {
    throw ShapeError(
        fmt::format("GroupNorm: {} groups do not divide {} channels", groups, channels));
  }
}

template <class Scalar>
FieldShape GroupNorm<Scalar>::output_shape(const FieldShape& in) const {
  if (in.channels != channels_) {
    throw ShapeError(fmt::format("GroupNorm: input {} needs {} channels", describe(in), channels_));
  }
  return in;
}

template <class Scalar>
void GroupNorm<Scalar>::declare(ParameterStore<Scalar>& store, const std::string& prefix) {
  w_offset_ = store.add_parameter(prefix + "weight", {channels_});
  b_offset_ = store.add_parameter(prefix + "bias", {channels_});
}

template <class Scalar>
void GroupNorm<Scalar>::bind(const ParameterStore<Scalar>& store) {
  w_ = Unmanaged1<Scalar>(store.values().data() + w_offset_, channels_);
  gw_ = Unmanaged1<Scalar>(store.gradients().data() + w_offset_, channels_);
  b_ = Unmanaged1<Scalar>(store.values().data() + b_offset_, channels_);
  gb_ = Unmanaged1<Scalar>(store.gradients().data() + b_offset_, channels_);
}

template <class Scalar>
void GroupNorm<Scalar>::initialize(std::uint64_t, std::uint64_t) {
  Kokkos::deep_copy(w_, Scalar(1));
  Kokkos::deep_copy(b_, Scalar(0));
}

template <class Scalar>
void GroupNorm<Scalar>::forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode) {
  ScopedRegion region("eqflow::GroupNorm::forward");
  const std::size_t n = x.extent(0);
  const FieldShape shape = output_shape(shape_of(x));
  check_field("GroupNorm", "output", y, n, shape);
  x_ = x;
  const std::size_t groups = groups_, p = shape.height * shape.width;
  const std::size_t per_group = channels_ / groups, m = per_group * p;
  if (mean_.extent(0) != n) {
    mean_ = View2<Scalar>("eqflow::GroupNorm::mean", n, groups);
    istd_ = View2<Scalar>("eqflow::GroupNorm::istd", n, groups);
  }
  const auto mean = mean_, istd = istd_;
  const auto w = w_, b = b_;
  const Scalar eps = eps_;
  // One team per (sample, group): its elements are contiguous, m = C/G H W of them; the
  // output channel by channel, as y = x scale_c + shift_c.
  Kokkos::parallel_for(
      "eqflow::GroupNorm::forward", impl::per_team(n * groups),
      KOKKOS_LAMBDA(const TeamMember& team) {
        const std::size_t ng = team.league_rank();
        const std::size_t s = ng / groups, g = ng % groups;
        const Scalar* xg = x.data() + ng * m;
        Scalar* yg = y.data() + ng * m;
        const Scalar mu =
            impl::team_sum<Scalar>(team, m, [&](std::size_t i) { return xg[i]; }) / Scalar(m);
        const Scalar squares = impl::team_sum<Scalar>(team, m, [&](std::size_t i) {
          const Scalar d = xg[i] - mu;
          return d * d;
        });
        const Scalar inv = Scalar(1) / math::sqrt(squares / Scalar(m) + eps);
        for (std::size_t cl = 0; cl < per_group; ++cl) {
          const std::size_t c = g * per_group + cl;
          const Scalar scale = inv * w(c), shift = b(c) - mu * scale;
          const Scalar* xc = xg + cl * p;
          Scalar* yc = yg + cl * p;
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p),
                               [&](const std::size_t i) { yc[i] = xc[i] * scale + shift; });
        }
        Kokkos::single(Kokkos::PerTeam(team), [&]() {
          mean(s, g) = mu;
          istd(s, g) = inv;
        });
      });
}

template <class Scalar>
void GroupNorm<Scalar>::backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) {
  ScopedRegion region("eqflow::GroupNorm::backward");
  const auto x = x_;
  const std::size_t n = x.extent(0);
  const FieldShape shape = shape_of(x);
  check_field("GroupNorm", "output gradient", gy, n, shape);
  const bool want_gx = !empty(gx);
  if (want_gx) check_field("GroupNorm", "input gradient", gx, n, shape);
  const std::size_t groups = groups_, channels = channels_, p = shape.height * shape.width;
  const std::size_t per_group = channels / groups, m = per_group * p;
  if (sums_.extent(0) != n || sums_.extent(1) != channels) {
    sums_ = View3<Scalar>("eqflow::GroupNorm::sums", n, channels, 2);
  }
  const auto mean = mean_, istd = istd_;
  const auto sums = sums_;
  const auto w = w_, gw = gw_, gb = gb_;
  // One team per (sample, group), two passes: the sums of gy and gy xhat per channel (kept for
  // gamma and beta), then gx = istd (gxhat - mean(gxhat) - xhat mean(gxhat xhat)) with
  // gxhat = gy gamma, channel by channel as gx = gy a_c + x b + c0.
  Kokkos::parallel_for(
      "eqflow::GroupNorm::backward", impl::per_team(n * groups),
      KOKKOS_LAMBDA(const TeamMember& team) {
        const std::size_t ng = team.league_rank();
        const std::size_t s = ng / groups, g = ng % groups;
        const Scalar mu = mean(s, g), inv = istd(s, g);
        const Scalar* xg = x.data() + ng * m;
        const Scalar* gyg = gy.data() + ng * m;
        Scalar total_gxhat = 0, total_gxhat_xhat = 0;
        for (std::size_t cl = 0; cl < per_group; ++cl) {
          const std::size_t c = g * per_group + cl;
          const Scalar* xc = xg + cl * p;
          const Scalar* gyc = gyg + cl * p;
          SumPair<Scalar> pair;  // sum gy, sum gy (x - mu)
          Kokkos::parallel_reduce(
              Kokkos::TeamThreadRange(team, p),
              [&](const std::size_t i, SumPair<Scalar>& acc) {
                acc.first += gyc[i];
                acc.second += gyc[i] * (xc[i] - mu);
              },
              SumPairReducer<Scalar>(pair));
          total_gxhat += w(c) * pair.first;
          total_gxhat_xhat += w(c) * pair.second * inv;
          Kokkos::single(Kokkos::PerTeam(team), [&]() {
            sums(s, c, 0) = pair.first;
            sums(s, c, 1) = pair.second * inv;
          });
        }
        if (!want_gx) return;
        const Scalar a = total_gxhat / Scalar(m), bb = total_gxhat_xhat / Scalar(m);
        const Scalar kx = -inv * inv * bb, k0 = -inv * a + mu * inv * inv * bb;
        Scalar* gxg = gx.data() + ng * m;
        for (std::size_t cl = 0; cl < per_group; ++cl) {
          const Scalar ky = inv * w(g * per_group + cl);
          const Scalar* xc = xg + cl * p;
          const Scalar* gyc = gyg + cl * p;
          Scalar* gxc = gxg + cl * p;
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p), [&](const std::size_t i) {
            gxc[i] = gyc[i] * ky + xc[i] * kx + k0;
          });
        }
      });
  // gamma and beta: the per-sample sums added up, one thread per channel.
  Kokkos::parallel_for(
      "eqflow::GroupNorm::parameter_grad", RangePolicy(0, channels),
      KOKKOS_LAMBDA(const std::size_t c) {
        Scalar sw = 0, sb = 0;
        for (std::size_t s = 0; s < n; ++s) {
          sb += sums(s, c, 0);
          sw += sums(s, c, 1);
        }
        gw(c) += sw;
        gb(c) += sb;
      });
}

// ------------------------------------------------------------------------ FieldActivation

template <class Scalar, class F>
void FieldActivation<Scalar, F>::forward(const ConstField<Scalar>& x, const MutField<Scalar>& y,
                                         Mode) {
  ScopedRegion region("eqflow::FieldActivation::forward");
  check_field(F::name, "output", y, x.extent(0), shape_of(x));
  x_ = x;
  Kokkos::parallel_for(
      "eqflow::FieldActivation::forward", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) { y.data()[i] = F::value(x.data()[i]); });
}

template <class Scalar, class F>
void FieldActivation<Scalar, F>::backward(const ConstField<Scalar>& gy,
                                          const MutField<Scalar>& gx) {
  ScopedRegion region("eqflow::FieldActivation::backward");
  if (empty(gx)) return;
  const auto x = x_;
  check_field(F::name, "output gradient", gy, x.extent(0), shape_of(x));
  check_field(F::name, "input gradient", gx, x.extent(0), shape_of(x));
  Kokkos::parallel_for(
      "eqflow::FieldActivation::backward", RangePolicy(0, x.size()),
      KOKKOS_LAMBDA(const std::size_t i) { gx.data()[i] = F::first(x.data()[i]) * gy.data()[i]; });
}

// ---------------------------------------------------------------------- UpsampleNearest2x

template <class Scalar>
void UpsampleNearest2x<Scalar>::forward(const ConstField<Scalar>& x, const MutField<Scalar>& y,
                                        Mode) {
  ScopedRegion region("eqflow::UpsampleNearest2x::forward");
  check_field("UpsampleNearest2x", "output", y, x.extent(0), output_shape(shape_of(x)));
  const std::size_t rows = y.extent(0) * y.extent(1) * y.extent(2);
  const std::size_t h = x.extent(2), w = x.extent(3);
  Kokkos::parallel_for(
      "eqflow::UpsampleNearest2x::forward", RangePolicy(0, rows),
      KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t oy = r % (2 * h), plane = r / (2 * h);
        const Scalar* in = x.data() + (plane * h + oy / 2) * w;
        Scalar* out = y.data() + r * 2 * w;
        for (std::size_t ox = 0; ox < 2 * w; ++ox) out[ox] = in[ox / 2];
      });
}

template <class Scalar>
void UpsampleNearest2x<Scalar>::backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) {
  ScopedRegion region("eqflow::UpsampleNearest2x::backward");
  if (empty(gx)) return;
  check_field("UpsampleNearest2x", "output gradient", gy, gx.extent(0), output_shape(shape_of(gx)));
  const std::size_t rows = gx.extent(0) * gx.extent(1) * gx.extent(2);
  const std::size_t h = gx.extent(2), w = gx.extent(3);
  Kokkos::parallel_for(
      "eqflow::UpsampleNearest2x::backward", RangePolicy(0, rows),
      KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t iy = r % h, plane = r / h;
        const Scalar* top = gy.data() + (plane * 2 * h + 2 * iy) * 2 * w;
        const Scalar* bottom = top + 2 * w;
        Scalar* out = gx.data() + r * w;
        for (std::size_t ix = 0; ix < w; ++ix) {
          out[ix] = top[2 * ix] + top[2 * ix + 1] + bottom[2 * ix] + bottom[2 * ix + 1];
        }
      });
}

// ------------------------------------------------------------------------- concatenation

template <class Scalar>
void concat_channels(const ConstField<Scalar>& a, const ConstField<Scalar>& b,
                     const MutField<Scalar>& y) {
  const std::size_t n = a.extent(0), ca = a.extent(1), cb = b.extent(1);
  const std::size_t p = a.extent(2) * a.extent(3);
  check_field("concat_channels", "second input", b, n, FieldShape{cb, a.extent(2), a.extent(3)});
  check_field("concat_channels", "output", y, n, FieldShape{ca + cb, a.extent(2), a.extent(3)});
  // One plane (sample, channel) of y per work item.
  Kokkos::parallel_for(
      "eqflow::concat_channels", RangePolicy(0, n * (ca + cb)), KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t s = r / (ca + cb), c = r % (ca + cb);
        const Scalar* src = c < ca ? a.data() + (s * ca + c) * p : b.data() + (s * cb + c - ca) * p;
        Scalar* dst = y.data() + r * p;
        for (std::size_t i = 0; i < p; ++i) dst[i] = src[i];
      });
}

template <class Scalar>
void split_channels(const ConstField<Scalar>& gy, const MutField<Scalar>& ga,
                    const MutField<Scalar>& gb) {
  const std::size_t n = gy.extent(0), p = gy.extent(2) * gy.extent(3);
  const std::size_t ca = empty(ga) ? gy.extent(1) - gb.extent(1) : ga.extent(1);
  const std::size_t cb = gy.extent(1) - ca;
  if (!empty(ga))
    check_field("split_channels", "first part", ga, n, FieldShape{ca, gy.extent(2), gy.extent(3)});
  if (!empty(gb))
    check_field("split_channels", "second part", gb, n, FieldShape{cb, gy.extent(2), gy.extent(3)});
  const bool want_a = !empty(ga), want_b = !empty(gb);
  // One plane (sample, channel) of gy per work item.
  Kokkos::parallel_for(
      "eqflow::split_channels", RangePolicy(0, n * (ca + cb)), KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t s = r / (ca + cb), c = r % (ca + cb);
        if (c < ca ? !want_a : !want_b) return;
        Scalar* dst = c < ca ? ga.data() + (s * ca + c) * p : gb.data() + (s * cb + c - ca) * p;
        const Scalar* src = gy.data() + r * p;
        for (std::size_t i = 0; i < p; ++i) dst[i] = src[i];
      });
}

template class Conv2d<float>;
template class GroupNorm<float>;
template class FieldActivation<float, SiluFunction>;
template class UpsampleNearest2x<float>;
template void concat_channels(const ConstField<float>&, const ConstField<float>&,
                              const MutField<float>&);
template void split_channels(const ConstField<float>&, const MutField<float>&,
                             const MutField<float>&);
template class Conv2d<double>;
template class GroupNorm<double>;
template class FieldActivation<double, SiluFunction>;
template class UpsampleNearest2x<double>;
template void concat_channels(const ConstField<double>&, const ConstField<double>&,
                              const MutField<double>&);
template void split_channels(const ConstField<double>&, const MutField<double>&,
                             const MutField<double>&);

}  // namespace eqflow::nn
