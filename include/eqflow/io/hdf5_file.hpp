// A small RAII wrapper over the HDF5 C API: every output of eqflow goes through it. Files
// are written to a temporary name in the destination's directory and renamed onto it by
// `commit()`, so a reader never sees a half-written file and a crashed or failed writer
// leaves nothing behind. Datasets and attributes live at slash paths ("/flow/loss");
// groups on the way are created as needed. Every failure throws eqflow::IoError naming
// the file and the object. Host-only code, used from one process at a time per file.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace eqflow::io {

//! One open HDF5 file: created (written atomically), opened read-only, or opened for an
//! atomic in-place edit. Movable, not copyable; closing happens in the destructor.
class H5File {
 public:
  //! Starts a new file that will appear at `path` only when commit() succeeds. Writes go to
  //! `path + ".tmp.<pid>.<n>"` in the same directory; an uncommitted file is removed when
  //! the object is destroyed. An existing file at `path` is replaced by the commit.
  static H5File create(const std::string& path);
  //! Opens an existing file read-only.
  static H5File open(const std::string& path);
  //! Opens an existing file for editing: the edits go to a temporary copy that commit()
  //! renames onto `path`, so the original is intact until then (the copy costs one read
  //! and one write of the file).
  static H5File open_rw(const std::string& path);

  H5File(H5File&& other) noexcept;
  H5File& operator=(H5File&& other) noexcept;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  //! Closes the file; a writable file that was not committed is discarded (never throws).
  ~H5File();

  //! Flushes, closes, syncs and atomically renames the temporary file onto path(). After
  //! it the object is closed; any further use throws. Throws IoError on a read-only file.
  void commit();

  //! The destination (create, open_rw) or source (open) path.
  const std::string& path() const { return path_; }
  //! Where the data goes until commit(); empty for read-only files.
  const std::string& temporary_path() const { return temporary_path_; }
  bool writable() const { return writable_; }
  //! False after commit() (or after being moved from).
  bool is_open() const { return file_ >= 0; }

  // ---- Writing datasets. `path` is a slash path; missing groups on the way are created.
  // An existing dataset at `path` is overwritten (in place if type and shape match).

  //! A numeric array of shape `shape` (row-major); an empty `shape` means 1-D of
  //! data.size(). Throws IoError if the product of `shape` differs from data.size().
  void write(const std::string& path, const std::vector<double>& data,
             std::vector<std::size_t> shape = {});
  void write(const std::string& path, const std::vector<float>& data,
             std::vector<std::size_t> shape = {});
  void write(const std::string& path, const std::vector<std::int64_t>& data,
             std::vector<std::size_t> shape = {});
  //! A scalar dataset (HDF5 scalar dataspace, shape {}).
  void write(const std::string& path, double value);
  void write(const std::string& path, std::int64_t value);
  //! Any other integer scalar (int, std::size_t, ...) is stored as a 64-bit integer.
  template <class Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void write(const std::string& path, Int value) {
    write(path, static_cast<std::int64_t>(value));
  }
  //! A float32 dataset of `shape` stored in chunks of `chunk` (same rank, each extent between 1
  //! and the dataset's), allocated in full when created and never filled (its values are
  //! undefined until written): the layout parallel writers fill in place, where writing values
  //! changes no metadata, so a killed writer leaves a consistent file. Throws IoError if
  //! something exists at `path` or the shapes disagree.
  void create_chunked_floats(const std::string& path, const std::vector<std::size_t>& shape,
                             const std::vector<std::size_t>& chunk);
  //! A scalar variable-length UTF-8 string (h5py reads it as str).
  void write_string(const std::string& path, const std::string& value);
  //! A one-dimensional dataset of variable-length UTF-8 strings.
  void write_strings(const std::string& path, const std::vector<std::string>& values);
  //! An external link at `path` to `object` in `target_file` (a name relative to this file's
  //! directory, as HDF5 resolves it): readers of this file see that object at `path` whenever
  //! the target exists; exists(path) is false while it does not.
  void link_external(const std::string& path, const std::string& target_file,
                     const std::string& object);

  // ---- Attributes on any object ("/" is the root group). Existing ones are replaced.

  void set_attribute(const std::string& object_path, const std::string& name, double value);
  void set_attribute(const std::string& object_path, const std::string& name, std::int64_t value);
  template <class Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  void set_attribute(const std::string& object_path, const std::string& name, Int value) {
    set_attribute(object_path, name, static_cast<std::int64_t>(value));
  }
  //! A variable-length UTF-8 string attribute.
  void set_attribute(const std::string& object_path, const std::string& name,
                     const std::string& value);
  void set_attribute(const std::string& object_path, const std::string& name, const char* value) {
    set_attribute(object_path, name, std::string(value));
  }
  //! A 1-D array attribute.
  void set_attribute(const std::string& object_path, const std::string& name,
                     const std::vector<double>& values);

  //! Throws IoError if the object does not exist.
  bool has_attribute(const std::string& object_path, const std::string& name) const;
  //! A one-element numeric attribute as double (any integer or float type stored).
  double attribute_double(const std::string& object_path, const std::string& name) const;
  //! A one-element integer attribute (a float attribute is an error, not truncated).
  std::int64_t attribute_int(const std::string& object_path, const std::string& name) const;
  //! A string attribute (variable- or fixed-length, ASCII or UTF-8).
  std::string attribute_string(const std::string& object_path, const std::string& name) const;
  //! All elements of a numeric attribute, flattened, as doubles.
  std::vector<double> attribute_doubles(const std::string& object_path,
                                        const std::string& name) const;

  // ---- Reading datasets.

  //! All elements (row-major) converted to double from any stored integer or float type;
  //! the dataset's shape goes to `*shape` when given ({} for a scalar).
  std::vector<double> read_doubles(const std::string& path,
                                   std::vector<std::size_t>* shape = nullptr) const;
  std::vector<float> read_floats(const std::string& path,
                                 std::vector<std::size_t>* shape = nullptr) const;
  //! Rows [first, first + count) along the first axis of a numeric dataset of rank >= 1 (a
  //! hyperslab: only those rows are read), row-major, converted to float from any stored integer
  //! or float type; the dataset's full shape goes to `*shape`. Throws IoError for rows beyond
  //! the dataset's.
  std::vector<float> read_float_rows(const std::string& path, std::size_t first, std::size_t count,
                                     std::vector<std::size_t>* shape = nullptr) const;
  //! Integer datasets only (a float dataset is an error, not truncated).
  std::vector<std::int64_t> read_ints(const std::string& path,
                                      std::vector<std::size_t>* shape = nullptr) const;
  //! A one-element numeric dataset (scalar or shape {1}).
  double read_double(const std::string& path) const;
  //! A one-element integer dataset.
  std::int64_t read_int(const std::string& path) const;
  //! A one-element string dataset (variable- or fixed-length).
  std::string read_string(const std::string& path) const;
  //! Every string of a string dataset, in storage order.
  std::vector<std::string> read_strings(const std::string& path) const;

  // ---- Structure.

  //! Whether a dataset or group exists at `path` ("/" always does).
  bool exists(const std::string& path) const;
  //! Whether `path` exists and is a group.
  bool is_group(const std::string& path) const;
  //! The extents of a dataset ({} for a scalar).
  std::vector<std::size_t> shape(const std::string& path) const;
  //! The names of the children of a group, in alphabetical order.
  std::vector<std::string> list(const std::string& group_path = "/") const;

 private:
  H5File(std::string path, std::string temporary_path, std::int64_t file, bool writable);
  void close_and_discard() noexcept;
  std::int64_t checked_file() const;
  std::int64_t writable_file() const;

  std::string path_;
  std::string temporary_path_;
  std::int64_t file_ = -1;  // hid_t
  bool writable_ = false;
};

//! Writes the self-description of an eqflow output as root attributes: `software`
//! ("eqflow"), `softwareVersion`, `gitRevision`, `date` (UTC, ISO-8601), `schema` and
//! `schemaVersion`.
void write_provenance(H5File& file, const std::string& schema, int schema_version);
//! The current time as UTC ISO-8601 ("2026-12-06T22:36:57Z"), the provenance `date`.
std::string utc_now_iso8601();

}  // namespace eqflow::io
