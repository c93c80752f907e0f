// Defaults of a run by system (DESIGN.md section 2).
#include "eqflow/app/config.hpp"

namespace eqflow::app {

const std::vector<std::string>& known_systems() {
  static const std::vector<std::string> systems = {"two_peaks", "ring", "two_moons", "lorenz",
                                                   "samples"};
  return systems;
}

RunConfig default_config(const std::string& system) {
  RunConfig c;
  c.system = system;
  c.output = "out/" + system;
  if (system == "lorenz") {
    c.experiments = 100;
    c.flow.epochs = 512;
    c.analysis.lyapunov.enabled = true;
    c.analysis.spectrum.enabled = true;
    c.analysis.similarity.enabled = true;
  }
  return c;
}

}  // namespace eqflow::app
