// PNG reading and writing through libpng's classic API. libpng reports errors through a
// callback that must not return: ours stores the message and longjmps back to the setjmp of the
// "stage" function that called into libpng. Stage functions hold only trivially destructible
// locals, so the jump skips no destructor; every C++ object (buffers, the RAII owner of the
// libpng structs and the FILE) lives in their callers, which turn a failed stage into IoError.
#include "eqflow/io/png.hpp"

#include <fmt/core.h>
#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "eqflow/core/error.hpp"

namespace eqflow::io {
namespace {

//! The largest accepted side of a read image (icons are resized to tens of pixels).
constexpr png_uint_32 kMaxSide = 16384;

//! The last libpng error message of one read or write.
struct PngMessage {
  char text[256] = "unknown libpng error";
};

void on_error(png_structp png, png_const_charp message) {
  auto* out = static_cast<PngMessage*>(png_get_error_ptr(png));
  std::snprintf(out->text, sizeof out->text, "%s", message);
  png_longjmp(png, 1);
}

//! Warnings (e.g. an ancillary chunk with a bad CRC, skipped) are not errors and not printed.
void on_warning(png_structp, png_const_charp) {}

//! Owns libpng's read structs and the open file.
struct PngReader {
  PngMessage message;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::FILE* file = nullptr;

  PngReader() {
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &message, on_error, on_warning);
    if (png != nullptr) info = png_create_info_struct(png);
  }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
  ~PngReader() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
    if (file != nullptr) std::fclose(file);
  }
};

//! The image as libpng hands it over after the expansion to RGBA.
struct Header {
  png_uint_32 width = 0, height = 0;
  int color_type = 0, bit_depth = 0;
  bool has_alpha = false;
  int channels = 0, out_depth = 0;
  std::size_t row_bytes = 0;
};

//! Reads the header (after the 8 signature bytes already read) and, for an image with alpha,
//! sets up the expansion to 8- or 16-bit RGBA. False after a libpng error.
bool read_header(PngReader& r, Header& h) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_init_io(r.png, r.file);
  png_set_sig_bytes(r.png, 8);
  png_set_user_limits(r.png, kMaxSide, kMaxSide);
  png_read_info(r.png, r.info);
  h.width = png_get_image_width(r.png, r.info);
  h.height = png_get_image_height(r.png, r.info);
  h.color_type = png_get_color_type(r.png, r.info);
  h.bit_depth = png_get_bit_depth(r.png, r.info);
  h.has_alpha = (h.color_type & PNG_COLOR_MASK_ALPHA) != 0 ||
                png_get_valid(r.png, r.info, PNG_INFO_tRNS) != 0;
  if (!h.has_alpha) return true;
  // Palette -> RGB, 1/2/4-bit grey -> 8-bit, tRNS -> an alpha channel; then grey -> RGB.
  png_set_expand(r.png);
  if ((h.color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(r.png);
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  h.channels = png_get_channels(r.png, r.info);
  h.out_depth = png_get_bit_depth(r.png, r.info);
  h.row_bytes = png_get_rowbytes(r.png, r.info);
  return true;
}

//! Reads every row (interlaced passes included) and the chunks after the image data.
bool read_rows(PngReader& r, png_bytep* rows) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);
  return true;
}

//! Owns libpng's write structs, the open temporary file, and removes that file unless
//! committed.
struct PngWriter {
  PngMessage message;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::FILE* file = nullptr;
  std::string temporary;
  bool committed = false;

  PngWriter() {
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &message, on_error, on_warning);
    if (png != nullptr) info = png_create_info_struct(png);
  }
  PngWriter(const PngWriter&) = delete;
  PngWriter& operator=(const PngWriter&) = delete;
  ~PngWriter() {
    if (png != nullptr) png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
    if (file != nullptr) std::fclose(file);
    if (!committed && !temporary.empty()) std::remove(temporary.c_str());
  }
};

bool write_image(PngWriter& w, png_uint_32 width, png_uint_32 height, png_bytep* rows) {
  if (setjmp(png_jmpbuf(w.png))) return false;
  png_init_io(w.png, w.file);
  png_set_IHDR(w.png, w.info, width, height, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(w.png, w.info);
  png_write_image(w.png, rows);
  png_write_end(w.png, nullptr);
  return true;
}

std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return fmt::format("{}.tmp.{}.{}", path, static_cast<long>(::getpid()), counter++);
}

}  // namespace

systems::RgbaImage read_png(const std::string& path) {
  std::error_code fs_error;
  if (!std::filesystem::exists(path, fs_error)) throw IoError(path, "file not found");
  if (std::filesystem::is_directory(path, fs_error)) {
    throw IoError(path, "is a directory, expected a PNG file");
  }
  PngReader reader;
  if (reader.png == nullptr || reader.info == nullptr) {
    throw IoError(path, "cannot set up libpng to read it (out of memory?)");
  }
  reader.file = std::fopen(path.c_str(), "rb");
  if (reader.file == nullptr) {
    throw IoError(path, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  png_byte signature[8];
  if (std::fread(signature, 1, sizeof signature, reader.file) != sizeof signature ||
      png_sig_cmp(signature, 0, sizeof signature) != 0) {
    throw IoError(path, "is not a PNG file (it does not start with the PNG signature)");
  }

  Header header;
  if (!read_header(reader, header)) {
    throw IoError(path, fmt::format("corrupt PNG: {}", reader.message.text));
  }
  if (!header.has_alpha) {
    throw IoError(path,
                  "has no alpha channel; an icon needs transparency around the creature "
                  "(RGBA)");
  }
  if (header.channels != 4 || (header.out_depth != 8 && header.out_depth != 16)) {
    throw IoError(path, fmt::format("unsupported PNG layout (colour type {}, bit depth {})",
                                    header.color_type, header.bit_depth));
  }

  std::vector<png_byte> data(header.row_bytes * header.height);
  std::vector<png_bytep> rows(header.height);
  for (png_uint_32 y = 0; y < header.height; ++y) rows[y] = data.data() + y * header.row_bytes;
  if (!read_rows(reader, rows.data())) {
    throw IoError(path, fmt::format("corrupt or truncated PNG: {}", reader.message.text));
  }

  systems::RgbaImage image{header.height, header.width,
                           std::vector<float>(std::size_t(header.height) * header.width * 4)};
  const std::size_t values = image.pixels.size();
  if (header.out_depth == 8) {
    for (std::size_t i = 0; i < values; ++i) image.pixels[i] = data[i] / 255.0f;
  } else {
    for (std::size_t i = 0; i < values; ++i) {
      image.pixels[i] = static_cast<float>((data[2 * i] << 8) | data[2 * i + 1]) / 65535.0f;
    }
  }
  try {
    systems::validate_icon(image, "icon");
  } catch (const Error& e) {
    throw IoError(path, e.what());
  }
  return image;
}

void write_png(const std::string& path, const systems::RgbaImage& image) {
  if (image.height == 0 || image.width == 0 ||
      image.pixels.size() != image.height * image.width * 4) {
    throw IoError(path, fmt::format("cannot write a {} x {} image of {} values as PNG",
                                    image.height, image.width, image.pixels.size()));
  }
  std::vector<png_byte> data(image.pixels.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    const float v = std::clamp(image.pixels[i], 0.0f, 1.0f);
    data[i] = static_cast<png_byte>(std::lround(v * 255.0f));
  }
  std::vector<png_bytep> rows(image.height);
  for (std::size_t y = 0; y < image.height; ++y) rows[y] = data.data() + y * image.width * 4;

  PngWriter writer;
  if (writer.png == nullptr || writer.info == nullptr) {
    throw IoError(path, "cannot set up libpng to write it (out of memory?)");
  }
  writer.temporary = temporary_name(path);
  writer.file = std::fopen(writer.temporary.c_str(), "wb");
  if (writer.file == nullptr) {
    const std::string reason = std::strerror(errno);
    const std::string temporary = writer.temporary;
    writer.temporary.clear();  // nothing to remove
    throw IoError(path, fmt::format("cannot create temporary file '{}' (does the directory "
                                    "exist?): {}",
                                    temporary, reason));
  }
  if (!write_image(writer, static_cast<png_uint_32>(image.width),
                   static_cast<png_uint_32>(image.height), rows.data())) {
    throw IoError(path, fmt::format("cannot write PNG: {}", writer.message.text));
  }
  std::FILE* file = writer.file;
  writer.file = nullptr;
  const bool flushed = std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const int flush_errno = errno;
  if (std::fclose(file) != 0 || !flushed) {
    throw IoError(path, fmt::format("cannot write temporary file '{}': {}", writer.temporary,
                                    std::strerror(flushed ? errno : flush_errno)));
  }
  if (std::rename(writer.temporary.c_str(), path.c_str()) != 0) {
    throw IoError(path, fmt::format("cannot rename temporary file '{}' onto it: {}",
                                    writer.temporary, std::strerror(errno)));
  }
  writer.committed = true;
}

}  // namespace eqflow::io
