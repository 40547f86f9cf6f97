// Figure: renders the prepared scene onto a cairo SVG surface (sized in points, vector output)
// or an image surface (figsize x dpi pixels, scaled so the drawing code works in points), and
// writes the bytes atomically through io::AtomicFile.
#include <cairo-svg.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "host/io/atomic_file.hpp"
#include "host/plot/cairo_util.hpp"
#include "host/plot/png_image.hpp"
#include "host/plot/render.hpp"

namespace cusbi {

namespace {

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<std::string*>(closure);
  out->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string lower_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

Figure::Figure(std::shared_ptr<const Scene> scene) : scene_(std::move(scene)) {}

int Figure::width_px() const {
  return static_cast<int>(std::lround(scene_->width_pt / 72.0 * scene_->dpi));
}
int Figure::height_px() const {
  return static_cast<int>(std::lround(scene_->height_pt / 72.0 * scene_->dpi));
}

std::array<double, 2> Figure::pixel_of(int64_t row, int64_t col, double x, double y) const {
  for (const plot::Panel& p : scene_->panels) {
    if (p.row != row || p.col != col) continue;
    const double s = scene_->dpi / 72.0;
    const double px = p.box.x + (x - p.x.low) / (p.x.high - p.x.low) * p.box.w;
    const double py = p.box.y + p.box.h - (y - p.y.low) / (p.y.high - p.y.low) * p.box.h;
    return {px * s, py * s};
  }
  CUSBI_FAIL("Figure::pixel_of: there is no panel at row " << row << ", column " << col
                                                           << " (panels sit on and above the "
                                                              "diagonal of a "
                                                           << scene_->grid << " x " << scene_->grid
                                                           << " grid)");
}

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

void Figure::save(const std::filesystem::path& path) const {
  const std::string ext = lower_extension(path);
  CUSBI_CHECK(ext == ".svg" || ext == ".png", "Figure::save: cannot tell the format of "
                                                  << path
                                                  << " from its extension; name the file "
                                                     "*.svg or *.png");
  io::AtomicFile file(path);
  if (ext == ".svg") {
    const std::string bytes = svg();
    file.write(bytes.data(), bytes.size());
  } else {
    const std::vector<unsigned char> bytes = png();
    file.write(bytes.data(), bytes.size());
  }
  file.commit();
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
