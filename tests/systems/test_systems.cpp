// The low-dimensional data sources: sizes, moments and ranges against their definitions with
// stated statistical tolerances (fixed seeds, so each check is deterministic; the tolerances
// say how unlikely a failure would be for a correct generator), the Lorenz RK4 recurrence,
// reproducibility from the seed, the normalisation helpers and settings validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/systems/dataset.hpp"
#include "eqflow/systems/toy_systems.hpp"

namespace eqflow::systems {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Moments {
  double mean = 0, stddev = 0;
};

//! Population mean and standard deviation of axis k over rows [begin, end) of (n, d) values.
Moments axis_moments(const std::vector<double>& values, std::size_t d, std::size_t k,
                     std::size_t begin, std::size_t end) {
  double sum = 0;
  for (std::size_t i = begin; i < end; ++i) sum += values[i * d + k];
  const double m = sum / static_cast<double>(end - begin);
  double sq = 0;
  for (std::size_t i = begin; i < end; ++i) sq += (values[i * d + k] - m) * (values[i * d + k] - m);
  return {m, std::sqrt(sq / static_cast<double>(end - begin))};
}

void expect_normalised(const Dataset& data) {
  ASSERT_TRUE(data.normalised);
  for (std::size_t k = 0; k < data.d; ++k) {
    const Moments m = axis_moments(data.values, data.d, k, 0, data.n);
    EXPECT_NEAR(m.mean, 0.0, 1e-12) << data.name << " axis " << k;
    EXPECT_NEAR(m.stddev, 1.0, 1e-12) << data.name << " axis " << k;
  }
}

TEST(SystemsRegistry, NamesAndDimensions) {
  const std::vector<std::string> expected = {"two_peaks", "ring", "two_moons", "lorenz"};
  EXPECT_EQ(low_dimensional_systems(), expected);
  EXPECT_EQ(system_dimension("two_peaks"), 2);
  EXPECT_EQ(system_dimension("ring"), 2);
  EXPECT_EQ(system_dimension("two_moons"), 2);
  EXPECT_EQ(system_dimension("lorenz"), 3);
  EXPECT_THROW(system_dimension("rings"), Error);
  EXPECT_THROW(make_system("", 0), Error);
  try {
    system_dimension("gray_scott");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("gray_scott"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("two_moons"), std::string::npos) << e.what();
  }
}

TEST(SystemsRegistry, DefaultSizesMatchTheReference) {
  const struct {
    const char* name;
    std::size_t n;
    bool normalised;
  } cases[] = {{"two_peaks", 10000, false},
               {"ring", 10000, false},
               {"two_moons", 5000, true},
               {"lorenz", 50000, true}};
  for (const auto& c : cases) {
    const Dataset data = make_system(c.name, 1);
    EXPECT_EQ(data.name, c.name);
    EXPECT_EQ(data.n, c.n) << c.name;
    EXPECT_EQ(data.d, static_cast<std::size_t>(system_dimension(c.name))) << c.name;
    EXPECT_EQ(data.values.size(), data.n * data.d) << c.name;
    EXPECT_EQ(data.mean.size(), data.d) << c.name;
    EXPECT_EQ(data.scale.size(), data.d) << c.name;
    EXPECT_EQ(data.normalised, c.normalised) << c.name;
    for (double v : data.values) ASSERT_TRUE(std::isfinite(v)) << c.name;
    if (!c.normalised) {
      EXPECT_EQ(data.mean, std::vector<double>(data.d, 0.0)) << c.name;
      EXPECT_EQ(data.scale, std::vector<double>(data.d, 1.0)) << c.name;
    }
  }
}

TEST(SystemsTwoPeaks, HalvesAndMoments) {
  const TwoPeaksSettings s;
  const Dataset data = make_two_peaks(s, 7);
  ASSERT_EQ(data.n, 10000u);
  ASSERT_EQ(data.d, 2u);
  const std::size_t half = data.n / 2;
  // Standard error of a peak's mean: 0.5 / sqrt(5000) = 0.0071; of its std: about
  // 0.5 / sqrt(2 * 5000) = 0.005. Five standard errors each (two-sided p < 6e-7).
  const double se_mean = s.stddev / std::sqrt(static_cast<double>(half));
  const double se_std = s.stddev / std::sqrt(2.0 * static_cast<double>(half));
  for (std::size_t k = 0; k < 2; ++k) {
    const Moments a = axis_moments(data.values, 2, k, 0, half);
    const Moments b = axis_moments(data.values, 2, k, half, data.n);
    EXPECT_NEAR(a.mean, -1.0, 5 * se_mean) << "first half, axis " << k;
    EXPECT_NEAR(b.mean, 1.0, 5 * se_mean) << "second half, axis " << k;
    EXPECT_NEAR(a.stddev, 0.5, 5 * se_std) << "first half, axis " << k;
    EXPECT_NEAR(b.stddev, 0.5, 5 * se_std) << "second half, axis " << k;
  }
  // The two axes of a peak are independent: correlation within 5 / sqrt(5000) of 0.
  double cov = 0;
  for (std::size_t i = 0; i < half; ++i) cov += (data.at(i, 0) + 1.0) * (data.at(i, 1) + 1.0);
  EXPECT_NEAR(cov / half / 0.25, 0.0, 5.0 / std::sqrt(static_cast<double>(half)));
}

TEST(SystemsTwoPeaks, OddCountSplitsFirstHalfDown) {
  TwoPeaksSettings s;
  s.n = 5;
  s.stddev = 1e-3;
  const Dataset data = make_two_peaks(s, 3);
  ASSERT_EQ(data.n, 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(data.at(i, 0), i < 2 ? -1.0 : 1.0, 0.01) << "row " << i;
  }
}

TEST(SystemsRing, RadiiAnglesAndMoments) {
  const RingSettings s;
  const Dataset data = make_ring(s, 11);
  ASSERT_EQ(data.n, 10000u);
  ASSERT_EQ(data.d, 2u);
  std::vector<double> r2(data.n);
  double sum_r2 = 0, sum_cos = 0, sum_sin = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const double x = data.at(i, 0), y = data.at(i, 1);
    const double r = std::hypot(x, y);
    EXPECT_GE(r, 1.0 - 1e-12) << "row " << i;
    EXPECT_LE(r, 2.0 + 1e-12) << "row " << i;
    r2[i] = x * x + y * y;
    sum_r2 += r2[i];
    sum_cos += x / r;
    sum_sin += y / r;
  }
  const double n = static_cast<double>(data.n);
  // r^2 ~ U(1, 4): mean 2.5, std 3 / sqrt(12); five standard errors.
  EXPECT_NEAR(sum_r2 / n, 2.5, 5 * (3.0 / std::sqrt(12.0)) / std::sqrt(n));
  // Uniform angles: n R^2 is about Exp(1), so R < 5 / sqrt(n) fails with probability e^-25.
  EXPECT_LT(std::hypot(sum_cos, sum_sin) / n, 5.0 / std::sqrt(n));
  // Kolmogorov-Smirnov of r^2 against U(1, 4); 1.95 / sqrt(n) is the 0.1% critical value.
  std::sort(r2.begin(), r2.end());
  double ks = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const double cdf = (r2[i] - 1.0) / 3.0;
    ks = std::max({ks, std::abs(cdf - i / n), std::abs((i + 1) / n - cdf)});
  }
  EXPECT_LT(ks, 1.95 / std::sqrt(n));
}

//! Distance from p to moon A = {(cos a, sin a): a in [0, pi]}.
double distance_to_moon_a(double x, double y) {
  if (y >= 0) return std::abs(std::hypot(x, y) - 1.0);
  return std::min(std::hypot(x - 1.0, y), std::hypot(x + 1.0, y));
}

//! Distance from p to moon B = {(1 - cos a, -sin a): a in [0, pi]}: moon A mirrored about
//! (0.5, 0).
double distance_to_moon_b(double x, double y) {
  return distance_to_moon_a(1.0 - x, -y);
}

TEST(SystemsTwoMoons, NormalisedAndOnTheCurves) {
  const TwoMoonsSettings s;
  const Dataset data = make_two_moons(s, 5);
  ASSERT_EQ(data.n, 5000u);
  ASSERT_EQ(data.d, 2u);
  expect_normalised(data);
  const std::vector<double> raw = denormalise(data);
  const std::size_t n_a = data.n / 2;
  // Noisy points lie near their own moon: on average about 0.1 sqrt(2 / pi) = 0.080 from it
  // (the normal component of the noise; curvature and the ends shift it by a few per cent,
  // 0.079-0.083 over seven seeds, standard error 0.001); none further than 6 noise std.
  double sum_distance = 0, max_distance = 0;
  for (std::size_t i = 0; i < data.n; ++i) {
    const double x = raw[2 * i], y = raw[2 * i + 1];
    const double dist = i < n_a ? distance_to_moon_a(x, y) : distance_to_moon_b(x, y);
    sum_distance += dist;
    max_distance = std::max(max_distance, dist);
  }
  const double mean_distance = sum_distance / data.n;
  EXPECT_GT(mean_distance, 0.06);
  EXPECT_LT(mean_distance, 0.09);
  EXPECT_LT(max_distance, 6 * s.noise);
  // Subtracting the noiseless grid point recovers the noise itself: mean 0 and std 0.1 within
  // five standard errors over the 10,000 coordinates.
  std::vector<double> noise(raw.size());
  const std::size_t n_b = data.n - n_a;
  for (std::size_t i = 0; i < data.n; ++i) {
    const bool a = i < n_a;
    const double angle = a ? kPi * i / (n_a - 1) : kPi * (i - n_a) / (n_b - 1);
    noise[2 * i] = raw[2 * i] - (a ? std::cos(angle) : 1.0 - std::cos(angle));
    noise[2 * i + 1] = raw[2 * i + 1] - (a ? std::sin(angle) : -std::sin(angle));
  }
  const Moments m = axis_moments(noise, 1, 0, 0, noise.size());
  const double count = static_cast<double>(noise.size());
  EXPECT_NEAR(m.mean, 0.0, 5 * s.noise / std::sqrt(count));
  EXPECT_NEAR(m.stddev, s.noise, 5 * s.noise / std::sqrt(2 * count));
}

TEST(SystemsTwoMoons, NoiselessUnnormalisedIsTheGrid) {
  TwoMoonsSettings s;
  s.n = 7;  // moon A: 3 points, moon B: 4
  s.noise = 0.0;
  s.normalise = false;
  const Dataset data = make_two_moons(s, 0);
  EXPECT_FALSE(data.normalised);
  const std::vector<std::array<double, 2>> expected = {
      {1, 0},
      {0, 1},
      {-1, 0},
      {0, 0},
      {1 - std::cos(kPi / 3), -std::sin(kPi / 3)},
      {1 - std::cos(2 * kPi / 3), -std::sin(2 * kPi / 3)},
      {2, 0}};
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_NEAR(data.at(i, 0), expected[i][0], 1e-15) << "row " << i;
    EXPECT_NEAR(data.at(i, 1), expected[i][1], 1e-15) << "row " << i;
  }
}

TEST(SystemsLorenz, NormalisedMomentsAndAttractor) {
  const LorenzSettings s;
  const Dataset data = make_lorenz(s, 2024);
  ASSERT_EQ(data.n, 50000u);
  ASSERT_EQ(data.d, 3u);
  expect_normalised(data);
  const std::vector<double> raw = denormalise(data);
  // z stays in (0, 50) except for the first steps from a start with z < 0.
  std::size_t inside = 0;
  for (std::size_t i = 0; i < data.n; ++i) inside += raw[3 * i + 2] > 0 && raw[3 * i + 2] < 50;
  EXPECT_GT(static_cast<double>(inside) / data.n, 0.99);
  // The attractor's time-averaged z is about 23.5; after a transient of 1000 steps (t = 10)
  // the 10 trajectories of t = 40 each average within 1.5 of it.
  const std::size_t transient = 1000;
  double sum_z = 0;
  std::size_t count = 0;
  for (std::size_t j = 0; j < s.trajectories; ++j) {
    for (std::size_t step = transient; step < s.steps; ++step) {
      sum_z += raw[3 * (j * s.steps + step) + 2];
      ++count;
    }
  }
  EXPECT_NEAR(sum_z / count, 23.5, 1.5);
  // mean/scale are the raw data's population moments.
  for (std::size_t k = 0; k < 3; ++k) {
    const Moments m = axis_moments(raw, 3, k, 0, data.n);
    EXPECT_NEAR(m.mean, data.mean[k], 1e-9 * data.scale[k]) << "axis " << k;
    EXPECT_NEAR(m.stddev, data.scale[k], 1e-9 * data.scale[k]) << "axis " << k;
  }
}

TEST(SystemsLorenz, RowsFollowTheRk4Recurrence) {
  const LorenzSettings s;
  const Dataset data = make_lorenz(s, 99);
  const std::vector<double> raw = denormalise(data);
  auto raw_row = [&raw](std::size_t i) {
    return std::array<double, 3>{raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]};
  };
  // The de-normalised rows carry round-off of a few ulp of |x| <= 50; one step of dt = 0.01
  // amplifies it by at most about 1.3.
  const double tol = 1e-11;
  for (std::size_t j = 0; j < s.trajectories; ++j) {
    const std::size_t first = j * s.steps;
    // Row 0 of each trajectory is one step from its standard-normal start.
    const auto from_start = lorenz_rk4_step(s, lorenz_initial_state(99, j));
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(raw_row(first)[k], from_start[k], tol) << "trajectory " << j;
    }
    for (std::size_t step : {std::size_t(0), std::size_t(1), std::size_t(2499), s.steps - 2}) {
      const auto next = lorenz_rk4_step(s, raw_row(first + step));
      for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_NEAR(raw_row(first + step + 1)[k], next[k], tol)
            << "trajectory " << j << " step " << step << " axis " << k;
      }
    }
  }
  // The start is not recorded: the trajectory boundary is not one RK4 step.
  const auto across = lorenz_rk4_step(s, raw_row(s.steps - 1));
  EXPECT_GT(std::abs(across[0] - raw_row(s.steps)[0]) + std::abs(across[2] - raw_row(s.steps)[2]),
            1e-3);
}

TEST(SystemsLorenz, Rk4StepIsFourthOrder) {
  LorenzSettings s;
  const std::array<double, 3> x0 = {1.0, 2.0, 20.0};
  // Reference: 1024 steps of dt / 1024. The one-step error of RK4 is O(dt^5): halving dt
  // divides it by about 32.
  auto error = [&](double dt) {
    LorenzSettings fine = s;
    fine.dt = dt / 1024;
    std::array<double, 3> x = x0;
    for (int i = 0; i < 1024; ++i) x = lorenz_rk4_step(fine, x);
    LorenzSettings coarse = s;
    coarse.dt = dt;
    const auto y = lorenz_rk4_step(coarse, x0);
    return std::hypot(y[0] - x[0], y[1] - x[1], y[2] - x[2]);
  };
  const double ratio = error(0.02) / error(0.01);
  EXPECT_GT(ratio, 25.0);
  EXPECT_LT(ratio, 40.0);
}

TEST(SystemsLorenz, FieldInTheNormalisedFrame) {
  const LorenzSettings s;
  LorenzSettings small = s;
  small.trajectories = 2;
  small.steps = 500;
  const Dataset data = make_lorenz(small, 4);
  const std::array<double, 3> y = {data.at(100, 0), data.at(100, 1), data.at(100, 2)};
  const auto v = lorenz_field_normalised(s, data, y);
  // Compare with a central difference of the normalised trajectory itself.
  const double h = s.dt;
  for (std::size_t k = 0; k < 3; ++k) {
    const double fd = (data.at(101, k) - data.at(99, k)) / (2 * h);
    EXPECT_NEAR(v[k], fd, 0.05 * std::abs(fd) + 0.05) << "axis " << k;
  }
  const Dataset two_d = make_ring(RingSettings{}, 0);
  EXPECT_THROW(lorenz_field_normalised(s, two_d, y), ShapeError);
}

TEST(SystemsLorenz, TrajectoriesDoNotDependOnTheirCount) {
  LorenzSettings s;
  s.steps = 200;
  s.normalise = false;
  s.trajectories = 3;
  const Dataset three = make_lorenz(s, 8);
  s.trajectories = 5;
  const Dataset five = make_lorenz(s, 8);
  ASSERT_EQ(three.n, 600u);
  ASSERT_EQ(five.n, 1000u);
  EXPECT_TRUE(std::equal(three.values.begin(), three.values.end(), five.values.begin()));
}

TEST(SystemsReproducibility, SameSeedSameDataOtherSeedOtherData) {
  for (const auto& name : low_dimensional_systems()) {
    const Dataset a = make_system(name, 12345);
    const Dataset b = make_system(name, 12345);
    const Dataset c = make_system(name, 12346);
    EXPECT_EQ(a.values, b.values) << name;
    EXPECT_EQ(a.mean, b.mean) << name;
    EXPECT_EQ(a.scale, b.scale) << name;
    ASSERT_EQ(a.values.size(), c.values.size()) << name;
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.values.size(); ++i) same += a.values[i] == c.values[i];
    EXPECT_EQ(same, 0u) << name;
  }
  // Different systems on one seed use different streams: the two_peaks noise is not the
  // two_moons noise.
  TwoPeaksSettings peaks;
  peaks.centre = 0.0;
  peaks.stddev = 1.0;
  TwoMoonsSettings moons;
  moons.n = peaks.n;
  moons.noise = 1.0;
  moons.normalise = false;
  const Dataset p = make_two_peaks(peaks, 1);
  const Dataset m = make_two_moons(moons, 1);
  EXPECT_GT(std::abs(p.at(0, 0) - (m.at(0, 0) - 1.0)), 1e-6);
}

TEST(SystemsDataset, RowAccessAndBounds) {
  Dataset data = make_dataset("grid", 3, 2);
  EXPECT_EQ(data.values, std::vector<double>(6, 0.0));
  data.at(1, 1) = 5.0;
  data.row(2)[0] = 7.0;
  EXPECT_EQ(data.values[3], 5.0);
  EXPECT_EQ(data.values[4], 7.0);
  EXPECT_EQ(data.row(1), data.values.data() + 2);
  EXPECT_THROW(data.row(3), ShapeError);
  EXPECT_THROW(data.at(0, 2), ShapeError);
  const Dataset& view = data;
  EXPECT_EQ(view.at(1, 1), 5.0);
  EXPECT_THROW(view.row(3), ShapeError);
  data.values.pop_back();
  EXPECT_THROW(check_consistent(data), ShapeError);
  EXPECT_THROW(normalise_per_axis(data), ShapeError);
}

TEST(SystemsDataset, NormaliseRoundTripAndComposition) {
  Dataset data = make_dataset("small", 4, 2);
  data.values = {1, 10, 2, 20, 3, 30, 6, 0};  // (4, 2)
  const std::vector<double> raw = data.values;
  normalise_per_axis(data);
  EXPECT_TRUE(data.normalised);
  // numpy: x.mean(0) = [3, 15], x.std(0) = [sqrt(3.5), sqrt(125)].
  EXPECT_NEAR(data.mean[0], 3.0, 1e-15);
  EXPECT_NEAR(data.mean[1], 15.0, 1e-14);
  EXPECT_NEAR(data.scale[0], std::sqrt(3.5), 1e-15);
  EXPECT_NEAR(data.scale[1], std::sqrt(125.0), 1e-14);
  EXPECT_NEAR(data.at(3, 0), 3.0 / std::sqrt(3.5), 1e-15);
  const std::vector<double> back = denormalise(data);
  for (std::size_t i = 0; i < raw.size(); ++i) EXPECT_NEAR(back[i], raw[i], 1e-13) << i;
  const std::vector<double> again = normalise(data, raw);
  for (std::size_t i = 0; i < raw.size(); ++i) EXPECT_NEAR(again[i], data.values[i], 1e-15) << i;
  // Normalising again composes the maps: de-normalising still gives the raw points.
  Dataset twice = data;
  twice.values[0] += 1.0;  // perturb so the second pass does something
  const std::vector<double> raw_twice = denormalise(twice);
  normalise_per_axis(twice);
  const std::vector<double> back_twice = denormalise(twice);
  for (std::size_t i = 0; i < raw.size(); ++i) EXPECT_NEAR(back_twice[i], raw_twice[i], 1e-13);
  // Points of the wrong width are rejected.
  EXPECT_THROW(denormalise(data, std::vector<double>(3, 0.0)), ShapeError);
  EXPECT_THROW(normalise(data, std::vector<double>(5, 0.0)), ShapeError);
}

TEST(SystemsDataset, NormaliseRejectsAxesWithoutSpread) {
  Dataset data = make_dataset("flat", 3, 2);
  data.values = {1, 0.1, 2, 0.1, 3, 0.1};
  try {
    normalise_per_axis(data);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("axis 1"), std::string::npos) << e.what();
  }
  Dataset one = make_dataset("one", 1, 2);
  EXPECT_THROW(normalise_per_axis(one), Error);
}

//! Expects `call` to throw Error whose message names `key`.
template <class F>
void expect_setting_error(F call, const std::string& key) {
  try {
    call();
    ADD_FAILURE() << "no exception for " << key;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
  }
}

TEST(SystemsSettings, InvalidValuesNameTheSetting) {
  const double nan = std::nan("");
  {
    TwoPeaksSettings s;
    s.n = 1;
    expect_setting_error([&] { make_two_peaks(s, 0); }, "two_peaks.n");
    s = {};
    s.stddev = 0;
    expect_setting_error([&] { make_two_peaks(s, 0); }, "two_peaks.stddev");
    s = {};
    s.centre = nan;
    expect_setting_error([&] { make_two_peaks(s, 0); }, "two_peaks.centre");
  }
  {
    RingSettings s;
    s.n = 0;
    expect_setting_error([&] { make_ring(s, 0); }, "ring.n");
    s = {};
    s.r_inner = -1;
    expect_setting_error([&] { make_ring(s, 0); }, "ring.r_inner");
    s = {};
    s.r_outer = 1.0;
    expect_setting_error([&] { make_ring(s, 0); }, "ring.r_outer");
  }
  {
    TwoMoonsSettings s;
    s.n = 3;
    expect_setting_error([&] { make_two_moons(s, 0); }, "two_moons.n");
    s = {};
    s.noise = -0.1;
    expect_setting_error([&] { make_two_moons(s, 0); }, "two_moons.noise");
  }
  {
    LorenzSettings s;
    s.trajectories = 0;
    expect_setting_error([&] { make_lorenz(s, 0); }, "lorenz.trajectories");
    s = {};
    s.steps = 0;
    expect_setting_error([&] { make_lorenz(s, 0); }, "lorenz.steps");
    s = {};
    s.dt = -0.01;
    expect_setting_error([&] { make_lorenz(s, 0); }, "lorenz.dt");
    s = {};
    s.rho = nan;
    expect_setting_error([&] { make_lorenz(s, 0); }, "lorenz.rho");
  }
  EXPECT_NO_THROW(validate(TwoPeaksSettings{}));
  EXPECT_NO_THROW(validate(RingSettings{}));
  EXPECT_NO_THROW(validate(TwoMoonsSettings{}));
  EXPECT_NO_THROW(validate(LorenzSettings{}));
}

}  // namespace
}  // namespace eqflow::systems
