// The stage drivers of a low-dimensional run: deck -> dataset -> score model -> flow models
// (one per seed, spread over MPI ranks) -> analyses -> HDF5. Each stage is a function of its
// inputs whose complete output is kept on disk, so a rerun skips what is done and a seed
// killed mid-training resumes from its last checkpoint.
//
// The output directory's files are io/run_files.hpp's.
#pragma once

#include <cstdint>
#include <string>

#include "eqflow/app/config.hpp"
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

}  // namespace eqflow::app
