// The field reader (io::FieldReader) on a user's own (N, C, H, W) data: any channel count and
// numeric type, hyperslabs of samples, attributes, and one clear error line naming the file,
// the dataset and the sample for each kind of bad input (wrong rank, NaN/inf, an empty set, a
// missing dataset or a group, samples beyond N). The parallel writer is tested under MPI
// (tests/mpi/mpi_fields.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/io/field_file.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "support/files.hpp"

namespace eqflow::io {
namespace {

using FieldFileTest = test::TempDirTest;

template <class F>
void expect_io_error(F&& body, const std::vector<std::string>& parts) {
  test::expect_error_containing<IoError>(std::forward<F>(body), parts);
}

//! (n, c, h, w) values i * 0.5 in double, written at `dataset` of a new file.
std::string write_fields(const std::string& path, const std::string& dataset,
                         std::vector<std::size_t> shape, std::vector<double> values = {}) {
  if (values.empty()) {
    std::size_t size = 1;
    for (std::size_t e : shape) size *= e;
    for (std::size_t i = 0; i < size; ++i) values.push_back(0.5 * static_cast<double>(i));
  }
  H5File file = H5File::create(path);
  file.write(dataset, values, shape);
  file.set_attribute(dataset, "units", "mol/l");
  file.commit();
  return path;
}

TEST_F(FieldFileTest, ReadsAnyChannelCountAndTypeByHyperslab) {
  const std::string path = write_fields(file("user.h5"), "/group/u", {4, 3, 2, 5});
  const FieldReader reader(path, "/group/u");
  EXPECT_EQ(reader.shape(), (FieldShape{4, 3, 2, 5}));
  EXPECT_EQ(reader.shape().sample_size(), 30u);
  const std::vector<float> middle = reader.read(1, 2);
  ASSERT_EQ(middle.size(), 60u);
  for (std::size_t i = 0; i < middle.size(); ++i) EXPECT_EQ(middle[i], 0.5f * (30 + i));
  EXPECT_TRUE(reader.read(4, 0).empty());
  EXPECT_EQ(reader.attribute_string("units"), "mol/l");
  EXPECT_TRUE(reader.has_attribute("units"));
  EXPECT_FALSE(reader.has_attribute("preset"));

  H5File ints = H5File::create(file("ints.h5"));
  ints.write("/x", std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}, {2, 1, 1, 3});
  ints.commit();
  EXPECT_EQ(FieldReader(file("ints.h5"), "/x").read(1, 1), (std::vector<float>{4, 5, 6}));
}

TEST_F(FieldFileTest, WrongRankEmptyAndMissingAreOneLineErrors) {
  const std::string flat = write_fields(file("flat.h5"), "/x", {10, 3});
  expect_io_error([&] { FieldReader(flat, "/x"); },
                  {"flat.h5", "dataset '/x' has rank 2 (10 x 3)", "(N, C, H, W)"});
  expect_io_error([&] { FieldReader(flat, "/y"); }, {"flat.h5", "'/y' not found", "holds: x"});
  expect_io_error([&] { FieldReader(flat, "/"); }, {"flat.h5", "is a group"});
  expect_io_error([&] { FieldReader(file("none.h5"), "/x"); }, {"none.h5", "not found"});

  const std::string empty = write_fields(file("empty.h5"), "/x", {0, 2, 4, 4});
  expect_io_error([&] { FieldReader(empty, "/x"); },
                  {"empty.h5", "dataset '/x' has 0 samples (0 x 2 x 4 x 4)"});
  const std::string hollow = write_fields(file("hollow.h5"), "/x", {3, 0, 4, 4});
  expect_io_error([&] { FieldReader(hollow, "/x"); }, {"hollow.h5", "empty samples"});

  H5File text = H5File::create(file("text.h5"));
  text.write_string("/x", "not numbers");
  text.commit();
  expect_io_error([&] { FieldReader(file("text.h5"), "/x"); }, {"text.h5", "not numeric"});

  const FieldReader reader(write_fields(file("ok.h5"), "/x", {3, 1, 2, 2}), "/x");
  expect_io_error([&] { reader.read(2, 2); }, {"ok.h5", "samples [2, 4) requested, it holds 3"});
}

TEST_F(FieldFileTest, NanAndInfNameTheSample) {
  std::vector<double> values(4 * 2 * 3 * 3, 0.25);
  values[2 * 18 + 9 + 3 * 1 + 2] = std::nan("");  // sample 2, channel 1, row 1, column 2
  const std::string path = write_fields(file("nan.h5"), "/x", {4, 2, 3, 3}, values);
  const FieldReader reader(path, "/x");
  EXPECT_NO_THROW(reader.read(0, 2));  // a shard without the bad sample reads fine
  expect_io_error([&] { reader.read(1, 3); },
                  {"nan.h5", "dataset '/x': sample 2 (from 0), channel 1, row 1, column 2 is NaN"});
  values[2 * 18 + 9 + 3 * 1 + 2] = 0.0;
  values[3 * 18] = std::numeric_limits<double>::infinity();
  const FieldReader inf(write_fields(file("inf.h5"), "/x", {4, 2, 3, 3}, values), "/x");
  expect_io_error([&] { inf.read(0, 4); }, {"inf.h5", "sample 3", "is inf"});
}

TEST_F(FieldFileTest, H5FileReadsRowsAndCreatesChunkedFloats) {
  H5File out = H5File::create(file("chunked.h5"));
  out.create_chunked_floats("/fields", {3, 2, 4, 4}, {1, 2, 4, 4});
  expect_io_error(
      [&] {
        out.create_chunked_floats("/fields", {3, 2, 4, 4}, {1, 2, 4, 4});
      },
      {"'/fields'", "exists"});
  expect_io_error(
      [&] {
        out.create_chunked_floats("/other", {3, 2}, {1, 3});
      },
      {"chunk 1x3 does not fit shape 3x2"});
  out.commit();
  const H5File in = H5File::open(file("chunked.h5"));
  EXPECT_EQ(in.shape("/fields"), (std::vector<std::size_t>{3, 2, 4, 4}));
  std::vector<std::size_t> shape;
  EXPECT_EQ(in.read_float_rows("/fields", 1, 2, &shape).size(), 64u);
  EXPECT_EQ(shape, (std::vector<std::size_t>{3, 2, 4, 4}));
  expect_io_error([&] { in.read_float_rows("/fields", 2, 2); }, {"rows [2, 4) are beyond its 3"});
}

}  // namespace
}  // namespace eqflow::io
