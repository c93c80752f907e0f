// Dataset row access and the per-axis normalisation (population statistics, compensated sums
// so the result is the same on every machine and accurate for large n).
#include "eqflow/systems/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "eqflow/core/error.hpp"

namespace eqflow::systems {

namespace {

//! Neumaier-compensated running sum.
class CompensatedSum {
 public:
  void add(double x) {
    const double t = sum_ + x;
    if (std::abs(sum_) >= std::abs(x)) {
      compensation_ += (sum_ - t) + x;
    } else {
      compensation_ += (x - t) + sum_;
    }
    sum_ = t;
  }
  double value() const { return sum_ + compensation_; }

 private:
  double sum_ = 0.0;
  double compensation_ = 0.0;
};

std::string shape_of(const Dataset& data) {
  return "dataset '" + data.name + "' (" + std::to_string(data.n) + " x " + std::to_string(data.d) +
         ")";
}

void check_points(const Dataset& frame, const std::vector<double>& points) {
  check_consistent(frame);
  require_shape(frame.d > 0 && points.size() % frame.d == 0,
                "points of " + std::to_string(points.size()) + " values are not rows of d = " +
                    std::to_string(frame.d) + " for " + shape_of(frame));
}

}  // namespace

const double* Dataset::row(std::size_t i) const {
  require_shape(i < n, "row " + std::to_string(i) + " out of range for " + shape_of(*this));
  return values.data() + i * d;
}

double* Dataset::row(std::size_t i) {
  require_shape(i < n, "row " + std::to_string(i) + " out of range for " + shape_of(*this));
  return values.data() + i * d;
}

double Dataset::at(std::size_t i, std::size_t k) const {
  require_shape(k < d, "axis " + std::to_string(k) + " out of range for " + shape_of(*this));
  return row(i)[k];
}

double& Dataset::at(std::size_t i, std::size_t k) {
  require_shape(k < d, "axis " + std::to_string(k) + " out of range for " + shape_of(*this));
  return row(i)[k];
}

Dataset make_dataset(std::string name, std::size_t n, std::size_t d) {
  Dataset data;
  data.name = std::move(name);
  data.n = n;
  data.d = d;
  data.values.assign(n * d, 0.0);
  data.mean.assign(d, 0.0);
  data.scale.assign(d, 1.0);
  data.normalised = false;
  return data;
}

void check_consistent(const Dataset& data) {
  require_shape(
      data.values.size() == data.n * data.d,
      shape_of(data) + " holds " + std::to_string(data.values.size()) + " values, expected n * d");
  require_shape(data.mean.size() == data.d && data.scale.size() == data.d,
                shape_of(data) + " has mean/scale of sizes " + std::to_string(data.mean.size()) +
                    "/" + std::to_string(data.scale.size()) + ", expected d each");
}

void normalise_per_axis(Dataset& data) {
  check_consistent(data);
  if (data.n < 2) {
    throw Error("normalise_per_axis: " + shape_of(data) + " needs at least 2 points");
  }
  for (std::size_t k = 0; k < data.d; ++k) {
    CompensatedSum sum;
    double max_abs = 0.0;
    for (std::size_t i = 0; i < data.n; ++i) {
      const double x = data.values[i * data.d + k];
      sum.add(x);
      max_abs = std::max(max_abs, std::abs(x));
    }
    const double mean = sum.value() / static_cast<double>(data.n);
    CompensatedSum squares;
    for (std::size_t i = 0; i < data.n; ++i) {
      const double dx = data.values[i * data.d + k] - mean;
      squares.add(dx * dx);
    }
    const double stddev = std::sqrt(squares.value() / static_cast<double>(data.n));
    if (!std::isfinite(mean) || !std::isfinite(stddev)) {
      throw Error("normalise_per_axis: axis " + std::to_string(k) + " of " + shape_of(data) +
                  " holds non-finite values");
    }
    if (!(stddev > 1e-12 * max_abs) || stddev == 0.0) {
      throw Error("normalise_per_axis: axis " + std::to_string(k) + " of " + shape_of(data) +
                  " has no spread (std " + std::to_string(stddev) + "); expected std > 0");
    }
    for (std::size_t i = 0; i < data.n; ++i) {
      double& x = data.values[i * data.d + k];
      x = (x - mean) / stddev;
    }
    // Compose with the map already applied: raw = (y stddev + mean) scale + old_mean.
    data.mean[k] += data.scale[k] * mean;
    data.scale[k] *= stddev;
  }
  data.normalised = true;
}

std::vector<double> denormalise(const Dataset& frame, const std::vector<double>& points) {
  check_points(frame, points);
  std::vector<double> raw(points.size());
  for (std::size_t j = 0; j < points.size(); ++j) {
    const std::size_t k = j % frame.d;
    raw[j] = points[j] * frame.scale[k] + frame.mean[k];
  }
  return raw;
}

std::vector<double> denormalise(const Dataset& data) {
  return denormalise(data, data.values);
}

std::vector<double> normalise(const Dataset& frame, const std::vector<double>& raw_points) {
  check_points(frame, raw_points);
  std::vector<double> out(raw_points.size());
  for (std::size_t j = 0; j < raw_points.size(); ++j) {
    const std::size_t k = j % frame.d;
    out[j] = (raw_points[j] - frame.mean[k]) / frame.scale[k];
  }
  return out;
}

}  // namespace eqflow::systems
