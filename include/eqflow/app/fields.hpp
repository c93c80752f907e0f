// The stage driver of field systems (`eqflow run` and `eqflow generate` of a gray_scott or
// fields deck): data -> score model -> samples.
//
// Data: a Gray-Scott or icon (artificial-life) data set generated over MPI ranks into one
// parallel-HDF5 file (`eqflow generate DECK`), or the user's own (N, C, H, W) data set. Samples are
// spread over the ranks by global index and each sample's initial condition is a pure function of
// (seed, index), so the file is bit-identical for any rank count; generation goes in blocks whose
// completion the file records, so a killed run resumes without losing a finished block.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eqflow/app/config.hpp"
#include "eqflow/parallel/comm.hpp"
#include "eqflow/systems/icons.hpp"

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

//! The schema name of icon data files.
inline constexpr const char* kIconSchema = "eqflow.icon_data";

//! The icon of an icons deck at icon_size x icon_size: a drawn one (systems::draw_icon) or the
//! PNG read (io::read_png, one-line errors) and resized (systems::resize_bicubic).
systems::RgbaImage load_icon(const FieldRunConfig& config);

//! Generates (or resumes, or finds complete) the data set of an icons deck at `path`: "/fields"
//! (samples, 3, height, width) float32, RGB normalised by 2x - 1, image i =
//! systems::icon_canvas(load_icon(config), ..., seed, i); attributes icon, icon_checksum (of
//! the resized icon's pixels), icon_size, copies, attempts, seed, normalisation, placement;
//! per-sample completeness flags and the deck as for Gray-Scott. Collective.
GenerateResult generate_icons(const FieldRunConfig& config, const parallel::Comm& comm,
                              const std::string& path, const GenerateOptions& options = {});

//! generate_gray_scott or generate_icons by the deck's system.
GenerateResult generate_data(const FieldRunConfig& config, const parallel::Comm& comm,
                             const std::string& path, const GenerateOptions& options = {});

struct FieldRunOptions {
  bool progress = true;  //!< progress lines (epoch, loss, rate, ETA) on rank 0
  //! Stop (as if killed) after this many epochs of this call, after their checkpoint; -1: run
  //! to the end. For the resume tests.
  std::int64_t stop_after_epochs = -1;
};

//! What a field run did and where its results are.
struct FieldRunResult {
  std::string data_path;            //!< the data set's file
  std::string score_path;           //!< <output>/score.h5 (empty while training is unfinished)
  std::int64_t epochs_trained = 0;  //!< epochs run by this call
  std::int64_t resumed_epoch = 0;   //!< epoch the training resumed at (0: fresh)
  std::vector<double> train_loss, validation_loss;  //!< per epoch, the whole history
  std::vector<double> step_loss;                    //!< per optimiser step, the whole history
  // The flows stage (decks with a `flows:` section).
  std::vector<std::string> flow_paths;   //!< <output>/flows/trained_<e>.h5
  std::string similarity_path;           //!< <output>/similarity.h5 (empty: not computed)
  std::vector<std::string> frame_paths;  //!< <output>/frames/<flow>.h5
};

//! The schema name of score-model files (<output>/score.h5).
inline constexpr const char* kFieldScoreSchema = "eqflow.field_score";

//! `eqflow run` of a field deck, collective over `comm`, every stage resumable:
//! 1. data: a gray_scott or icons deck generates (or resumes, or reuses) <output>/data.h5; a fields
//! deck
//!    reads its own file, each rank checking its contiguous share for NaN/inf first.
//! 2. score: the UNet trained data-parallel (diffusion/field_trainer.hpp): the last
//!    validation_fraction of the samples held out, each rank reading only the samples it
//!    takes each step (hyperslabs), one all-reduce of the gradient per step; a checkpoint
//!    (<output>/checkpoints/score.h5: parameters, AdamW moments and step, loss history; written
//!    atomically) every checkpoint_every epochs, and a rerun resumes from it.
//! 3. samples: score.samples fields generated (spread over the ranks by index), then
//!    <output>/score.h5 (atomic): /unet (parameters with diffusers' tensor names), /training
//!    (loss histories), /samples, the resolved deck.
//! A complete score.h5 of the same deck is reused.
//! 4.-6. with a `flows:` section, the flows stage (run_field_flows).
FieldRunResult run_field_pipeline(const FieldRunConfig& config, const parallel::Comm& comm,
                                  const FieldRunOptions& options = {});

//! The schema names of the flows stage's files.
inline constexpr const char* kFieldFlowSchema = "eqflow.field_flow";
inline constexpr const char* kSimilaritySchema = "eqflow.turing_similarity";

//! The flows stage of a field run whose score.h5 is complete, collective over `comm`; fills
//! the flow, similarity and frame paths of `result`. Every file is written atomically and a
//! rerun of the same deck reuses the finished ones:
//! 4. trained flows: flows.experiments FlowModels (nn/field_flow.hpp), seed e on rank
//!    e mod P, trained on the training split diffused to flows.step against the UNet's score
//!    (flow/field_flow.hpp), checkpointed every flows.checkpoint_every epochs
//!    (<output>/checkpoints/flow_<e>.h5); <output>/flows/trained_<e>.h5: /flow (parameters,
//!    running statistics, layout), /training/loss.
//! 5. similarity (2-channel data; skipped for others): similarity.starts held-out start fields x0;
//! every flow
//!    (the training-free kernel with g = +1 and -1, each trained flow, similarity.baselines
//!    random 1x1 kernels and "reweighted" UNets) runs the SDE from them, the same noise for
//!    every flow; its displacement, the exponential average (weight similarity.ema) of the
//!    first similarity.window states minus x0, is compared (|cosine|) with the Gray-Scott
//!    displacement of every preset (similarity.gray_scott_steps steps from x0 in raw units).
//!    Flows are spread over the ranks. <output>/similarity.h5: /presets, /start_indices,
//!    /similarity/{training_free, training_free_g, trained, random_kernel, reweighted}
//!    (.., starts, presets), /panel/{start_indices, initial, gray_scott, training_free,
//!    trained} (the first similarity.panel starts; flows after simulation.steps steps).
//! 6. frames: the training-free flow (g = +1), trained flow 0 and the behaviour sweep's
//!    simulation.kernels random kernels (frames/kernel_<e>.h5, the kernel in its attributes),
//!    simulation.horizon steps from the same starts: with simulation.start "data" the first
//!    simulation.samples similarity starts (and, canvas > 1, simulation.steps steps of them tiled
//!    canvas times each way), with "noise" simulation.samples fields of uniform noise on a canvas
//!    `canvas` times the training size (the artificial-life runs); the denoised estimate (or its
//!    exponential average, simulation.frame_ema) every simulation.record_every steps, appended to
//!    <output>/frames/<flow>.h5 (io/frame_file.hpp: readable while it grows). Files are spread
//!    over the ranks.
void run_field_flows(const FieldRunConfig& config, const parallel::Comm& comm,
                     const std::string& data_path, const std::string& dataset,
                     FieldRunResult& result, const FieldRunOptions& options = {});

}  // namespace eqflow::app
