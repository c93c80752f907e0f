// Matrix readers: CSV/text in its common dialects (header, comments, separators, CRLF) and
// HDF5 datasets, and one clear error line, naming the file and line or row, for each
// kind of bad input.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/io/matrix_file.hpp"
#include "support/files.hpp"

namespace eqflow::io {
namespace {

namespace fs = std::filesystem;

class MatrixFileTest : public test::TempDirTest {
 protected:
  //! Writes `text` verbatim to a file in the test directory and returns its path.
  std::string text_file(const std::string& name, const std::string& text) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
};

template <class F>
void expect_io_error(F&& body, const std::vector<std::string>& parts) {
  test::expect_error_containing<IoError>(std::forward<F>(body), parts);
}

TEST_F(MatrixFileTest, ReadsCommaSeparatedWithHeaderAndComments) {
  const std::string path = text_file("lorenz.csv",
                                     "# Lorenz snapshots\n"
                                     "x,y,z\n"
                                     "\n"
                                     "1.0, 2.0, 3.0\n"
                                     "  # a comment line\n"
                                     "-4e-1,+5,6.25e+2  # trailing comment\n"
                                     "7,8,9\n");
  const Matrix m = read_matrix_csv(path);
  EXPECT_EQ(m.rows, 3u);
  EXPECT_EQ(m.cols, 3u);
  EXPECT_EQ(m.values, (std::vector<double>{1, 2, 3, -0.4, 5, 625, 7, 8, 9}));
  EXPECT_EQ(m(1, 2), 625.0);
}

TEST_F(MatrixFileTest, AcceptsOtherSeparatorsLineEndingsAndQuotes) {
  const std::vector<double> expected = {0.5, -1.5, 2.0, 3.0};
  const auto check = [&](const std::string& name, const std::string& text) {
    const Matrix m = read_matrix_csv(text_file(name, text));
    EXPECT_EQ(m.rows, 2u) << name;
    EXPECT_EQ(m.cols, 2u) << name;
    EXPECT_EQ(m.values, expected) << name;
  };
  check("space.txt", "0.5 -1.5\n2   3\n");
  check("tab.tsv", "a\tb\n0.5\t-1.5\n\t2\t3\t\n");
  check("semicolon.csv", "0.5;-1.5\n2;3\n");
  check("crlf.csv", "\"x\",\"y\"\r\n0.5,-1.5\r\n2,3\r\n");
  check("bom.csv", "\xEF\xBB\xBFx,y\n0.5,-1.5\n2,3");  // Excel's BOM, no final newline
  check("noheader.csv", "0.5,-1.5\n\n\n2,3\n\n");

  const Matrix single = read_matrix_csv(text_file("column.txt", "value\n1\n2\n3\n"));
  EXPECT_EQ(single.rows, 3u);
  EXPECT_EQ(single.cols, 1u);
}

TEST_F(MatrixFileTest, CsvErrorsNameFileAndLine) {
  const std::string missing = file("missing.csv");
  expect_io_error([&] { read_matrix_csv(missing); }, {missing, "file not found"});
  expect_io_error([&] { read_matrix_csv(dir_.string()); }, {"is a directory"});

  std::string rows = "x,y,z\n";
  for (int i = 2; i < 17; ++i) rows += "1,2,3\n";
  const std::string ragged = text_file("ragged.csv", rows + "4,5\n");
  expect_io_error([&] { read_matrix_csv(ragged); },
                  {ragged + ":17: 2 columns, expected 3", "line 1"});
  const std::string wide = text_file("wide.csv", "1 2\n3 4 5\n");
  expect_io_error([&] { read_matrix_csv(wide); }, {wide + ":2: 3 columns, expected 2"});

  const std::string word = text_file("word.csv", "x,y\n1,2\n3,abc\n");
  expect_io_error([&] { read_matrix_csv(word); }, {word + ":3: column 2: 'abc' is not a number"});
  const std::string mixed = text_file("mixed.csv", "1.0,2.O\n");
  expect_io_error([&] { read_matrix_csv(mixed); },
                  {mixed + ":1: column 2: '2.O' is not a number", "header"});
  const std::string plusminus = text_file("plusminus.csv", "1,+-2\n");
  expect_io_error([&] { read_matrix_csv(plusminus); }, {plusminus + ":1: column 2"});
  const std::string empty_field = text_file("emptyfield.csv", "1,2,3\n4,,6\n");
  expect_io_error([&] { read_matrix_csv(empty_field); }, {empty_field + ":2: column 2 is empty"});

  const std::string nan = text_file("nan.csv", "1,2\n3,nan\n");
  expect_io_error([&] { read_matrix_csv(nan); }, {nan + ":2: column 2: 'nan' is not finite"});
  const std::string inf = text_file("inf.csv", "a b\n-inf 1\n");
  expect_io_error([&] { read_matrix_csv(inf); }, {inf + ":2: column 1: '-inf' is not finite"});
  const std::string huge = text_file("huge.csv", "1e999\n");
  expect_io_error([&] { read_matrix_csv(huge); }, {huge + ":1: column 1", "range"});

  const std::string empty = text_file("empty.csv", "");
  expect_io_error([&] { read_matrix_csv(empty); }, {empty, "no data rows"});
  const std::string comments = text_file("comments.csv", "# nothing here\n\n   \n");
  expect_io_error([&] { read_matrix_csv(comments); }, {comments, "no data rows"});
  const std::string header_only = text_file("header.csv", "x,y\n");
  expect_io_error([&] { read_matrix_csv(header_only); }, {header_only, "no data rows"});
}

TEST_F(MatrixFileTest, ReadsHdf5DatasetsOfAnyNumericType) {
  const std::string path = file("snapshots.h5");
  {
    H5File out = H5File::create(path);
    out.write("/data/x", std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2});
    out.write("/column", std::vector<float>{0.5f, 1.5f});
    out.write("/counts", std::vector<std::int64_t>{1, 2, 3, 4}, {2, 2});
    out.commit();
  }
  const Matrix x = read_matrix_hdf5(path, "/data/x");
  EXPECT_EQ(x.rows, 3u);
  EXPECT_EQ(x.cols, 2u);
  EXPECT_EQ(x.values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(x(2, 0), 5.0);
  const Matrix column = read_matrix_hdf5(path, "column");
  EXPECT_EQ(column.rows, 2u);
  EXPECT_EQ(column.cols, 1u);
  EXPECT_EQ(column.values, (std::vector<double>{0.5, 1.5}));
  const Matrix counts = read_matrix_hdf5(path, "/counts");
  EXPECT_EQ(counts.values, (std::vector<double>{1, 2, 3, 4}));
}

TEST_F(MatrixFileTest, Hdf5ErrorsNameFileDatasetAndRow) {
  const std::string missing = file("missing.h5");
  expect_io_error([&] { read_matrix_hdf5(missing, "/x"); }, {missing, "file not found"});

  const std::string path = file("bad.h5");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  {
    H5File out = H5File::create(path);
    out.write("/samples", std::vector<double>{1, 2}, {1, 2});
    out.write("/cube", std::vector<double>(24, 1.0), {2, 3, 4});
    out.write("/scalar", 1.0);
    out.write("/holes", std::vector<double>{1, 2, 3, 4, 5, nan}, {3, 2});
    out.write("/blowup", std::vector<double>{1, 2, inf, 4}, {2, 2});
    out.write("/none", std::vector<double>{}, {0, 3});
    out.write("/flat", std::vector<double>{}, {4, 0});
    out.write_string("/label", "ring");
    out.write("/group/inner", 1.0);
    out.commit();
  }
  expect_io_error([&] { read_matrix_hdf5(path, "/snapshots"); },
                  {path, "dataset '/snapshots' not found", "samples"});
  expect_io_error([&] { read_matrix_hdf5(path, "/group/other"); },
                  {path, "dataset '/group/other' not found", "inner"});
  expect_io_error([&] { read_matrix_hdf5(path, "/cube"); },
                  {path, "'/cube' has rank 3 (2 x 3 x 4), expected a 2-D N x d array"});
  expect_io_error([&] { read_matrix_hdf5(path, "/scalar"); },
                  {path, "'/scalar' has rank 0", "expected a 2-D N x d array"});
  expect_io_error([&] { read_matrix_hdf5(path, "/holes"); },
                  {path, "'/holes': row 2", "column 1 is NaN"});
  expect_io_error([&] { read_matrix_hdf5(path, "/blowup"); },
                  {path, "'/blowup': row 1", "column 0 is inf"});
  expect_io_error([&] { read_matrix_hdf5(path, "/none"); }, {path, "'/none' has 0 rows"});
  expect_io_error([&] { read_matrix_hdf5(path, "/flat"); }, {path, "'/flat' has 0 columns"});
  expect_io_error([&] { read_matrix_hdf5(path, "/label"); }, {path, "'/label' has rank 0"});
  expect_io_error([&] { read_matrix_hdf5(path, "/group"); },
                  {path, "'/group' is a group, expected a 2-D N x d dataset"});
}

// The rank is read from the dataspace before the data: a rank-3 dataset of 2^60 chunked
// (never written, so unallocated) values is refused at once instead of read whole.
TEST_F(MatrixFileTest, Hdf5RankIsCheckedBeforeReading) {
  const std::string path = file("huge.h5");
  {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[3] = {1ull << 20, 1ull << 20, 1ull << 20}, chunk[3] = {1, 1, 16};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(plist, 3, chunk);
    const hid_t d =
        H5Dcreate2(f, "cube", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    H5Dclose(d);
    H5Pclose(plist);
    H5Sclose(space);
    H5Fclose(f);
  }
  expect_io_error([&] { read_matrix_hdf5(path, "/cube"); },
                  {path, "'/cube' has rank 3 (1048576 x 1048576 x 1048576)", "expected a 2-D"});
}

}  // namespace
}  // namespace eqflow::io
