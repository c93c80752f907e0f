// Settings chosen inside the run from a validation split of the data (deck section select,
// src/app/selection.cpp).
#pragma once

#include "eqflow/app/config.hpp"
#include "eqflow/io/run_files.hpp"
#include "eqflow/systems/dataset.hpp"

namespace eqflow::app::impl {

//! Trains every candidate of config.select on the rows outside a validation split (a score
//! model per score-epoch count, a flow of seed 0 per training time t), transports the
//! validation points with every Langevin eta and scores each candidate by the paired MMD^2
//! after select.horizon; the smallest wins. Serial (rank 0); logs each candidate.
io::SelectionRecord select_settings(const RunConfig& config, const systems::Dataset& data);

//! The config with the chosen row's score epochs, flow training time and Langevin eta.
RunConfig apply_selection(RunConfig config, const io::SelectionRecord& selection);

}  // namespace eqflow::app::impl
