// `eqflow summary FILE [--json]`: what a run gave, read from its summary (run.h5 links it) or
// from one seed file: complete seeds out of experiments and, per seed, the Lyapunov exponent or
// "no stable trajectory", the spectrum, MMD^2 at the last time next to the noise floor and the
// random flows, the field similarity.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "eqflow/app/describe.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/io/hdf5_file.hpp"

namespace eqflow::app {

namespace {

bool has(double v) {
  return std::isfinite(v);
}

// Mean, min and max of the finite values, with how many there are.
struct Spread {
  std::size_t count = 0;
  double mean = 0, lo = 0, hi = 0;
};
Spread spread(const std::vector<double>& values) {
  Spread s;
  for (double v : values) {
    if (!has(v)) continue;
    s.lo = s.count == 0 ? v : std::min(s.lo, v);
    s.hi = s.count == 0 ? v : std::max(s.hi, v);
    s.mean += v;
    ++s.count;
  }
  if (s.count > 0) s.mean /= static_cast<double>(s.count);
  return s;
}

std::string describe_spread(const Spread& s) {
  if (s.count == 1) return fmt::format("{:.4g}", s.mean);
  return fmt::format("mean {:.4g} (min {:.4g}, max {:.4g}, {} values)", s.mean, s.lo, s.hi,
                     s.count);
}

std::string seed_line(const io::SeedResult& r) {
  std::vector<std::string> parts;
  if (r.ran("lyapunov")) {
    parts.push_back(has(r.lyapunov) ? fmt::format("lyapunov {:+.4f} ({:.0f} stable trajectories)",
                                                  r.lyapunov, r.lyapunov_stable)
                                    : std::string("lyapunov: no stable trajectory"));
  }
  if (r.ran("spectrum") && !r.spectrum.empty()) {
    std::vector<std::string> e;
    for (double v : r.spectrum) e.push_back(fmt::format("{:+.3f}", v));
    parts.push_back(fmt::format("spectrum [{}]", fmt::join(e, ", ")));
  }
  if (r.ran("mmd") && !r.mmd.empty()) {
    parts.push_back(fmt::format("MMD^2(T={:g}) {:.4g}", r.mmd_time.back(), r.mmd.back()));
  }
  if (r.ran("similarity") && has(r.similarity)) {
    parts.push_back(fmt::format("field similarity {:.3f}", r.similarity));
  }
  if (parts.empty()) parts.push_back("no analysis");
  return fmt::format("  seed {:4d}: {}", r.seed, fmt::join(parts, ", "));
}

// The value of a curve at its last time (NaN if empty).
double last(const io::Curve& c) {
  return c.values.empty() ? io::SeedResult::kNone : c.values.back();
}

std::string json_number(double v) {
  return has(v) ? fmt::format("{:.17g}", v) : "null";
}

std::string json_numbers(const std::vector<double>& values) {
  std::vector<std::string> out;
  for (double v : values) out.push_back(json_number(v));
  return fmt::format("[{}]", fmt::join(out, ", "));
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(ch));
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string json_seed(const io::SeedResult& r) {
  std::vector<std::string> analyses;
  for (const auto& a : r.analyses) analyses.push_back(json_string(a));
  return fmt::format(
      "{{\"seed\": {}, \"analyses\": [{}], \"final_loss\": {}, \"lyapunov\": {}, "
      "\"lyapunov_speed\": {}, \"stable_trajectories\": {}, \"spectrum\": {}, "
      "\"mmd_time\": {}, \"mmd\": {}, \"mmd_pure_flow\": {}, \"similarity\": {}, "
      "\"residual_heldout\": {}}}",
      r.seed, fmt::join(analyses, ", "), json_number(r.final_loss), json_number(r.lyapunov),
      json_number(r.lyapunov_speed), json_number(r.lyapunov_stable), json_numbers(r.spectrum),
      r.mmd_time.empty() ? "null" : json_number(r.mmd_time.back()),
      r.mmd.empty() ? "null" : json_number(r.mmd.back()),
      r.mmd_pure.empty() ? "null" : json_number(r.mmd_pure.back()), json_number(r.similarity),
      json_number(r.residual));
}

std::vector<std::int64_t> missing_seeds(const io::Summary& s) {
  std::vector<std::int64_t> missing;
  std::size_t i = 0;
  for (std::int64_t k = 0; k < s.experiments; ++k) {
    while (i < s.seeds.size() && s.seeds[i].seed < k) ++i;
    if (i == s.seeds.size() || s.seeds[i].seed != k) missing.push_back(k);
  }
  return missing;
}

std::string json_summary(const io::Summary& s) {
  std::vector<std::string> seeds;
  for (const auto& r : s.seeds) seeds.push_back(json_seed(r));
  std::vector<double> random;
  for (const auto& c : s.baselines.random_mmd) random.push_back(last(c));
  return fmt::format(
      "\"experiments\": {}, \"complete_seeds\": {}, \"missing_seeds\": [{}], \"seeds\": [{}], "
      "\"baselines\": {{\"mmd_bandwidth\": {}, \"mmd_noise_floor\": {}, "
      "\"mmd_diffusion_floor\": {}, \"mmd_diffusion_floor_t\": {}, \"mmd_random_final\": "
      "{}, \"mmd_langevin_only_final\": {}, \"similarity_random\": {}}}",
      s.experiments, s.seeds.size(), fmt::join(missing_seeds(s), ", "), fmt::join(seeds, ", "),
      json_number(s.baselines.bandwidth), json_number(s.baselines.noise_floor),
      json_number(s.baselines.diffusion_floor), json_number(s.baselines.diffusion_floor_t),
      json_numbers(random), json_number(last(s.baselines.langevin_only)),
      json_numbers(s.baselines.random_similarity));
}

}  // namespace

std::string format_summary(const io::Summary& s) {
  std::string out;
  const auto missing = missing_seeds(s);
  out += fmt::format("complete seeds: {} of {}", s.seeds.size(), s.experiments);
  if (!missing.empty() && missing.size() <= 20) {
    out += fmt::format(" (missing: {})", fmt::join(missing, ", "));
  }
  out += "\n";
  for (const auto& r : s.seeds) out += seed_line(r) + "\n";

  std::vector<double> lyap, mmd, pure, similarity;
  std::size_t lyap_ran = 0, positive = 0;
  for (const auto& r : s.seeds) {
    if (r.ran("lyapunov")) {
      ++lyap_ran;
      lyap.push_back(r.lyapunov);
      positive += has(r.lyapunov) && r.lyapunov > 0;
    }
    if (r.ran("mmd") && !r.mmd.empty()) mmd.push_back(r.mmd.back());
    if (r.ran("mmd") && !r.mmd_pure.empty()) pure.push_back(r.mmd_pure.back());
    if (r.ran("similarity")) similarity.push_back(r.similarity);
  }
  if (lyap_ran > 0) {
    const auto sp = spread(lyap);
    out += fmt::format("Lyapunov exponents: {} of {} seeds positive", positive, lyap_ran);
    if (sp.count > 0) out += fmt::format("; {}", describe_spread(sp));
    if (sp.count < lyap_ran)
      out += fmt::format("; {} without a stable trajectory", lyap_ran - sp.count);
    out += "\n";
  }
  const auto& b = s.baselines;
  if (!mmd.empty() || !b.random_mmd.empty()) {
    std::vector<double> random;
    for (const auto& c : b.random_mmd) random.push_back(last(c));
    std::vector<std::string> parts;
    if (!mmd.empty())
      parts.push_back(fmt::format("learned flows {}", describe_spread(spread(mmd))));
    if (!pure.empty()) {
      parts.push_back(
          fmt::format("the same flows without the correction {}", describe_spread(spread(pure))));
    }
    if (has(b.diffusion_floor)) {
      parts.push_back(
          fmt::format("MMD^2(p, p_t) at t = {:.3g} {:.4g} (a flow keeping p_t "
                      "exactly: up to ~4x that)",
                      b.diffusion_floor_t, b.diffusion_floor));
    }
    if (has(b.noise_floor)) parts.push_back(fmt::format("noise floor {:.4g}", b.noise_floor));
    if (!random.empty()) {
      parts.push_back(fmt::format("untrained random flows {}", describe_spread(spread(random))));
    }
    if (!b.langevin_only.values.empty()) {
      parts.push_back(fmt::format("Langevin term alone {:.4g}", last(b.langevin_only)));
    }
    out += fmt::format("MMD^2 at the last time{}: {}\n",
                       has(b.bandwidth) ? fmt::format(" (RBF bandwidth {:.4g})", b.bandwidth) : "",
                       fmt::join(parts, "; "));
  }
  if (!similarity.empty()) {
    out += fmt::format("field similarity to the true field: learned {}",
                       describe_spread(spread(similarity)));
    if (!b.random_similarity.empty()) {
      out +=
          fmt::format("; untrained random flows {}", describe_spread(spread(b.random_similarity)));
    }
    out += "\n";
  }
  return out;
}

namespace {

//! A field system's score.h5: the model, the training, the samples.
std::string describe_field_score(const io::H5File& f, const std::string& path, bool json) {
  auto attr = [&](const std::string& name) {
    return f.has_attribute("/", name) ? f.attribute_string("/", name) : std::string("?");
  };
  const auto train = f.read_doubles("/training/train_loss");
  const auto validation = f.read_doubles("/training/validation_loss");
  const auto seconds = f.read_doubles("/training/epoch_seconds");
  const auto samples = f.shape("/samples");
  const double total = [&] {
    double t = 0;
    for (double s : seconds) t += s;
    return t;
  }();
  const auto last = [](const std::vector<double>& v) { return v.empty() ? 0.0 : v.back(); };
  if (json) {
    return fmt::format(
        "{{\"file\": {}, \"schema\": \"eqflow.field_score\", \"software_version\": {}, "
        "\"git_revision\": {}, \"system\": {}, \"parameters\": {}, \"epochs\": {}, "
        "\"train_loss\": {}, \"validation_loss\": {}, \"training_seconds\": {}, "
        "\"samples\": {}, \"ranks\": {}}}\n",
        json_string(path), json_string(attr("softwareVersion")), json_string(attr("gitRevision")),
        json_string(attr("system")), f.shape("/unet/parameters").at(0), train.size(),
        json_number(last(train)), json_number(last(validation)), json_number(total),
        samples.empty() ? 0 : samples[0], f.attribute_int("/training", "ranks"));
  }
  std::string out =
      fmt::format("{}: eqflow.field_score, system {}; eqflow {} (git {}), {}\n", path,
                  attr("system"), attr("softwareVersion"), attr("gitRevision"), attr("date"));
  out += fmt::format(
      "score model: UNet of {} parameters, {} epochs on {} training samples ({} held out), "
      "batch {} over {} rank(s), {:.0f} s\n",
      f.shape("/unet/parameters").at(0), train.size(),
      f.attribute_int("/training", "train_samples"),
      f.attribute_int("/training", "validation_samples"), f.attribute_int("/training", "batch"),
      f.attribute_int("/training", "ranks"), total);
  out += fmt::format("loss: train {:.5f}, validation {:.5f} (first epoch: {:.5f}, {:.5f})\n",
                     last(train), last(validation), train.empty() ? 0.0 : train.front(),
                     validation.empty() ? 0.0 : validation.front());
  if (!samples.empty()) {
    out += fmt::format("samples: {} of {} x {} x {} by {}\n", samples[0], samples.at(1),
                       samples.at(2), samples.at(3), f.attribute_string("/samples", "sampler"));
  }
  return out;
}

}  // namespace

std::string describe_output(const std::string& path, bool json) {
  const auto f = io::H5File::open(path);
  auto attr = [&](const std::string& name) {
    return f.has_attribute("/", name) ? f.attribute_string("/", name) : std::string("?");
  };
  const std::string schema = attr("schema");
  if (schema.rfind("eqflow.", 0) != 0) {
    throw IoError(path, "not an eqflow output (no root attribute schema = eqflow.*)");
  }
  if (schema == "eqflow.field_score") return describe_field_score(f, path, json);
  const std::int64_t dim = f.has_attribute("/", "dim") ? f.attribute_int("/", "dim") : 0;
  const bool seed_file = schema == "eqflow.seed";
  const bool has_summary = !seed_file && f.exists("/summary/seeds");
  if (json) {
    std::string body = fmt::format(
        "{{\"file\": {}, \"schema\": {}, \"software_version\": {}, \"git_revision\": {}, "
        "\"system\": {}, \"dim\": {}",
        json_string(path), json_string(schema), json_string(attr("softwareVersion")),
        json_string(attr("gitRevision")), json_string(attr("system")), dim);
    if (seed_file) {
      body += ", \"seed\": " + json_seed(io::read_seed_result(path));
    } else if (has_summary) {
      body += ", " + json_summary(io::read_summary(f));
    }
    return body + "}\n";
  }
  std::string out =
      fmt::format("{}: {}, system {}, dimension {}; eqflow {} (git {}), {}\n", path, schema,
                  attr("system"), dim, attr("softwareVersion"), attr("gitRevision"), attr("date"));
  if (f.exists("/data/points")) {
    const auto shape = f.shape("/data/points");
    out += fmt::format("data: {} points\n", shape.empty() ? 0 : shape[0]);
  }
  if (f.exists("/score/loss")) {
    const auto loss = f.read_doubles("/score/loss");
    out += fmt::format("score model: {} epochs{}\n", loss.size(),
                       loss.empty() ? "" : fmt::format(", final loss {:.4g}", loss.back()));
  }
  if (!seed_file) {
    const auto sel = io::read_selection(f);
    if (!sel.empty()) {
      out += fmt::format(
          "settings chosen on {} validation points (paired MMD^2 after T = {:g}; floor: "
          "MMD^2(p, p_t)):\n",
          sel.validation_points, sel.horizon);
      for (std::size_t i = 0; i < sel.t.size(); ++i) {
        out += fmt::format(
            "  score {:>5} epochs  t {:<5g} eta {:<5g} MMD^2 {:<10.4g} floor "
            "{:<10.4g} residual {:.4g}{}\n",
            sel.score_epochs[i], sel.t[i], sel.eta[i], sel.mmd2[i], sel.floor[i], sel.residual[i],
            i == sel.chosen ? "  <- chosen" : "");
      }
    }
  }
  if (seed_file) {
    const auto r = io::read_seed_result(path);
    out += fmt::format("flow seed {}: {} epochs, final loss {:.4g}\n", r.seed,
                       f.read_doubles("/flow/loss").size(), r.final_loss);
    out += seed_line(r) + "\n";
  } else if (has_summary) {
    out += format_summary(io::read_summary(f));
  } else {
    out += "no summary yet: no invocation of `eqflow run` on this output has finished\n";
  }
  return out;
}

}  // namespace eqflow::app
