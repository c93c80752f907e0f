// Core utilities: math wrappers against <cmath>, error messages, progress lines, durations.
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/progress.hpp"
#include "eqflow/core/timer.hpp"

namespace eqflow {
namespace {

TEST(Math, MatchesStandardLibrary) {
  for (double x : {-30.0, -2.5, -1e-3, 0.0, 0.7, 3.0, 40.0}) {
    EXPECT_DOUBLE_EQ(math::sin(x), std::sin(x));
    EXPECT_DOUBLE_EQ(math::cos(x), std::cos(x));
    EXPECT_DOUBLE_EQ(math::exp(x), std::exp(x));
    EXPECT_DOUBLE_EQ(math::tanh(x), std::tanh(x));
    EXPECT_NEAR(math::sigmoid(x), 1.0 / (1.0 + std::exp(-x)), 1e-15);
    EXPECT_DOUBLE_EQ(math::abs(x), std::abs(x));
  }
  EXPECT_DOUBLE_EQ(math::sqrt(2.0), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(math::log(3.0), std::log(3.0));
  EXPECT_EQ(math::clamp(5, 0, 3), 3);
  EXPECT_EQ(math::min(2.0f, -1.0f), -1.0f);
  EXPECT_EQ(math::max(2.0f, -1.0f), 2.0f);
  EXPECT_NEAR(math::sigmoid(-100.0f), 0.0f, 1e-37f);  // exp_poly clamps its argument
  EXPECT_NEAR(math::sigmoid(100.0), 1.0, 1e-15);
}

TEST(Errors, NameKeyFileAndLine) {
  const ConfigError e("inputs/ring.yaml", 12, 3, "flow.epochs", "expected a positive integer");
  EXPECT_STREQ(e.what(), "inputs/ring.yaml:12:3: key 'flow.epochs': expected a positive integer");
  EXPECT_EQ(e.key(), "flow.epochs");
  EXPECT_EQ(e.line(), 12);
  const IoError io("out/run.h5", "cannot open");
  EXPECT_STREQ(io.what(), "out/run.h5: cannot open");
  EXPECT_THROW(require_shape(false, "bad"), ShapeError);
}

TEST(Progress, LineHasCountsRateAndEta) {
  ProgressReporter progress("epochs", 200, false);
  const std::string line = progress.line(50, "loss 0.12");
  EXPECT_NE(line.find("epochs 50/200 [ 25%]"), std::string::npos) << line;
  EXPECT_NE(line.find("it/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA"), std::string::npos) << line;
  EXPECT_NE(line.find("loss 0.12"), std::string::npos) << line;
  progress.update(60);  // disabled reporters print nothing and do not throw
  progress.finish();
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(12.34), "12.3s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
}

TEST(Timer, Advances) {
  Timer t;
  volatile double sink = 0;
  for (int i = 0; i < 100000; ++i) sink = sink + std::sqrt(double(i));
  EXPECT_GT(t.seconds(), 0.0);
}

}  // namespace
}  // namespace eqflow

namespace eqflow {
namespace {

TEST(Math, PolynomialExpIsAccurate) {
  double worst_d = 0, worst_f = 0;
  for (int i = -20000; i <= 20000; ++i) {
    const double x = i * 0.0354;  // [-708, 708]
    worst_d = std::max(worst_d, std::abs(math::exp_poly(x) / std::exp(x) - 1.0));
    if (std::abs(x) < 87) {
      const float xf = static_cast<float>(x);
      worst_f =
          std::max(worst_f, std::abs(double(math::exp_poly(xf)) / std::exp(double(xf)) - 1.0));
    }
  }
  EXPECT_LT(worst_d, 5e-16);  // ~2 ulp
  EXPECT_LT(worst_f, 3e-7);   // ~2 ulp
  EXPECT_TRUE(std::isfinite(math::exp_poly(1000.0)));
  EXPECT_GT(math::exp_poly(-1000.0), 0.0);
  EXPECT_NEAR(math::sigmoid(1000.0), 1.0, 1e-15);
  EXPECT_NEAR(math::sigmoid(-1000.0), 0.0, 1e-300);
}

}  // namespace
}  // namespace eqflow
