// H5File: RAII handles over the HDF5 C API, atomic commit by rename, datasets and
// attributes at slash paths, and the provenance attributes of every eqflow output.
#include "eqflow/io/hdf5_file.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <system_error>
#include <utility>

#include "eqflow/core/error.hpp"
#include "eqflow/version.hpp"

namespace eqflow::io {
namespace {

static_assert(sizeof(hid_t) == sizeof(std::int64_t) && std::is_signed_v<hid_t>,
              "H5File stores hid_t handles as std::int64_t (HDF5 >= 1.10)");

//! Owns one HDF5 identifier and closes it with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, -1);
      closer_ = other.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

//! Turns HDF5's error printing off for this thread (eqflow reports errors by exceptions).
void silence_hdf5_errors() {
  H5open();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

herr_t innermost_error(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(data) = err->desc;
  return 0;
}

//! The most specific message on HDF5's error stack, as " (hdf5: ...)", or "".
std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason.empty() ? std::string() : " (hdf5: " + reason + ")";
}

//! "/a/b" from "a/b", "/a//b/" and the like; "/" for the root.
std::string normalise(const std::string& path) {
  std::string out = "/";
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    const std::size_t j = path.find('/', i);
    const std::size_t end = j == std::string::npos ? path.size() : j;
    if (end > i) {
      if (out.size() > 1) out += '/';
      out.append(path, i, end - i);
    }
    i = end;
  }
  return out;
}

std::string join(const std::vector<std::size_t>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s.empty() ? "scalar" : s;
}

std::size_t product(const std::vector<std::size_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::size_t{1},
                         [](std::size_t a, std::size_t b) { return a * b; });
}

//! The extents of a dataspace ({} for scalar and null dataspaces).
std::vector<std::size_t> extents(hid_t space) {
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

std::size_t element_count(hid_t space) {
  if (H5Sget_simple_extent_type(space) == H5S_NULL) return 0;
  return product(extents(space));
}

//! A variable-length string type with the given character set.
Handle vlen_string_type(H5T_cset_t cset) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), cset);
  return type;
}

//! Memory and file types of the numeric element types H5File writes.
template <class T>
struct TypeOf;
template <>
struct TypeOf<double> {
  static hid_t memory() { return H5T_NATIVE_DOUBLE; }
  static hid_t file() { return H5T_IEEE_F64LE; }
};
template <>
struct TypeOf<float> {
  static hid_t memory() { return H5T_NATIVE_FLOAT; }
  static hid_t file() { return H5T_IEEE_F32LE; }
};
template <>
struct TypeOf<std::int64_t> {
  static hid_t memory() { return H5T_NATIVE_INT64; }
  static hid_t file() { return H5T_STD_I64LE; }
};

//! A dataset or an attribute, read through one interface.
struct Readable {
  hid_t id;
  bool is_attribute;
  std::string what;  // "dataset '/a/b'" or "attribute 'units' of '/a'"

  Handle type() const { return {is_attribute ? H5Aget_type(id) : H5Dget_type(id), H5Tclose}; }
  Handle space() const { return {is_attribute ? H5Aget_space(id) : H5Dget_space(id), H5Sclose}; }
  herr_t read(hid_t memory_type, void* buffer) const {
    return is_attribute ? H5Aread(id, memory_type, buffer)
                        : H5Dread(id, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  }
};

template <class T>
std::vector<T> read_numeric(const std::string& file, const Readable& obj,
                            std::vector<std::size_t>* shape, bool integers_only) {
  const Handle type = obj.type();
  const H5T_class_t cls = H5Tget_class(type.get());
  if (integers_only && cls != H5T_INTEGER) {
    throw IoError(file, fmt::format("{} holds {}, expected integers", obj.what,
                                    cls == H5T_FLOAT ? "floating-point numbers" : "non-numbers"));
  }
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    throw IoError(file, fmt::format("{} is not numeric (HDF5 type class {}), expected integer "
                                    "or floating-point numbers",
                                    obj.what, static_cast<int>(cls)));
  }
  const Handle space = obj.space();
  if (shape != nullptr) *shape = extents(space.get());
  std::vector<T> out(element_count(space.get()));
  if (!out.empty() && obj.read(TypeOf<T>::memory(), out.data()) < 0) {
    throw IoError(file, fmt::format("cannot read {}{}", obj.what, hdf5_reason()));
  }
  return out;
}

template <class T>
T read_one(const std::string& file, const Readable& obj, bool integers_only) {
  std::vector<std::size_t> shape;
  const std::vector<T> values = read_numeric<T>(file, obj, &shape, integers_only);
  if (values.size() != 1) {
    throw IoError(file,
                  fmt::format("{} has shape {}, expected a single value", obj.what, join(shape)));
  }
  return values[0];
}

//! Every string of a string dataset or attribute (variable- or fixed-length), in storage order.
std::vector<std::string> read_texts(const std::string& file, const Readable& obj) {
  const Handle type = obj.type();
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw IoError(file, fmt::format("{} is not a string", obj.what));
  }
  const Handle space = obj.space();
  const std::size_t count = element_count(space.get());
  const H5T_cset_t cset = H5Tget_cset(type.get());
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.get()) > 0) {
    const Handle memory = vlen_string_type(cset);
    std::vector<char*> texts(count, nullptr);
    if (obj.read(memory.get(), texts.data()) < 0) {
      throw IoError(file, fmt::format("cannot read {}{}", obj.what, hdf5_reason()));
    }
    for (char* text : texts) {
      out.emplace_back(text != nullptr ? text : "");
      H5free_memory(text);
    }
    return out;
  }
  const std::size_t size = H5Tget_size(type.get());
  std::vector<char> buffer(size * count + 1, '\0');
  const Handle memory(H5Tcopy(type.get()), H5Tclose);
  if (obj.read(memory.get(), buffer.data()) < 0) {
    throw IoError(file, fmt::format("cannot read {}{}", obj.what, hdf5_reason()));
  }
  for (std::size_t i = 0; i < count; ++i) {
    std::string text(buffer.data() + i * size, size);
    const std::size_t nul = text.find('\0');
    if (nul != std::string::npos) text.resize(nul);
    if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD) text.erase(text.find_last_not_of(' ') + 1);
    out.push_back(std::move(text));
  }
  return out;
}

std::string read_text(const std::string& file, const Readable& obj) {
  auto texts = read_texts(file, obj);
  if (texts.size() != 1) {
    throw IoError(file, fmt::format("{} holds {} strings, expected one", obj.what, texts.size()));
  }
  return std::move(texts[0]);
}

//! Creates (or replaces) an attribute and writes `buffer` into it.
void put_attribute(hid_t file, const std::string& file_path, const std::string& object_path,
                   const std::string& name, hid_t file_type, hid_t memory_type, hid_t space,
                   const void* buffer) {
  const std::string where = fmt::format("attribute '{}' of '{}'", name, object_path);
  const Handle object(H5Oopen(file, object_path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) {
    throw IoError(file_path,
                  fmt::format("cannot set {}: object not found{}", where, hdf5_reason()));
  }
  if (H5Aexists(object.get(), name.c_str()) > 0 && H5Adelete(object.get(), name.c_str()) < 0) {
    throw IoError(file_path, fmt::format("cannot replace {}{}", where, hdf5_reason()));
  }
  const Handle attr(
      H5Acreate2(object.get(), name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.valid() || (buffer != nullptr && H5Awrite(attr.get(), memory_type, buffer) < 0)) {
    throw IoError(file_path, fmt::format("cannot write {}{}", where, hdf5_reason()));
  }
}

std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return fmt::format("{}.tmp.{}.{}", path, static_cast<long>(::getpid()), counter++);
}

//! Flushes `path`'s data to stable storage, so the rename that follows publishes a
//! complete file even across a crash.
void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

//! Creates or overwrites the dataset at `path` and writes `count` elements of `data`.
void put_dataset(hid_t file, const std::string& file_path, const std::string& path, hid_t file_type,
                 hid_t memory_type, const std::vector<std::size_t>* dims, const void* data,
                 std::size_t count) {
  Handle space;
  if (dims == nullptr) {
    space = Handle(H5Screate(H5S_SCALAR), H5Sclose);
  } else {
    const std::vector<hsize_t> h(dims->begin(), dims->end());
    space = Handle(H5Screate_simple(static_cast<int>(h.size()), h.data(), nullptr), H5Sclose);
  }
  if (!space.valid()) {
    throw IoError(file_path, fmt::format("cannot describe dataset '{}' of shape {}{}", path,
                                         dims ? join(*dims) : "scalar", hdf5_reason()));
  }

  Handle dataset;
  if (path != "/" && H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0) {
    // Same type and shape: overwrite in place (no dead space); otherwise unlink and recreate.
    Handle existing(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
    if (!existing.valid()) {
      throw IoError(file_path, fmt::format("cannot write dataset '{}': a group of that name "
                                           "exists{}",
                                           path, hdf5_reason()));
    }
    const Handle old_type(H5Dget_type(existing.get()), H5Tclose);
    const Handle old_space(H5Dget_space(existing.get()), H5Sclose);
    const bool same = H5Tequal(old_type.get(), file_type) > 0 &&
                      H5Sextent_equal(old_space.get(), space.get()) > 0;
    if (same) {
      dataset = std::move(existing);
    } else {
      existing.reset();
      if (H5Ldelete(file, path.c_str(), H5P_DEFAULT) < 0) {
        throw IoError(file_path, fmt::format("cannot replace dataset '{}'{}", path, hdf5_reason()));
      }
    }
  }
  if (!dataset.valid()) {
    const Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8);
    dataset = Handle(H5Dcreate2(file, path.c_str(), file_type, space.get(), lcpl.get(), H5P_DEFAULT,
                                H5P_DEFAULT),
                     H5Dclose);
    if (!dataset.valid()) {
      throw IoError(file_path, fmt::format("cannot create dataset '{}'{}", path, hdf5_reason()));
    }
  }
  if (count > 0 && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw IoError(file_path, fmt::format("cannot write dataset '{}'{}", path, hdf5_reason()));
  }
}

template <class T>
void write_array(hid_t file, const std::string& file_path, const std::string& raw_path,
                 const std::vector<T>& data, std::vector<std::size_t> shape) {
  const std::string path = normalise(raw_path);
  if (shape.empty()) shape = {data.size()};
  if (product(shape) != data.size()) {
    throw IoError(file_path, fmt::format("dataset '{}': shape {} holds {} values, but {} "
                                         "were given",
                                         path, join(shape), product(shape), data.size()));
  }
  put_dataset(file, file_path, path, TypeOf<T>::file(), TypeOf<T>::memory(), &shape, data.data(),
              data.size());
}

template <class T>
void write_scalar(hid_t file, const std::string& file_path, const std::string& raw_path, T value) {
  put_dataset(file, file_path, normalise(raw_path), TypeOf<T>::file(), TypeOf<T>::memory(), nullptr,
              &value, 1);
}

}  // namespace

// ---- Life cycle ------------------------------------------------------------------------

H5File::H5File(std::string path, std::string temporary_path, std::int64_t file, bool writable)
    : path_(std::move(path)),
      temporary_path_(std::move(temporary_path)),
      file_(file),
      writable_(writable) {}

H5File::H5File(H5File&& other) noexcept
    : path_(std::move(other.path_)),
      temporary_path_(std::move(other.temporary_path_)),
      file_(std::exchange(other.file_, -1)),
      writable_(other.writable_) {}

H5File& H5File::operator=(H5File&& other) noexcept {
  if (this != &other) {
    close_and_discard();
    path_ = std::move(other.path_);
    temporary_path_ = std::move(other.temporary_path_);
    file_ = std::exchange(other.file_, -1);
    writable_ = other.writable_;
  }
  return *this;
}

H5File::~H5File() {
  close_and_discard();
}

void H5File::close_and_discard() noexcept {
  if (file_ < 0) return;
  H5Fclose(file_);
  file_ = -1;
  if (writable_ && !temporary_path_.empty()) std::remove(temporary_path_.c_str());
}

namespace {

//! File access properties: every object is closed with the file, so commit() can rename.
Handle access_properties() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  return fapl;
}

void require_hdf5_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(path, "file not found");
  if (std::filesystem::is_directory(path, ec)) {
    throw IoError(path, "is a directory, expected an HDF5 file");
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw IoError(path, "not an HDF5 file (or not readable)" + hdf5_reason());
  }
}

}  // namespace

H5File H5File::create(const std::string& path) {
  silence_hdf5_errors();
  const std::string temporary = temporary_name(path);
  const Handle fapl = access_properties();
  const hid_t file = H5Fcreate(temporary.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (file < 0) {
    throw IoError(path, fmt::format("cannot create temporary file '{}' (does the directory "
                                    "exist and is it writable?){}",
                                    temporary, hdf5_reason()));
  }
  return H5File(path, temporary, file, true);
}

H5File H5File::open(const std::string& path) {
  silence_hdf5_errors();
  require_hdf5_file(path);
  const Handle fapl = access_properties();
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (file < 0) throw IoError(path, "cannot open for reading" + hdf5_reason());
  return H5File(path, "", file, false);
}

H5File H5File::open_rw(const std::string& path) {
  silence_hdf5_errors();
  require_hdf5_file(path);
  const std::string temporary = temporary_name(path);
  std::error_code ec;
  std::filesystem::copy_file(path, temporary, std::filesystem::copy_options::overwrite_existing,
                             ec);
  if (ec) {
    std::remove(temporary.c_str());
    throw IoError(path, fmt::format("cannot copy to temporary file '{}' for editing: {}", temporary,
                                    ec.message()));
  }
  const Handle fapl = access_properties();
  const hid_t file = H5Fopen(temporary.c_str(), H5F_ACC_RDWR, fapl.get());
  if (file < 0) {
    std::remove(temporary.c_str());
    throw IoError(path, fmt::format("cannot open temporary copy '{}' for writing{}", temporary,
                                    hdf5_reason()));
  }
  return H5File(path, temporary, file, true);
}

void H5File::commit() {
  const hid_t file = writable_file();
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) {
    const std::string reason = hdf5_reason();
    close_and_discard();
    throw IoError(path_, "cannot flush temporary file '" + temporary_path_ + "'" + reason);
  }
  const herr_t closed = H5Fclose(file);
  file_ = -1;
  if (closed < 0) {
    const std::string reason = hdf5_reason();
    std::remove(temporary_path_.c_str());
    throw IoError(path_, "cannot close temporary file '" + temporary_path_ + "'" + reason);
  }
  sync_file(temporary_path_);
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary_path_.c_str());
    throw IoError(path_, fmt::format("cannot rename temporary file '{}' onto it: {}",
                                     temporary_path_, reason));
  }
}

std::int64_t H5File::checked_file() const {
  if (file_ < 0) throw IoError(path_, "file is closed (already committed or moved from)");
  return file_;
}

std::int64_t H5File::writable_file() const {
  const std::int64_t file = checked_file();
  if (!writable_) throw IoError(path_, "file was opened read-only; use create() or open_rw()");
  return file;
}

// ---- Writing ---------------------------------------------------------------------------

void H5File::write(const std::string& path, const std::vector<double>& data,
                   std::vector<std::size_t> shape) {
  write_array(writable_file(), path_, path, data, std::move(shape));
}

void H5File::write(const std::string& path, const std::vector<float>& data,
                   std::vector<std::size_t> shape) {
  write_array(writable_file(), path_, path, data, std::move(shape));
}

void H5File::write(const std::string& path, const std::vector<std::int64_t>& data,
                   std::vector<std::size_t> shape) {
  write_array(writable_file(), path_, path, data, std::move(shape));
}

void H5File::write(const std::string& path, double value) {
  write_scalar(writable_file(), path_, path, value);
}

void H5File::write(const std::string& path, std::int64_t value) {
  write_scalar(writable_file(), path_, path, value);
}

void H5File::create_chunked_floats(const std::string& raw_path,
                                   const std::vector<std::size_t>& shape,
                                   const std::vector<std::size_t>& chunk) {
  const hid_t file = writable_file();
  const std::string path = normalise(raw_path);
  bool chunk_fits = !shape.empty() && chunk.size() == shape.size();
  for (std::size_t i = 0; chunk_fits && i < shape.size(); ++i) {
    chunk_fits = chunk[i] >= 1 && chunk[i] <= std::max<std::size_t>(shape[i], 1);
  }
  if (!chunk_fits) {
    throw IoError(path_, fmt::format("dataset '{}': chunk {} does not fit shape {}", path,
                                     join(chunk), join(shape)));
  }
  if (H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0) {
    throw IoError(path_, fmt::format("cannot create dataset '{}': it exists", path));
  }
  const std::vector<hsize_t> dims(shape.begin(), shape.end()), chunks(chunk.begin(), chunk.end());
  const Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     H5Sclose);
  const Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(dcpl.get(), static_cast<int>(chunks.size()), chunks.data());
  H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  const Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  H5Pset_char_encoding(lcpl.get(), H5T_CSET_UTF8);
  const Handle dataset(H5Dcreate2(file, path.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(),
                                  dcpl.get(), H5P_DEFAULT),
                       H5Dclose);
  if (!dataset.valid()) {
    throw IoError(path_, fmt::format("cannot create dataset '{}' of shape {}{}", path, join(shape),
                                     hdf5_reason()));
  }
}

void H5File::write_string(const std::string& path, const std::string& value) {
  const Handle type = vlen_string_type(H5T_CSET_UTF8);
  const char* text = value.c_str();
  put_dataset(writable_file(), path_, normalise(path), type.get(), type.get(), nullptr, &text, 1);
}

void H5File::write_strings(const std::string& path, const std::vector<std::string>& values) {
  const Handle type = vlen_string_type(H5T_CSET_UTF8);
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  const std::vector<std::size_t> dims{values.size()};
  put_dataset(writable_file(), path_, normalise(path), type.get(), type.get(), &dims, texts.data(),
              values.size());
}

void H5File::link_external(const std::string& path, const std::string& target_file,
                           const std::string& object) {
  const hid_t file = writable_file();
  const std::string name = normalise(path);
  const Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  if (H5Lcreate_external(target_file.c_str(), normalise(object).c_str(), file, name.c_str(),
                         lcpl.get(), H5P_DEFAULT) < 0) {
    throw IoError(path_, fmt::format("cannot link '{}' to {}:{}{}", name, target_file, object,
                                     hdf5_reason()));
  }
}

// ---- Attributes ------------------------------------------------------------------------

void H5File::set_attribute(const std::string& object_path, const std::string& name, double value) {
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  put_attribute(writable_file(), path_, normalise(object_path), name, H5T_IEEE_F64LE,
                H5T_NATIVE_DOUBLE, space.get(), &value);
}

void H5File::set_attribute(const std::string& object_path, const std::string& name,
                           std::int64_t value) {
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  put_attribute(writable_file(), path_, normalise(object_path), name, H5T_STD_I64LE,
                H5T_NATIVE_INT64, space.get(), &value);
}

void H5File::set_attribute(const std::string& object_path, const std::string& name,
                           const std::string& value) {
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const Handle type = vlen_string_type(H5T_CSET_UTF8);
  const char* text = value.c_str();
  put_attribute(writable_file(), path_, normalise(object_path), name, type.get(), type.get(),
                space.get(), &text);
}

void H5File::set_attribute(const std::string& object_path, const std::string& name,
                           const std::vector<double>& values) {
  // An empty array is stored with a null dataspace (HDF5 has no zero-length attributes).
  const hsize_t n = values.size();
  const Handle space(n == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  put_attribute(writable_file(), path_, normalise(object_path), name, H5T_IEEE_F64LE,
                H5T_NATIVE_DOUBLE, space.get(), n == 0 ? nullptr : values.data());
}

namespace {

//! Opens attribute `name` of `object_path`, or throws naming what is missing.
Handle open_attribute(hid_t file, const std::string& file_path, const std::string& object_path,
                      const std::string& name) {
  const Handle object(H5Oopen(file, object_path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(file_path, fmt::format("cannot read attribute '{}': object '{}' not found", name,
                                         object_path));
  }
  if (H5Aexists(object.get(), name.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(file_path, fmt::format("attribute '{}' of '{}' not found", name, object_path));
  }
  Handle attr(H5Aopen(object.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) {
    throw IoError(file_path, fmt::format("cannot open attribute '{}' of '{}'{}", name, object_path,
                                         hdf5_reason()));
  }
  return attr;
}

Readable attribute_readable(const Handle& attr, const std::string& object_path,
                            const std::string& name) {
  return {attr.get(), true, fmt::format("attribute '{}' of '{}'", name, object_path)};
}

}  // namespace

bool H5File::has_attribute(const std::string& object_path, const std::string& name) const {
  const std::string object_name = normalise(object_path);
  const Handle object(H5Oopen(checked_file(), object_name.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(path_, fmt::format("cannot look up attribute '{}': object '{}' not found", name,
                                     object_name));
  }
  return H5Aexists(object.get(), name.c_str()) > 0;
}

double H5File::attribute_double(const std::string& object_path, const std::string& name) const {
  const std::string object = normalise(object_path);
  const Handle attr = open_attribute(checked_file(), path_, object, name);
  return read_one<double>(path_, attribute_readable(attr, object, name), false);
}

std::int64_t H5File::attribute_int(const std::string& object_path, const std::string& name) const {
  const std::string object = normalise(object_path);
  const Handle attr = open_attribute(checked_file(), path_, object, name);
  return read_one<std::int64_t>(path_, attribute_readable(attr, object, name), true);
}

std::string H5File::attribute_string(const std::string& object_path,
                                     const std::string& name) const {
  const std::string object = normalise(object_path);
  const Handle attr = open_attribute(checked_file(), path_, object, name);
  return read_text(path_, attribute_readable(attr, object, name));
}

std::vector<double> H5File::attribute_doubles(const std::string& object_path,
                                              const std::string& name) const {
  const std::string object = normalise(object_path);
  const Handle attr = open_attribute(checked_file(), path_, object, name);
  return read_numeric<double>(path_, attribute_readable(attr, object, name), nullptr, false);
}

// ---- Reading ---------------------------------------------------------------------------

namespace {

//! Opens the dataset at `path` (normalised), or throws naming what is there instead.
Handle open_dataset(const H5File& self, hid_t file, const std::string& path) {
  if (!self.exists(path)) {
    throw IoError(self.path(), fmt::format("dataset '{}' not found", path));
  }
  if (self.is_group(path)) {
    throw IoError(self.path(), fmt::format("'{}' is a group, expected a dataset", path));
  }
  Handle dataset(H5Dopen2(file, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) {
    throw IoError(self.path(), fmt::format("cannot open dataset '{}'{}", path, hdf5_reason()));
  }
  return dataset;
}

Readable dataset_readable(const Handle& dataset, const std::string& path) {
  return {dataset.get(), false, fmt::format("dataset '{}'", path)};
}

}  // namespace

std::vector<double> H5File::read_doubles(const std::string& path,
                                         std::vector<std::size_t>* shape) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  return read_numeric<double>(path_, dataset_readable(dataset, name), shape, false);
}

std::vector<float> H5File::read_floats(const std::string& path,
                                       std::vector<std::size_t>* shape) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  return read_numeric<float>(path_, dataset_readable(dataset, name), shape, false);
}

std::vector<float> H5File::read_float_rows(const std::string& path, std::size_t first,
                                           std::size_t count,
                                           std::vector<std::size_t>* shape) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  const Handle type(H5Dget_type(dataset.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    throw IoError(path_, fmt::format("dataset '{}' is not numeric (HDF5 type class {}), expected "
                                     "integer or floating-point numbers",
                                     name, static_cast<int>(cls)));
  }
  const Handle space(H5Dget_space(dataset.get()), H5Sclose);
  const std::vector<std::size_t> dims = extents(space.get());
  if (shape != nullptr) *shape = dims;
  if (dims.empty()) {
    throw IoError(path_, fmt::format("dataset '{}' is a scalar, expected rows", name));
  }
  if (first > dims[0] || count > dims[0] - first) {
    throw IoError(path_, fmt::format("dataset '{}': rows [{}, {}) are beyond its {} rows", name,
                                     first, first + count, dims[0]));
  }
  std::vector<hsize_t> start(dims.size(), 0), extent(dims.begin(), dims.end());
  start[0] = first;
  extent[0] = count;
  std::vector<float> out(product(std::vector<std::size_t>(extent.begin(), extent.end())));
  if (out.empty()) return out;
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr);
  const Handle memory(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr),
                      H5Sclose);
  if (H5Dread(dataset.get(), H5T_NATIVE_FLOAT, memory.get(), space.get(), H5P_DEFAULT, out.data()) <
      0) {
    throw IoError(path_, fmt::format("cannot read rows [{}, {}) of dataset '{}'{}", first,
                                     first + count, name, hdf5_reason()));
  }
  return out;
}

std::vector<std::int64_t> H5File::read_ints(const std::string& path,
                                            std::vector<std::size_t>* shape) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  return read_numeric<std::int64_t>(path_, dataset_readable(dataset, name), shape, true);
}

double H5File::read_double(const std::string& path) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  return read_one<double>(path_, dataset_readable(dataset, name), false);
}

std::int64_t H5File::read_int(const std::string& path) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  return read_one<std::int64_t>(path_, dataset_readable(dataset, name), true);
}

std::string H5File::read_string(const std::string& path) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  return read_text(path_, dataset_readable(dataset, name));
}

std::vector<std::string> H5File::read_strings(const std::string& path) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  return read_texts(path_, dataset_readable(dataset, name));
}

// ---- Structure -------------------------------------------------------------------------

bool H5File::exists(const std::string& path) const {
  const hid_t file = checked_file();
  const std::string name = normalise(path);
  if (name == "/") return true;
  // H5Lexists needs every link on the way to exist, so test each prefix in turn.
  std::size_t end = 0;
  while (end != std::string::npos) {
    end = name.find('/', end + 1);
    const std::string prefix = name.substr(0, end);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  // A dangling soft link is a link, not an object.
  const htri_t object = H5Oexists_by_name(file, name.c_str(), H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  return object > 0;
}

bool H5File::is_group(const std::string& path) const {
  const std::string name = normalise(path);
  if (!exists(name)) return false;
  const Handle object(H5Oopen(checked_file(), name.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) {
    throw IoError(path_, fmt::format("cannot inspect '{}'{}", name, hdf5_reason()));
  }
  return H5Iget_type(object.get()) == H5I_GROUP;
}

std::vector<std::size_t> H5File::shape(const std::string& path) const {
  const std::string name = normalise(path);
  const Handle dataset = open_dataset(*this, checked_file(), name);
  const Handle space(H5Dget_space(dataset.get()), H5Sclose);
  return extents(space.get());
}

std::vector<std::string> H5File::list(const std::string& group_path) const {
  const std::string name = normalise(group_path);
  if (!exists(name)) throw IoError(path_, fmt::format("group '{}' not found", name));
  if (!is_group(name)) {
    throw IoError(path_, fmt::format("'{}' is a dataset, expected a group", name));
  }
  const Handle group(H5Gopen2(checked_file(), name.c_str(), H5P_DEFAULT), H5Gclose);
  H5G_info_t info;
  if (!group.valid() || H5Gget_info(group.get(), &info) < 0) {
    throw IoError(path_, fmt::format("cannot list group '{}'{}", name, hdf5_reason()));
  }
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                            nullptr, 0, H5P_DEFAULT);
    std::string child(size > 0 ? static_cast<std::size_t>(size) + 1 : 1, '\0');
    if (size < 0 || H5Lget_name_by_idx(group.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                       child.data(), child.size(), H5P_DEFAULT) < 0) {
      throw IoError(path_, fmt::format("cannot list group '{}'{}", name, hdf5_reason()));
    }
    child.resize(static_cast<std::size_t>(size));
    names.push_back(std::move(child));
  }
  return names;
}

// ---- Provenance ------------------------------------------------------------------------

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

void write_provenance(H5File& file, const std::string& schema, int schema_version) {
  file.set_attribute("/", "software", std::string(kSoftwareName));
  file.set_attribute("/", "softwareVersion", std::string(kVersion));
  file.set_attribute("/", "gitRevision", std::string(kGitRevision));
  file.set_attribute("/", "date", utc_now_iso8601());
  file.set_attribute("/", "schema", schema);
  file.set_attribute("/", "schemaVersion", static_cast<std::int64_t>(schema_version));
}

}  // namespace eqflow::io
