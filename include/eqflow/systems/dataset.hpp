// A host-side point cloud in double precision: n points of dimension d, row-major, with the
// per-axis normalisation (stored = (raw - mean) / scale) that was applied to it, so points and
// fields can be mapped between the raw and the normalised frame.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace eqflow::systems {

//! n points of dimension d, row-major, plus the per-axis affine map that produced them.
struct Dataset {
  std::string name;
  std::size_t n = 0, d = 0;
  std::vector<double> values;  //!< (n, d) row-major: stored = (raw - mean) / scale
  std::vector<double> mean;    //!< (d); all 0 when not normalised
  std::vector<double> scale;   //!< (d); all 1 when not normalised
  bool normalised = false;

  //! Row i: d contiguous values. Throws ShapeError when i >= n.
  const double* row(std::size_t i) const;
  double* row(std::size_t i);
  //! Entry (i, k). Throws ShapeError when out of range.
  double at(std::size_t i, std::size_t k) const;
  double& at(std::size_t i, std::size_t k);
};

//! An (n, d) dataset of zeros with the identity normalisation (mean 0, scale 1).
Dataset make_dataset(std::string name, std::size_t n, std::size_t d);

//! Throws ShapeError unless values has n*d entries and mean/scale have d entries each.
void check_consistent(const Dataset& data);

//! Normalises every axis to zero mean and unit population standard deviation (divisor n, as
//! numpy's default) and records the map in mean/scale. On an already normalised dataset the
//! maps compose, so mean/scale always take stored values back to the original raw ones.
//! Throws Error naming the axis when it has no spread (std <= 1e-12 max|x|, or n < 2).
void normalise_per_axis(Dataset& data);

//! Raw coordinates of `points` ((m, d) row-major, in the frame of `frame`): x = y scale + mean.
std::vector<double> denormalise(const Dataset& frame, const std::vector<double>& points);
//! Raw coordinates of the whole dataset ((n, d) row-major).
std::vector<double> denormalise(const Dataset& data);
//! Coordinates in the frame of `frame` of raw points ((m, d) row-major): y = (x - mean) / scale.
std::vector<double> normalise(const Dataset& frame, const std::vector<double>& raw_points);

}  // namespace eqflow::systems
