// Test helpers for the PyTorch cross-checks (tests/data/*_crosscheck.h5): a field data set read
// into a View, and the largest error relative to the reference's largest entry.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "eqflow/io/hdf5_file.hpp"
#include "support/host.hpp"

namespace eqflow::test {

//! max_i |got_i - ref_i| / max_j |ref_j| (the absolute error for an all-zero reference), after
//! checking the sizes.
inline double relative_error(const std::vector<double>& got, const std::vector<double>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double scale = 0, worst = 0;
  for (double r : ref) scale = std::max(scale, std::abs(r));
  for (std::size_t i = 0; i < std::min(got.size(), ref.size()); ++i) {
    worst = std::max(worst, std::abs(got[i] - ref[i]));
  }
  return scale > 0 ? worst / scale : worst;
}

//! The (N, C, H, W) data set at `path` as a double View.
inline View4<double> read_field(const io::H5File& file, const std::string& path) {
  std::vector<std::size_t> shape;
  const auto values = file.read_doubles(path, &shape);
  EXPECT_EQ(shape.size(), 4u) << path;
  View4<double> out(path, shape.at(0), shape.at(1), shape.at(2), shape.at(3));
  from_vector(out, values);
  return out;
}

}  // namespace eqflow::test
