// SpatialSelfAttention: forward and backward (nn/attention.hpp), instantiated for float and
// double. Checked against central finite differences in tests/nn/test_field_layers.cpp.
//
// Forward per sample n and head h, with tokens T = group_norm(x) as (HW, C) rows:
//   Q, K, V = T Wq^T + bq, ...  (split into heads of d channels)
//   S = softmax(Q K^T / sqrt(d)) (rows), O = S V, y = (merge(O) Wo^T + bo) as a field + x.
// Backward: gV = S^T gO, gS = gO V^T, gA = S * (gS - rowsum(gS * S)) (the softmax adjoint),
//   gQ = gA K / sqrt(d), gK = gA^T Q / sqrt(d), then through the projections and the norm.
#include <fmt/core.h>

#include "eqflow/core/blas.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/nn/attention.hpp"
#include "eqflow/nn/impl/team_reduction.hpp"

namespace eqflow::nn {
namespace {

using impl::TeamMember;

//! tokens(n P + p, c) = x(n, c, p)  (x as (N, C, P)).
template <class Scalar, class Src, class Dst>
void fields_to_tokens(const Src& x, const Dst& tokens, std::size_t n, std::size_t channels,
                      std::size_t positions) {
  Kokkos::parallel_for(
      "eqflow::Attention::to_tokens", RangePolicy(0, n * positions),
      KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t s = r / positions, p = r % positions;
        for (std::size_t c = 0; c < channels; ++c) {
          tokens(r, c) = x.data()[(s * channels + c) * positions + p];
        }
      });
}

//! y(n, c, p) = tokens(n P + p, c) + residual(n, c, p) (no residual when it is empty).
template <class Scalar, class Src, class Res, class Dst>
void tokens_to_fields(const Src& tokens, const Res& residual, const Dst& y, std::size_t n,
                      std::size_t channels, std::size_t positions) {
  const bool add = residual.size() != 0;
  Kokkos::parallel_for(
      "eqflow::Attention::to_fields", RangePolicy(0, n * channels * positions),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t p = i % positions, c = (i / positions) % channels;
        const std::size_t s = i / (positions * channels);
        y.data()[i] = tokens(s * positions + p, c) + (add ? residual.data()[i] : Scalar(0));
      });
}

//! heads(n, h, p, j) = tokens(n P + p, h d + j).
template <class Scalar>
void split_heads(const View2<Scalar>& tokens, const View4<Scalar>& heads) {
  const std::size_t n = heads.extent(0), nh = heads.extent(1), positions = heads.extent(2),
                    d = heads.extent(3);
  Kokkos::parallel_for(
      "eqflow::Attention::split_heads", RangePolicy(0, n * nh * positions),
      KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t p = r % positions, h = (r / positions) % nh, s = r / (positions * nh);
        for (std::size_t j = 0; j < d; ++j)
          heads(s, h, p, j) = tokens(s * positions + p, h * d + j);
      });
}

//! tokens(n P + p, h d + j) = heads(n, h, p, j).
template <class Scalar>
void merge_heads(const View4<Scalar>& heads, const View2<Scalar>& tokens) {
  const std::size_t n = heads.extent(0), nh = heads.extent(1), positions = heads.extent(2),
                    d = heads.extent(3);
  Kokkos::parallel_for(
      "eqflow::Attention::merge_heads", RangePolicy(0, n * nh * positions),
      KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t p = r % positions, h = (r / positions) % nh, s = r / (positions * nh);
        for (std::size_t j = 0; j < d; ++j)
          tokens(s * positions + p, h * d + j) = heads(s, h, p, j);
      });
}

//! The (P, d) matrix of head h of sample n.
template <class Scalar>
Unmanaged2<Scalar> head(const View4<Scalar>& heads, std::size_t n, std::size_t h) {
  return Unmanaged2<Scalar>(&heads(n, h, 0, 0), heads.extent(2), heads.extent(3));
}

//! exp for the softmax: the call-free polynomial where it lets the loops vectorise (as
//! math::sigmoid), else the library's.
template <class T>
KOKKOS_INLINE_FUNCTION T softmax_exp(T x) {
#if defined(__AVX512F__) && !defined(__CUDA_ARCH__) && !defined(__HIP_DEVICE_COMPILE__)
  return math::exp_poly(x);
#else
  return math::exp(x);
#endif
}

//! Row-wise softmax in place, one team per row (one exp per entry).
template <class Scalar>
void softmax_rows(const Unmanaged2<Scalar>& s) {
  const std::size_t cols = s.extent(1);
  Kokkos::parallel_for(
      "eqflow::Attention::softmax", impl::per_team(s.extent(0)),
      KOKKOS_LAMBDA(const TeamMember& team) {
        Scalar* row = &s(team.league_rank(), 0);
        Scalar top = row[0];
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, cols),
            [&](const std::size_t j, Scalar& m) { m = row[j] > m ? row[j] : m; },
            Kokkos::Max<Scalar>(top));
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, cols),
                             [&](const std::size_t j) { row[j] = softmax_exp(row[j] - top); });
        team.team_barrier();
        Scalar sum = 0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, cols),
            [&](const std::size_t j, Scalar& acc) { acc += row[j]; }, sum);
        const Scalar inv = Scalar(1) / sum;
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, cols),
                             [&](const std::size_t j) { row[j] *= inv; });
      });
}

//! g = s * (g - rowsum(g * s)) in place: the adjoint of a row softmax with output s.
template <class Scalar>
void softmax_rows_backward(const Unmanaged2<Scalar>& s, const Unmanaged2<Scalar>& g) {
  const std::size_t cols = s.extent(1);
  Kokkos::parallel_for(
      "eqflow::Attention::softmax_backward", impl::per_team(s.extent(0)),
      KOKKOS_LAMBDA(const TeamMember& team) {
        const std::size_t r = team.league_rank();
        const Scalar* srow = &s(r, 0);
        Scalar* grow = &g(r, 0);
        Scalar dot = 0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, cols),
            [&](const std::size_t j, Scalar& acc) { acc += grow[j] * srow[j]; }, dot);
        team.team_barrier();
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, cols),
                             [&](const std::size_t j) { grow[j] = srow[j] * (grow[j] - dot); });
      });
}

template <class Scalar>
void add_into(const View2<Scalar>& dst, const View2<Scalar>& src) {
  Kokkos::parallel_for(
      "eqflow::Attention::accumulate", RangePolicy(0, dst.size()),
      KOKKOS_LAMBDA(const std::size_t i) { dst.data()[i] += src.data()[i]; });
}

}  // namespace

template <class Scalar>
SpatialSelfAttention<Scalar>::SpatialSelfAttention(std::size_t channels, std::size_t head_dim,
                                                   std::size_t groups, double eps,
                                                   std::shared_ptr<Workspace<Scalar>> workspace)
    : channels_(channels),
      head_dim_(head_dim),
      heads_(head_dim > 0 ? channels / head_dim : 0),
      workspace_(workspace ? std::move(workspace) : std::make_shared<Workspace<Scalar>>()),
      norm_(groups, channels, eps),
      to_q_(channels, channels),
      to_k_(channels, channels),
      to_v_(channels, channels),
      to_out_(channels, channels) {
  if (head_dim == 0 || channels % head_dim != 0) {
    throw ShapeError(
        fmt::format("SpatialSelfAttention: head dimension {} does not divide {} "
                    "channels",
                    head_dim, channels));
  }
}

template <class Scalar>
FieldShape SpatialSelfAttention<Scalar>::output_shape(const FieldShape& in) const {
  return norm_.output_shape(in);
}

template <class Scalar>
void SpatialSelfAttention<Scalar>::declare(ParameterStore<Scalar>& store,
                                           const std::string& prefix) {
  norm_.declare(store, prefix + "group_norm.");
  to_q_.declare(store, prefix + "to_q.");
  to_k_.declare(store, prefix + "to_k.");
  to_v_.declare(store, prefix + "to_v.");
  to_out_.declare(store, prefix + "to_out.0.");
}

template <class Scalar>
void SpatialSelfAttention<Scalar>::bind(const ParameterStore<Scalar>& store) {
  norm_.bind(store);
  to_q_.bind(store);
  to_k_.bind(store);
  to_v_.bind(store);
  to_out_.bind(store);
}

template <class Scalar>
void SpatialSelfAttention<Scalar>::initialize(std::uint64_t seed, std::uint64_t layer_id) {
  norm_.initialize(seed, layer_id);
  to_q_.initialize(seed, mix64(layer_id) + 1);
  to_k_.initialize(seed, mix64(layer_id) + 2);
  to_v_.initialize(seed, mix64(layer_id) + 3);
  to_out_.initialize(seed, mix64(layer_id) + 4);
}

template <class Scalar>
void SpatialSelfAttention<Scalar>::ensure_buffers(std::size_t n, std::size_t positions) {
  if (tokens_.extent(0) == n * positions && qh_.extent(0) == n) return;
  const std::size_t rows = n * positions, c = channels_;
  auto field = [&](const std::string& label) {
    return View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), n, heads_,
                         positions, head_dim_);
  };
  auto matrix = [&](const std::string& label) {
    return View2<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, c);
  };
  tokens_ = matrix("eqflow::Attention::tokens");
  q_ = matrix("eqflow::Attention::q");
  k_ = matrix("eqflow::Attention::k");
  v_ = matrix("eqflow::Attention::v");
  merged_ = matrix("eqflow::Attention::merged");
  projected_ = matrix("eqflow::Attention::projected");
  gtokens_ = matrix("eqflow::Attention::gtokens");
  gtemp_ = matrix("eqflow::Attention::gtemp");
  gmerged_ = matrix("eqflow::Attention::gmerged");
  qh_ = field("eqflow::Attention::qh");
  kh_ = field("eqflow::Attention::kh");
  vh_ = field("eqflow::Attention::vh");
  oh_ = field("eqflow::Attention::oh");
  gqh_ = field("eqflow::Attention::gqh");
  gkh_ = field("eqflow::Attention::gkh");
  gvh_ = field("eqflow::Attention::gvh");
}

template <class Scalar>
void SpatialSelfAttention<Scalar>::forward(const ConstField<Scalar>& x, const MutField<Scalar>& y,
                                           Mode mode) {
  ScopedRegion region("eqflow::Attention::forward");
  const std::size_t n = x.extent(0), c = channels_, positions = x.extent(2) * x.extent(3);
  const FieldShape shape = output_shape(shape_of(x));
  if (y.extent(0) != n || !(shape_of(y) == shape)) {
    throw ShapeError("SpatialSelfAttention: the output's shape differs from the input's");
  }
  ensure_buffers(n, positions);
  if (normed_.extent(0) != n || !(shape_of(normed_) == shape)) {
    normed_ =
        View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Attention::normed"),
                      n, c, x.extent(2), x.extent(3));
    gnormed_ =
        View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Attention::gnormed"),
                      n, c, x.extent(2), x.extent(3));
  }
  norm_.forward(x, normed_, mode);
  fields_to_tokens<Scalar>(normed_, tokens_, n, c, positions);
  to_q_.forward(tokens_, q_, mode);
  to_k_.forward(tokens_, k_, mode);
  to_v_.forward(tokens_, v_, mode);
  split_heads(q_, qh_);
  split_heads(k_, kh_);
  split_heads(v_, vh_);
  const Scalar scale = Scalar(1) / math::sqrt(static_cast<Scalar>(head_dim_));
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t h = 0; h < heads_; ++h) {
      const auto scores = workspace_->matrix(0, positions, positions);
      gemm<Scalar>("N", "T", scale, head(qh_, s, h), head(kh_, s, h), Scalar(0), scores);
      softmax_rows(scores);
      gemm<Scalar>("N", "N", Scalar(1), scores, head(vh_, s, h), Scalar(0), head(oh_, s, h));
    }
  }
  merge_heads(oh_, merged_);
  to_out_.forward(merged_, projected_, mode);
  tokens_to_fields<Scalar>(projected_, x, y, n, c, positions);
}

template <class Scalar>
void SpatialSelfAttention<Scalar>::backward(const ConstField<Scalar>& gy,
                                            const MutField<Scalar>& gx) {
  ScopedRegion region("eqflow::Attention::backward");
  const std::size_t n = normed_.extent(0), c = channels_;
  const std::size_t positions = normed_.extent(2) * normed_.extent(3);
  if (gy.extent(0) != n || !(shape_of(gy) == shape_of(normed_))) {
    throw ShapeError("SpatialSelfAttention: the output gradient's shape differs from the input's");
  }
  // The output projection: its output adjoint is gy as tokens.
  fields_to_tokens<Scalar>(gy, gtemp_, n, c, positions);
  to_out_.backward(gtemp_, gmerged_);
  split_heads(gmerged_, oh_);  // oh_ (no longer needed) now holds gO
  const Scalar scale = Scalar(1) / math::sqrt(static_cast<Scalar>(head_dim_));
  for (std::size_t s = 0; s < n; ++s) {
    for (std::size_t h = 0; h < heads_; ++h) {
      const auto q = head(qh_, s, h), k = head(kh_, s, h), v = head(vh_, s, h);
      const auto go = head(oh_, s, h);
      const auto scores = workspace_->matrix(0, positions, positions);
      gemm<Scalar>("N", "T", scale, q, k, Scalar(0), scores);
      softmax_rows(scores);
      const auto gscores = workspace_->matrix(1, positions, positions);
      gemm<Scalar>("T", "N", Scalar(1), scores, go, Scalar(0), head(gvh_, s, h));
      gemm<Scalar>("N", "T", Scalar(1), go, v, Scalar(0), gscores);
      softmax_rows_backward(scores, gscores);
      gemm<Scalar>("N", "N", scale, gscores, k, Scalar(0), head(gqh_, s, h));
      gemm<Scalar>("T", "N", scale, gscores, q, Scalar(0), head(gkh_, s, h));
    }
  }
  // The projections: gtokens = gq Wq + gk Wk + gv Wv.
  merge_heads(gqh_, gtemp_);
  to_q_.backward(gtemp_, gtokens_);
  merge_heads(gkh_, gtemp_);
  to_k_.backward(gtemp_, gmerged_);
  add_into(gtokens_, gmerged_);
  merge_heads(gvh_, gtemp_);
  to_v_.backward(gtemp_, gmerged_);
  add_into(gtokens_, gmerged_);
  // The norm, plus the residual.
  tokens_to_fields<Scalar>(gtokens_, View4<Scalar>(), gnormed_, n, c, positions);
  if (gx.size() == 0) {
    norm_.backward(gnormed_, MutField<Scalar>());
    return;
  }
  norm_.backward(gnormed_, gx);
  Kokkos::parallel_for(
      "eqflow::Attention::residual_grad", RangePolicy(0, gx.size()),
      KOKKOS_LAMBDA(const std::size_t i) { gx.data()[i] += gy.data()[i]; });
}

template class SpatialSelfAttention<float>;
template class SpatialSelfAttention<double>;

}  // namespace eqflow::nn
