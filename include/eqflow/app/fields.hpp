// The stage driver of field data sets: a Gray-Scott data set generated over MPI ranks into one
// parallel-HDF5 file (`eqflow generate DECK`). Samples are spread over the ranks by global index
// and each sample's initial condition is a pure function of (seed, index), so the file is
// bit-identical for any rank count; generation goes in blocks whose completion the file records,
// so a killed run resumes without losing a finished block.
#pragma once

#include <cstdint>
#include <string>

#include "eqflow/app/config.hpp"
#include "eqflow/parallel/comm.hpp"

namespace eqflow::app {

struct GenerateOptions {
  bool progress = true;  //!< samples done, rate and ETA on rank 0
  //! Stop (as if killed) after this many blocks, leaving the working file for a resume; -1:
  //! run to the end. For the resume tests.
  std::int64_t stop_after_blocks = -1;
};

struct GenerateResult {
  std::string path;           //!< the data file (its working name if not complete)
  std::int64_t computed = 0;  //!< samples simulated by this call (all ranks)
  std::int64_t reused = 0;    //!< samples found complete in a resumed file
  bool complete = false;      //!< the file is complete under its final name
};

//! The schema name of Gray-Scott data files (provenance attribute `schema`).
inline constexpr const char* kGrayScottSchema = "eqflow.gray_scott_data";

//! Generates (or resumes, or finds complete) the data set of `config` at `path`: dataset
//! "/fields" (samples, 2, height, width) float32 (channel 0 = u, 1 = v, normalised by 2x - 1),
//! chunked one sample per chunk, with the attributes preset, Du, Dv, F, k, steps, dt,
//! normalisation ("2x - 1"), seed, initial_condition; the per-sample flags "/fields_complete";
//! eqflow's provenance and the resolved deck that created the file (`deck`) on the root. The
//! samples still missing are taken in rounds of size() x block: rank r simulates the r-th run of
//! `block` of them (in float32), then all ranks write their samples collectively and mark them
//! complete. Collective.
GenerateResult generate_gray_scott(const FieldRunConfig& config, const parallel::Comm& comm,
                                   const std::string& path, const GenerateOptions& options = {});

}  // namespace eqflow::app
