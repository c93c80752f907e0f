// 2-D convolution with circular (periodic) padding: kernel 1 or 3, stride 1 or 2, padding
// kernel / 2, as torch.nn.Conv2d(padding_mode="circular"). Computed with gemms on column
// matrices (Darknet / ggml), the column buffer shared by every convolution of a network and
// sized once; a 1x1 convolution is a gemm on the field itself. A 3x3 convolution's bias is a
// further weight column against a row of ones in the columns, so the gemms write the output
// (no bias pass) and yield the bias gradient. A stride-2 forward and every weight gradient use
// im2col (C 9 rows) and one gemm per sample; a stride-1 forward builds only the three
// column-shifted copies of the rows (C 3 rows, H + 2 rows of the field with the wrapped ones)
// and makes one gemm per kernel row on a window of them, a third of im2col's writes.
#pragma once

#include <memory>

#include "eqflow/nn/field_layer.hpp"

namespace eqflow::nn {

//! Scratch matrices shared by the layers of one network (the reused column buffers): each
//! slot grows to its largest request and is never shrunk. A matrix is valid until the next
//! request of the same slot.
template <class Scalar>
class Workspace {
 public:
  static constexpr int slots = 2;
  //! A (rows, cols) scratch matrix in `slot` (0 <= slot < slots), contents undefined.
  Unmanaged2<Scalar> matrix(int slot, std::size_t rows, std::size_t cols) {
    auto& buffer = buffers_[slot];
    if (buffer.extent(0) < rows * cols) {
      buffer = View1<Scalar>();  // release before growing
      buffer = View1<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Workspace"),
                             rows * cols);
    }
    return Unmanaged2<Scalar>(buffer.data(), rows, cols);
  }
  //! Bytes held.
  std::size_t bytes() const {
    return (buffers_[0].extent(0) + buffers_[1].extent(0)) * sizeof(Scalar);
  }

 private:
  View1<Scalar> buffers_[slots];
};

//! How a 3x3 convolution computes its output and input gradient: column matrices + gemm (see
//! the top of this file), or direct loops over the 9 taps (the weight gradient is always im2col +
//! gemm). Auto: direct when the output has at most `direct_max_out` channels (bench/bench_unet
//! measures both).
enum class ConvAlgorithm { Auto, Im2col, Direct };

template <class Scalar>
class Conv2d final : public FieldLayer<Scalar> {
 public:
  static constexpr std::size_t direct_max_out = 4;
  //! `kernel` 1 or 3, `stride` 1 or 2; `workspace` may be shared with other layers (a private
  //! one when null). Throws ShapeError on another kernel or stride.
  Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
         std::size_t stride = 1, bool bias = true,
         std::shared_ptr<Workspace<Scalar>> workspace = nullptr);
  std::string kind() const override { return "Conv2d"; }
  //! Output (out, H / stride, W / stride); H and W must be divisible by the stride.
  FieldShape output_shape(const FieldShape& in) const override;

  void declare(ParameterStore<Scalar>& store, const std::string& prefix) override;
  void bind(const ParameterStore<Scalar>& store) override;
  //! PyTorch's default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in k k.
  void initialize(std::uint64_t seed, std::uint64_t layer_id) override;

  void forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode mode) override;
  void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) override;

  std::size_t in_channels() const { return in_; }
  std::size_t out_channels() const { return out_; }
  //! Multiply-adds of one forward per output pixel (Cout Cin k k).
  double flops_per_pixel() const { return 2.0 * double(out_ * in_ * kernel_ * kernel_); }
  void set_algorithm(ConvAlgorithm algorithm) { algorithm_ = algorithm; }
  //! Whether a 3x3 forward and input gradient run as direct loops.
  bool direct() const {
    return kernel_ == 3 && (algorithm_ == ConvAlgorithm::Direct ||
                            (algorithm_ == ConvAlgorithm::Auto && out_ <= direct_max_out));
  }

 private:
  void shifted_forward(const ConstField<Scalar>& x, const MutField<Scalar>& y);

  std::size_t in_, out_, kernel_, stride_;
  bool has_bias_;
  ConvAlgorithm algorithm_ = ConvAlgorithm::Auto;
  std::shared_ptr<Workspace<Scalar>> workspace_;
  std::size_t w_offset_ = 0, b_offset_ = 0;
  Unmanaged2<Scalar> w_, gw_;  // (out, in k k)
  Unmanaged1<Scalar> b_, gb_;  // (out)
  // 3x3 weights | bias: stride 2 (out, in k k + 1); stride 1 (3 out, 3 in + 1), per kernel row
  View2<Scalar> wb_;
  View2<Scalar> gwb_;  // 3x3 weight | bias gradient (out, in k k + 1)
  ConstField<Scalar> x_;
};

}  // namespace eqflow::nn
