// The UNet (nn/unet.hpp): the time embedding, diffusers' ResnetBlock2D and the network's path
// as a list of steps over activation slots, forward and backward, instantiated for float and
// double. Derivatives are checked against central finite differences and against PyTorch in
// tests/nn/test_unet.cpp.
#include <fmt/core.h>

#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/nn/impl/team_reduction.hpp"
#include "eqflow/nn/unet.hpp"

namespace eqflow::nn {
namespace {

template <class V>
bool empty(const V& v) {
  return v.size() == 0;
}

template <class V, class... Extents>
V ensure(V& v, const char* label, Extents... extents) {
  const std::size_t want[] = {static_cast<std::size_t>(extents)...};
  bool same = v.data() != nullptr;
  for (std::size_t r = 0; r < sizeof...(Extents); ++r) same = same && v.extent(r) == want[r];
  if (!same) {
    v = V();
    v = V(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), extents...);
  }
  return v;
}

//! dst += src over every element.
template <class D, class S>
void add_into(const D& dst, const S& src) {
  Kokkos::parallel_for(
      "eqflow::UNet::accumulate", RangePolicy(0, dst.size()),
      KOKKOS_LAMBDA(const std::size_t i) { dst.data()[i] += src.data()[i]; });
}

}  // namespace

// ------------------------------------------------------------------------ time embedding

template <class Scalar>
void sinusoidal_embedding(const View1<const Scalar>& steps, const View2<Scalar>& emb) {
  const std::size_t dim = emb.extent(1), half = dim / 2;
  if (dim % 2 != 0 || emb.extent(0) != steps.extent(0)) {
    throw ShapeError(
        fmt::format("sinusoidal_embedding: output ({}, {}) for {} steps needs an "
                    "even width and one row per step",
                    emb.extent(0), dim, steps.extent(0)));
  }
  Kokkos::parallel_for(
      "eqflow::sinusoidal_embedding", RangePolicy(0, emb.extent(0)),
      KOKKOS_LAMBDA(const std::size_t n) {
        for (std::size_t j = 0; j < half; ++j) {
          const double frequency = math::exp(-math::log(10000.0) * double(j) / double(half));
          const double angle = double(steps(n)) * frequency;
          emb(n, j) = static_cast<Scalar>(math::cos(angle));
          emb(n, half + j) = static_cast<Scalar>(math::sin(angle));
        }
      });
}

template <class Scalar>
TimeEmbedding<Scalar>::TimeEmbedding(std::size_t base_dim, std::size_t dim)
    : base_dim_(base_dim), dim_(dim), linear_1_(base_dim, dim), linear_2_(dim, dim), act_(dim) {}

template <class Scalar>
void TimeEmbedding<Scalar>::declare(ParameterStore<Scalar>& store, const std::string& prefix) {
  linear_1_.declare(store, prefix + "linear_1.");
  linear_2_.declare(store, prefix + "linear_2.");
}

template <class Scalar>
void TimeEmbedding<Scalar>::bind(const ParameterStore<Scalar>& store) {
  linear_1_.bind(store);
  linear_2_.bind(store);
}

template <class Scalar>
void TimeEmbedding<Scalar>::initialize(std::uint64_t seed, std::uint64_t layer_id) {
  linear_1_.initialize(seed, layer_id);
  linear_2_.initialize(seed, layer_id + 1);
}

template <class Scalar>
void TimeEmbedding<Scalar>::forward(const View1<const Scalar>& steps, const View2<Scalar>& temb) {
  ScopedRegion region("eqflow::TimeEmbedding::forward");
  const std::size_t n = steps.extent(0);
  ensure(sinusoid_, "eqflow::TimeEmbedding::sinusoid", n, base_dim_);
  ensure(hidden_, "eqflow::TimeEmbedding::hidden", n, dim_);
  ensure(activated_, "eqflow::TimeEmbedding::activated", n, dim_);
  sinusoidal_embedding<Scalar>(steps, sinusoid_);
  linear_1_.forward(sinusoid_, hidden_, Mode::Train);
  act_.forward(hidden_, activated_, Mode::Train);
  linear_2_.forward(activated_, temb, Mode::Train);
}

template <class Scalar>
void TimeEmbedding<Scalar>::backward(const View2<Scalar>& gtemb) {
  ScopedRegion region("eqflow::TimeEmbedding::backward");
  const std::size_t n = gtemb.extent(0);
  ensure(gactivated_, "eqflow::TimeEmbedding::gactivated", n, dim_);
  ensure(ghidden_, "eqflow::TimeEmbedding::ghidden", n, dim_);
  linear_2_.backward(gtemb, gactivated_);
  act_.backward(gactivated_, ghidden_);
  linear_1_.backward(ghidden_, View2<Scalar>());
}

// --------------------------------------------------------------------------- ResnetBlock

template <class Scalar>
ResnetBlock<Scalar>::ResnetBlock(std::size_t in_channels, std::size_t out_channels,
                                 std::size_t temb_dim, std::size_t groups, double eps,
                                 std::shared_ptr<Workspace<Scalar>> workspace)
    : in_(in_channels),
      out_(out_channels),
      norm1_(groups, in_channels, eps),
      norm2_(groups, out_channels, eps),
      conv1_(in_channels, out_channels, 3, 1, true, workspace),
      conv2_(out_channels, out_channels, 3, 1, true, workspace),
      time_emb_proj_(temb_dim, out_channels) {
  if (in_channels != out_channels) {
    shortcut_ = std::make_unique<Conv2d<Scalar>>(in_channels, out_channels, 1, 1, true, workspace);
  }
}

template <class Scalar>
void ResnetBlock<Scalar>::declare(ParameterStore<Scalar>& store, const std::string& prefix) {
  norm1_.declare(store, prefix + "norm1.");
  conv1_.declare(store, prefix + "conv1.");
  time_emb_proj_.declare(store, prefix + "time_emb_proj.");
  norm2_.declare(store, prefix + "norm2.");
  conv2_.declare(store, prefix + "conv2.");
  if (shortcut_) shortcut_->declare(store, prefix + "conv_shortcut.");
}

template <class Scalar>
void ResnetBlock<Scalar>::bind(const ParameterStore<Scalar>& store) {
  norm1_.bind(store);
  conv1_.bind(store);
  time_emb_proj_.bind(store);
  norm2_.bind(store);
  conv2_.bind(store);
  if (shortcut_) shortcut_->bind(store);
}

template <class Scalar>
void ResnetBlock<Scalar>::initialize(std::uint64_t seed, std::uint64_t layer_id) {
  const std::uint64_t base = mix64(layer_id);
  norm1_.initialize(seed, base);
  conv1_.initialize(seed, base + 1);
  time_emb_proj_.initialize(seed, base + 2);
  norm2_.initialize(seed, base + 3);
  conv2_.initialize(seed, base + 4);
  if (shortcut_) shortcut_->initialize(seed, base + 5);
}

template <class Scalar>
void ResnetBlock<Scalar>::ensure_buffers(std::size_t n, std::size_t h, std::size_t w) {
  ensure(h1_, "eqflow::ResnetBlock::h1", n, in_, h, w);
  ensure(a1_, "eqflow::ResnetBlock::a1", n, in_, h, w);
  ensure(c1_, "eqflow::ResnetBlock::c1", n, out_, h, w);
  ensure(h2_, "eqflow::ResnetBlock::h2", n, out_, h, w);
  ensure(a2_, "eqflow::ResnetBlock::a2", n, out_, h, w);
  ensure(proj_, "eqflow::ResnetBlock::proj", n, out_);
}

template <class Scalar>
void ResnetBlock<Scalar>::forward(const ConstField<Scalar>& x, const View2<Scalar>& temb_act,
                                  const MutField<Scalar>& y) {
  ScopedRegion region("eqflow::ResnetBlock::forward");
  const std::size_t n = x.extent(0), h = x.extent(2), w = x.extent(3);
  ensure_buffers(n, h, w);
  norm1_.forward(x, h1_, Mode::Train);
  act1_.forward(h1_, a1_, Mode::Train);
  conv1_.forward(a1_, c1_, Mode::Train);
  time_emb_proj_.forward(temb_act, proj_, Mode::Train);
  const auto c1 = c1_;
  const auto proj = proj_;
  const std::size_t p = h * w, channels = out_;
  Kokkos::parallel_for(
      "eqflow::ResnetBlock::add_time", RangePolicy(0, n * channels),
      KOKKOS_LAMBDA(const std::size_t r) {
        const Scalar t = proj.data()[r];  // proj (N, out): row-major as the planes of c1
        Scalar* plane = c1.data() + r * p;
        for (std::size_t i = 0; i < p; ++i) plane[i] += t;
      });
  norm2_.forward(c1_, h2_, Mode::Train);
  act2_.forward(h2_, a2_, Mode::Train);
  conv2_.forward(a2_, y, Mode::Train);
  if (shortcut_) {
    ensure(gout_, "eqflow::ResnetBlock::gout", n, out_, h, w);
    shortcut_->forward(x, gout_, Mode::Train);
    add_into(y, gout_);
  } else {
    add_into(y, x);
  }
}

template <class Scalar>
void ResnetBlock<Scalar>::backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx,
                                   const View2<Scalar>& gtemb_act) {
  ScopedRegion region("eqflow::ResnetBlock::backward");
  const std::size_t n = h1_.extent(0), h = h1_.extent(2), w = h1_.extent(3);
  const auto gout = ensure(gout_, "eqflow::ResnetBlock::gout", n, out_, h, w);
  const auto gin = ensure(gin_, "eqflow::ResnetBlock::gin", n, in_, h, w);
  ensure(gproj_, "eqflow::ResnetBlock::gproj", n, out_);
  ensure(gtemb_, "eqflow::ResnetBlock::gtemb", n, gtemb_act.extent(1));
  conv2_.backward(gy, gout);
  act2_.backward(gout, gout);   // elementwise: in place
  norm2_.backward(gout, gout);  // per element after its group's sums: in place
  // The time projection is broadcast over positions: its adjoint sums them.
  const auto gproj = gproj_;
  const std::size_t p = h * w;
  Kokkos::parallel_for(
      "eqflow::ResnetBlock::time_grad", impl::per_team(n * out_),
      KOKKOS_LAMBDA(const impl::TeamMember& team) {
        const std::size_t r = team.league_rank();
        Scalar sum = 0;
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, p),
            [&](const std::size_t i, Scalar& acc) { acc += gout.data()[r * p + i]; }, sum);
        Kokkos::single(Kokkos::PerTeam(team), [&]() { gproj.data()[r] = sum; });
      });
  time_emb_proj_.backward(gproj_, gtemb_);
  add_into(gtemb_act, gtemb_);
  conv1_.backward(gout, gin);
  act1_.backward(gin, gin);
  norm1_.backward(gin, gx);
  if (empty(gx)) {
    if (shortcut_) shortcut_->backward(gy, MutField<Scalar>());
    return;
  }
  if (shortcut_) {
    shortcut_->backward(gy, gin);
    add_into(gx, gin);
  } else {
    add_into(gx, gy);
  }
}

// ---------------------------------------------------------------------------------- UNet

//! One stage of the path: activation slot `output` from slot `input` (and `skip`).
namespace {
//! An activation slot's channels and level (side = input side >> level).
struct Slot {
  std::size_t channels, level;
  bool skip = false;  // also read by an up block
};
}  // namespace

template <class Scalar>
UNet<Scalar>::UNet(UNetConfig config)
    : config_(std::move(config)),
      workspace_(std::make_shared<Workspace<Scalar>>()),
      temb_act_(4 * (config_.block_channels.empty() ? 1 : config_.block_channels[0])) {
  const auto& blocks = config_.block_channels;
  if (blocks.empty() || config_.layers_per_block == 0 || config_.channels == 0) {
    throw ShapeError("UNet: needs channels, at least one block and one layer per block");
  }
  const std::size_t temb_dim = 4 * blocks[0], groups = config_.groups;
  const double eps = config_.eps;
  std::vector<Slot> slots;
  auto slot = [&](std::size_t channels, std::size_t level) {
    slots.push_back(Slot{channels, level});
    return slots.size() - 1;
  };
  auto resnet = [&](std::size_t in, std::size_t out, const std::string& name) {
    resnets_.push_back(
        std::make_unique<ResnetBlock<Scalar>>(in, out, temb_dim, groups, eps, workspace_));
    resnets_.back()->declare(store_, name);
    return resnets_.size() - 1;
  };
  auto sampler = [&](std::size_t channels, std::size_t stride, const std::string& name) {
    samplers_.push_back(
        std::make_unique<Conv2d<Scalar>>(channels, channels, 3, stride, true, workspace_));
    samplers_.back()->declare(store_, name);
    return samplers_.size() - 1;
  };

  conv_in_ = std::make_unique<Conv2d<Scalar>>(config_.channels, blocks[0], 3, 1, true, workspace_);
  conv_in_->declare(store_, "conv_in.");
  time_embedding_ = std::make_unique<TimeEmbedding<Scalar>>(blocks[0], temb_dim);
  time_embedding_->declare(store_, "time_embedding.");

  std::size_t level = 0, channels = blocks[0];
  std::size_t current = slot(channels, level);
  std::vector<std::size_t> skips{current};
  steps_.push_back(Step{Step::Kind::ConvIn, 0, 0, 0, 0, current});
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    for (std::size_t j = 0; j < config_.layers_per_block; ++j) {
      const std::size_t m =
          resnet(channels, blocks[b], fmt::format("down_blocks.{}.resnets.{}.", b, j));
      channels = blocks[b];
      const std::size_t out = slot(channels, level);
      steps_.push_back(Step{Step::Kind::Resnet, m, current, 0, 0, out});
      skips.push_back(current = out);
    }
    if (b + 1 < blocks.size()) {
      const std::size_t m =
          sampler(channels, 2, fmt::format("down_blocks.{}.downsamplers.0.conv.", b));
      const std::size_t out = slot(channels, ++level);
      steps_.push_back(Step{Step::Kind::Down, m, current, 0, 0, out});
      skips.push_back(current = out);
    }
  }
  for (auto s : skips) slots[s].skip = true;

  attention_ = std::make_unique<SpatialSelfAttention<Scalar>>(channels, config_.head_dim, groups,
                                                              eps, workspace_);
  attention_->declare(store_, "mid_block.attentions.0.");
  for (int j = 0; j < 2; ++j) {
    const std::size_t m = resnet(channels, channels, fmt::format("mid_block.resnets.{}.", j));
    const std::size_t out = slot(channels, level);
    steps_.push_back(Step{Step::Kind::Resnet, m, current, 0, 0, out});
    current = out;
    if (j == 0) {
      const std::size_t attended = slot(channels, level);
      steps_.push_back(Step{Step::Kind::Attention, 0, current, 0, 0, attended});
      current = attended;
    }
  }

  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const std::size_t out_channels = blocks[blocks.size() - 1 - i];
    for (std::size_t j = 0; j <= config_.layers_per_block; ++j) {
      const std::size_t skip = skips.back();
      skips.pop_back();
      const std::size_t joined = slot(channels + slots[skip].channels, level);
      const std::size_t m = resnet(channels + slots[skip].channels, out_channels,
                                   fmt::format("up_blocks.{}.resnets.{}.", i, j));
      channels = out_channels;
      const std::size_t out = slot(channels, level);
      steps_.push_back(Step{Step::Kind::UpResnet, m, current, skip, joined, out});
      current = out;
    }
    if (i + 1 < blocks.size()) {
      const std::size_t m = sampler(channels, 1, fmt::format("up_blocks.{}.upsamplers.0.conv.", i));
      --level;
      const std::size_t upsampled = slot(channels, level);
      const std::size_t out = slot(channels, level);
      steps_.push_back(Step{Step::Kind::Upsample, m, current, 0, upsampled, out});
      current = out;
    }
  }
  norm_out_ = std::make_unique<GroupNorm<Scalar>>(groups, channels, eps);
  norm_out_->declare(store_, "conv_norm_out.");
  conv_out_ = std::make_unique<Conv2d<Scalar>>(channels, config_.channels, 3, 1, true, workspace_);
  conv_out_->declare(store_, "conv_out.");

  store_.allocate();
  conv_in_->bind(store_);
  time_embedding_->bind(store_);
  for (auto& r : resnets_) r->bind(store_);
  for (auto& s : samplers_) s->bind(store_);
  attention_->bind(store_);
  norm_out_->bind(store_);
  conv_out_->bind(store_);
  slot_channels_.clear();
  for (const auto& s : slots) {
    slot_channels_.push_back(s.channels);
    slot_levels_.push_back(s.level);
    slot_skip_.push_back(s.skip);
  }
  initialize(0);
}

template <class Scalar>
UNet<Scalar>::~UNet() = default;

template <class Scalar>
void UNet<Scalar>::initialize(std::uint64_t seed) {
  std::uint64_t id = 0;
  conv_in_->initialize(seed, id++);
  time_embedding_->initialize(seed, 1000 + id++);
  for (auto& r : resnets_) r->initialize(seed, 2000 + id++);
  for (auto& s : samplers_) s->initialize(seed, 3000 + id++);
  attention_->initialize(seed, 4000 + id++);
  norm_out_->initialize(seed, 5000 + id++);
  conv_out_->initialize(seed, 6000 + id++);
}

template <class Scalar>
void UNet<Scalar>::ensure_buffers(std::size_t n, std::size_t h, std::size_t w) {
  const std::size_t multiple = config_.side_multiple();
  if (h == 0 || w == 0 || h % multiple != 0 || w % multiple != 0) {
    throw ShapeError(
        fmt::format("UNet: fields of {}x{} do not fit {} levels; height and width "
                    "must be positive multiples of {}",
                    h, w, config_.block_channels.size(), multiple));
  }
  if (n == batch_ && h == height_ && w == width_) return;
  acts_.assign(slot_channels_.size(), View4<Scalar>());
  grads_.assign(slot_channels_.size(), View4<Scalar>());
  for (std::size_t i = 0; i < slot_channels_.size(); ++i) {
    const std::size_t hi = h >> slot_levels_[i], wi = w >> slot_levels_[i];
    acts_[i] = View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::UNet::act"),
                             n, slot_channels_[i], hi, wi);
    grads_[i] = View4<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::UNet::grad"),
                              n, slot_channels_[i], hi, wi);
  }
  const std::size_t top = config_.block_channels[0], temb_dim = 4 * top;
  normed_out_ = View4<Scalar>("eqflow::UNet::normed_out", n, top, h, w);
  activated_out_ = View4<Scalar>("eqflow::UNet::activated_out", n, top, h, w);
  gscratch_out_ = View4<Scalar>("eqflow::UNet::gscratch_out", n, top, h, w);
  temb_ = View2<Scalar>("eqflow::UNet::temb", n, temb_dim);
  temb_activated_ = View2<Scalar>("eqflow::UNet::temb_activated", n, temb_dim);
  gtemb_activated_ = View2<Scalar>("eqflow::UNet::gtemb_activated", n, temb_dim);
  gtemb_ = View2<Scalar>("eqflow::UNet::gtemb", n, temb_dim);
  std::size_t largest = 0;
  for (const auto& a : acts_) largest = std::max(largest, a.size());
  gtemp_ = View1<Scalar>("eqflow::UNet::gtemp", largest);
  batch_ = n;
  height_ = h;
  width_ = w;
}

template <class Scalar>
void UNet<Scalar>::forward(const ConstField<Scalar>& x, const View1<const Scalar>& steps,
                           const MutField<Scalar>& y) {
  const std::size_t n = x.extent(0);
  if (x.extent(1) != config_.channels || steps.extent(0) != n || y.extent(0) != n ||
      !(shape_of(y) == shape_of(x))) {
    throw ShapeError(
        fmt::format("UNet: input ({}, {}, {}, {}) with {} steps and output ({}, {}, "
                    "{}, {}); expected {} channels, one step per sample and an "
                    "output of the input's shape",
                    n, x.extent(1), x.extent(2), x.extent(3), steps.extent(0), y.extent(0),
                    y.extent(1), y.extent(2), y.extent(3), config_.channels));
  }
  ensure_buffers(n, x.extent(2), x.extent(3));
  time_embedding_->forward(steps, temb_);
  temb_act_.forward(temb_, temb_activated_, Mode::Train);
  for (const Step& s : steps_) {
    const auto& out = acts_[s.output];
    switch (s.kind) {
      case Step::Kind::ConvIn:
        conv_in_->forward(x, out, Mode::Train);
        break;
      case Step::Kind::Resnet:
        resnets_[s.module]->forward(acts_[s.input], temb_activated_, out);
        break;
      case Step::Kind::Down:
        samplers_[s.module]->forward(acts_[s.input], out, Mode::Train);
        break;
      case Step::Kind::Attention:
        attention_->forward(acts_[s.input], out, Mode::Train);
        break;
      case Step::Kind::UpResnet:
        concat_channels<Scalar>(acts_[s.input], acts_[s.skip], acts_[s.concat]);
        resnets_[s.module]->forward(acts_[s.concat], temb_activated_, out);
        break;
      case Step::Kind::Upsample:
        upsample_.forward(acts_[s.input], acts_[s.concat], Mode::Train);
        samplers_[s.module]->forward(acts_[s.concat], out, Mode::Train);
        break;
    }
  }
  norm_out_->forward(acts_[steps_.back().output], normed_out_, Mode::Train);
  act_out_.forward(normed_out_, activated_out_, Mode::Train);
  conv_out_->forward(activated_out_, y, Mode::Train);
}

template <class Scalar>
void UNet<Scalar>::backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) {
  if (batch_ == 0 || gy.extent(0) != batch_ || gy.extent(1) != config_.channels ||
      gy.extent(2) != height_ || gy.extent(3) != width_) {
    throw ShapeError("UNet: backward needs an output gradient of the last forward's shape");
  }
  Kokkos::deep_copy(gtemb_activated_, Scalar(0));
  conv_out_->backward(gy, gscratch_out_);
  act_out_.backward(gscratch_out_, gscratch_out_);
  norm_out_->backward(gscratch_out_, grads_[steps_.back().output]);
  // The gradient of a step's input: written when the step is the slot's only reader, added
  // when the slot is a skip (its up-block reader, later in the path, wrote it first).
  auto input_grad = [&](std::size_t slot) {
    if (!slot_skip_[slot]) return grads_[slot];
    const auto& a = acts_[slot];
    return View4<Scalar>(gtemp_.data(), a.extent(0), a.extent(1), a.extent(2), a.extent(3));
  };
  auto finish = [&](std::size_t slot) {
    if (slot_skip_[slot]) add_into(grads_[slot], input_grad(slot));
  };
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    const Step& s = *it;
    const auto& gout = grads_[s.output];
    switch (s.kind) {
      case Step::Kind::ConvIn:
        conv_in_->backward(gout, gx);
        break;
      case Step::Kind::Resnet:
        resnets_[s.module]->backward(gout, input_grad(s.input), gtemb_activated_);
        finish(s.input);
        break;
      case Step::Kind::Down:
        samplers_[s.module]->backward(gout, input_grad(s.input));
        finish(s.input);
        break;
      case Step::Kind::Attention:
        attention_->backward(gout, input_grad(s.input));
        finish(s.input);
        break;
      case Step::Kind::UpResnet:
        resnets_[s.module]->backward(gout, grads_[s.concat], gtemb_activated_);
        split_channels<Scalar>(grads_[s.concat], grads_[s.input], grads_[s.skip]);
        break;
      case Step::Kind::Upsample:
        samplers_[s.module]->backward(gout, grads_[s.concat]);
        upsample_.backward(grads_[s.concat], grads_[s.input]);
        break;
    }
  }
  temb_act_.backward(gtemb_activated_, gtemb_);
  time_embedding_->backward(gtemb_);
}

template <class Scalar>
std::size_t UNet<Scalar>::activation_bytes() const {
  std::size_t total = 0;
  for (const auto& a : acts_) total += 2 * a.span();
  return (total + 3 * normed_out_.span() + gtemp_.span()) * sizeof(Scalar) + workspace_->bytes();
}

template void sinusoidal_embedding(const View1<const float>&, const View2<float>&);
template void sinusoidal_embedding(const View1<const double>&, const View2<double>&);
template class TimeEmbedding<float>;
template class TimeEmbedding<double>;
template class ResnetBlock<float>;
template class ResnetBlock<double>;
template class UNet<float>;
template class UNet<double>;

}  // namespace eqflow::nn
