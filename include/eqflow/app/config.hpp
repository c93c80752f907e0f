// Typed configuration of a low-dimensional run: what a YAML deck holds once it has been read,
// validated and completed with the defaults of DESIGN.md section 2 (which depend on the
// system). Every field is visited by `visit_config`, the single schema from which the deck
// reader, the validation and the resolved-deck writer are all derived.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eqflow::app {

struct DataConfig {
  std::int64_t points = 0;  //!< number of points (0: the system's default)
  std::string file;         //!< `samples`: CSV or HDF5 file of an N x d array
  std::string dataset;      //!< `samples` from HDF5: the dataset path
  bool normalise = true;    //!< `samples`: zero mean, unit std per axis
};

struct ScoreConfig {
  std::int64_t hidden = 64;
  std::int64_t epochs = 512;
  std::int64_t batch = 2048;
  double lr = 1e-2;
  std::string lr_schedule = "cosine";  //!< cosine (decay to 0) | constant (the reference)
  double weight_decay = 1e-5;
  std::int64_t diffusion_steps = 100;
  double schedule_delta = 1e-3;
  std::int64_t samples = 2048;    //!< DDIM samples written to the run file
  std::int64_t sampling_end = 2;  //!< DDIM runs from step N-1 down to this step
};

struct FlowConfig {
  std::string model = "flow_kernel";  //!< flow_kernel | mlp
  std::int64_t hidden = 64;
  std::int64_t frequencies = 4;
  bool final_norm = true;
  std::int64_t epochs = 1024;
  std::int64_t batch = 2048;
  double lr = 1e-2;
  std::string lr_schedule = "cosine";  //!< cosine (decay to 0) | constant (the reference)
  double weight_decay = 1e-5;
  std::string divergence = "auto";  //!< auto (exact for d <= 8) | exact | hutchinson | unbiased
  std::int64_t probes = 10;
  double t = 0.2;  //!< diffusion time of the training points
  //! Train at t_count times t k / t_count, k = 1 .. t_count (each a block of every batch): a
  //! flow that keeps p_s at several s. 1: at t alone (the reference).
  std::int64_t t_count = 1;
  std::int64_t checkpoint_every = 16;  //!< epochs between checkpoints
};

struct LyapunovConfig {
  bool enabled = false;
  std::int64_t trajectories = 64;
  std::int64_t steps = 5000;
  double dt = 0.1;
  std::int64_t tau = 2500;
  double sigma = 1e-5;
  double max_abs = 4.0;
  std::int64_t batch = 32;
  std::int64_t tries = 10;
};

struct SpectrumConfig {
  bool enabled = false;
  std::int64_t trajectories = 8;
  std::int64_t steps = 20000;
  std::int64_t transient = 1000;
  double dt = 0.01;
  std::int64_t qr_every = 10;
};

struct MmdConfig {
  bool enabled = true;
  std::int64_t points = 256;
  double dt = 0.1;
  std::int64_t steps = 100;
  std::int64_t every = 10;
  //! RBF bandwidth sigma of MMD^2: "median" (the median pairwise distance of the transported
  //! start cloud, one sigma for every curve of a run; the fixed 0.5 of the paper cannot see
  //! differences in more than 3 dimensions) or a positive number, the fixed sigma.
  std::string bandwidth = "median";
  std::int64_t random_flows = 4;
  //! Transported points: "data" samples, or "diffused" data x_t = sqrt(a_t) x + sqrt(1-a_t) eps
  //! at the training time t (the distribution the flow is trained to preserve).
  std::string start = "data";
};

//! The Langevin correction of the transport analysis (DESIGN.md 1.4): the points follow
//! dx = (v + eta s) dt + sqrt(2 eta) dW, s the score model at diffusion time tau, integrated
//! by an RK4 step of v then a stochastic Heun step of the Langevin part. eta = 0 is the pure
//! flow, the default; the 2-D sets default to eta 0.03 with tau 0.04 (ring: 0.03), see
//! bench/FIDELITY.md. A small tau keeps the sharp edges of the data (the correction samples
//! the data blurred by the noise level at tau).
struct LangevinConfig {
  double eta = 0.0;
  double tau = 0.03;
};

struct SimilarityConfig {
  bool enabled = false;
  std::int64_t points = 1024;
};

struct AnalysisConfig {
  LyapunovConfig lyapunov;
  SpectrumConfig spectrum;
  MmdConfig mmd;
  LangevinConfig langevin;
  SimilarityConfig similarity;
  std::int64_t trajectory_steps = 1000;  //!< RK4 steps of the example trajectory per seed
  double trajectory_dt = 0.01;
  //! Batch-norm statistics of the flow in simulation: "running" (the training run's running
  //! averages over diffused points, PyTorch's eval mode), "data" (one batch of 4,096 clean data
  //! points, held fixed) or "diffused" (those points diffused to the training time t).
  std::string norm_statistics = "running";
};

//! Settings chosen inside the run from a validation split of the data (bench/FIDELITY.md):
//! every score-epoch count trains a score model and every training time t a flow (seed 0) on
//! the rows outside the split; each flow transports the validation points for `horizon` with
//! every Langevin eta; the candidate with the smallest paired MMD^2 (against the validation
//! points themselves) wins. Then the run trains its score model and flows on all the data with
//! the chosen settings. Every candidate and its scores go to /selection of run.h5. On by
//! default for `samples` (eqflow preset): the fixed defaults were tuned on the built-in sets.
struct SelectionConfig {
  bool enabled = false;
  double validation = 0.2;  //!< fraction of the rows held out for validation
  std::vector<std::int64_t> score_epochs = {512, 2048};
  std::vector<double> t = {0.1, 0.2};
  std::vector<double> eta = {0.0, 0.03, 0.1};
  double horizon = 20.0;       //!< transport time of the validation score
  std::int64_t points = 1024;  //!< validation points transported (at most the split)
};

struct RunConfig {
  std::string system;             //!< two_peaks | ring | two_moons | lorenz | samples
  std::string preset = "eqflow";  //!< eqflow (defaults) | reference (the paper's settings)
  std::uint64_t seed = 0;         //!< data, score model and analysis seed
  std::string output = "out";     //!< output directory
  std::int64_t experiments = 1;   //!< flow seeds 0 .. experiments-1
  DataConfig data;
  ScoreConfig score;
  FlowConfig flow;
  AnalysisConfig analysis;
  SelectionConfig select;
};

//! The score model of a field system and its samples (the deck's `score:` section;
//! DESIGN.md section 2: the UNet, AdamW lr 1e-3, weight decay 0.01, cosine schedule with 500
//! warm-up steps, clip 1.0, batch 64, 100 epochs, 10% validation).
struct FieldScoreConfig {
  std::uint64_t seed = 0;  //!< initial weights, training draws and samples (the data has its own)
  std::int64_t epochs = 100;
  std::int64_t batch = 64;  //!< global batch, split over the ranks
  double lr = 1e-3;
  double weight_decay = 0.01;
  std::int64_t warmup_steps = 500;
  double clip = 1.0;
  double validation_fraction = 0.1;  //!< the last samples of the data set
  std::vector<std::int64_t> block_channels{16, 32, 64};
  std::int64_t layers_per_block = 2;
  std::int64_t checkpoint_every = 1;  //!< epochs between checkpoints
  std::int64_t samples = 16;          //!< generated after training (0: none)
  std::string sampler = "ddpm";       //!< ddpm (every step) or ddim
  std::int64_t sampler_steps = 50;    //!< DDIM steps
};

//! The flows on fields (issue 12, DESIGN.md 1.3 and section 2): the deck's `flows:` section.
//! Without it a field run stops after the score model.
struct FieldFlowsConfig {
  bool enabled = false;    //!< the deck has a `flows:` section
  std::uint64_t seed = 0;  //!< trained flows seed + e; the baselines' and the SDE's draws
  std::int64_t step = 10;  //!< diffusion step of the score in every flow and in training
  //! Training-free kernel: swap ([[0, g], [-g, 0]] / sqrt 2, 2 channels), random (1x1
  //! antisymmetric) or spatial (3x3 antisymmetric).
  std::string kernel = "swap";
  // The trained flows (the reference's FlowModel), one per seed, fanned out over the ranks.
  std::int64_t experiments = 1;  //!< trained flows (0: none)
  std::int64_t hidden = 32;
  //! The affine-free batch norm after the last convolution (the reference's option, on by
  //! default here): the reference loss is invariant to the scale of v, so without it the speed of
  //! the trained dynamics is whatever training left (the quick deck's 10-epoch flow without it
  //! drove the long-horizon frames to +-1: v histogram W1 1.17 against 0.04 at the start).
  bool final_norm = true;
  std::int64_t epochs = 1000;
  std::int64_t batch = 128;
  std::int64_t accumulation = 8;
  double lr = 1e-2;
  double weight_decay = 1e-5;
  double clip = 1.0;
  std::int64_t probes = 4;
  //! 0: fresh noise each epoch (the reference); K > 0: K diffused and scored copies of every
  //! training field kept in memory (flow::FieldFlowTrainingSettings::score_draws).
  std::int64_t score_draws = 0;
  std::int64_t checkpoint_every = 10;
};

//! The SDE dx = (v + eta s) dt + sqrt(2 eta dt) dW (Heun): `simulation:`.
struct FieldSimulationConfig {
  double dt = 0.01;
  double eta = 0.1;
  std::int64_t steps = 300;  //!< the panel's simulations (the similarity uses the first window)
  // The simulations written frame by frame (animations and the long horizon).
  std::int64_t samples = 4;        //!< fields per flow (the first similarity starts)
  std::int64_t horizon = 2000;     //!< their steps (10 x the similarity window)
  std::int64_t record_every = 10;  //!< steps between frames
  std::int64_t canvas = 1;         //!< the start fields tiled canvas x canvas times
  //! Where the frame simulations start: "data" (held-out fields, tiled) or "noise" (uniform in
  //! [-1, 1] on a canvas `canvas` times the training size each way: the artificial-life runs).
  std::string start = "data";
  //! 0: frames are the denoised estimates; w in (0, 1): their exponential average over every
  //! step, weight w on the old value (the reference shows 0.9-0.99 smoothed movies).
  double frame_ema = 0.0;
  //! The behaviour sweep: this many random kernels (flows.kernel's kind, each its own seed),
  //! each run from the same starts, frames/kernel_<e>.h5, spread over the ranks.
  std::int64_t kernels = 0;
};

//! Similarity of the flows' displacements to Gray-Scott's (the reference's procedure over many
//! start fields): `similarity:`.
struct FieldSimilarityConfig {
  std::int64_t starts = 16;            //!< held-out data fields
  std::int64_t window = 200;           //!< frames in the exponential average
  double ema = 0.9;                    //!< weight of the old value
  std::int64_t gray_scott_steps = 20;  //!< Gray-Scott steps (dt 1) of the reference displacement
  std::int64_t baselines = 10;         //!< draws of each baseline (random kernel, reweighted UNet)
  std::int64_t panel = 4;              //!< start fields shown in the three-row panel
};

//! A field system's run: `system: gray_scott` (a simulated data set; `eqflow generate` makes
//! only the data), `system: icons` (artificial life: copies of an icon on a periodic canvas,
//! also made by `eqflow generate`) or `system: fields` (a user's own (N, C, H, W) data set), the
//! deck's top-level `seed` and `output`, its `data:` and `score:` sections. Read by read_field_deck
//! (app/deck.hpp).
struct FieldRunConfig {
  std::string source;                     //!< the deck file (or the name given to text)
  std::string system = "gray_scott";      //!< gray_scott, icons or fields
  std::uint64_t seed = 0;                 //!< the data's initial conditions
  std::string output = "out/gray_scott";  //!< output directory (data.h5, score.h5, checkpoints/)
  // system: fields
  std::string file;                //!< the user's HDF5 file
  std::string dataset = "fields";  //!< its (N, C, H, W) data set
  // system: gray_scott
  //! One of systems::gray_scott_presets(), or "custom" (Du, Dv, F and k all given). Given
  //! parameters override a named preset's; the file then records preset "custom".
  std::string preset;
  double Du = 0.0, Dv = 0.0, F = 0.0, k = 0.0;  //!< resolved: the preset's or the deck's
  std::int64_t samples = 8192;
  std::int64_t height = 128;
  std::int64_t width = 128;
  std::int64_t steps = 10000;  //!< explicit Euler steps (dt = 1) from the initial condition
  // system: icons (DESIGN.md section 2, Artificial life; samples, height and width above)
  //! A builtin icon (systems::builtin_icons(): disc, two_discs, firefly, taiji) or a PNG file
  //! with alpha (relative to the working directory).
  std::string icon;
  std::int64_t icon_size = 64;  //!< the icon is resized to icon_size x icon_size
  std::int64_t copies = 10;     //!< icons tried per image
  std::int64_t attempts = 2;    //!< placement attempts per icon (the reference's budget)
  //! Samples each rank simulates between two completeness marks of the file (a killed run
  //! loses at most this much work per rank).
  std::int64_t block = 16;
  FieldScoreConfig score;
  FieldFlowsConfig flows;
  FieldSimulationConfig simulation;
  FieldSimilarityConfig similarity;
};

//! Constraints of real-valued settings.
enum class Bound { Any, Positive, NonNegative };

//! The defaults for `system` (DESIGN.md section 2): lorenz gets 512 flow epochs, 100
//! experiments, Lyapunov, spectrum and field similarity; 2-D systems 1024 flow epochs and
//! 2048 score epochs (the reference: 512). Preset
//! "eqflow" holds eqflow's own defaults, "reference" the paper code's exact settings
//! (Hutchinson divergence with 10 probes, ...) for side-by-side comparisons.
RunConfig default_config(const std::string& system, const std::string& preset = "eqflow");

//! The presets a deck may name ("eqflow", "reference").
const std::vector<std::string>& known_presets();

//! The systems a deck may name.
const std::vector<std::string>& known_systems();

//! Applies `v.field(name, value, constraint...)` / `v.choice(name, value, options)` /
//! `v.number_or_choice(name, text, options, bound)` (a number within `bound` or one of the
//! words, kept as text) / `v.section(name, fn)` to every setting, in deck order. Visitors: the deck
//! reader, the resolved-deck writer.
template <class Visitor>
void visit_config(RunConfig& c, Visitor& v) {
  v.field("system", c.system);
  v.choice("preset", c.preset, {"eqflow", "reference"});
  v.field("seed", c.seed);
  v.field("output", c.output);
  v.field("experiments", c.experiments, 1);
  v.section("data", [&] {
    v.field("points", c.data.points, 0);
    v.field("file", c.data.file);
    v.field("dataset", c.data.dataset);
    v.field("normalise", c.data.normalise);
  });
  v.section("score", [&] {
    v.field("hidden", c.score.hidden, 1);
    v.field("epochs", c.score.epochs, 1);
    v.field("batch", c.score.batch, 1);
    v.field("lr", c.score.lr, Bound::Positive);
    v.choice("lr_schedule", c.score.lr_schedule, {"constant", "cosine"});
    v.field("weight_decay", c.score.weight_decay, Bound::NonNegative);
    v.field("diffusion_steps", c.score.diffusion_steps, 2);
    v.field("schedule_delta", c.score.schedule_delta, Bound::NonNegative);
    v.field("samples", c.score.samples, 0);
    v.field("sampling_end", c.score.sampling_end, 0);
  });
  v.section("flow", [&] {
    v.choice("model", c.flow.model, {"flow_kernel", "mlp"});
    v.field("hidden", c.flow.hidden, 1);
    v.field("frequencies", c.flow.frequencies, 0);
    v.field("final_norm", c.flow.final_norm);
    v.field("epochs", c.flow.epochs, 1);
    v.field("batch", c.flow.batch, 2);
    v.field("lr", c.flow.lr, Bound::Positive);
    v.choice("lr_schedule", c.flow.lr_schedule, {"constant", "cosine"});
    v.field("weight_decay", c.flow.weight_decay, Bound::NonNegative);
    v.choice("divergence", c.flow.divergence, {"auto", "exact", "hutchinson", "unbiased"});
    v.field("probes", c.flow.probes, 1);
    v.field("t", c.flow.t, 0.0, 1.0);
    v.field("t_count", c.flow.t_count, 1);
    v.field("checkpoint_every", c.flow.checkpoint_every, 1);
  });
  v.section("analysis", [&] {
    v.section("lyapunov", [&] {
      auto& l = c.analysis.lyapunov;
      v.field("enabled", l.enabled);
      v.field("trajectories", l.trajectories, 1);
      v.field("steps", l.steps, 1);
      v.field("dt", l.dt, Bound::Positive);
      v.field("tau", l.tau, 1);
      v.field("sigma", l.sigma, Bound::Positive);
      v.field("max_abs", l.max_abs, Bound::Positive);
      v.field("batch", l.batch, 1);
      v.field("tries", l.tries, 1);
    });
    v.section("spectrum", [&] {
      auto& s = c.analysis.spectrum;
      v.field("enabled", s.enabled);
      v.field("trajectories", s.trajectories, 1);
      v.field("steps", s.steps, 1);
      v.field("transient", s.transient, 0);
      v.field("dt", s.dt, Bound::Positive);
      v.field("qr_every", s.qr_every, 1);
    });
    v.section("mmd", [&] {
      auto& m = c.analysis.mmd;
      v.field("enabled", m.enabled);
      v.field("points", m.points, 2);
      v.field("dt", m.dt, Bound::Positive);
      v.field("steps", m.steps, 1);
      v.field("every", m.every, 1);
      v.number_or_choice("bandwidth", m.bandwidth, {"median"}, Bound::Positive);
      v.field("random_flows", m.random_flows, 0);
      v.choice("start", m.start, {"data", "diffused"});
    });
    v.section("langevin", [&] {
      v.field("eta", c.analysis.langevin.eta, Bound::NonNegative);
      v.field("tau", c.analysis.langevin.tau, 0.0, 1.0);
    });
    v.section("similarity", [&] {
      v.field("enabled", c.analysis.similarity.enabled);
      v.field("points", c.analysis.similarity.points, 1);
    });
    v.field("trajectory_steps", c.analysis.trajectory_steps, 1);
    v.field("trajectory_dt", c.analysis.trajectory_dt, Bound::Positive);
    v.choice("norm_statistics", c.analysis.norm_statistics, {"running", "data", "diffused"});
  });
  v.section("select", [&] {
    auto& s = c.select;
    v.field("enabled", s.enabled);
    v.field("validation", s.validation, 0.01, 0.9);
    v.field("score_epochs", s.score_epochs, 1);
    v.field("t", s.t, 0.0, 1.0);
    v.field("eta", s.eta, Bound::NonNegative);
    v.field("horizon", s.horizon, Bound::Positive);
    v.field("points", s.points, 2);
  });
}

}  // namespace eqflow::app
