// The score network of the pattern systems: diffusers' UNet2DModel as DESIGN.md section 2
// configures it (block channels 16/32/64, 2 ResNet blocks per level, GroupNorm 8, SiLU,
// sinusoidal time embedding added inside each ResNet block, stride-2 circular convolutions
// down, nearest x2 + convolution up, a skip stack pushed on the way down and popped on the
// way up, a mid block with self-attention), every convolution padded circularly. Parameters
// carry diffusers' state_dict names, so weights and gradients compare tensor by tensor with
// a PyTorch model (tests/nn/test_unet.cpp, bench/unet_torch.py).
#pragma once

#include <memory>
#include <vector>

#include "eqflow/nn/activation.hpp"
#include "eqflow/nn/attention.hpp"
#include "eqflow/nn/conv2d.hpp"
#include "eqflow/nn/dense.hpp"
#include "eqflow/nn/field_ops.hpp"
#include "eqflow/nn/group_norm.hpp"

namespace eqflow::nn {

//! emb(n, j) for a batch of diffusion steps (N): [cos(t f_j), sin(t f_j)], f_j =
//! exp(-ln(10000) j / half), j < half = dim / 2 (diffusers' get_timestep_embedding with
//! flip_sin_to_cos and shift 0). emb (N, dim), dim even.
template <class Scalar>
void sinusoidal_embedding(const View1<const Scalar>& steps, const View2<Scalar>& emb);

//! The time embedding: sinusoidal (base_dim) -> linear_1 -> SiLU -> linear_2 (dim).
template <class Scalar>
class TimeEmbedding {
 public:
  TimeEmbedding(std::size_t base_dim, std::size_t dim);
  void declare(ParameterStore<Scalar>& store, const std::string& prefix);
  void bind(const ParameterStore<Scalar>& store);
  void initialize(std::uint64_t seed, std::uint64_t layer_id);
  //! temb (N, dim) of the steps (N).
  void forward(const View1<const Scalar>& steps, const View2<Scalar>& temb);
  //! Parameter gradients from the adjoint of temb (N, dim).
  void backward(const View2<Scalar>& gtemb);
  std::size_t dim() const { return dim_; }

 private:
  std::size_t base_dim_, dim_;
  Dense<Scalar> linear_1_, linear_2_;
  SiLU<Scalar> act_;
  View2<Scalar> sinusoid_, hidden_, activated_, ghidden_, gactivated_;
};

//! diffusers' ResnetBlock2D (time_scale_shift "default", no dropout, output scale 1):
//! h = conv1(silu(norm1(x))) + time_emb_proj(a)[:, :, None, None], a = silu(temb) (given),
//! h = conv2(silu(norm2(h))), y = shortcut(x) + h, shortcut a 1x1 convolution when the
//! channels change.
template <class Scalar>
class ResnetBlock {
 public:
  ResnetBlock(std::size_t in_channels, std::size_t out_channels, std::size_t temb_dim,
              std::size_t groups, double eps, std::shared_ptr<Workspace<Scalar>> workspace);
  void declare(ParameterStore<Scalar>& store, const std::string& prefix);
  void bind(const ParameterStore<Scalar>& store);
  void initialize(std::uint64_t seed, std::uint64_t layer_id);
  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }

  //! x (N, in, H, W), temb_act (N, temb_dim) = silu(temb), y (N, out, H, W).
  void forward(const ConstField<Scalar>& x, const View2<Scalar>& temb_act,
               const MutField<Scalar>& y);
  //! gx (N, in, H, W) written (skipped when empty); gtemb_act (N, temb_dim) accumulated.
  void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx,
                const View2<Scalar>& gtemb_act);

 private:
  void ensure_buffers(std::size_t n, std::size_t h, std::size_t w);

  std::size_t in_, out_;
  GroupNorm<Scalar> norm1_, norm2_;
  FieldSiLU<Scalar> act1_, act2_;
  Conv2d<Scalar> conv1_, conv2_;
  Dense<Scalar> time_emb_proj_;
  std::unique_ptr<Conv2d<Scalar>> shortcut_;
  View4<Scalar> h1_, a1_, c1_, h2_, a2_;  // activations of the last forward
  View4<Scalar> gout_, gin_;              // backward scratch (N, out / in, H, W)
  View2<Scalar> proj_, gproj_, gtemb_;    // (N, out), (N, out), (N, temb_dim)
};

//! The UNet's configuration (DESIGN.md section 2).
struct UNetConfig {
  std::size_t channels = 2;  //!< in and out channels
  std::vector<std::size_t> block_channels{16, 32, 64};
  std::size_t layers_per_block = 2;
  std::size_t groups = 8;
  std::size_t head_dim = 8;
  double eps = 1e-5;
  //! Sides must be divisible by this (one halving per level but the last).
  std::size_t side_multiple() const { return std::size_t(1) << (block_channels.size() - 1); }
};

template <class Scalar>
class UNet {
 public:
  explicit UNet(UNetConfig config);
  ~UNet();
  const UNetConfig& config() const { return config_; }

  //! Declares every parameter (diffusers' names), allocates, binds and initialises (seeded).
  ParameterStore<Scalar>& parameters() { return store_; }
  const ParameterStore<Scalar>& parameters() const { return store_; }
  void initialize(std::uint64_t seed);

  //! y = unet(x, steps): x, y (N, C, H, W), steps (N) diffusion steps (any real value).
  //! Throws ShapeError unless H and W are multiples of config().side_multiple().
  void forward(const ConstField<Scalar>& x, const View1<const Scalar>& steps,
               const MutField<Scalar>& y);
  //! Accumulates parameter gradients from gy (N, C, H, W); writes gx unless it is empty.
  void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx);

  //! Bytes of activations and scratch held after the last forward/backward.
  std::size_t activation_bytes() const;

 private:
  //! One stage of the network's path: a module applied to activation slots.
  struct Step {
    enum class Kind { ConvIn, Resnet, Down, Attention, UpResnet, Upsample };
    Kind kind;
    std::size_t module = 0;  // index into resnets_ or samplers_
    std::size_t input = 0, skip = 0, concat = 0, output = 0;
  };
  void ensure_buffers(std::size_t n, std::size_t h, std::size_t w);

  UNetConfig config_;
  ParameterStore<Scalar> store_;
  std::shared_ptr<Workspace<Scalar>> workspace_;
  std::unique_ptr<Conv2d<Scalar>> conv_in_, conv_out_;
  std::unique_ptr<TimeEmbedding<Scalar>> time_embedding_;
  SiLU<Scalar> temb_act_;
  std::vector<std::unique_ptr<ResnetBlock<Scalar>>> resnets_;
  std::vector<std::unique_ptr<Conv2d<Scalar>>> samplers_;  // down and up convolutions
  std::unique_ptr<SpatialSelfAttention<Scalar>> attention_;
  std::unique_ptr<GroupNorm<Scalar>> norm_out_;
  FieldSiLU<Scalar> act_out_;
  UpsampleNearest2x<Scalar> upsample_;
  std::vector<Step> steps_;
  std::vector<std::size_t> slot_channels_, slot_levels_;  // per activation slot
  std::vector<bool> slot_skip_;                           // read again by an up block
  std::vector<View4<Scalar>> acts_, grads_;               // per slot (N, C, H >> l, W >> l)
  View1<Scalar> gtemp_;                                   // the adjoint of a skip's other reader
  View2<Scalar> temb_, temb_activated_, gtemb_activated_, gtemb_;
  View4<Scalar> normed_out_, activated_out_, gscratch_out_;
  std::size_t batch_ = 0, height_ = 0, width_ = 0;
};

}  // namespace eqflow::nn
