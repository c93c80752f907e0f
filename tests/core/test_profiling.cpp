// Profiling regions: a tool that listens to Kokkos region callbacks (kp_kernel_timer, nsys via
// NVTX connectors) sees names that match the code: every layer call of a model and the loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"

namespace eqflow {
namespace {

std::vector<std::string>& regions() {
  static std::vector<std::string> names;
  return names;
}
void record_region(const char* name) {
  regions().push_back(name);
}
void ignore_pop() {}

TEST(Profiling, EveryLayerCallAndTheLossAreNamedRegions) {
  regions().clear();
  Kokkos::Tools::Experimental::set_push_region_callback(record_region);
  Kokkos::Tools::Experimental::set_pop_region_callback(ignore_pop);
  {
    nn::Model<double> model(nn::make_flow_kernel<double>(2, 8), 1);
    View2<double> x("x", 16, 2), s("s", 16, 2);
    fill_normal(x, CounterRng(1, 1), 0);
    fill_normal(s, CounterRng(1, 2), 0);
    flow::EquilibriumLoss<double> loss(flow::DivergenceEstimator::Exact);
    loss.evaluate(model, x, s, CounterRng(1, 3), 0, nn::Mode::Train, true);
  }
  Kokkos::Tools::Experimental::set_push_region_callback(nullptr);
  Kokkos::Tools::Experimental::set_pop_region_callback(nullptr);
  const auto& seen = regions();
  auto has = [&](const std::string& name) {
    return std::find(seen.begin(), seen.end(), name) != seen.end();
  };
  EXPECT_TRUE(has("eqflow::EquilibriumLoss"));
  EXPECT_TRUE(has("eqflow::layers.0.FourierEncoding::forward"));
  EXPECT_TRUE(has("eqflow::layers.1.Dense::forward_tangent"));
  EXPECT_TRUE(has("eqflow::layers.2.SiLU::backward_tangent"));
  EXPECT_TRUE(has("eqflow::layers.6.BatchNorm(affine=false)::forward"));
}

}  // namespace
}  // namespace eqflow
