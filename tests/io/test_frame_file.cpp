// The frame writer (io::FrameWriter): frames and times read back after commit() with their
// attributes and provenance, Views of float and double, the `.partial` file an uncommitted or
// killed writer leaves, chunking, errors, and a SWMR reader in another process (forked before
// the writer opens the file, so it shares no HDF5 state with it) that sees every frame as it is
// appended.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/io/frame_file.hpp"
#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/version.hpp"
#include "support/files.hpp"

namespace eqflow::io {
namespace {

using FrameFileTest = test::TempDirTest;
namespace fs = std::filesystem;

constexpr std::size_t kN = 2, kC = 2, kH = 4, kW = 6, kFrameSize = kN * kC * kH * kW;

//! Value i of frame t (exact in float32 for the sizes used here).
float value(std::size_t t, std::size_t i) {
  return 1000.0f * static_cast<float>(t) + 0.5f * static_cast<float>(i);
}
double time_of(std::size_t t) {
  return 0.25 * static_cast<double>(t) + 1.0;
}
std::vector<float> frame(std::size_t t) {
  std::vector<float> f(kFrameSize);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = value(t, i);
  return f;
}

//! The chunk extents of a dataset.
std::vector<hsize_t> chunk_of(const std::string& path, const std::string& dataset) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t data = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
  const hid_t dcpl = H5Dget_create_plist(data);
  std::vector<hsize_t> chunk(5, 0);
  const int rank = H5Pget_chunk(dcpl, 5, chunk.data());
  chunk.resize(rank > 0 ? static_cast<std::size_t>(rank) : 0);
  H5Pclose(dcpl);
  H5Dclose(data);
  H5Fclose(file);
  return chunk;
}

//! What a SWMR reader sees: the lengths of both datasets and whether every complete frame
//! [0, len(time)) and its time hold the expected values.
struct Seen {
  std::int64_t frames = -1;
  std::int64_t times = -1;
  std::int64_t values_ok = 0;
};

//! A SWMR reader (H5F_ACC_SWMR_READ): opens the file at the first look, refreshes both datasets
//! at every later one.
class SwmrReader {
 public:
  SwmrReader(std::string path, std::string dataset)
      : path_(std::move(path)), dataset_(std::move(dataset)) {}
  ~SwmrReader() {
    if (times_ >= 0) H5Dclose(times_);
    if (frames_ >= 0) H5Dclose(frames_);
    if (file_ >= 0) H5Fclose(file_);
  }
  SwmrReader(const SwmrReader&) = delete;
  SwmrReader& operator=(const SwmrReader&) = delete;

  Seen look() {
    Seen seen;
    if (file_ < 0) {
      file_ = H5Fopen(path_.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
      if (file_ < 0) return seen;
      frames_ = H5Dopen2(file_, dataset_.c_str(), H5P_DEFAULT);
      times_ = H5Dopen2(file_, frame_times_path(dataset_).c_str(), H5P_DEFAULT);
      if (frames_ < 0 || times_ < 0) return seen;
    } else if (H5Drefresh(frames_) < 0 || H5Drefresh(times_) < 0) {
      return seen;
    }
    hsize_t frame_dims[5] = {}, time_dims[1] = {};
    const hid_t frame_space = H5Dget_space(frames_), time_space = H5Dget_space(times_);
    H5Sget_simple_extent_dims(frame_space, frame_dims, nullptr);
    H5Sget_simple_extent_dims(time_space, time_dims, nullptr);
    H5Sclose(frame_space);
    H5Sclose(time_space);
    seen.frames = static_cast<std::int64_t>(frame_dims[0]);
    seen.times = static_cast<std::int64_t>(time_dims[0]);
    bool ok = frame_dims[1] == kN && frame_dims[2] == kC && frame_dims[3] == kH &&
              frame_dims[4] == kW && time_dims[0] <= frame_dims[0];
    const std::size_t complete = time_dims[0];
    if (ok && complete > 0) {
      std::vector<float> values(frame_dims[0] * kFrameSize);
      std::vector<double> times(complete);
      ok = H5Dread(frames_, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0 &&
           H5Dread(times_, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, times.data()) >= 0;
      for (std::size_t t = 0; ok && t < complete; ++t) {
        ok = times[t] == time_of(t);
        for (std::size_t i = 0; ok && i < kFrameSize; ++i)
          ok = values[t * kFrameSize + i] == value(t, i);
      }
    }
    seen.values_ok = ok ? 1 : 0;
    return seen;
  }

 private:
  std::string path_, dataset_;
  hid_t file_ = -1, frames_ = -1, times_ = -1;
};

//! A forked child process running a SwmrReader, asked to look through a pipe: the parent
//! writes any byte, the child answers with a Seen. Closing the request pipe ends the child.
class ReaderProcess {
 public:
  ReaderProcess(const std::string& path, const std::string& dataset) {
    int request[2], answer[2];
    if (::pipe(request) != 0 || ::pipe(answer) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(request[1]);
      ::close(answer[0]);
      int code = 0;
      {
        SwmrReader reader(path, dataset);
        char byte = 0;
        while (::read(request[0], &byte, 1) == 1) {
          const Seen seen = reader.look();
          if (::write(answer[1], &seen, sizeof(seen)) != sizeof(seen)) code = 1;
        }
      }
      ::_exit(code);  // no test teardown or Kokkos finalisation in the child
    }
    ::close(request[0]);
    ::close(answer[1]);
    request_ = request[1];
    answer_ = answer[0];
  }
  ~ReaderProcess() { finish(); }
  ReaderProcess(const ReaderProcess&) = delete;
  ReaderProcess& operator=(const ReaderProcess&) = delete;

  bool started() const { return pid_ > 0; }
  //! What the child sees now (frames = -1 if it did not answer).
  Seen look() {
    Seen seen;
    const char byte = 'l';
    if (::write(request_, &byte, 1) != 1) return seen;
    std::size_t got = 0;
    auto* bytes = reinterpret_cast<char*>(&seen);
    while (got < sizeof(seen)) {
      const ssize_t r = ::read(answer_, bytes + got, sizeof(seen) - got);
      if (r <= 0) return Seen{};
      got += static_cast<std::size_t>(r);
    }
    return seen;
  }
  //! Ends the child and returns its exit status (0: every answer was sent).
  int finish() {
    if (request_ >= 0) ::close(request_);
    if (answer_ >= 0) ::close(answer_);
    request_ = answer_ = -1;
    int status = -1;
    if (pid_ > 0 && ::waitpid(pid_, &status, 0) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int request_ = -1, answer_ = -1;
};

TEST_F(FrameFileTest, AppendsFramesAndCommits) {
  const std::string path = file("run.h5");
  const FieldAttributes attributes = {
      {"preset", std::string("spots")}, {"seed", std::int64_t{7}}, {"dt", 0.01}};
  FrameWriter writer(path, "frames", kN, kC, kH, kW, attributes);
  EXPECT_EQ(writer.working_path(), path + ".partial");
  EXPECT_EQ(writer.frame_shape(), (FieldShape{kN, kC, kH, kW}));
  for (std::size_t t = 0; t < 5; ++t) writer.append(frame(t).data(), time_of(t));
  EXPECT_EQ(writer.frames(), 5u);
  EXPECT_TRUE(fs::exists(path + ".partial"));
  EXPECT_FALSE(fs::exists(path));
  writer.commit();
  EXPECT_FALSE(writer.is_open());
  EXPECT_FALSE(fs::exists(path + ".partial"));

  {
    const H5File file = H5File::open(path);
    std::vector<std::size_t> shape;
    const std::vector<float> values = file.read_floats("frames", &shape);
    EXPECT_EQ(shape, (std::vector<std::size_t>{5, kN, kC, kH, kW}));
    for (std::size_t t = 0; t < 5; ++t) {
      for (std::size_t i = 0; i < kFrameSize; ++i) {
        ASSERT_EQ(values[t * kFrameSize + i], value(t, i)) << "frame " << t << ", value " << i;
      }
    }
    EXPECT_EQ(frame_times_path("frames"), "frames_time");
    EXPECT_EQ(file.read_doubles("frames_time", &shape),
              (std::vector<double>{1.0, 1.25, 1.5, 1.75, 2.0}));
    EXPECT_EQ(shape, (std::vector<std::size_t>{5}));
    EXPECT_EQ(file.list("/"), (std::vector<std::string>{"frames", "frames_time"}));

    EXPECT_EQ(file.attribute_string("frames", "preset"), "spots");
    EXPECT_EQ(file.attribute_int("frames", "seed"), 7);
    EXPECT_EQ(file.attribute_double("frames", "dt"), 0.01);
    EXPECT_NE(file.attribute_string("frames", "layout").find("(T, N, C, H, W)"), std::string::npos);
    EXPECT_TRUE(file.has_attribute("frames_time", "description"));
    EXPECT_EQ(file.attribute_string("/", "software"), "eqflow");
    EXPECT_EQ(file.attribute_string("/", "softwareVersion"), kVersion);
    EXPECT_EQ(file.attribute_string("/", "gitRevision"), kGitRevision);
    EXPECT_EQ(file.attribute_string("/", "schema"), "eqflow.frames");
    EXPECT_EQ(file.attribute_int("/", "schemaVersion"), 1);
    EXPECT_EQ(file.attribute_string("/", "date").size(), 20u);  // 2025-01-02T03:04:05Z
  }
  // One frame per chunk; the frame axis unlimited. (Opened after the H5File closed: HDF5 opens a
  // file twice in one process only with the same file close degree.)
  EXPECT_EQ(chunk_of(path, "frames"), (std::vector<hsize_t>{1, kN, kC, kH, kW}));
  const hid_t h5 = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t data = H5Dopen2(h5, "frames", H5P_DEFAULT);
  const hid_t space = H5Dget_space(data);
  hsize_t max_dims[5] = {};
  H5Sget_simple_extent_dims(space, nullptr, max_dims);
  EXPECT_EQ(max_dims[0], H5S_UNLIMITED);
  EXPECT_EQ(max_dims[4], kW);
  H5Sclose(space);
  H5Dclose(data);
  H5Fclose(h5);
}

TEST_F(FrameFileTest, AppendsViewsOfFloatAndDoubleInAGroup) {
  const std::string path = file("views.h5");
  FrameWriter writer(path, "/sde/u", kN, kC, kH, kW, {});
  View4<double> doubles("doubles", kN, kC, kH, kW);
  View4<float> floats("floats", kN, kC, kH, kW);
  auto hd = Kokkos::create_mirror_view(doubles);
  auto hf = Kokkos::create_mirror_view(floats);
  for (std::size_t i = 0; i < kFrameSize; ++i) {
    hd.data()[i] = static_cast<double>(value(0, i)) + 0.1;  // not a float: rounded when written
    hf.data()[i] = value(1, i);
  }
  Kokkos::deep_copy(doubles, hd);
  Kokkos::deep_copy(floats, hf);
  writer.append(doubles, time_of(0));
  writer.append(floats, time_of(1));
  test::expect_error_containing<ShapeError>(
      [&] { writer.append(View4<float>("wrong", kN, kC, kH, kW + 1), 0.0); },
      {"views.h5.partial", "'wrong'", "(2, 2, 4, 7)", "'/sde/u'", "(2, 2, 4, 6)"});
  EXPECT_EQ(writer.frames(), 2u);
  writer.commit();
  test::expect_error_containing<IoError>([&] { writer.append(frame(2).data(), 0.0); },
                                         {"views.h5.partial", "committed"});
  test::expect_error_containing<IoError>([&] { writer.commit(); }, {"views.h5", "committed"});

  const H5File file = H5File::open(path);
  const std::vector<float> values = file.read_floats("/sde/u");
  ASSERT_EQ(values.size(), 2 * kFrameSize);
  for (std::size_t i = 0; i < kFrameSize; ++i) {
    EXPECT_EQ(values[i], static_cast<float>(static_cast<double>(value(0, i)) + 0.1));
    EXPECT_EQ(values[kFrameSize + i], value(1, i));
  }
  EXPECT_EQ(file.read_doubles("/sde/u_time"), (std::vector<double>{time_of(0), time_of(1)}));
}

TEST_F(FrameFileTest, UncommittedWriterLeavesAReadablePartialFile) {
  const std::string path = file("stopped.h5");
  {
    FrameWriter writer(path, "frames", kN, kC, kH, kW, {{"preset", std::string("stripes")}});
    for (std::size_t t = 0; t < 3; ++t) writer.append(frame(t).data(), time_of(t));
  }
  EXPECT_FALSE(fs::exists(path));
  {
    const H5File file = H5File::open(path + ".partial");  // closed cleanly: any reader opens it
    std::vector<std::size_t> shape;
    const std::vector<float> values = file.read_floats("frames", &shape);
    EXPECT_EQ(shape, (std::vector<std::size_t>{3, kN, kC, kH, kW}));
    EXPECT_EQ(values[2 * kFrameSize + 5], value(2, 5));
    EXPECT_EQ(file.read_doubles("frames_time").size(), 3u);
    EXPECT_EQ(file.attribute_string("frames", "preset"), "stripes");
  }
  // A new writer replaces the stale working file.
  {
    FrameWriter writer(path, "frames", kN, kC, kH, kW, {});
    writer.append(frame(0).data(), time_of(0));
  }
  EXPECT_EQ(H5File::open(path + ".partial").shape("frames"),
            (std::vector<std::size_t>{1, kN, kC, kH, kW}));
}

TEST_F(FrameFileTest, SwmrReaderInAnotherProcessSeesEveryAppendedFrame) {
  const std::string path = file("live.h5");
  // Forked before the writer opens the file: the child shares no open HDF5 file with it.
  ReaderProcess reader(path + ".partial", "/sde/frames");
  ASSERT_TRUE(reader.started());
  FrameWriter writer(path, "/sde/frames", kN, kC, kH, kW, {{"preset", std::string("spots")}});
  Seen seen = reader.look();
  EXPECT_EQ(seen.frames, 0);
  EXPECT_EQ(seen.times, 0);
  EXPECT_EQ(seen.values_ok, 1);
  for (std::size_t t = 0; t < 5; ++t) {
    writer.append(frame(t).data(), time_of(t));
    seen = reader.look();
    EXPECT_EQ(seen.frames, static_cast<std::int64_t>(t + 1)) << "after frame " << t;
    EXPECT_EQ(seen.times, static_cast<std::int64_t>(t + 1)) << "after frame " << t;
    EXPECT_EQ(seen.values_ok, 1) << "after frame " << t;
  }
  EXPECT_EQ(reader.finish(), 0);
  writer.commit();
  EXPECT_EQ(H5File::open(path).shape("/sde/frames"), (std::vector<std::size_t>{5, kN, kC, kH, kW}));
}

TEST_F(FrameFileTest, KilledWriterLeavesItsFramesForSwmrReaders) {
  const std::string path = file("killed.h5");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      FrameWriter writer(path, "frames", kN, kC, kH, kW, {});
      for (std::size_t t = 0; t < 3; ++t) writer.append(frame(t).data(), time_of(t));
      ::kill(::getpid(), SIGKILL);  // with the file open: no close, no flush
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  EXPECT_FALSE(fs::exists(path));
  SwmrReader reader(path + ".partial", "frames");
  const Seen seen = reader.look();
  EXPECT_EQ(seen.frames, 3);
  EXPECT_EQ(seen.times, 3);
  EXPECT_EQ(seen.values_ok, 1);
}

TEST_F(FrameFileTest, ChunksOneSampleWhenAFrameExceedsFourMebibytes) {
  {
    FrameWriter at_limit(file("a.h5"), "frames", 8, 2, 256, 256, {});  // 4 MiB a frame
    FrameWriter beyond(file("b.h5"), "frames", 9, 2, 256, 256, {});    // 4.5 MiB a frame
  }
  EXPECT_EQ(chunk_of(file("a.h5.partial"), "frames"), (std::vector<hsize_t>{1, 8, 2, 256, 256}));
  EXPECT_EQ(chunk_of(file("b.h5.partial"), "frames"), (std::vector<hsize_t>{1, 1, 2, 256, 256}));
}

TEST_F(FrameFileTest, ErrorsNameTheFileAndDataset) {
  test::expect_error_containing<IoError>(
      [&] { FrameWriter(file("zero.h5"), "frames", kN, 0, kH, kW, {}); },
      {"zero.h5.partial", "'frames'", "(T, 2, 0, 4, 6)", ">= 1"});
  EXPECT_FALSE(fs::exists(file("zero.h5.partial")));
  test::expect_error_containing<IoError>(
      [&] { FrameWriter(file("no/such/dir/x.h5"), "frames", kN, kC, kH, kW, {}); },
      {"no/such/dir/x.h5.partial", "cannot create"});
}

}  // namespace
}  // namespace eqflow::io
