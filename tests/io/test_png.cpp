// PNG icons: write_png/read_png round trips, the pixel layouts a user's icon may come in (written
// here with libpng directly: palette with tRNS, grey + alpha, 16-bit, colour keys, interlaced),
// and one IoError line naming the file for each kind of bad input (missing, not a PNG, no alpha,
// empty icon, truncated or corrupt data).
#include <gtest/gtest.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/io/png.hpp"
#include "eqflow/systems/icons.hpp"
#include "support/files.hpp"

namespace eqflow::io {
namespace {

using systems::RgbaImage;

//! A PNG as stored: packed rows (big-endian 16-bit samples) and the optional palette and tRNS.
struct RawPng {
  png_uint_32 width = 0, height = 0;
  int color_type = PNG_COLOR_TYPE_RGBA, bit_depth = 8;
  int interlace = PNG_INTERLACE_NONE;
  std::vector<png_byte> data;  // height rows of row_bytes()
  std::vector<png_color> palette;
  std::vector<png_byte> palette_alpha;  // tRNS of a palette
  bool colour_key = false;              // tRNS of grey or RGB
  png_color_16 key{};

  std::size_t channels() const {
    switch (color_type) {
      case PNG_COLOR_TYPE_GRAY:
      case PNG_COLOR_TYPE_PALETTE:
        return 1;
      case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
      case PNG_COLOR_TYPE_RGB:
        return 3;
      default:
        return 4;
    }
  }
  std::size_t row_bytes() const { return (width * channels() * bit_depth + 7) / 8; }
};

//! libpng's write calls; only trivially destructible locals, as the longjmp may land here.
bool write_stage(png_structp png, png_infop info, std::FILE* file, const RawPng& raw,
                 png_bytep* rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, file);
  png_set_IHDR(png, info, raw.width, raw.height, raw.bit_depth, raw.color_type, raw.interlace,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!raw.palette.empty()) {
    png_set_PLTE(png, info, raw.palette.data(), static_cast<int>(raw.palette.size()));
  }
  if (!raw.palette_alpha.empty()) {
    png_set_tRNS(png, info, raw.palette_alpha.data(), static_cast<int>(raw.palette_alpha.size()),
                 nullptr);
  }
  if (raw.colour_key) png_set_tRNS(png, info, nullptr, 0, &raw.key);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

void write_raw(const std::string& path, RawPng raw) {
  ASSERT_EQ(raw.data.size(), raw.row_bytes() * raw.height);
  std::vector<png_bytep> rows(raw.height);
  for (png_uint_32 y = 0; y < raw.height; ++y) rows[y] = raw.data.data() + y * raw.row_bytes();
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  const bool ok = write_stage(png, info, file, raw, rows.data());
  png_destroy_write_struct(&png, &info);
  std::fclose(file);
  ASSERT_TRUE(ok) << "libpng could not write the test file " << path;
}

std::vector<char> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::vector<char>& bytes, std::size_t count) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(count));
}

template <class F>
void expect_io_error(F&& body, const std::vector<std::string>& parts) {
  test::expect_error_containing<IoError>(std::forward<F>(body), parts);
}

//! Random RGBA noise: compresses badly, so the image data spans most of the file.
RgbaImage noise(std::size_t size, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  RgbaImage image{size, size, std::vector<float>(size * size * 4)};
  for (float& v : image.pixels) v = uniform(engine);
  return image;
}

class PngTest : public test::TempDirTest {};

TEST_F(PngTest, RoundTripOfDrawnIcons) {
  for (const auto& name : systems::builtin_icons()) {
    const RgbaImage icon = systems::draw_icon(name, 40);
    const std::string path = file(name + ".png");
    write_png(path, icon);
    const RgbaImage back = read_png(path);
    ASSERT_EQ(back.height, icon.height);
    ASSERT_EQ(back.width, icon.width);
    for (std::size_t i = 0; i < icon.pixels.size(); ++i) {
      ASSERT_NEAR(back.pixels[i], icon.pixels[i], 0.5 / 255 + 1e-6) << name << " value " << i;
    }
  }
  // Atomic writes leave no temporary file behind.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().extension(), ".png") << entry.path();
    ++files;
  }
  EXPECT_EQ(files, systems::builtin_icons().size());
}

TEST_F(PngTest, WriteOverwritesAndReportsAMissingDirectory) {
  const std::string path = file("icon.png");
  write_png(path, systems::draw_icon("disc", 8));
  write_png(path, systems::draw_icon("taiji", 12));
  EXPECT_EQ(read_png(path).width, 12u);
  const std::string nowhere = file("no/such/dir/icon.png");
  expect_io_error([&] { write_png(nowhere, systems::draw_icon("disc", 8)); },
                  {nowhere, "temporary"});
  expect_io_error([&] { write_png(path, RgbaImage{}); }, {path, "0 x 0"});
}

TEST_F(PngTest, MissingFileAndNotAPng) {
  const std::string missing = file("missing.png");
  expect_io_error([&] { read_png(missing); }, {missing, "not found"});
  const std::string text = file("notes.png");
  std::ofstream(text) << "these are not the pixels you are looking for\n";
  expect_io_error([&] { read_png(text); }, {text, "not a PNG"});
  const std::string tiny = file("tiny.png");
  std::ofstream(tiny) << "\x89PN";
  expect_io_error([&] { read_png(tiny); }, {tiny, "not a PNG"});
  expect_io_error([&] { read_png(dir_.string()); }, {dir_.string(), "directory"});
}

TEST_F(PngTest, ImagesWithoutAlphaAreRejected) {
  RawPng rgb;
  rgb.width = 3, rgb.height = 2, rgb.color_type = PNG_COLOR_TYPE_RGB;
  rgb.data.assign(rgb.row_bytes() * 2, 200);
  RawPng grey = rgb;
  grey.color_type = PNG_COLOR_TYPE_GRAY;
  grey.data.assign(grey.row_bytes() * 2, 100);
  RawPng palette = grey;
  palette.color_type = PNG_COLOR_TYPE_PALETTE;
  palette.palette = {{255, 0, 0}, {0, 0, 255}};
  palette.data = {0, 1, 0, 1, 0, 1};
  for (const auto& [name, raw] : std::vector<std::pair<std::string, RawPng>>{
           {"rgb", rgb}, {"grey", grey}, {"pal", palette}}) {
    const std::string path = file(name + ".png");
    write_raw(path, raw);
    expect_io_error([&] { read_png(path); },
                    {path,
                     "has no alpha channel; an icon needs transparency around the creature "
                     "(RGBA)"});
  }
}

TEST_F(PngTest, EmptyIconIsRejected) {
  const std::string path = file("clear.png");
  RgbaImage clear{5, 6, std::vector<float>(5 * 6 * 4, 0.0f)};
  for (std::size_t i = 0; i < clear.pixels.size(); i += 4) clear.pixels[i] = 1.0f;  // red, a = 0
  write_png(path, clear);
  expect_io_error([&] { read_png(path); }, {path, "transparent", "empty icon"});
}

TEST_F(PngTest, TruncatedAndCorruptFilesAreErrors) {
  const std::string good = file("good.png");
  write_png(good, noise(64, 5));
  const std::vector<char> bytes = bytes_of(good);
  ASSERT_GT(bytes.size(), 10000u);
  for (const std::size_t keep :
       {std::size_t(8), std::size_t(20), std::size_t(60), bytes.size() / 2, bytes.size() - 5}) {
    const std::string path = file("cut_" + std::to_string(keep) + ".png");
    write_bytes(path, bytes, keep);
    expect_io_error([&] { read_png(path); }, {path, "PNG"});
  }
  std::vector<char> flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x5A;  // inside the image data: its CRC no longer matches
  const std::string path = file("flipped.png");
  write_bytes(path, flipped, flipped.size());
  expect_io_error([&] { read_png(path); }, {path, "corrupt"});
}

TEST_F(PngTest, PaletteWithTransparency) {
  const std::vector<png_color> colours = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
  const std::vector<png_byte> alphas = {0, 128, 255};       // the fourth entry is opaque
  const std::vector<int> index = {0, 1, 2, 3, 3, 2, 1, 0};  // 4 x 2
  for (const int depth : {8, 2}) {
    RawPng raw;
    raw.width = 4, raw.height = 2, raw.color_type = PNG_COLOR_TYPE_PALETTE, raw.bit_depth = depth;
    raw.palette = colours;
    raw.palette_alpha = alphas;
    raw.data.assign(raw.row_bytes() * 2, 0);
    for (std::size_t i = 0; i < index.size(); ++i) {
      const std::size_t row = i / 4, col = i % 4;
      if (depth == 8) {
        raw.data[row * raw.row_bytes() + col] = static_cast<png_byte>(index[i]);
      } else {  // four 2-bit indices per byte, the first in the high bits
        raw.data[row * raw.row_bytes()] |= static_cast<png_byte>(index[i] << (6 - 2 * col));
      }
    }
    const std::string path = file("palette" + std::to_string(depth) + ".png");
    write_raw(path, raw);
    const RgbaImage image = read_png(path);
    ASSERT_EQ(image.height, 2u);
    ASSERT_EQ(image.width, 4u);
    for (std::size_t i = 0; i < index.size(); ++i) {
      const float* px = image.at(i / 4, i % 4);
      const png_color& c = colours[index[i]];
      EXPECT_FLOAT_EQ(px[0], c.red / 255.0f) << depth << " " << i;
      EXPECT_FLOAT_EQ(px[1], c.green / 255.0f) << depth << " " << i;
      EXPECT_FLOAT_EQ(px[2], c.blue / 255.0f) << depth << " " << i;
      EXPECT_FLOAT_EQ(px[3], index[i] < 3 ? alphas[index[i]] / 255.0f : 1.0f) << depth << " " << i;
    }
  }
}

TEST_F(PngTest, GreyWithAlphaIn8And16Bits) {
  for (const int depth : {8, 16}) {
    RawPng raw;
    raw.width = 3, raw.height = 1, raw.color_type = PNG_COLOR_TYPE_GRAY_ALPHA,
    raw.bit_depth = depth;
    const std::vector<unsigned> grey = {0, 1000, 65535}, alpha = {65535, 30000, 0};
    for (std::size_t i = 0; i < 3; ++i) {
      for (const unsigned v : {grey[i], alpha[i]}) {
        if (depth == 16) raw.data.push_back(static_cast<png_byte>(v >> 8));
        raw.data.push_back(static_cast<png_byte>(depth == 16 ? v & 0xFF : v >> 8));
      }
    }
    const std::string path = file("grey" + std::to_string(depth) + ".png");
    write_raw(path, raw);
    const RgbaImage image = read_png(path);
    ASSERT_EQ(image.width, 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      const float g = depth == 16 ? grey[i] / 65535.0f : (grey[i] >> 8) / 255.0f;
      const float a = depth == 16 ? alpha[i] / 65535.0f : (alpha[i] >> 8) / 255.0f;
      for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(image.at(0, i)[c], g) << depth << " " << i;
      EXPECT_FLOAT_EQ(image.at(0, i)[3], a) << depth << " " << i;
    }
  }
}

TEST_F(PngTest, SixteenBitRgbaAndInterlacedFiles) {
  RawPng raw;
  raw.width = 9, raw.height = 7, raw.color_type = PNG_COLOR_TYPE_RGBA, raw.bit_depth = 16;
  std::vector<unsigned> values;
  for (unsigned i = 0; i < 9 * 7 * 4; ++i) values.push_back((i * 2654435761u) >> 16);
  for (const unsigned v : values) {
    raw.data.push_back(static_cast<png_byte>(v >> 8));
    raw.data.push_back(static_cast<png_byte>(v & 0xFF));
  }
  values[3] = 65535;  // at least one visible pixel
  raw.data[6] = raw.data[7] = 0xFF;
  for (const int interlace : {PNG_INTERLACE_NONE, PNG_INTERLACE_ADAM7}) {
    raw.interlace = interlace;
    const std::string path = file("rgba16_" + std::to_string(interlace) + ".png");
    write_raw(path, raw);
    const RgbaImage image = read_png(path);
    ASSERT_EQ(image.height, 7u);
    ASSERT_EQ(image.width, 9u);
    for (std::size_t i = 0; i < values.size(); ++i) {
      ASSERT_FLOAT_EQ(image.pixels[i], values[i] / 65535.0f) << interlace << " " << i;
    }
  }
}

TEST_F(PngTest, ColourKeyTransparencyOfRgbAndGrey) {
  RawPng rgb;
  rgb.width = 2, rgb.height = 1, rgb.color_type = PNG_COLOR_TYPE_RGB;
  rgb.data = {10, 20, 30, 200, 100, 50};
  rgb.colour_key = true;
  rgb.key.red = 10, rgb.key.green = 20, rgb.key.blue = 30;
  write_raw(file("rgb_key.png"), rgb);
  const RgbaImage a = read_png(file("rgb_key.png"));
  EXPECT_EQ(a.at(0, 0)[3], 0.0f);
  EXPECT_EQ(a.at(0, 1)[3], 1.0f);
  EXPECT_FLOAT_EQ(a.at(0, 1)[0], 200 / 255.0f);

  RawPng grey;  // 4-bit grey, key 15 (white)
  grey.width = 4, grey.height = 1, grey.color_type = PNG_COLOR_TYPE_GRAY, grey.bit_depth = 4;
  grey.data = {0xF3, 0x0F};  // 15, 3, 0, 15
  grey.colour_key = true;
  grey.key.gray = 15;
  write_raw(file("grey_key.png"), grey);
  const RgbaImage b = read_png(file("grey_key.png"));
  ASSERT_EQ(b.width, 4u);
  const std::vector<float> alpha = {0, 1, 1, 0}, value = {1, 3 / 15.0f, 0, 1};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b.at(0, i)[3], alpha[i]) << i;
    if (alpha[i] > 0) {
      EXPECT_FLOAT_EQ(b.at(0, i)[1], value[i]) << i;
    }
  }
}

}  // namespace
}  // namespace eqflow::io
