// The files of one eqflow output directory, in one place: their layout (postprocess/README.md
// documents it for readers), the models with their architecture (a model loads from its file
// alone), the dataset, the training checkpoints, the per-seed records and the summary. The
// stage drivers (app) decide what to compute; this module decides how it is stored.
//
//   OUTPUT/run.h5                    dataset and score model, written once; /summary is an
//                                    external link into summary.h5
//   OUTPUT/summary.h5                every complete seed, indexed by seed, and the baselines;
//                                    rewritten (atomically) at the end of every invocation
//   OUTPUT/seeds/seed_NNNNNN.h5      one flow model, its loss history and analyses
//   OUTPUT/checkpoints/seed_NNNNNN.h5  training state of an unfinished seed
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/nn/architecture.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/nn/optimizer.hpp"
#include "eqflow/systems/dataset.hpp"

namespace eqflow::io {

//! Version of the layout documented in postprocess/README.md (2: summary.h5 indexed by seed).
constexpr int kRunSchemaVersion = 2;

//! The paths of one output directory.
class RunDirectory {
 public:
  explicit RunDirectory(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string run_file() const;
  std::string summary_file() const;
  std::string seed_file(std::int64_t seed) const;
  std::string checkpoint_file(std::int64_t seed) const;
  //! Creates the directory with its seeds/ and checkpoints/ folders.
  void create() const;
  //! Removes what a killed writer of `seed` left (its seed and checkpoint files' temporary
  //! names, NAME.tmp.PID.N): only the invocation that owns the seed may call it. Returns the
  //! number of files removed.
  std::size_t remove_stale_temporaries(std::int64_t seed) const;

 private:
  std::string root_;
};

//! What every file of a run carries besides the provenance attributes.
struct RunIdentity {
  std::string system;
  std::size_t dim = 0;
  std::string deck;       //!< the resolved YAML deck
  std::string reuse_key;  //!< the settings a rerun must share to reuse the stored stages
};

//! Provenance (software, version, git revision, date, schema), system, dim, /deck, /reuse_key.
void write_identity(H5File& file, const std::string& schema, const RunIdentity& id);

// ---- Models ------------------------------------------------------------------------------

//! Parameters, buffers (batch-norm running statistics) and their layout under `group`.
void write_model(H5File& file, const std::string& group, const nn::Model<float>& model);
//! Reads what write_model stored into a model of the same architecture (float or double).
template <class Scalar>
void read_model(const H5File& file, const std::string& group, nn::Model<Scalar>& model);

//! The flow network's architecture as attributes of `group`.
void write_flow_architecture(H5File& file, const std::string& group,
                             const nn::FlowArchitecture& arch);
//! Throws IoError naming the file when an attribute is missing (files older than schema 2).
nn::FlowArchitecture read_flow_architecture(const H5File& file, const std::string& group);

//! The flow model of a seed or checkpoint file, rebuilt from the architecture stored with it,
//! in double precision with its batch-norm running statistics.
std::unique_ptr<nn::Model<double>> load_flow(const std::string& path);

//! The score MLP of DESIGN.md section 2 (eps-prediction, cosine schedule).
struct ScoreArchitecture {
  std::size_t dim = 0;
  std::size_t hidden = 64;
  std::int64_t diffusion_steps = 100;
  double schedule_delta = 1e-3;
};
void write_score_architecture(H5File& file, const std::string& group,
                              const ScoreArchitecture& arch);
ScoreArchitecture read_score_architecture(const H5File& file, const std::string& group);

//! The score stage's record besides the parameters: architecture, loss, DDIM samples.
struct ScoreRecord {
  ScoreArchitecture arch;
  std::vector<double> loss;    //!< per epoch
  std::vector<float> samples;  //!< (M, dim) row-major; empty when none were drawn
};

//! Settings chosen from a validation split (/selection of run.h5): one row per candidate.
struct SelectionRecord {
  std::vector<std::int64_t> score_epochs;
  std::vector<double> t, eta;
  std::vector<double> mmd2;        //!< paired MMD^2 of the validation points after `horizon`
  std::vector<double> residual;    //!< equilibrium residual on the diffused validation points
  std::vector<double> floor;       //!< MMD^2(p, p_t): validation against training points at t
  std::vector<double> score_loss;  //!< final denoising loss of the candidate's score model
  std::size_t chosen = 0;          //!< the row whose settings the run uses
  double horizon = 0, bandwidth = 0;
  std::int64_t validation_points = 0, training_points = 0;
  bool empty() const { return t.empty(); }
};

// ---- Dataset ----------------------------------------------------------------------------

//! The (normalised) points with the per-axis map back to raw coordinates, under /data.
void write_dataset(H5File& file, const systems::Dataset& data);
//! The dataset exactly as stored (a resumed run sees the same points whatever regenerates them).
systems::Dataset read_dataset(const H5File& file);

// ---- The run file ---------------------------------------------------------------------------

//! Writes run.h5 once (atomically): identity, dataset, score model and its record; /summary
//! is an external link to summary.h5, so readers of run.h5 see the latest summary.
void write_run_file(const RunDirectory& dir, const RunIdentity& id, const systems::Dataset& data,
                    const nn::Model<float>& score, const ScoreRecord& record,
                    const SelectionRecord& selection = {});
//! The run file's /selection (empty when the run chose nothing).
SelectionRecord read_selection(const H5File& run_file);
//! Reads the score model's parameters in place and returns its record.
ScoreRecord read_score(const H5File& run_file, nn::Model<float>& score);

// ---- Checkpoints --------------------------------------------------------------------------

//! Training state of an unfinished flow seed besides the model and its optimiser.
struct Checkpoint {
  std::int64_t seed = 0;
  std::int64_t epoch = 0;
  std::vector<double> loss;  //!< per epoch so far
};

//! The model, the Adam moments and step count, and `state`; written atomically: a kill during
//! the write leaves the previous checkpoint.
void write_checkpoint(const std::string& path, const nn::Model<float>& model,
                      const nn::FlowArchitecture& arch, const nn::Adam<float>& adam,
                      const Checkpoint& state);
//! Restores the model's parameters and the optimiser in place and returns the rest.
Checkpoint read_checkpoint(const std::string& path, nn::Model<float>& model, nn::Adam<float>& adam);

// ---- Seed records -------------------------------------------------------------------------

//! How a flow seed was trained (attributes of /flow in its seed file).
struct FlowTraining {
  std::string divergence;  //!< the estimator used (auto resolved)
  double t = 0;            //!< diffusion time of the training points (the largest one)
  std::int64_t epochs = 0;
  std::int64_t t_count = 1;  //!< trained at t k / t_count, k = 1 .. t_count
};

//! Starts the seed file of `seed` (committed by the caller once its analyses are written
//! under /analysis): identity, the model with its architecture, the loss history.
H5File create_seed_file(const std::string& path, const RunIdentity& id, std::int64_t seed,
                        const nn::Model<float>& model, const nn::FlowArchitecture& arch,
                        const FlowTraining& training, const std::vector<double>& loss);

//! The analyses a seed record can hold, in summary order (names of /analysis entries).
const std::vector<std::string>& analysis_names();

//! One seed's results as the summary holds them: NaN (or empty) where an analysis did not run.
struct SeedResult {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  std::int64_t seed = 0;
  std::vector<std::string> analyses;  //!< those of analysis_names() present in the file
  double final_loss = kNone;
  double lyapunov = kNone, lyapunov_speed = kNone, lyapunov_stable = kNone;
  std::vector<double> spectrum;
  double similarity = kNone;
  double residual = kNone;
  std::vector<double> mmd_time, mmd;  //!< the transport curve
  std::vector<double> mmd_pure;       //!< the same flow without the Langevin correction
  bool ran(const std::string& analysis) const;
};

//! Reads the results of a complete seed file.
SeedResult read_seed_result(const std::string& path);

// ---- Summary ------------------------------------------------------------------------------

//! A curve over the transport time.
struct Curve {
  std::vector<double> time, values;
};

//! The run's baselines: untrained random flows, the data's noise floor, the Langevin
//! correction alone. Empty members are not written.
struct Baselines {
  std::vector<Curve> random_mmd;  //!< one per random flow
  std::vector<double> random_similarity;
  double noise_floor = SeedResult::kNone;
  //! MMD^2(p, p_t): the data against a held-out draw diffused to the training time t.
  double diffusion_floor = SeedResult::kNone;
  double diffusion_floor_t = SeedResult::kNone;
  double bandwidth = SeedResult::kNone;  //!< the RBF bandwidth of every MMD^2 of the run
  std::string bandwidth_rule;            //!< how it was chosen: "median" or the fixed value
  Curve langevin_only, langevin_only_annulus, langevin_only_mean_radius;
};

//! Every complete seed of a run (sorted by seed) and its baselines.
struct Summary {
  std::int64_t experiments = 0;
  std::vector<SeedResult> seeds;
  Baselines baselines;
};

//! Writes summary.h5 atomically: per-seed datasets indexed by /summary/seeds, NaN-padded where
//! a seed lacks an analysis (/summary/ran/<analysis> records which ran), MMD curves on the
//! union of the seeds' time grids. run.h5 is not rewritten.
void write_summary(const RunDirectory& dir, const RunIdentity& id, const Summary& summary);

//! Reads summary.h5 (or the summary group of any file that holds or links one).
Summary read_summary(const H5File& file);

}  // namespace eqflow::io
