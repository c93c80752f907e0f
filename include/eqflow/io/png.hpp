// PNG images for the artificial-life icons: a user's creature is an RGBA PNG with transparency
// around it, read into float RGBA; images are written as 8-bit RGBA, atomically. libpng is
// private to io/; every failure is one IoError line naming the file.
#pragma once

#include <string>

#include "eqflow/systems/icons.hpp"

namespace eqflow::io {

//! Reads a PNG as straight RGBA floats in [0, 1]: 8- or 16-bit RGBA or grey + alpha, 1- to 8-bit
//! palette with a tRNS chunk, and RGB or grey with a tRNS colour key are accepted (colour values
//! as stored: no gamma conversion). Throws IoError(path, one line) for a missing or unreadable
//! file, a file that is not a PNG (signature), a PNG without alpha (RGB, grey, or palette
//! without tRNS), a corrupt or truncated PNG (libpng's message), an image over 16384 pixels on
//! a side, and an empty icon (validate_icon: no pixel of alpha >= 1/255).
systems::RgbaImage read_png(const std::string& path);

//! Writes `image` as 8-bit RGBA (values clamped to [0, 1], rounded), to a temporary name in the
//! same directory that is renamed to `path` when complete. Throws IoError on failure (the
//! temporary file removed) and for an empty image.
void write_png(const std::string& path, const systems::RgbaImage& image);

}  // namespace eqflow::io
