// Flat parameter / gradient / buffer storage with named slots, and the cast copy between stores
// of two precisions.
#include "eqflow/nn/parameters.hpp"

#include <fmt/core.h>

#include "eqflow/core/error.hpp"

namespace eqflow::nn {
namespace {

bool same_slots(const std::vector<TensorSlot>& a, const std::vector<TensorSlot>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].extents != b[i].extents || a[i].offset != b[i].offset) {
      return false;
    }
  }
  return true;
}

template <class From, class To>
void cast_copy(const View1<From>& from, const View1<To>& to) {
  Kokkos::parallel_for(
      "eqflow::nn::copy_parameters", RangePolicy(0, from.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) { to(i) = static_cast<To>(from(i)); });
}

}  // namespace

template <class Scalar>
std::size_t ParameterStore<Scalar>::add_parameter(const std::string& name,
                                                  std::vector<std::size_t> extents) {
  if (values_.size() > 0) throw Error(fmt::format("parameter '{}' added after allocate", name));
  TensorSlot slot{name, std::move(extents), num_parameters_};
  num_parameters_ += slot.size();
  parameter_slots_.push_back(std::move(slot));
  return parameter_slots_.back().offset;
}

template <class Scalar>
std::size_t ParameterStore<Scalar>::add_buffer(const std::string& name,
                                               std::vector<std::size_t> extents) {
  if (buffers_.size() > 0) throw Error(fmt::format("buffer '{}' added after allocate", name));
  TensorSlot slot{name, std::move(extents), num_buffers_};
  num_buffers_ += slot.size();
  buffer_slots_.push_back(std::move(slot));
  return buffer_slots_.back().offset;
}

template <class Scalar>
void ParameterStore<Scalar>::allocate() {
  values_ = View1<Scalar>("eqflow::parameters", num_parameters_);
  gradients_ = View1<Scalar>("eqflow::gradients", num_parameters_);
  buffers_ = View1<Scalar>("eqflow::buffers", num_buffers_);
}

template <class Scalar>
void ParameterStore<Scalar>::zero_gradients() const {
  Kokkos::deep_copy(gradients_, Scalar(0));
}

template <class From, class To>
void copy_parameters(const ParameterStore<From>& a, const ParameterStore<To>& b) {
  if (!same_slots(a.parameter_slots(), b.parameter_slots()) ||
      !same_slots(a.buffer_slots(), b.buffer_slots()) || a.num_parameters() != b.num_parameters() ||
      a.num_buffers() != b.num_buffers()) {
    throw ShapeError(fmt::format(
        "copy_parameters: source has {} parameters and {} buffers in {} + {} tensors, target "
        "{} and {} in {} + {}; the models must have the same named tensors",
        a.num_parameters(), a.num_buffers(), a.parameter_slots().size(), a.buffer_slots().size(),
        b.num_parameters(), b.num_buffers(), b.parameter_slots().size(), b.buffer_slots().size()));
  }
  cast_copy(a.values(), b.values());
  cast_copy(a.buffers(), b.buffers());
}

template class ParameterStore<float>;
template class ParameterStore<double>;
template void copy_parameters(const ParameterStore<float>&, const ParameterStore<double>&);
template void copy_parameters(const ParameterStore<double>&, const ParameterStore<float>&);
template void copy_parameters(const ParameterStore<float>&, const ParameterStore<float>&);
template void copy_parameters(const ParameterStore<double>&, const ParameterStore<double>&);

}  // namespace eqflow::nn
