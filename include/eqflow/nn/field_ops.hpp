// Parameter-free operations on fields: elementwise activations, nearest x2 upsampling, and
// the channel concatenation of skip connections with its adjoint.
#pragma once

#include "eqflow/nn/activation.hpp"
#include "eqflow/nn/field_layer.hpp"

namespace eqflow::nn {

//! An elementwise activation on fields (nn/activation.hpp's functions), e.g. SiLU.
template <class Scalar, class Function>
class FieldActivation final : public FieldLayer<Scalar> {
 public:
  std::string kind() const override { return Function::name; }
  FieldShape output_shape(const FieldShape& in) const override { return in; }
  void forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode mode) override;
  void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) override;

 private:
  ConstField<Scalar> x_;
};

template <class Scalar>
using FieldSiLU = FieldActivation<Scalar, SiluFunction>;

//! Channel concatenation of skip connections: y = [a, b] along channels; a (N, Ca, H, W),
//! b (N, Cb, H, W), y (N, Ca + Cb, H, W). Throws ShapeError on a mismatch.
template <class Scalar>
void concat_channels(const ConstField<Scalar>& a, const ConstField<Scalar>& b,
                     const MutField<Scalar>& y);
//! Its adjoint: ga = gy[:, :Ca], gb = gy[:, Ca:] (an empty ga or gb is skipped).
template <class Scalar>
void split_channels(const ConstField<Scalar>& gy, const MutField<Scalar>& ga,
                    const MutField<Scalar>& gb);

//! Nearest-neighbour upsampling by 2 in both directions: (N, C, H, W) -> (N, C, 2H, 2W).
template <class Scalar>
class UpsampleNearest2x final : public FieldLayer<Scalar> {
 public:
  std::string kind() const override { return "UpsampleNearest2x"; }
  FieldShape output_shape(const FieldShape& in) const override {
    return FieldShape{in.channels, 2 * in.height, 2 * in.width};
  }
  void forward(const ConstField<Scalar>& x, const MutField<Scalar>& y, Mode mode) override;
  void backward(const ConstField<Scalar>& gy, const MutField<Scalar>& gx) override;
};

}  // namespace eqflow::nn
