// The analyses of a trained flow and the run's baselines (src/app/analysis.cpp).
#pragma once

#include <cstdint>

#include "eqflow/app/config.hpp"
#include "eqflow/diffusion/score_model.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/io/run_files.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/systems/dataset.hpp"

namespace eqflow::app::impl {

//! Every enabled analysis of a trained flow, written under /analysis of `out`. The score
//! model gives the held-out equilibrium residual. The flow's batch-norm running statistics
//! are updated by that last measurement (the stored model is written before).
void analyse_flow(const RunConfig& config, nn::Model<float>& flow,
                  diffusion::ScoreModel<float>& score, const systems::Dataset& data,
                  std::int64_t seed, io::H5File& out);

//! The run's baselines (summary.h5): untrained random flows (MMD curves, field similarity),
//! the MMD noise floor of two disjoint data samples and, with a Langevin correction, the
//! correction alone (v = 0). The score model gives the Langevin term.
io::Baselines compute_baselines(const RunConfig& config, diffusion::ScoreModel<float>& score,
                                const systems::Dataset& data);

}  // namespace eqflow::app::impl
