// The run's dataset and flow networks as the config describes them (src/app/setup.cpp):
// shared by the deck check, the pipeline and the analyses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "eqflow/app/config.hpp"
#include "eqflow/diffusion/score_model.hpp"
#include "eqflow/flow/flow_trainer.hpp"
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

//! The score model's and a flow's training settings as the config gives them (d: data
//! dimension, for the divergence estimator).
diffusion::ScoreTrainingSettings score_training(const RunConfig& config);
flow::FlowTrainingSettings flow_training(const RunConfig& config, std::size_t d);
//! The score model's seed (initialisation and random streams).
std::uint64_t score_seed(const RunConfig& config);
//! The points on the device in float (the training precision).
View2<float> to_device(const systems::Dataset& data);

//! A random split of the rows: the first `fraction` of a permutation of stream `seed`
//! (validation) and the rest (training), both in the frame of `data`.
std::pair<systems::Dataset, systems::Dataset> split_rows(const systems::Dataset& data,
                                                         double fraction, std::uint64_t seed);

//! A fresh draw of the run's system (another seed, same settings) in the frame
//! (normalisation) of `data`: held-out points. Empty for `samples`, which has no second draw.
systems::Dataset held_out_dataset(const RunConfig& config, const systems::Dataset& data);

}  // namespace eqflow::app::impl
