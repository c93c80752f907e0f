// H5File: round trips of every dataset and attribute type, group creation and listing,
// provenance, atomic commit (nothing appears before commit, nothing is left without it),
// in-place edits, and the error messages of every failure.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/version.hpp"
#include "support/files.hpp"

namespace eqflow::io {
namespace {

namespace fs = std::filesystem;

//! Each test gets its own empty directory under GoogleTest's temporary directory.
class H5FileTest : public test::TempDirTest {
 protected:
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    return names;
  }
};

template <class F>
void expect_io_error(F&& body, const std::vector<std::string>& parts) {
  test::expect_error_containing<IoError>(std::forward<F>(body), parts);
}

TEST_F(H5FileTest, RoundTripsEveryDatasetType) {
  const std::string path = file("types.h5");
  const std::vector<double> d = {1.5, -2.25, 3.0, 1e-300, 1e300, -0.0};
  const std::vector<float> f = {0.5f, -1.25f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f};
  const std::vector<std::int64_t> i = {-9007199254740993LL, 0, 42, INT64_MAX};
  const std::string text = "ring: 1 <= r <= 2, µm, Zürich";
  {
    H5File out = H5File::create(path);
    out.write("/d2", d, {2, 3});
    out.write("/f3", f, {2, 2, 2});
    out.write("/i1", i);
    out.write("/empty", std::vector<double>{});
    out.write("/empty2", std::vector<float>{}, {0, 4});
    out.write("/scalar_d", 2.5);
    out.write("/scalar_i", std::int64_t{-7});
    out.write("/scalar_int", 11);
    out.write("/scalar_size", std::size_t{123456789012});
    out.write_string("/text", text);
    out.write_string("/empty_text", "");
    out.commit();
  }
  const H5File in = H5File::open(path);
  std::vector<std::size_t> shape;
  EXPECT_EQ(in.read_doubles("/d2", &shape), d);
  EXPECT_EQ(shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(in.read_floats("/f3", &shape), f);
  EXPECT_EQ(shape, (std::vector<std::size_t>{2, 2, 2}));
  EXPECT_EQ(in.read_ints("/i1", &shape), i);
  EXPECT_EQ(shape, (std::vector<std::size_t>{4}));
  EXPECT_TRUE(in.read_doubles("/empty", &shape).empty());
  EXPECT_EQ(shape, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(in.read_floats("/empty2", &shape).empty());
  EXPECT_EQ(shape, (std::vector<std::size_t>{0, 4}));
  EXPECT_EQ(in.read_double("/scalar_d"), 2.5);
  EXPECT_EQ(in.read_int("/scalar_i"), -7);
  EXPECT_EQ(in.read_int("/scalar_int"), 11);
  EXPECT_EQ(in.read_int("/scalar_size"), 123456789012);
  EXPECT_TRUE(in.shape("/scalar_d").empty());
  EXPECT_EQ(in.read_doubles("/scalar_d", &shape), std::vector<double>{2.5});
  EXPECT_TRUE(shape.empty());
  EXPECT_EQ(in.read_string("/text"), text);
  EXPECT_EQ(in.read_string("/empty_text"), "");
  EXPECT_EQ(in.shape("/f3"), (std::vector<std::size_t>{2, 2, 2}));
}

TEST_F(H5FileTest, ConvertsNumericTypesOnRead) {
  const std::string path = file("convert.h5");
  {
    H5File out = H5File::create(path);
    out.write("/ints", std::vector<std::int64_t>{1, -2, 3});
    out.write("/floats", std::vector<float>{0.25f, 8.0f});
    out.write("/doubles", std::vector<double>{0.1, 2.0});
    out.write("/one", std::vector<double>{4.5}, {1});
    out.commit();
  }
  const H5File in = H5File::open(path);
  EXPECT_EQ(in.read_doubles("/ints"), (std::vector<double>{1.0, -2.0, 3.0}));
  EXPECT_EQ(in.read_doubles("/floats"), (std::vector<double>{0.25, 8.0}));
  EXPECT_EQ(in.read_floats("/doubles"), (std::vector<float>{0.1f, 2.0f}));
  EXPECT_EQ(in.read_floats("/ints"), (std::vector<float>{1.0f, -2.0f, 3.0f}));
  EXPECT_EQ(in.read_double("/one"), 4.5);  // a one-element array is a scalar too
  // Integers are never silently truncated from floats.
  expect_io_error([&] { in.read_ints("/doubles"); },
                  {path, "dataset '/doubles'", "floating-point", "expected integers"});
  expect_io_error([&] { in.read_double("/ints"); },
                  {path, "dataset '/ints'", "shape 3", "expected a single value"});
}

TEST_F(H5FileTest, ReadsForeignIntegerAndFixedLengthStringData) {
  // Files written by other tools: 32-bit integers, fixed-length ASCII strings.
  const std::string path = file("foreign.h5");
  {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t n = 3;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d =
        H5Dcreate2(f, "i32", H5T_STD_I32BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const int values[3] = {5, -6, 7};
    H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 8);
    H5Tset_strpad(str, H5T_STR_NULLPAD);
    const hid_t s = H5Dcreate2(f, "fixed", str, scalar, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char text[8] = {'m', 'a', 'z', 'e', 0, 0, 0, 0};
    H5Dwrite(s, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, text);
    const hid_t a = H5Acreate2(f, "label", str, scalar, H5P_DEFAULT, H5P_DEFAULT);
    const char label[8] = {'s', 'p', 'o', 't', 's', 0, 0, 0};
    H5Awrite(a, str, label);
    const hid_t full = H5Tcopy(str);
    H5Tset_size(full, 4);
    const hid_t s4 = H5Dcreate2(f, "full", full, scalar, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(s4, full, H5S_ALL, H5S_ALL, H5P_DEFAULT, "life");
    H5Dclose(s4);
    H5Tclose(full);
    H5Aclose(a);
    H5Dclose(s);
    H5Tclose(str);
    H5Sclose(scalar);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
  }
  const H5File in = H5File::open(path);
  EXPECT_EQ(in.read_ints("/i32"), (std::vector<std::int64_t>{5, -6, 7}));
  EXPECT_EQ(in.read_doubles("/i32"), (std::vector<double>{5.0, -6.0, 7.0}));
  EXPECT_EQ(in.read_string("/fixed"), "maze");
  EXPECT_EQ(in.read_string("/full"), "life");
  EXPECT_EQ(in.attribute_string("/", "label"), "spots");
}

TEST_F(H5FileTest, RoundTripsAttributesOnRootGroupsAndDatasets) {
  const std::string path = file("attrs.h5");
  {
    H5File out = H5File::create(path);
    out.write("/flow/loss", std::vector<double>{1.0, 0.5});
    out.set_attribute("/", "title", "two peaks");
    out.set_attribute("/", "seed", std::int64_t{1234567890123});
    out.set_attribute("/", "epochs", 512);
    out.set_attribute("/flow", "t", 0.2);
    out.set_attribute("/flow", "units", std::string("dimensionless"));
    out.set_attribute("/flow/loss", "shape", std::vector<double>{2.0});
    out.set_attribute("flow/loss", "range", std::vector<double>{0.5, 1.0, -3.0});
    out.set_attribute("/flow/loss", "none", std::vector<double>{});
    out.set_attribute("/flow", "t", 0.1);               // replaced, same type
    out.set_attribute("/", "title", std::int64_t{-1});  // replaced, other type
    out.commit();
  }
  const H5File in = H5File::open(path);
  EXPECT_EQ(in.attribute_int("/", "title"), -1);
  EXPECT_EQ(in.attribute_int("/", "seed"), 1234567890123);
  EXPECT_EQ(in.attribute_int("/", "epochs"), 512);
  EXPECT_EQ(in.attribute_double("/", "epochs"), 512.0);  // integers convert to double
  EXPECT_EQ(in.attribute_double("/flow", "t"), 0.1);
  EXPECT_EQ(in.attribute_string("/flow", "units"), "dimensionless");
  EXPECT_EQ(in.attribute_doubles("/flow/loss", "shape"), std::vector<double>{2.0});
  EXPECT_EQ(in.attribute_doubles("/flow/loss", "range"), (std::vector<double>{0.5, 1.0, -3.0}));
  EXPECT_TRUE(in.attribute_doubles("/flow/loss", "none").empty());
  EXPECT_EQ(in.attribute_doubles("/flow", "t"), std::vector<double>{0.1});
  EXPECT_TRUE(in.has_attribute("/flow", "units"));
  EXPECT_FALSE(in.has_attribute("/flow", "unit"));
  EXPECT_FALSE(in.has_attribute("/", "units"));

  expect_io_error([&] { in.attribute_double("/flow", "missing"); },
                  {path, "attribute 'missing' of '/flow' not found"});
  expect_io_error([&] { in.attribute_double("/nowhere", "t"); },
                  {path, "object '/nowhere' not found"});
  expect_io_error([&] { in.has_attribute("/nowhere", "t"); }, {path, "'/nowhere' not found"});
  expect_io_error([&] { in.attribute_int("/flow", "t"); },
                  {path, "attribute 't' of '/flow'", "expected integers"});
  expect_io_error([&] { in.attribute_string("/flow", "t"); },
                  {path, "attribute 't' of '/flow' is not a string"});
  expect_io_error([&] { in.attribute_double("/flow/loss", "range"); },
                  {path, "attribute 'range' of '/flow/loss' has shape 3", "single value"});
  expect_io_error([&] { in.attribute_doubles("/flow", "units"); }, {path, "not numeric"});
}

TEST_F(H5FileTest, CreatesGroupsAndListsChildren) {
  const std::string path = file("groups.h5");
  H5File out = H5File::create(path);
  out.write("/seeds/000/flow/loss", std::vector<double>{1.0});
  out.write("seeds/000/flow/params", std::vector<float>{1.0f, 2.0f});
  out.write("/seeds//001/lyapunov/", 0.025);
  out.write("/dataset/x", std::vector<double>{0.0, 1.0}, {1, 2});

  EXPECT_EQ(out.list("/"), (std::vector<std::string>{"dataset", "seeds"}));
  EXPECT_EQ(out.list(), (std::vector<std::string>{"dataset", "seeds"}));
  EXPECT_EQ(out.list("/seeds"), (std::vector<std::string>{"000", "001"}));
  EXPECT_EQ(out.list("/seeds/000/flow"), (std::vector<std::string>{"loss", "params"}));
  EXPECT_TRUE(out.exists("/"));
  EXPECT_TRUE(out.exists("/seeds"));
  EXPECT_TRUE(out.exists("seeds/001/lyapunov"));
  EXPECT_TRUE(out.exists("/seeds/000/flow/params/"));
  EXPECT_FALSE(out.exists("/seeds/002"));
  EXPECT_FALSE(out.exists("/seeds/002/flow/loss"));
  EXPECT_FALSE(out.exists("/dataset/x/y"));  // below a dataset
  EXPECT_TRUE(out.is_group("/seeds/000"));
  EXPECT_FALSE(out.is_group("/dataset/x"));
  EXPECT_FALSE(out.is_group("/missing"));
  EXPECT_EQ(out.read_double("/seeds/001/lyapunov"), 0.025);

  expect_io_error([&] { out.list("/dataset/x"); },
                  {path, "'/dataset/x' is a dataset, expected a group"});
  expect_io_error([&] { out.list("/seeds/009"); }, {path, "group '/seeds/009' not found"});
  expect_io_error([&] { out.read_doubles("/seeds/000"); },
                  {path, "'/seeds/000' is a group, expected a dataset"});
  expect_io_error([&] { out.write("/dataset/x/y", 1.0); },
                  {path, "cannot create dataset '/dataset/x/y'"});
  expect_io_error([&] { out.write("/seeds", 1.0); }, {path, "'/seeds'", "group"});
  out.commit();
  EXPECT_EQ(H5File::open(path).list("/seeds/001"), std::vector<std::string>{"lyapunov"});
}

TEST_F(H5FileTest, OverwritesDatasetsInPlaceOrByReplacement) {
  const std::string path = file("overwrite.h5");
  H5File out = H5File::create(path);
  out.write("/x", std::vector<double>{1.0, 2.0});
  out.set_attribute("/x", "units", "m");
  out.write("/x", std::vector<double>{3.0, 4.0});  // same type and shape: in place
  EXPECT_EQ(out.read_doubles("/x"), (std::vector<double>{3.0, 4.0}));
  EXPECT_TRUE(out.has_attribute("/x", "units"));
  out.write("/x", std::vector<double>{5.0, 6.0, 7.0});  // new shape: replaced
  EXPECT_EQ(out.read_doubles("/x"), (std::vector<double>{5.0, 6.0, 7.0}));
  out.write("/x", std::vector<std::int64_t>{8});  // new type: replaced
  EXPECT_EQ(out.read_ints("/x"), std::vector<std::int64_t>{8});
  out.write_string("/x", "now text");
  EXPECT_EQ(out.read_string("/x"), "now text");
  out.write_string("/x", "text again");
  EXPECT_EQ(out.read_string("/x"), "text again");
  out.commit();
}

TEST_F(H5FileTest, ProvenanceDescribesTheFile) {
  const std::string path = file("provenance.h5");
  {
    H5File out = H5File::create(path);
    write_provenance(out, "eqflow.run", 3);
    out.commit();
  }
  const H5File in = H5File::open(path);
  EXPECT_EQ(in.attribute_string("/", "software"), "eqflow");
  EXPECT_EQ(in.attribute_string("/", "softwareVersion"), kVersion);
  EXPECT_EQ(in.attribute_string("/", "gitRevision"), kGitRevision);
  EXPECT_FALSE(in.attribute_string("/", "gitRevision").empty());
  EXPECT_EQ(in.attribute_string("/", "schema"), "eqflow.run");
  EXPECT_EQ(in.attribute_int("/", "schemaVersion"), 3);
  const std::string date = in.attribute_string("/", "date");
  EXPECT_TRUE(std::regex_match(date, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << date;
  EXPECT_GE(date.substr(0, 4), "2024");
}

TEST_F(H5FileTest, CommitPublishesTheFileAtomically) {
  const std::string path = file("run.h5");
  H5File out = H5File::create(path);
  EXPECT_EQ(out.path(), path);
  EXPECT_TRUE(out.writable());
  EXPECT_EQ(fs::path(out.temporary_path()).parent_path(), fs::path(path).parent_path());
  out.write("/x", std::vector<double>{1.0, 2.0, 3.0});
  EXPECT_FALSE(fs::exists(path)) << "the file must not appear before commit()";
  EXPECT_TRUE(fs::exists(out.temporary_path()));
  out.commit();
  EXPECT_FALSE(out.is_open());
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(out.temporary_path()));
  EXPECT_EQ(entries(), std::vector<std::string>{"run.h5"});
  EXPECT_EQ(H5File::open(path).read_doubles("/x"), (std::vector<double>{1.0, 2.0, 3.0}));

  expect_io_error([&] { out.commit(); }, {path, "closed"});
  expect_io_error([&] { out.write("/y", 1.0); }, {path, "closed"});
  expect_io_error([&] { out.read_doubles("/x"); }, {path, "closed"});
}

TEST_F(H5FileTest, UncommittedFileLeavesNothingBehind) {
  const std::string path = file("abandoned.h5");
  std::string temporary;
  {
    H5File out = H5File::create(path);
    temporary = out.temporary_path();
    out.write("/x", std::vector<double>(1000, 1.0));
    EXPECT_TRUE(fs::exists(temporary));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(temporary));
  EXPECT_TRUE(entries().empty());

  // An error half way through: the exception unwinds and the partial file disappears.
  try {
    H5File out = H5File::create(path);
    out.write("/x", 1.0);
    out.write("/x/y", 2.0);  // below a dataset: throws
    out.commit();
  } catch (const IoError&) {
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(H5FileTest, CommitReplacesAnExistingFileOnlyWhenDone) {
  const std::string path = file("seed_007.h5");
  {
    H5File out = H5File::create(path);
    out.write("/version", 1.0);
    out.commit();
  }
  {
    H5File out = H5File::create(path);
    out.write("/version", 2.0);
    EXPECT_EQ(H5File::open(path).read_double("/version"), 1.0);  // old file still intact
  }
  EXPECT_EQ(H5File::open(path).read_double("/version"), 1.0);  // abandoned: old file kept
  {
    H5File out = H5File::create(path);
    out.write("/version", 3.0);
    out.commit();
  }
  EXPECT_EQ(H5File::open(path).read_double("/version"), 3.0);
  EXPECT_EQ(entries(), std::vector<std::string>{"seed_007.h5"});
}

TEST_F(H5FileTest, OpenReadWriteEditsAtomically) {
  const std::string path = file("checkpoint.h5");
  {
    H5File out = H5File::create(path);
    out.write("/epoch", 10);
    out.set_attribute("/", "schema", "eqflow.checkpoint");
    out.commit();
  }
  {
    H5File edit = H5File::open_rw(path);
    EXPECT_EQ(edit.read_int("/epoch"), 10);
    edit.write("/epoch", 20);
    edit.write("/extra", std::vector<double>{1.0});
    // Not committed: the original is untouched and the copy is removed.
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"checkpoint.h5"});
  EXPECT_EQ(H5File::open(path).read_int("/epoch"), 10);
  EXPECT_FALSE(H5File::open(path).exists("/extra"));
  {
    H5File edit = H5File::open_rw(path);
    edit.write("/epoch", 30);
    edit.commit();
  }
  const H5File in = H5File::open(path);
  EXPECT_EQ(in.read_int("/epoch"), 30);
  EXPECT_EQ(in.attribute_string("/", "schema"), "eqflow.checkpoint");
  EXPECT_EQ(entries(), std::vector<std::string>{"checkpoint.h5"});
}

TEST_F(H5FileTest, MovedFileKeepsItsState) {
  const std::string path = file("moved.h5");
  H5File a = H5File::create(path);
  a.write("/x", 1.0);
  H5File b = std::move(a);
  EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  b.write("/y", 2.0);
  H5File c = H5File::create(file("other.h5"));
  c = std::move(b);  // discards other.h5's temporary file
  c.commit();
  EXPECT_EQ(entries(), std::vector<std::string>{"moved.h5"});
  const H5File in = H5File::open(path);
  EXPECT_EQ(in.read_double("/x") + in.read_double("/y"), 3.0);
}

TEST_F(H5FileTest, ErrorsNameTheFileAndTheObject) {
  const std::string missing = file("missing.h5");
  expect_io_error([&] { H5File::open(missing); }, {missing, "file not found"});
  expect_io_error([&] { H5File::open_rw(missing); }, {missing, "file not found"});
  expect_io_error([&] { H5File::open(dir_.string()); }, {"is a directory"});

  const std::string text = file("notes.txt");
  std::ofstream(text) << "not hdf5\n";
  expect_io_error([&] { H5File::open(text); }, {text, "not an HDF5 file"});

  const std::string nodir = file("no/such/dir/out.h5");
  expect_io_error([&] { H5File::create(nodir); }, {nodir, "cannot create temporary file"});

  const std::string path = file("errors.h5");
  {
    H5File out = H5File::create(path);
    out.write("/x", std::vector<double>{1.0, 2.0});
    out.write_string("/name", "ring");
    expect_io_error(
        [&] {
          out.write("/bad", std::vector<double>{1.0, 2.0, 3.0}, {2, 2});
        },
        {path, "dataset '/bad'", "shape 2x2 holds 4 values, but 3 were given"});
    expect_io_error([&] { out.set_attribute("/nowhere", "a", 1.0); },
                    {path, "attribute 'a' of '/nowhere'", "object not found"});
    out.commit();
  }
  H5File in = H5File::open(path);
  EXPECT_FALSE(in.writable());
  expect_io_error([&] { in.read_doubles("/flow/loss"); }, {path, "dataset '/flow/loss' not found"});
  expect_io_error([&] { in.read_string("/missing"); }, {path, "dataset '/missing' not found"});
  expect_io_error([&] { in.shape("/missing"); }, {path, "dataset '/missing' not found"});
  expect_io_error([&] { in.read_string("/x"); }, {path, "dataset '/x' is not a string"});
  expect_io_error([&] { in.read_doubles("/name"); }, {path, "dataset '/name' is not numeric"});
  expect_io_error([&] { in.write("/y", 1.0); }, {path, "read-only"});
  expect_io_error([&] { in.set_attribute("/", "a", 1.0); }, {path, "read-only"});
  expect_io_error([&] { in.commit(); }, {path, "read-only"});
}

}  // namespace
}  // namespace eqflow::io
