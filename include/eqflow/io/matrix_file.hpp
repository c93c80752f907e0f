// Readers of user data as an N x d matrix of doubles: how scientists bring their own
// snapshots (N samples of a d-dimensional state) to eqflow, as CSV/text or as an HDF5
// dataset. Every value is checked finite; every error names the file, the line or row and
// what was expected, in one line.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace eqflow::io {

//! A dense row-major matrix: `values[r * cols + c]`.
struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> values;  // (rows, cols), row-major

  double operator()(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
};

//! Reads a delimited text file of numbers: one sample per line, fields separated by commas,
//! semicolons or whitespace. Blank lines and comments (from '#' to the end of the line) are
//! skipped; the first remaining line may be a header of column names (no field numeric).
//! Throws IoError ("file:line: ...") for a missing or unreadable file, a row whose number
//! of columns differs from the first row's, an empty or non-numeric field, NaN or inf, and
//! a file without data rows.
Matrix read_matrix_csv(const std::string& path);

//! Reads a numeric dataset of shape (N, d) (a 1-D dataset of N values is read as N x 1) of
//! any integer or float type. Throws IoError for a missing file or dataset, another rank,
//! a non-numeric dataset, zero rows or columns, and NaN or inf (naming the row).
Matrix read_matrix_hdf5(const std::string& path, const std::string& dataset);

}  // namespace eqflow::io
