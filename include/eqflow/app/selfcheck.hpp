// `eqflow selfcheck`: a derivative check of the equilibrium loss and a short equilibrium-flow
// training on N(0, I) in 2-D, whose score s = -x is exact. Needs Kokkos initialised.
#pragma once

namespace eqflow::app {

//! Results of the self-check.
struct SelfcheckResult {
  double gradient_error = 0;  //!< relative error of the loss gradient against finite differences
  double first_loss = 0;      //!< equilibrium loss at the first training step
  double last_loss = 0;       //!< and at the last
};

//! Runs both checks, logging progress; throws Error when the gradient check fails (relative
//! error >= 1e-6) or the training does not halve the loss.
SelfcheckResult selfcheck();

}  // namespace eqflow::app
