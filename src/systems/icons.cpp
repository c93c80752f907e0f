// Icons and the icon tiler. Resampling works on premultiplied colour (r a, g a, b a, a), so a
// transparent pixel contributes nothing whatever its stored colour, and is turned back into
// straight alpha, clamped, at the end. Rotation samples a padded premultiplied copy of the icon
// (no bounds checks) and only the columns of each row that can reach the icon's visible pixels.
// The tiler works in per-thread scratch buffers (no allocation after a thread's first image) and
// tests each attempt coarse to fine, rejecting it at the first visible pixel on covered canvas.
#include "eqflow/systems/icons.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/rng.hpp"

namespace eqflow::systems {
namespace {

//! The alpha from which a pixel counts as visible: covered canvas, overlap, a non-empty icon.
constexpr float kVisibleAlpha = 1.0f / 255.0f;
//! Subsamples per pixel and axis of the drawn icons.
constexpr int kSubsamples = 4;

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

//! Straight colour and alpha of one point of a drawing.
struct Paint {
  float r, g, b, a;
};

//! Rasterises `shape` (a function of (x, y) in [-1, 1]^2, x along columns, y along rows, giving
//! the Paint there) at size x size: premultiplied colour averaged over the subsamples.
template <class Shape>
RgbaImage rasterise(std::size_t size, const Shape& shape) {
  RgbaImage image{size, size, std::vector<float>(size * size * 4)};
  const double step = 2.0 / static_cast<double>(size);
  const double inv = 1.0 / (kSubsamples * kSubsamples);
  for (std::size_t row = 0; row < size; ++row) {
    for (std::size_t col = 0; col < size; ++col) {
      double sum[4] = {0.0, 0.0, 0.0, 0.0};
      for (int sy = 0; sy < kSubsamples; ++sy) {
        for (int sx = 0; sx < kSubsamples; ++sx) {
          const double x = -1.0 + step * (static_cast<double>(col) + (sx + 0.5) / kSubsamples);
          const double y = -1.0 + step * (static_cast<double>(row) + (sy + 0.5) / kSubsamples);
          const Paint p = shape(x, y);
          sum[0] += p.r * p.a;
          sum[1] += p.g * p.a;
          sum[2] += p.b * p.a;
          sum[3] += p.a;
        }
      }
      float* px = image.at(row, col);
      const double alpha = sum[3] * inv;
      for (int c = 0; c < 3; ++c) {
        px[c] = alpha > 0.0 ? static_cast<float>(std::clamp(sum[c] / sum[3], 0.0, 1.0)) : 0.0f;
      }
      px[3] = static_cast<float>(std::clamp(alpha, 0.0, 1.0));
    }
  }
  return image;
}

constexpr Paint kClear = {0.0f, 0.0f, 0.0f, 0.0f};
constexpr Paint kBlue = {0.16f, 0.38f, 0.85f, 1.0f};
constexpr Paint kRed = {0.86f, 0.17f, 0.14f, 1.0f};
constexpr Paint kDark = {0.08f, 0.08f, 0.08f, 1.0f};
constexpr Paint kGrey = {0.62f, 0.62f, 0.62f, 1.0f};

bool inside(double x, double y, double cx, double cy, double radius) {
  return (x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius;
}

Paint disc(double x, double y) {
  return inside(x, y, 0.0, 0.0, 0.9) ? kBlue : kClear;
}

//! Blue on the left, red on the right, touching at the centre.
Paint two_discs(double x, double y) {
  if (inside(x, y, -0.47, 0.0, 0.47)) return kBlue;
  if (inside(x, y, 0.47, 0.0, 0.47)) return kRed;
  return kClear;
}

//! An ellipse of semi-axes 0.9 (along x) and 0.45: opaque in its inner half, then an alpha that
//! falls smoothly (smoothstep) to 0 at its boundary.
Paint firefly(double x, double y) {
  const double r = std::sqrt((x / 0.9) * (x / 0.9) + (y / 0.45) * (y / 0.45));
  if (r >= 1.0) return kClear;
  const double t = std::min((1.0 - r) / 0.55, 1.0);
  return {0.72f, 0.9f, 0.18f, static_cast<float>(t * t * (3.0 - 2.0 * t))};
}

//! Dark on the right, grey on the left, the grey lobe above and the dark lobe below, each with
//! a dot of the other colour; a dark outline.
Paint taiji(double x, double y) {
  constexpr double outer = 0.94, r = 0.86;
  if (!inside(x, y, 0.0, 0.0, outer)) return kClear;
  if (!inside(x, y, 0.0, 0.0, r)) return kDark;
  if (inside(x, y, 0.0, -r / 2, r / 7)) return kDark;
  if (inside(x, y, 0.0, r / 2, r / 7)) return kGrey;
  if (inside(x, y, 0.0, -r / 2, r / 2)) return kGrey;
  if (inside(x, y, 0.0, r / 2, r / 2)) return kDark;
  return x > 0.0 ? kDark : kGrey;
}

//! The premultiplied copy of an image: (height, width, 4).
std::vector<float> premultiplied(const RgbaImage& image) {
  std::vector<float> out(image.pixels.size());
  for (std::size_t i = 0; i < out.size(); i += 4) {
    const float a = image.pixels[i + 3];
    out[i + 0] = image.pixels[i + 0] * a;
    out[i + 1] = image.pixels[i + 1] * a;
    out[i + 2] = image.pixels[i + 2] * a;
    out[i + 3] = a;
  }
  return out;
}

//! Straight, clamped colour of a premultiplied pixel (0, 0, 0, 0 where alpha <= 0).
inline void to_straight(const float* premultiplied, float* straight) {
  const float a = std::min(premultiplied[3], 1.0f);
  if (a <= 0.0f) {
    straight[0] = straight[1] = straight[2] = straight[3] = 0.0f;
    return;
  }
  const float inverse = 1.0f / a;
  for (int c = 0; c < 3; ++c) straight[c] = std::clamp(premultiplied[c] * inverse, 0.0f, 1.0f);
  straight[3] = a;
}

//! PIL's bicubic filter (Keys, a = -0.5) at distance x.
double keys(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

//! The four Keys weights (a = -0.5) of taps i - 1 .. i + 2 for a sample at i + t, t in [0, 1).
inline void cubic_weights(float t, float* w) {
  const float t2 = t * t, t3 = t2 * t;
  w[0] = -0.5f * t3 + t2 - 0.5f * t;
  w[1] = 1.5f * t3 - 2.5f * t2 + 1.0f;
  w[2] = -1.5f * t3 + 2.0f * t2 + 0.5f * t;
  w[3] = 0.5f * t3 - 0.5f * t2;
}

//! The taps of one output coordinate of a 1-D resample, as PIL's precompute_coeffs: the first
//! input index and normalised weights.
struct Taps {
  std::vector<std::size_t> first, count;
  std::vector<float> weights;  // (out, width)
  std::size_t width = 0;
};

Taps resample_taps(std::size_t in, std::size_t out) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Taps taps;
  taps.width = static_cast<std::size_t>(std::ceil(support)) * 2 + 1;
  taps.first.resize(out);
  taps.count.resize(out);
  taps.weights.assign(out * taps.width, 0.0f);
  std::vector<double> w(taps.width);
  for (std::size_t o = 0; o < out; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    const auto lo = static_cast<long>(std::max(0.0, std::trunc(center - support + 0.5)));
    const auto hi =
        std::min(static_cast<long>(std::trunc(center + support + 0.5)), static_cast<long>(in));
    const std::size_t n = static_cast<std::size_t>(std::max(hi - lo, 1L));
    double sum = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      w[k] = keys((static_cast<double>(lo) + static_cast<double>(k) - center + 0.5) / filterscale);
      sum += w[k];
    }
    for (std::size_t k = 0; k < n; ++k) {
      taps.weights[o * taps.width + k] = static_cast<float>(sum != 0.0 ? w[k] / sum : w[k]);
    }
    taps.first[o] = static_cast<std::size_t>(lo);
    taps.count[o] = n;
  }
  return taps;
}

//! The geometry of a rotation with expansion, as PIL's rotate(expand=True): the output size and
//! the map from an output point (continuous coordinates, pixel centres at + 0.5) to the input.
struct Rotation {
  std::size_t height = 0, width = 0;  // of the rotated canvas
  double cos = 1.0, sin = 0.0;
  double in_cx = 0.0, in_cy = 0.0, out_cx = 0.0, out_cy = 0.0;

  //! Input point (x, y) of output point (xo, yo).
  void source(double xo, double yo, double& x, double& y) const {
    const double dx = xo - out_cx, dy = yo - out_cy;
    x = cos * dx - sin * dy + in_cx;
    y = sin * dx + cos * dy + in_cy;
  }
};

Rotation rotation(std::size_t height, std::size_t width, double radians) {
  const auto round15 = [](double v) { return std::round(v * 1e15) / 1e15; };
  Rotation r;
  r.cos = round15(std::cos(radians));
  r.sin = round15(std::sin(radians));
  r.in_cx = 0.5 * static_cast<double>(width);
  r.in_cy = 0.5 * static_cast<double>(height);
  double x_min = 1e300, x_max = -1e300, y_min = 1e300, y_max = -1e300;
  for (const double cx : {0.0, static_cast<double>(width)}) {
    for (const double cy : {0.0, static_cast<double>(height)}) {
      const double dx = cx - r.in_cx, dy = cy - r.in_cy;
      const double x = r.cos * dx - r.sin * dy + r.in_cx;
      const double y = r.sin * dx + r.cos * dy + r.in_cy;
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
  }
  r.width = static_cast<std::size_t>(std::ceil(x_max) - std::floor(x_min));
  r.height = static_cast<std::size_t>(std::ceil(y_max) - std::floor(y_min));
  r.out_cx = 0.5 * static_cast<double>(r.width);
  r.out_cy = 0.5 * static_cast<double>(r.height);
  return r;
}

//! The premultiplied copy of an image inside a transparent border, so that a bicubic sample
//! with any of its 16 taps in the image reads all of them without a bounds check.
class PaddedImage {
 public:
  PaddedImage() = default;
  explicit PaddedImage(const RgbaImage& image) { assign(image); }

  //! Makes this the padded copy of `image`, reusing the storage.
  void assign(const RgbaImage& image) {
    height_ = static_cast<long>(image.height);
    width_ = static_cast<long>(image.width);
    stride_ = width_ + 2 * kPad;
    pixels_.assign(static_cast<std::size_t>((height_ + 2 * kPad) * stride_ * 4), 0.0f);
    long row_min = height_, row_max = -1, col_min = width_, col_max = -1;
    for (long row = 0; row < height_; ++row) {
      for (long col = 0; col < width_; ++col) {
        const float* in = image.at(static_cast<std::size_t>(row), static_cast<std::size_t>(col));
        float* out = &pixels_[static_cast<std::size_t>(((row + kPad) * stride_ + col + kPad) * 4)];
        for (int c = 0; c < 3; ++c) out[c] = in[c] * in[3];
        out[3] = in[3];
        if (in[3] > 0.0f) {
          row_min = std::min(row_min, row), row_max = std::max(row_max, row);
          col_min = std::min(col_min, col), col_max = std::max(col_max, col);
        }
      }
    }
    // A sample reaches 2 pixels either side of its point: outside this box all taps are clear.
    box_[0] = static_cast<double>(col_min) - 1.5;
    box_[1] = static_cast<double>(col_max + 1) + 1.5;
    box_[2] = static_cast<double>(row_min) - 1.5;
    box_[3] = static_cast<double>(row_max + 1) + 1.5;
  }

  //! The box x in [box(0), box(1)), y in [box(2), box(3)) outside which every sample is
  //! transparent (the pixels with alpha > 0, grown by the filter's reach; empty if none).
  double box(int i) const { return box_[i]; }

  //! Premultiplied bicubic sample at point (x, y) (pixel centres at + 0.5), transparent outside.
  //! Non-zero only inside the box x in [-1.5, width + 1.5), y in [-1.5, height + 1.5).
  void sample(double x, double y, float* out) const {
    out[0] = out[1] = out[2] = out[3] = 0.0f;
    const double xs = x - 0.5, ys = y - 0.5;
    if (!(xs >= -2.0 && xs < static_cast<double>(width_ + 1) && ys >= -2.0 &&
          ys < static_cast<double>(height_ + 1))) {
      return;  // every tap outside (NaN too)
    }
    const double fx = std::floor(xs), fy = std::floor(ys);
    float wx[4], wy[4];
    cubic_weights(static_cast<float>(xs - fx), wx);
    cubic_weights(static_cast<float>(ys - fy), wy);
    // Taps floor - 1 .. floor + 2, in [-3, width + 2]: inside the padded image.
    const long ix = static_cast<long>(fx) - 1 + kPad, iy = static_cast<long>(fy) - 1 + kPad;
    const float* base = &pixels_[static_cast<std::size_t>((iy * stride_ + ix) * 4)];
    // Channel-innermost loops over 4 contiguous floats: one SIMD lane per channel.
    for (long j = 0; j < 4; ++j) {
      const float* p = base + j * stride_ * 4;
      float row[4];
      for (int c = 0; c < 4; ++c) row[c] = wx[0] * p[c];
      for (int i = 1; i < 4; ++i) {
        for (int c = 0; c < 4; ++c) row[c] += wx[i] * p[4 * i + c];
      }
      for (int c = 0; c < 4; ++c) out[c] += wy[j] * row[c];
    }
  }

 private:
  static constexpr long kPad = 3;
  long height_ = 0, width_ = 0, stride_ = 0;
  std::vector<float> pixels_;
  double box_[4] = {0.0, 0.0, 0.0, 0.0};  // (height + 2 kPad, width + 2 kPad, 4)
};

//! The columns [first, last) of row `row` of the rotation `r` of `image` that can be non-zero:
//! those whose source point may lie in image.box(), with a column of margin for rounding. The
//! others are transparent.
void footprint(const Rotation& r, const PaddedImage& image, std::size_t row, std::size_t& first,
               std::size_t& last) {
  double lo = 0.0, hi = static_cast<double>(r.width);
  double x0, y0;  // the source point of column 0: it moves by (cos, sin) per column
  r.source(0.5, static_cast<double>(row) + 0.5, x0, y0);
  const auto clip = [&](double slope, double at0, double min, double max) {
    if (slope == 0.0) {
      if (!(at0 >= min && at0 < max)) hi = lo;
      return;
    }
    double a = (min - at0) / slope, b = (max - at0) / slope;
    if (a > b) std::swap(a, b);
    lo = std::max(lo, a);
    hi = std::min(hi, b);
  };
  clip(r.cos, x0, image.box(0), image.box(1));
  clip(r.sin, y0, image.box(2), image.box(3));
  if (!(hi > lo)) {
    first = last = 0;
    return;
  }
  first = static_cast<std::size_t>(std::max(0.0, std::floor(lo) - 1.0));
  last = static_cast<std::size_t>(std::min(static_cast<double>(r.width), std::ceil(hi) + 1.0));
  last = std::max(first, last);
}

//! Straight-alpha pixel (row, col) of the rotation `r` of `image`.
inline void rotated_pixel(const PaddedImage& image, const Rotation& r, std::size_t row,
                          std::size_t col, float* out) {
  double x, y;
  r.source(static_cast<double>(col) + 0.5, static_cast<double>(row) + 0.5, x, y);
  float premul[4];
  image.sample(x, y, premul);
  to_straight(premul, out);
}

//! Row `row` of the rotation `r` of `image` into `out` (r.width pixels of 4 floats).
void rotated_row(const PaddedImage& image, const Rotation& r, std::size_t row, float* out) {
  std::size_t first, last;
  footprint(r, image, row, first, last);
  std::fill(out, out + first * 4, 0.0f);
  for (std::size_t col = first; col < last; ++col) rotated_pixel(image, r, row, col, out + col * 4);
  std::fill(out + last * 4, out + r.width * 4, 0.0f);
}

//! The working memory of icon_canvas.
struct Scratch {
  PaddedImage source;                  // the icon, premultiplied and padded
  std::vector<float> rotated;          // (nh, nw, 4) of the current attempt
  std::vector<unsigned char> covered;  // (H, W): 1 where alpha >= 1/255 was placed
};

void require_pixels(const RgbaImage& image, const std::string& what) {
  if (image.pixels.size() != image.height * image.width * 4) {
    throw Error(fmt::format("{}: {} pixel values for a {} x {} RGBA image (expected {})", what,
                            image.pixels.size(), image.height, image.width,
                            image.height * image.width * 4));
  }
}

}  // namespace

const std::vector<std::string>& builtin_icons() {
  static const std::vector<std::string> names = {"disc", "two_discs", "firefly", "taiji"};
  return names;
}

RgbaImage draw_icon(const std::string& name, std::size_t size) {
  if (size == 0) throw Error(fmt::format("icon '{}': size must be >= 1", name));
  if (name == "disc") return rasterise(size, disc);
  if (name == "two_discs") return rasterise(size, two_discs);
  if (name == "firefly") return rasterise(size, firefly);
  if (name == "taiji") return rasterise(size, taiji);
  throw Error(
      fmt::format("unknown icon '{}'; the builtin icons are: {} (or the path of an RGBA "
                  "PNG)",
                  name, join(builtin_icons())));
}

RgbaImage resize_bicubic(const RgbaImage& image, std::size_t height, std::size_t width) {
  require_pixels(image, "resize_bicubic");
  if (image.height == 0 || image.width == 0 || height == 0 || width == 0) {
    throw Error(fmt::format("resize_bicubic: cannot resize a {} x {} image to {} x {}",
                            image.height, image.width, height, width));
  }
  const std::vector<float> source = premultiplied(image);
  // Rows first: (h, w, 4) -> (h, width, 4), then columns: -> (height, width, 4).
  const Taps across = resample_taps(image.width, width);
  std::vector<float> wide(image.height * width * 4, 0.0f);
  for (std::size_t row = 0; row < image.height; ++row) {
    for (std::size_t col = 0; col < width; ++col) {
      float* o = &wide[(row * width + col) * 4];
      const float* weights = &across.weights[col * across.width];
      for (std::size_t k = 0; k < across.count[col]; ++k) {
        const float* p = &source[(row * image.width + across.first[col] + k) * 4];
        for (int c = 0; c < 4; ++c) o[c] += weights[k] * p[c];
      }
    }
  }
  const Taps down = resample_taps(image.height, height);
  std::vector<float> result(height * width * 4, 0.0f);
  for (std::size_t row = 0; row < height; ++row) {
    const float* weights = &down.weights[row * down.width];
    float* o = &result[row * width * 4];
    for (std::size_t k = 0; k < down.count[row]; ++k) {
      const float* p = &wide[(down.first[row] + k) * width * 4];
      for (std::size_t i = 0; i < width * 4; ++i) o[i] += weights[k] * p[i];
    }
  }
  RgbaImage out{height, width, std::vector<float>(height * width * 4)};
  for (std::size_t i = 0; i < result.size(); i += 4) to_straight(&result[i], &out.pixels[i]);
  return out;
}

RgbaImage rotate_bicubic(const RgbaImage& image, double radians) {
  require_pixels(image, "rotate_bicubic");
  if (image.height == 0 || image.width == 0) return image;
  const Rotation r = rotation(image.height, image.width, radians);
  const PaddedImage source(image);
  RgbaImage out{r.height, r.width, std::vector<float>(r.height * r.width * 4)};
  for (std::size_t row = 0; row < r.height; ++row) rotated_row(source, r, row, out.at(row, 0));
  return out;
}

void validate_icon(const RgbaImage& icon, const std::string& what) {
  require_pixels(icon, what);
  if (icon.height == 0 || icon.width == 0) {
    throw Error(
        fmt::format("{}: the image is empty ({} x {} pixels)", what, icon.height, icon.width));
  }
  for (std::size_t i = 3; i < icon.pixels.size(); i += 4) {
    if (icon.pixels[i] >= kVisibleAlpha) return;
  }
  throw Error(
      fmt::format("{}: every pixel of the {} x {} image is transparent (alpha < 1/255): "
                  "an empty icon",
                  what, icon.height, icon.width));
}

std::size_t icon_canvas(const RgbaImage& icon, const IconCanvasSettings& settings,
                        std::uint64_t seed, std::uint64_t sample_index, float* out) {
  validate_icon(icon, "icon_canvas");
  if (settings.attempts < 0) {
    throw Error(fmt::format("icon_canvas: attempts = {}, expected >= 0", settings.attempts));
  }
  const std::size_t height = settings.height, width = settings.width;
  const auto extent = static_cast<std::size_t>(std::ceil(std::hypot(
                          static_cast<double>(icon.height), static_cast<double>(icon.width)))) +
                      2;
  if (extent > height || extent > width) {
    throw Error(
        fmt::format("icon_canvas: a {} x {} icon (up to {} x {} rotated) does not fit the "
                    "{} x {} canvas; use a smaller icon or a larger canvas",
                    icon.height, icon.width, extent, extent, height, width));
  }

  // Per-thread buffers: a loop over samples allocates nothing after its first image.
  thread_local Scratch scratch;
  const std::size_t plane = height * width;
  std::fill(out, out + 3 * plane, 1.0f);
  std::vector<unsigned char>& covered = scratch.covered;
  covered.assign(plane, 0);
  std::vector<float>& rotated = scratch.rotated;
  rotated.resize(extent * extent * 4);
  PaddedImage& source = scratch.source;
  source.assign(icon);
  const CounterRng rng(seed, kIconPlacementStream);
  const auto attempts = static_cast<std::uint64_t>(settings.attempts);
  const auto below = [](std::uint32_t word, std::size_t n) {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(word) * n) >> 32);
  };

  std::size_t placed = 0;
  for (std::size_t copy = 0; copy < settings.copies; ++copy) {
    for (std::uint64_t attempt = 0; attempt < attempts; ++attempt) {
      const auto block = rng.bits((sample_index * settings.copies + copy) * attempts + attempt);
      const double angle = 2.0 * math::pi<double> * (static_cast<double>(block.v[0]) * 0x1p-32);
      const std::size_t cy = below(block.v[1], height), cx = below(block.v[2], width);
      const Rotation r = rotation(icon.height, icon.width, angle);
      // Top-left canvas cell of the rotated image, kept in [0, H) x [0, W).
      const std::size_t top = (cy + height - r.height / 2) % height;
      const std::size_t left = (cx + width - r.width / 2) % width;

      // Canvas row and column of rotated pixel (row, col): top + row < 2 H, left + col < 2 W.
      const auto canvas_row = [&](std::size_t row) {
        return top + row < height ? top + row : top + row - height;
      };
      const auto canvas_col = [&](std::size_t col) {
        return left + col < width ? left + col : left + col - width;
      };
      const auto lands_on_cover = [&](std::size_t row, std::size_t col, const float* px) {
        return px[3] >= kVisibleAlpha && covered[canvas_row(row) * width + canvas_col(col)] != 0;
      };
      // Copies that collide share many pixels, so a coarse pass over every 4th pixel of every
      // 4th row finds most collisions at 1/16 of the cost; the fine pass rotates the whole image
      // into `rotated` and finds any collision the coarse one missed.
      const auto coarse_collision = [&] {
        for (std::size_t row = 0; row < r.height; row += 4) {
          std::size_t first, last;
          footprint(r, source, row, first, last);
          for (std::size_t col = first; col < last; col += 4) {
            float px[4];
            rotated_pixel(source, r, row, col, px);
            if (lands_on_cover(row, col, px)) return true;
          }
        }
        return false;
      };
      const auto fine_collision = [&] {
        for (std::size_t row = 0; row < r.height; ++row) {
          float* line = &rotated[row * r.width * 4];
          rotated_row(source, r, row, line);
          for (std::size_t col = 0; col < r.width; ++col) {
            if (lands_on_cover(row, col, line + col * 4)) return true;
          }
        }
        return false;
      };
      if ((placed > 0 && coarse_collision()) || fine_collision()) continue;

      for (std::size_t row = 0; row < r.height; ++row) {
        const std::size_t y = canvas_row(row);
        for (std::size_t col = 0; col < r.width; ++col) {
          const float* px = &rotated[(row * r.width + col) * 4];
          const float a = px[3];
          if (a <= 0.0f) continue;
          const std::size_t cell = y * width + canvas_col(col);
          for (int c = 0; c < 3; ++c) {
            out[c * plane + cell] = a * px[c] + (1.0f - a) * out[c * plane + cell];
          }
          if (a >= kVisibleAlpha) covered[cell] = 1;
        }
      }
      ++placed;
      break;
    }
  }
  for (std::size_t i = 0; i < 3 * plane; ++i) out[i] = 2.0f * out[i] - 1.0f;
  return placed;
}

}  // namespace eqflow::systems
