// Frames of a simulation in HDF5, written by one process and readable while it runs: the SDE
// driver of the pattern systems records its (denoised) fields every few steps. The file is built
// at `path + ".partial"` in SWMR mode (HDF5 single-writer/multiple-reader, sec2 driver), each
// frame appended and flushed; commit() renames it to `path`, so a file under the final name is
// always complete, and a run that stops early leaves its frames in the `.partial` file.
//
// Layout (schema "eqflow.frames", version 1): `<dataset>` float32 (T, N, C, H, W), frame t of
// sample n; `<dataset>_time` float64 (T), the time of each frame, in the same group; the caller's
// attributes and a `layout` string on `<dataset>`; the provenance attributes of write_provenance
// (hdf5_file.hpp) on the root group.
//
// Readers while the writer runs (or after it was killed): open the working file in SWMR mode,
// h5py.File(path + ".partial", "r", libver="latest", swmr=True), or H5Fopen with
// H5F_ACC_RDONLY | H5F_ACC_SWMR_READ (HDF5 >= 1.10), and refresh both datasets (h5py:
// `d.refresh()`, C: H5Drefresh) before each look. Frames [0, len(time)) are complete: a frame is
// written and flushed before its time, so `<dataset>` may show one more frame than `time` while
// an append is under way. A plain (non-SWMR) open fails, with HDF5 1.10.8, both while the writer
// runs and after it was killed ("file is already open for write"; `h5clear -s` clears the flag of
// a killed writer's file); a writer that was destroyed or committed closed the file cleanly, and
// then any reader opens it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/io/field_file.hpp"

namespace eqflow::io {

//! The schema name written in the root attributes of a frame file.
inline constexpr const char* kFrameSchema = "eqflow.frames";

//! The time dataset of the frames at `dataset`: `dataset + "_time"` (float64 (T), same group).
std::string frame_times_path(const std::string& dataset);

//! Appends frames (N, C, H, W) of a simulation, one at a time, to a growing HDF5 dataset
//! (T, N, C, H, W) that readers can follow in SWMR mode (see the top of this file). One process,
//! one writer per file. Not copyable or movable; closing happens in the destructor.
class FrameWriter {
 public:
  //! Creates the working file `path + ".partial"` (removing a stale one first: a reader that
  //! still has it open keeps the old file) with the frames dataset `dataset` (T = 0, chunked one
  //! frame per chunk, or one sample per chunk when a frame exceeds 4 MiB), its time dataset
  //! (frame_times_path), `attributes` on the frames dataset and provenance on the root, then
  //! starts SWMR writing. A file at `path` itself is left alone until commit(). Throws IoError
  //! naming the file and dataset for extents of 0 or an unwritable file (a missing directory).
  FrameWriter(const std::string& path, const std::string& dataset, std::size_t n, std::size_t c,
              std::size_t h, std::size_t w, const FieldAttributes& attributes = {});
  //! Closes the working file cleanly without renaming it: an uncommitted writer leaves its
  //! frames in `path + ".partial"` (never throws).
  ~FrameWriter();
  FrameWriter(const FrameWriter&) = delete;
  FrameWriter& operator=(const FrameWriter&) = delete;
  FrameWriter(FrameWriter&&) = delete;
  FrameWriter& operator=(FrameWriter&&) = delete;

  //! Appends one frame `frame` (N, C, H, W) row-major in host memory, at time `time`: grows
  //! and writes the frames dataset, flushes it, then grows, writes and flushes the time dataset.
  //! Throws IoError on a failed write or after commit().
  void append(const float* frame, double time);
  //! The same from a View (N, C, H, W) in any memory space (copied to the host if needed;
  //! double converted to float). Throws ShapeError if its extents are not (N, C, H, W).
  void append(const View4<float>& frame, double time);
  void append(const View4<double>& frame, double time);

  //! The frames appended so far (T).
  std::size_t frames() const { return frames_; }
  //! The extents of one frame (samples = N).
  const FieldShape& frame_shape() const { return shape_; }
  //! The final path (complete files only) and the working path (`path + ".partial"`).
  const std::string& path() const { return path_; }
  const std::string& working_path() const { return working_path_; }
  const std::string& dataset() const { return dataset_; }
  //! False after commit().
  bool is_open() const;

  //! Closes the working file, syncs it and renames it onto path() (replacing a file there).
  //! After it the writer is closed; append() and commit() throw. If the rename fails the
  //! working file is kept (with every frame) and IoError is thrown.
  void commit();

 private:
  struct Handles;
  //! The datasets, attributes and provenance of the new working file, then SWMR writing.
  void create_contents(const FieldAttributes& attributes);

  std::string path_, working_path_, dataset_;
  FieldShape shape_;
  std::unique_ptr<Handles> h_;
  std::vector<float> staging_;  // (N, C, H, W) frames converted from double
  std::size_t frames_ = 0;
};

}  // namespace eqflow::io
