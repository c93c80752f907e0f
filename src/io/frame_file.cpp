// FrameWriter: the frames of a simulation appended to an HDF5 file in SWMR mode (HDF5 C API,
// sec2 driver, one process), renamed to its final name by commit().
#include "eqflow/io/frame_file.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <type_traits>
#include <variant>

#include "eqflow/core/error.hpp"
#include "eqflow/version.hpp"

namespace eqflow::io {
namespace {

//! Chunks of at most this many bytes hold a whole frame; larger frames get one sample per chunk.
constexpr std::size_t kMaxFrameChunkBytes = std::size_t{4} << 20;
//! Times per chunk of the time dataset (4 KiB).
constexpr hsize_t kTimeChunk = 512;

//! The most specific message on HDF5's error stack, as " (hdf5: ...)", or "".
std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* data) -> herr_t {
        if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(data) = err->desc;
        return 0;
      },
      &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason.empty() ? std::string() : " (hdf5: " + reason + ")";
}

//! Writes a scalar attribute `name` on `object` (an open file, group or dataset): int64, double
//! or a variable-length UTF-8 string. Returns false on failure.
bool put_attribute(hid_t object, const std::string& name, const FieldAttribute& value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  hid_t string_type = -1;
  hid_t file_type = -1, memory_type = -1;
  const char* text = nullptr;
  const void* buffer = nullptr;
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::int64_t>) {
          file_type = H5T_STD_I64LE;
          memory_type = H5T_NATIVE_INT64;
          buffer = &v;
        } else if constexpr (std::is_same_v<V, double>) {
          file_type = H5T_IEEE_F64LE;
          memory_type = H5T_NATIVE_DOUBLE;
          buffer = &v;
        } else {
          string_type = H5Tcopy(H5T_C_S1);
          H5Tset_size(string_type, H5T_VARIABLE);
          H5Tset_cset(string_type, H5T_CSET_UTF8);
          file_type = memory_type = string_type;
          text = v.c_str();
          buffer = &text;
        }
      },
      value);
  const hid_t attribute =
      H5Acreate2(object, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT);
  const bool ok = attribute >= 0 && H5Awrite(attribute, memory_type, buffer) >= 0;
  if (attribute >= 0) H5Aclose(attribute);
  if (string_type >= 0) H5Tclose(string_type);
  H5Sclose(space);
  return ok;
}

//! Creates an extendible chunked dataset of `frame` extents behind an unlimited first axis.
hid_t create_extendible(hid_t file, const std::string& name, hid_t type,
                        const std::vector<hsize_t>& frame, const std::vector<hsize_t>& chunk) {
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED};
  dims.insert(dims.end(), frame.begin(), frame.end());
  max_dims.insert(max_dims.end(), frame.begin(), frame.end());
  const int rank = static_cast<int>(dims.size());
  const hid_t space = H5Screate_simple(rank, dims.data(), max_dims.data());
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, rank, chunk.data());
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  H5Pset_char_encoding(lcpl, H5T_CSET_UTF8);
  const hid_t dataset = H5Dcreate2(file, name.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT);
  H5Pclose(lcpl);
  H5Pclose(dcpl);
  H5Sclose(space);
  return dataset;
}

//! Grows `dataset` to `t + 1` entries along its first axis and writes entry t from `values`.
bool write_entry(hid_t dataset, hid_t memory_type, std::size_t t, const void* values) {
  const hid_t old_space = H5Dget_space(dataset);
  const int rank = H5Sget_simple_extent_ndims(old_space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank > 0 ? rank : 1));
  H5Sget_simple_extent_dims(old_space, dims.data(), nullptr);
  H5Sclose(old_space);
  dims[0] = t + 1;
  if (H5Dset_extent(dataset, dims.data()) < 0) return false;
  const hid_t space = H5Dget_space(dataset);
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = t;
  count[0] = 1;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  const hid_t memory = H5Screate_simple(rank, count.data(), nullptr);
  const bool ok = H5Dwrite(dataset, memory_type, memory, space, H5P_DEFAULT, values) >= 0 &&
                  H5Dflush(dataset) >= 0;
  H5Sclose(memory);
  H5Sclose(space);
  return ok;
}

//! Flushes `path`'s data to stable storage before the rename that publishes it.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string frame_times_path(const std::string& dataset) {
  return dataset + "_time";
}

//! The open working file and its two datasets.
struct FrameWriter::Handles {
  hid_t file = -1, frames = -1, times = -1;
  //! Closes everything; false if closing the file failed.
  bool close() noexcept {
    if (times >= 0) H5Dclose(times);
    if (frames >= 0) H5Dclose(frames);
    const bool ok = file < 0 || H5Fclose(file) >= 0;
    file = frames = times = -1;
    return ok;
  }
  ~Handles() { close(); }
};

FrameWriter::FrameWriter(const std::string& path, const std::string& dataset, std::size_t n,
                         std::size_t c, std::size_t h, std::size_t w,
                         const FieldAttributes& attributes)
    : path_(path),
      working_path_(path + ".partial"),
      dataset_(dataset),
      shape_{n, c, h, w},
      h_(std::make_unique<Handles>()) {
  if (n == 0 || c == 0 || h == 0 || w == 0) {
    throw IoError(working_path_, fmt::format("cannot write frames '{}' of (T, N, C, H, W) = (T, "
                                             "{}, {}, {}, {}): N, C, H and W must be >= 1",
                                             dataset, n, c, h, w));
  }
  H5open();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);

  // A new file (a new inode: a reader of a stale working file keeps reading that one), in the
  // latest format, which SWMR needs.
  std::error_code ec;
  std::filesystem::remove(working_path_, ec);
  if (ec) {
    throw IoError(working_path_, "cannot remove the stale working file: " + ec.message());
  }
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  h_->file = H5Fcreate(working_path_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (h_->file < 0) {
    throw IoError(working_path_,
                  "cannot create (does the directory exist and is it writable?)" + hdf5_reason());
  }
  try {
    create_contents(attributes);
  } catch (...) {
    h_->close();
    std::remove(working_path_.c_str());  // nothing half-made is left behind
    throw;
  }
}

void FrameWriter::create_contents(const FieldAttributes& attributes) {
  const std::string& dataset = dataset_;
  const std::size_t n = shape_.samples, c = shape_.channels, h = shape_.height, w = shape_.width;
  const std::vector<hsize_t> frame{n, c, h, w};
  std::vector<hsize_t> chunk{1, n, c, h, w};
  if (shape_.samples * shape_.sample_size() * sizeof(float) > kMaxFrameChunkBytes) chunk[1] = 1;
  h_->frames = create_extendible(h_->file, dataset, H5T_IEEE_F32LE, frame, chunk);
  if (h_->frames < 0) {
    throw IoError(working_path_,
                  fmt::format("cannot create frames dataset '{}'{}", dataset, hdf5_reason()));
  }
  const std::string times = frame_times_path(dataset);
  h_->times = create_extendible(h_->file, times, H5T_IEEE_F64LE, {}, {kTimeChunk});
  if (h_->times < 0) {
    throw IoError(working_path_,
                  fmt::format("cannot create time dataset '{}'{}", times, hdf5_reason()));
  }

  // Metadata first: no attribute can be created once SWMR writing has started.
  const std::vector<std::pair<std::string, FieldAttribute>> provenance = {
      {"software", std::string(kSoftwareName)},   {"softwareVersion", std::string(kVersion)},
      {"gitRevision", std::string(kGitRevision)}, {"date", utc_now_iso8601()},
      {"schema", std::string(kFrameSchema)},      {"schemaVersion", std::int64_t{1}}};
  for (const auto& [name, value] : provenance) {
    if (!put_attribute(h_->file, name, value)) {
      throw IoError(working_path_,
                    fmt::format("cannot write root attribute '{}'{}", name, hdf5_reason()));
    }
  }
  FieldAttributes on_frames = {{"layout", std::string("(T, N, C, H, W): frame, sample, channel, "
                                                      "row, column; times in ") +
                                              times}};
  for (const auto& [name, value] : attributes) on_frames[name] = value;
  for (const auto& [name, value] : on_frames) {
    if (!put_attribute(h_->frames, name, value)) {
      throw IoError(working_path_, fmt::format("cannot write attribute '{}' of '{}'{}", name,
                                               dataset, hdf5_reason()));
    }
  }
  if (!put_attribute(h_->times, "description",
                     fmt::format("the time of each frame of '{}'; its length counts the "
                                 "complete frames",
                                 dataset))) {
    throw IoError(working_path_, fmt::format("cannot write attribute 'description' of '{}'{}",
                                             times, hdf5_reason()));
  }

  if (H5Fstart_swmr_write(h_->file) < 0) {
    throw IoError(working_path_, "cannot start SWMR writing" + hdf5_reason());
  }
}

FrameWriter::~FrameWriter() = default;

bool FrameWriter::is_open() const {
  return h_->file >= 0;
}

void FrameWriter::append(const float* frame, double time) {
  if (!is_open()) {
    throw IoError(working_path_, fmt::format("cannot append to frames '{}': the writer is "
                                             "committed (closed)",
                                             dataset_));
  }
  if (frame == nullptr) {
    throw IoError(working_path_, fmt::format("cannot append frame {} to '{}': no values (null)",
                                             frames_, dataset_));
  }
  // The frame, flushed, before its time: the length of the time dataset counts complete frames.
  if (!write_entry(h_->frames, H5T_NATIVE_FLOAT, frames_, frame)) {
    throw IoError(working_path_, fmt::format("cannot append frame {} to dataset '{}'{}", frames_,
                                             dataset_, hdf5_reason()));
  }
  if (!write_entry(h_->times, H5T_NATIVE_DOUBLE, frames_, &time)) {
    throw IoError(working_path_, fmt::format("cannot append time {} to dataset '{}'{}", frames_,
                                             frame_times_path(dataset_), hdf5_reason()));
  }
  ++frames_;
}

namespace {

//! Checks the extents of `frame` (N, C, H, W), brings it to the host as float32 and hands the
//! values to `append`.
template <class T, class Append>
void append_view(const View4<T>& frame, const FieldShape& shape, const std::string& file,
                 const std::string& dataset, std::vector<float>& staging, Append&& append) {
  const bool fits = frame.extent(0) == shape.samples && frame.extent(1) == shape.channels &&
                    frame.extent(2) == shape.height && frame.extent(3) == shape.width;
  if (!fits) {
    throw ShapeError(fmt::format(
        "FrameWriter::append ({}): frame View '{}' is ({}, {}, {}, {}), "
        "dataset '{}' takes (N, C, H, W) = ({}, {}, {}, {})",
        file, frame.label(), frame.extent(0), frame.extent(1), frame.extent(2), frame.extent(3),
        dataset, shape.samples, shape.channels, shape.height, shape.width));
  }
  Kokkos::fence();  // the kernels that filled `frame` are done (a host View is not copied)
  const auto host = Kokkos::create_mirror_view_and_copy(HostSpace(), frame);
  if constexpr (std::is_same_v<T, float>) {
    append(host.data());  // LayoutRight: contiguous, row-major
  } else {
    staging.resize(host.size());
    for (std::size_t i = 0; i < staging.size(); ++i)
      staging[i] = static_cast<float>(host.data()[i]);
    append(staging.data());
  }
}

}  // namespace

void FrameWriter::append(const View4<float>& frame, double time) {
  append_view(frame, shape_, working_path_, dataset_, staging_,
              [&](const float* values) { append(values, time); });
}

void FrameWriter::append(const View4<double>& frame, double time) {
  append_view(frame, shape_, working_path_, dataset_, staging_,
              [&](const float* values) { append(values, time); });
}

void FrameWriter::commit() {
  if (!is_open()) {
    throw IoError(path_, fmt::format("cannot commit frames '{}': already committed", dataset_));
  }
  if (!h_->close()) {
    throw IoError(working_path_, "cannot close after " + std::to_string(frames_) + " frames" +
                                     hdf5_reason() + "; the working file is kept");
  }
  sync_file(working_path_);
  if (std::rename(working_path_.c_str(), path_.c_str()) != 0) {
    throw IoError(path_, fmt::format("cannot rename working file '{}' onto it: {}; the working "
                                     "file is kept",
                                     working_path_, std::strerror(errno)));
  }
}

}  // namespace eqflow::io
