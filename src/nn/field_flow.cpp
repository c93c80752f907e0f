// The trained flow model on fields: the symmetric stencil, the pixel-row transposes and the
// network that chains them with the per-pixel nn::Sequential (nn/field_flow.hpp). Checked
// against finite differences, a plain-loop stencil and PyTorch in tests/nn/test_field_flow.cpp.
#include "eqflow/nn/field_flow.hpp"

#include <fmt/core.h>

#include "eqflow/core/error.hpp"
#include "eqflow/nn/activation.hpp"
#include "eqflow/nn/batch_norm.hpp"
#include "eqflow/nn/dense.hpp"

namespace eqflow::nn {
namespace {

template <class V>
void check_rows(const char* what, const V& rows, std::size_t expected_rows,
                std::size_t expected_cols) {
  if (rows.extent(0) != expected_rows || rows.extent(1) != expected_cols) {
    throw ShapeError(fmt::format("field flow: {} is ({}, {}), expected ({}, {})", what,
                                 rows.extent(0), rows.extent(1), expected_rows, expected_cols));
  }
}

template <class Scalar>
void ensure(View2<Scalar>& v, std::size_t rows, std::size_t cols, const std::string& label) {
  if (v.extent(0) != rows || v.extent(1) != cols) {
    v = View2<Scalar>();
    v = View2<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, cols);
  }
}

template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_head(const FieldFlowConfig& c) {
  if (c.channels == 0 || c.hidden == 0) {
    throw Error(fmt::format("field flow: channels ({}) and hidden ({}) must be positive",
                            c.channels, c.hidden));
  }
  auto net = std::make_unique<Sequential<Scalar>>(kSymmetricStencilFeatures * c.channels);
  net->template emplace<Dense<Scalar>>(kSymmetricStencilFeatures * c.channels, c.hidden)
      .template emplace<BatchNorm<Scalar>>(c.hidden, true)
      .template emplace<SiLU<Scalar>>(c.hidden)
      .template emplace<Dense<Scalar>>(c.hidden, c.hidden)
      .template emplace<BatchNorm<Scalar>>(c.hidden, true)
      .template emplace<SiLU<Scalar>>(c.hidden)
      .template emplace<Dense<Scalar>>(c.hidden, c.channels);
  if (c.final_norm) net->template emplace<BatchNorm<Scalar>>(c.channels, false);
  return net;
}

}  // namespace

template <class Scalar>
void symmetric_stencil(const ConstField<Scalar>& x, const View2<Scalar>& rows) {
  const std::size_t n = x.extent(0), c = x.extent(1), h = x.extent(2), w = x.extent(3);
  check_rows("stencil features", rows, n * h * w, kSymmetricStencilFeatures * c);
  Kokkos::parallel_for(
      "eqflow::symmetric_stencil", RangePolicy(0, n * h * w), KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t s = r / (h * w), y = (r / w) % h, col = r % w;
        const std::size_t ym = (y + h - 1) % h, yp = (y + 1) % h;
        const std::size_t xm = (col + w - 1) % w, xp = (col + 1) % w;
        for (std::size_t i = 0; i < c; ++i) {
          const Scalar* f = x.data() + (s * c + i) * h * w;
          rows(r, i) = f[y * w + col];
          rows(r, c + i) = (f[ym * w + col] + f[yp * w + col]) + (f[y * w + xm] + f[y * w + xp]);
          rows(r, 2 * c + i) =
              (f[ym * w + xm] + f[ym * w + xp]) + (f[yp * w + xm] + f[yp * w + xp]);
        }
      });
}

template <class Scalar>
void symmetric_stencil_adjoint(const ConstRows<Scalar>& g, const MutField<Scalar>& gx) {
  const std::size_t n = gx.extent(0), c = gx.extent(1), h = gx.extent(2), w = gx.extent(3);
  check_rows("stencil adjoint", g, n * h * w, kSymmetricStencilFeatures * c);
  // The neighbour relations are symmetric, so the adjoint gathers with the same stencil.
  Kokkos::parallel_for(
      "eqflow::symmetric_stencil_adjoint", RangePolicy(0, n * h * w),
      KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t s = r / (h * w), y = (r / w) % h, col = r % w;
        const std::size_t ym = (y + h - 1) % h, yp = (y + 1) % h;
        const std::size_t xm = (col + w - 1) % w, xp = (col + 1) % w;
        const std::size_t base = s * h * w;
        const std::size_t up = base + ym * w, mid = base + y * w, down = base + yp * w;
        for (std::size_t i = 0; i < c; ++i) {
          const std::size_t e = c + i, k = 2 * c + i;
          gx(s, i, y, col) =
              g(r, i) + ((g(up + col, e) + g(down + col, e)) + (g(mid + xm, e) + g(mid + xp, e))) +
              ((g(up + xm, k) + g(up + xp, k)) + (g(down + xm, k) + g(down + xp, k)));
        }
      });
}

template <class Scalar>
void rows_to_field(const ConstRows<Scalar>& rows, const MutField<Scalar>& v) {
  const std::size_t n = v.extent(0), c = v.extent(1), p = v.extent(2) * v.extent(3);
  check_rows("pixel rows", rows, n * p, c);
  Kokkos::parallel_for(
      "eqflow::rows_to_field", RangePolicy(0, n * p), KOKKOS_LAMBDA(const std::size_t r) {
        Scalar* out = v.data() + (r / p) * c * p + r % p;
        for (std::size_t i = 0; i < c; ++i) out[i * p] = rows(r, i);
      });
}

template <class Scalar>
void field_to_rows(const ConstField<Scalar>& v, const View2<Scalar>& rows) {
  const std::size_t n = v.extent(0), c = v.extent(1), p = v.extent(2) * v.extent(3);
  check_rows("pixel rows", rows, n * p, c);
  Kokkos::parallel_for(
      "eqflow::field_to_rows", RangePolicy(0, n * p), KOKKOS_LAMBDA(const std::size_t r) {
        const Scalar* in = v.data() + (r / p) * c * p + r % p;
        for (std::size_t i = 0; i < c; ++i) rows(r, i) = in[i * p];
      });
}

template <class Scalar>
FieldFlowNetwork<Scalar>::FieldFlowNetwork(FieldFlowConfig config, std::uint64_t seed)
    : config_(config), model_(make_head<Scalar>(config), seed) {}

template <class Scalar>
void FieldFlowNetwork<Scalar>::forward(const ConstField<Scalar>& x, const View2<Scalar>& v_rows,
                                       Mode mode) {
  if (x.extent(1) != config_.channels) {
    throw ShapeError(fmt::format("field flow: input has {} channels, the model takes {}",
                                 x.extent(1), config_.channels));
  }
  n_ = x.extent(0);
  h_ = x.extent(2);
  w_ = x.extent(3);
  const std::size_t rows = n_ * h_ * w_;
  ensure(features_, rows, kSymmetricStencilFeatures * config_.channels,
         "eqflow::FieldFlow::features");
  symmetric_stencil(x, features_);
  model_.forward(features_, v_rows, mode);
}

template <class Scalar>
void FieldFlowNetwork<Scalar>::velocity(const ConstField<Scalar>& x, const MutField<Scalar>& v,
                                        Mode mode) {
  ensure(v_rows_, x.extent(0) * x.extent(2) * x.extent(3), config_.channels,
         "eqflow::FieldFlow::velocity");
  forward(x, v_rows_, mode);
  rows_to_field<Scalar>(v_rows_, v);
}

template <class Scalar>
void FieldFlowNetwork<Scalar>::forward_tangent(const ConstField<Scalar>& tx,
                                               const View2<Scalar>& ty_rows) {
  if (n_ == 0 || tx.extent(0) % n_ != 0 || tx.extent(1) != config_.channels || tx.extent(2) != h_ ||
      tx.extent(3) != w_) {
    throw ShapeError(fmt::format(
        "field flow: tangents ({}, {}, {}, {}) do not fit the last forward's {} samples of "
        "({}, {}, {})",
        tx.extent(0), tx.extent(1), tx.extent(2), tx.extent(3), n_, config_.channels, h_, w_));
  }
  ensure(tangent_features_, tx.extent(0) * h_ * w_, kSymmetricStencilFeatures * config_.channels,
         "eqflow::FieldFlow::tangent_features");
  symmetric_stencil(tx, tangent_features_);
  model_.forward_tangent(tangent_features_, ty_rows);
}

template <class Scalar>
void FieldFlowNetwork<Scalar>::backward_dual(const ConstRows<Scalar>& gv,
                                             const ConstRows<Scalar>& gtv,
                                             const MutField<Scalar>& gx) {
  if (gx.size() == 0) {
    model_.backward_dual(gv, gtv, View2<Scalar>(), View2<Scalar>());
    return;
  }
  ensure(gfeatures_, n_ * h_ * w_, kSymmetricStencilFeatures * config_.channels,
         "eqflow::FieldFlow::gfeatures");
  model_.backward_dual(gv, gtv, gfeatures_, View2<Scalar>());
  symmetric_stencil_adjoint<Scalar>(gfeatures_, gx);
}

template void symmetric_stencil(const ConstField<float>&, const View2<float>&);
template void symmetric_stencil_adjoint(const ConstRows<float>&, const MutField<float>&);
template void rows_to_field(const ConstRows<float>&, const MutField<float>&);
template void field_to_rows(const ConstField<float>&, const View2<float>&);
template class FieldFlowNetwork<float>;
template void symmetric_stencil(const ConstField<double>&, const View2<double>&);
template void symmetric_stencil_adjoint(const ConstRows<double>&, const MutField<double>&);
template void rows_to_field(const ConstRows<double>&, const MutField<double>&);
template void field_to_rows(const ConstField<double>&, const View2<double>&);
template class FieldFlowNetwork<double>;

}  // namespace eqflow::nn
