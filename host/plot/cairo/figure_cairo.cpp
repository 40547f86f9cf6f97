// Figure's cairo side: renders the prepared scene onto a cairo SVG surface (sized in points,
// vector output) or an image surface (figsize x dpi pixels, scaled so the drawing code works in
// points), and decodes PNGs for the tests. Built only when cairo is found (CUSBI_PLOT).
#include <cairo-svg.h>

#include <string>
#include <vector>

#include "cusbi/plot.hpp"
#include "host/plot/cairo/cairo_util.hpp"
#include "host/plot/cairo/render.hpp"
#include "host/plot/png_image.hpp"
#include "host/plot/scene.hpp"

namespace cusbi {

namespace {

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<std::string*>(closure);
  out->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

bool plot_available() { return true; }

std::string Figure::svg() const {
  std::string out;
  plot::SurfacePtr surface(
      cairo_svg_surface_create_for_stream(append_bytes, &out, scene_->width_pt, scene_->height_pt),
      cairo_surface_destroy);
  plot::check_cairo(cairo_surface_status(surface.get()), "creating the SVG surface");
  {
    plot::ContextPtr cr(cairo_create(surface.get()), cairo_destroy);
    plot::render(*scene_, cr.get());
    plot::check_cairo(cairo_status(cr.get()), "drawing the SVG");
  }
  cairo_surface_finish(surface.get());
  plot::check_cairo(cairo_surface_status(surface.get()), "writing the SVG");
  return out;
}

std::vector<unsigned char> Figure::png() const {
  plot::SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width_px(), height_px()),
                           cairo_surface_destroy);
  plot::check_cairo(cairo_surface_status(surface.get()),
                    "creating a " + std::to_string(width_px()) + " x " +
                        std::to_string(height_px()) + " pixel image");
  {
    plot::ContextPtr cr(cairo_create(surface.get()), cairo_destroy);
    cairo_scale(cr.get(), scene_->dpi / 72.0, scene_->dpi / 72.0);
    plot::render(*scene_, cr.get());
    plot::check_cairo(cairo_status(cr.get()), "drawing the PNG");
  }
  std::string bytes;
  plot::check_cairo(cairo_surface_write_to_png_stream(surface.get(), append_bytes, &bytes),
                    "encoding the PNG");
  return {bytes.begin(), bytes.end()};
}

namespace plot {

PngImage read_png(const std::string& path) {
  SurfacePtr surface(cairo_image_surface_create_from_png(path.c_str()), cairo_surface_destroy);
  check_cairo(cairo_surface_status(surface.get()), "reading " + path);
  SurfacePtr argb(
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cairo_image_surface_get_width(surface.get()),
                                 cairo_image_surface_get_height(surface.get())),
      cairo_surface_destroy);
  {  // whatever format the PNG decoded to, copy it into ARGB32
    ContextPtr cr(cairo_create(argb.get()), cairo_destroy);
    cairo_set_operator(cr.get(), CAIRO_OPERATOR_SOURCE);
    cairo_set_source_surface(cr.get(), surface.get(), 0, 0);
    cairo_paint(cr.get());
  }
  cairo_surface_flush(argb.get());
  PngImage image;
  image.width = cairo_image_surface_get_width(argb.get());
  image.height = cairo_image_surface_get_height(argb.get());
  const int stride = cairo_image_surface_get_stride(argb.get());
  const unsigned char* data = cairo_image_surface_get_data(argb.get());
  for (int y = 0; y < image.height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + static_cast<size_t>(y) * stride);
    image.argb.insert(image.argb.end(), row, row + image.width);
  }
  return image;
}

}  // namespace plot

}  // namespace cusbi
