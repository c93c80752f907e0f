// The stage drivers of a low-dimensional run: deck -> dataset -> score model -> flow models
// (one per seed, spread over MPI ranks) -> analyses -> HDF5. Each stage is a function of its
// inputs whose complete output is kept on disk, so a rerun skips what is done and a seed
// killed mid-training resumes from its last checkpoint.
//
// Output directory layout:
//   run.h5                     dataset, score model, summary of all seeds (rank 0)
//   seeds/seed_<k>.h5          one flow model, its loss history and analyses (atomic)
//   checkpoints/seed_<k>.h5    training state of an unfinished seed (removed when done)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eqflow/app/config.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/parallel/comm.hpp"

namespace eqflow::app {

struct RunOptions {
  std::int64_t first_seed = 0;  //!< seeds [first_seed, last_seed) of this invocation
  std::int64_t last_seed = -1;  //!< -1: experiments
  bool progress = true;         //!< progress bars / lines on rank 0
};

//! Runs (or resumes) every stage. Returns the number of seeds complete in the output.
std::int64_t run_pipeline(const RunConfig& config, const parallel::Comm& comm,
                          const RunOptions& options);

//! The flow model stored in a seed file (architecture from its /deck), in double precision
//! with its batch-norm running statistics: for analyses and benchmarks of a trained flow.
std::unique_ptr<nn::Model<double>> load_flow(const std::string& seed_file);

//! A human-readable summary of an eqflow HDF5 file (run or seed file).
std::string describe_output(const std::string& path);

//! File names inside the output directory.
std::string run_file(const RunConfig& config);
std::string seed_file(const RunConfig& config, std::int64_t seed);
std::string checkpoint_file(const RunConfig& config, std::int64_t seed);

}  // namespace eqflow::app
