// The artificial-life data of DESIGN.md section 2: RGBA icons (the project's own drawings of the
// reference's four kinds, or a user's PNG read by io/png), their bicubic resize and rotation on
// premultiplied colour, and the tiler that makes one data image: a white periodic canvas with up
// to `copies` randomly rotated copies of the icon at random centres, without alpha overlap,
// wrapping across the edges. Plain host code: each MPI rank draws its own samples, and every
// random number is a pure function of (seed, sample), so any split over ranks gives the same data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eqflow/core/hash.hpp"

namespace eqflow::systems {

//! An RGBA image, (height, width, 4) row-major floats in [0, 1], straight (not premultiplied)
//! alpha.
struct RgbaImage {
  std::size_t height = 0, width = 0;
  std::vector<float> pixels;  // (height, width, 4)

  //! The four channels (r, g, b, a) of pixel (row, col).
  float* at(std::size_t row, std::size_t col) { return pixels.data() + (row * width + col) * 4; }
  const float* at(std::size_t row, std::size_t col) const {
    return pixels.data() + (row * width + col) * 4;
  }
};

//! The project's own drawings of the reference's four icon kinds, in this order: "disc" (a blue
//! disc), "two_discs" (a blue and a red disc side by side: it has an orientation), "firefly" (a
//! blurred yellow-green ellipse of aspect 2:1 with a soft alpha falloff), "taiji" (a yin-yang in
//! near-black and mid-grey with a near-black outline, visible on the white canvas).
const std::vector<std::string>& builtin_icons();

//! Draws a builtin icon at size x size, antialiased (alpha and colour averaged over 4 x 4
//! subsamples per pixel), centred, transparent around the shape. Throws Error naming the unknown
//! name and listing the valid ones, or for size 0.
RgbaImage draw_icon(const std::string& name, std::size_t size);

//! Bicubic resize (Keys a = -0.5, as PIL's BICUBIC; the support scaled by the ratio when
//! shrinking, i.e. antialiased like PIL's resize) to height x width, separable (rows, then
//! columns), done on premultiplied colour so transparent pixels' colour does not bleed; the
//! result clamped to [0, 1]. Throws Error for an empty image or a zero target size.
RgbaImage resize_bicubic(const RgbaImage& image, std::size_t height, std::size_t width);

//! Rotation by `radians` counter-clockwise (as displayed, rows going down, like PIL's rotate)
//! about the centre, with Keys bicubic interpolation (a = -0.5) of premultiplied colour, onto a
//! canvas grown to hold the whole rotated image (PIL's expand=True: ceil/floor of the rotated
//! corners, cosine and sine rounded to 15 decimals so multiples of pi/2 are exact), transparent
//! outside. Angle 0 returns the image itself; pi/2 is np.rot90. An empty image stays empty.
RgbaImage rotate_bicubic(const RgbaImage& image, double radians);

//! Throws Error("<what>: ...") for an image with zero height or width, pixels of the wrong
//! size, or no pixel of alpha >= 1/255 (an empty icon). Used on user PNGs after reading.
void validate_icon(const RgbaImage& icon, const std::string& what);

//! The tiling of one data image.
struct IconCanvasSettings {
  std::size_t height = 128, width = 128;  //!< the periodic canvas
  std::size_t copies = 10;                //!< icons tried per image
  int attempts = 2;                       //!< placement attempts per copy (the reference's budget)
};

//! The random stream of the placements: FNV-1a of "eqflow.systems.icons.placement".
inline constexpr std::uint64_t kIconPlacementStream = stream_id("eqflow.systems.icons.placement");

//! One data image: a white periodic canvas; for each copy c < copies, up to `attempts` attempts
//! a: an angle uniform in [0, 2 pi) and a centre (row, column) uniform over the canvas cells,
//! from words 0, 1, 2 of Philox block (sample * copies + c) * attempts + a of
//! CounterRng(seed, kIconPlacementStream) (angle = 2 pi word / 2^32; a cell index is
//! (word * n) >> 32 as in gray_scott_disc): a pure function of (seed, sample), the same on any
//! rank. The icon (already resized by the caller) is rotated by rotate_bicubic, its rotated
//! canvas (nh, nw) laid with its top-left pixel at (row - nh / 2, column - nw / 2), wrapping at
//! the edges, unless one of its pixels with alpha >= 1/255 lands on a canvas pixel already
//! covered (alpha >= 1/255) by an earlier copy; a copy that fits is composited "over"
//! (out = a rgb + (1 - a) out) and the next copy starts. Writes (3, H, W) RGB normalised by
//! 2x - 1 (white = 1) into `out` and returns the number of copies placed.
//! Throws Error for a negative `attempts`, an invalid icon (validate_icon), and an icon whose
//! rotated canvas for some angle, at most ceil(hypot(h, w)) + 2 on a side, would not fit the
//! canvas (it would overlap itself across the wrap).
std::size_t icon_canvas(const RgbaImage& icon, const IconCanvasSettings& settings,
                        std::uint64_t seed, std::uint64_t sample, float* out);

}  // namespace eqflow::systems
