// Defaults of a run by system (DESIGN.md section 2).
#include "eqflow/app/config.hpp"

namespace eqflow::app {

const std::vector<std::string>& known_systems() {
  static const std::vector<std::string> systems = {"two_peaks", "ring", "two_moons", "lorenz",
                                                   "samples"};
  return systems;
}

const std::vector<std::string>& known_presets() {
  static const std::vector<std::string> presets = {"eqflow", "reference"};
  return presets;
}

RunConfig default_config(const std::string& system, const std::string& preset) {
  RunConfig c;
  c.system = system;
  c.preset = preset;
  c.output = "out/" + system;
  if (system == "lorenz") {
    c.experiments = 100;
    c.flow.epochs = 512;
    c.analysis.lyapunov.enabled = true;
    c.analysis.spectrum.enabled = true;
    c.analysis.similarity.enabled = true;
  }
  if (preset == "reference") {
    // The settings of the code behind the paper's results (DESIGN.md section 2): Hutchinson
    // with 10 probes, constant learning rate, running batch-norm statistics in simulation.
    c.flow.divergence = "hutchinson";
    c.flow.probes = 10;
    c.flow.lr_schedule = "constant";
    c.analysis.norm_statistics = "running";
  }
  return c;
}

}  // namespace eqflow::app
