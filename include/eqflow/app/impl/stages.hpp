// Internals shared by the stage drivers (src/stages): the dataset, model factories from the
// config, and the analyses of a trained flow.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "eqflow/app/config.hpp"
#include "eqflow/diffusion/score_model.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/io/run_files.hpp"
#include "eqflow/nn/architecture.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/systems/dataset.hpp"

namespace eqflow::app::impl {

//! The run's dataset: a generated system or the user's samples (validated, normalised).
systems::Dataset load_dataset(const RunConfig& config);

//! The flow network's architecture the config describes, for data of dimension d.
nn::FlowArchitecture flow_architecture(const RunConfig& config, std::size_t d);

//! The flow network the config describes, for data of dimension d.
template <class Scalar>
std::unique_ptr<nn::Layer<Scalar>> make_flow_network(const RunConfig& config, std::size_t d);

//! "exact" for d <= 8 when the deck says "auto".
std::string resolved_divergence(const RunConfig& config, std::size_t d);

//! Seeds of the model initialisation and random streams of flow `seed` (a pure function).
std::uint64_t flow_seed(const RunConfig& config, std::int64_t seed);

//! A fresh draw of the run's system (another seed, same settings) in the frame
//! (normalisation) of `data`: held-out points. Empty for `samples`, which has no second draw.
systems::Dataset held_out_dataset(const RunConfig& config, const systems::Dataset& data);

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
