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

//! The exact equilibrium residual mean (div v + v . s)^2 of `flow` on the points x diffused to
//! the training time t (batch statistics of that batch).
double equilibrium_residual(const RunConfig& config, nn::Model<float>& flow,
                            diffusion::ScoreModel<float>& score, const View2<double>& x);

//! Paired MMD^2 (RBF sigma) of the points x against their images after the config's transport
//! (analysis.mmd dt and steps, the Langevin correction of analysis.langevin with noise stream
//! `key`) under `flow` in float64 with running batch statistics.
double transported_mmd(const RunConfig& config, nn::Model<float>& flow,
                       diffusion::ScoreModel<float>& score, const systems::Dataset& data,
                       const View2<double>& x, double sigma, std::uint64_t key);

//! The RBF bandwidth analysis.mmd.bandwidth gives for the start cloud x.
double start_bandwidth(const RunConfig& config, const View2<double>& x);

//! Two-sample MMD^2 (RBF sigma) of x against y diffused to the flow's training time t.
double mmd_to_diffused(const RunConfig& config, const diffusion::NoiseSchedule& schedule,
                       const View2<double>& x, const View2<double>& y, double sigma);

//! MMD^2(p, p_t) at the flow's training time t (two-sample, bandwidth sigma): data points
//! against a held-out draw of the system diffused to t (for `samples`, the other half of the
//! rows). A flow that keeps p_t exactly can carry p up to about twice this distance away, so
//! it is the scale of the pure flow's long-horizon error. NaN with fewer than 4 points.
double diffusion_floor(const RunConfig& config, const diffusion::NoiseSchedule& schedule,
                       const systems::Dataset& data, double sigma);

}  // namespace eqflow::app::impl
