// Internal: a PNG decoded by cairo (cairo_image_surface_create_from_png), for tests and tools
// that check what a figure drew. Cairo-free so that callers need no cairo include path.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cusbi::plot {

struct PngImage {
  int width = 0, height = 0;
  std::vector<uint32_t> argb;  // row-major, 0xAARRGGBB, not premultiplied for opaque pixels
  uint32_t at(int x, int y) const { return argb[static_cast<size_t>(y) * width + x]; }
};

// Throws cusbi::Error when the file is missing or not a PNG.
PngImage read_png(const std::string& path);

}  // namespace cusbi::plot
