// Field data sets (N, C, H, W) in HDF5: the parallel writer of generated data (every rank
// writes its samples collectively into one file, one chunk per sample, with a per-sample
// completeness flag so that a killed generation resumes where it stopped), and the reader of a
// hyperslab of samples, for eqflow's own files and for a user's data (any C, any numeric type),
// with one-line errors naming the file, the dataset and the sample at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "eqflow/io/hdf5_file.hpp"
#include "eqflow/parallel/comm.hpp"

namespace eqflow::io {

//! The extents of a field data set (N, C, H, W).
struct FieldShape {
  std::size_t samples = 0;
  std::size_t channels = 0;
  std::size_t height = 0;
  std::size_t width = 0;

  //! Values per sample, C * H * W.
  std::size_t sample_size() const { return channels * height * width; }
  std::vector<std::size_t> dims() const { return {samples, channels, height, width}; }
  bool operator==(const FieldShape& o) const {
    return samples == o.samples && channels == o.channels && height == o.height && width == o.width;
  }
};

//! An attribute of a field data set: an integer, a number or a string.
using FieldAttribute = std::variant<std::int64_t, double, std::string>;
//! Attributes by name.
using FieldAttributes = std::map<std::string, FieldAttribute>;

//! The per-sample completeness flags of the data set at `dataset`: `dataset + "_complete"`
//! ((N) int64, 1 once the sample's values are written and flushed).
std::string complete_flags_path(const std::string& dataset);

//! Whether `path` is a readable HDF5 file holding `dataset` of `shape`, its completeness flags,
//! and the attributes `attributes` with exactly these values (a rerun's test for work done).
bool field_file_matches(const std::string& path, const std::string& dataset,
                        const FieldShape& shape, const FieldAttributes& attributes);

//! Writes a float32 data set (N, C, H, W), chunked one sample per chunk, from every rank of a
//! communicator into one file (parallel HDF5, collective writes). The file is built at a
//! working path (`final_path + ".partial"`): rank 0 creates it through H5File (the data set
//! allocated in full, the completeness flags at 0, `attributes` on the data set, provenance on
//! the root), then every rank opens it with MPI-IO. After each write() the values are flushed
//! before their flags are set and flushed, so a killed run loses no finished sample and never
//! marks an unfinished one. A later writer with the same shape and attributes resumes the
//! working file: missing() then lists only the samples whose flag is 0. commit() renames the
//! complete file to `final_path`: a file under the final name is always complete.
class ParallelFieldWriter {
 public:
  //! Collective. Resumes the working file if it exists, is readable, and holds a data set of
  //! this shape with exactly these attributes; otherwise (re)creates it. `schema` names the file
  //! kind in the provenance attributes; `root_attributes` (e.g. the resolved deck) go on the
  //! root group of a new file and are not compared on resume.
  ParallelFieldWriter(const std::string& final_path, const std::string& dataset,
                      const FieldShape& shape, const FieldAttributes& attributes,
                      const std::string& schema, const parallel::Comm& comm,
                      const FieldAttributes& root_attributes = {});
  ~ParallelFieldWriter();
  ParallelFieldWriter(const ParallelFieldWriter&) = delete;
  ParallelFieldWriter& operator=(const ParallelFieldWriter&) = delete;

  //! Whether an existing working file was resumed.
  bool resumed() const { return resumed_; }
  //! The global sample indices not yet complete, increasing; the same list on every rank.
  const std::vector<std::int64_t>& missing() const { return missing_; }
  const std::string& working_path() const { return working_path_; }

  //! Collective: every rank writes its samples `samples` (each in [0, N), held by one rank only,
  //! possibly none) from `values` (samples.size(), C, H, W) row-major, flushes, then marks them
  //! complete and flushes again.
  void write(const std::vector<std::int64_t>& samples, const std::vector<float>& values);

  //! Collective: closes the file and, if every sample is complete, renames it to the final path
  //! (rank 0) and returns true; otherwise leaves the working file for a later resume and returns
  //! false.
  bool commit();

 private:
  struct Handles;
  std::string final_path_, working_path_, dataset_;
  FieldShape shape_;
  parallel::Comm comm_;
  std::unique_ptr<Handles> h_;
  std::vector<std::int64_t> missing_;
  std::size_t written_ = 0;  // samples this writer completed (all ranks)
  bool resumed_ = false;
};

//! Reads a field data set (N, C, H, W) of any numeric type, sample by sample: eqflow's
//! generated files and a user's own data. Each rank of a data-parallel run reads only its shard.
class FieldReader {
 public:
  //! Opens `dataset` in `path` and checks its shape. Throws IoError naming the file and data
  //! set for a missing file or data set (listing what the parent group holds), a group, a rank
  //! other than 4, a non-numeric type, and an empty set (N = 0, or C, H or W = 0).
  FieldReader(const std::string& path, const std::string& dataset);

  const FieldShape& shape() const { return shape_; }
  const std::string& path() const { return file_.path(); }
  const std::string& dataset() const { return dataset_; }

  //! Samples [first, first + count) as float32 (count, C, H, W), row-major: a hyperslab, only
  //! those samples are read. Throws IoError for samples beyond N and for a NaN or inf value,
  //! naming the sample (global index), channel and position.
  std::vector<float> read(std::size_t first, std::size_t count) const;

  //! Attributes of the data set (attribute_* of H5File).
  bool has_attribute(const std::string& name) const;
  double attribute_double(const std::string& name) const;
  std::int64_t attribute_int(const std::string& name) const;
  std::string attribute_string(const std::string& name) const;
  //! The root group's attributes (provenance) and any other object: the open file.
  const H5File& file() const { return file_; }

 private:
  H5File file_;
  std::string dataset_;
  FieldShape shape_;
};

}  // namespace eqflow::io
