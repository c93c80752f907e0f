// The architecture of a flow network as plain values: what a deck chooses and what every file
// holding a flow model stores next to its parameters, so the model can be rebuilt from the file
// alone (io::load_flow) without the deck that made it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "eqflow/nn/layer.hpp"

namespace eqflow::nn {

//! A flow network of DESIGN.md section 2: the FlowKernel (Fourier encoding, two hidden SiLU
//! layers) or the plain MLP (three hidden SiLU layers), each with an optional final
//! affine-free batch norm.
struct FlowArchitecture {
  std::string kind = "flow_kernel";  //!< flow_kernel | mlp
  std::size_t dim = 0;               //!< d: inputs and outputs
  std::size_t hidden = 64;           //!< width of the hidden layers
  int frequencies = 4;               //!< flow_kernel: Fourier frequencies 2^0 .. 2^(F-1)
  bool final_norm = true;            //!< the affine-free batch norm that excludes v = 0
};

//! The network `arch` describes (parameters unbound: wrap it in a Model). Throws Error for an
//! unknown kind or dim 0.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_flow_network(const FlowArchitecture& arch);

}  // namespace eqflow::nn
