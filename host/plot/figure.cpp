// Figure: sizes, data-to-pixel mapping, and saving the bytes that svg() / png() make
// (host/plot/cairo/figure_cairo.cpp, or the no-cairo stub) atomically through io::AtomicFile.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/plot.hpp"
#include "host/io/atomic_file.hpp"
#include "host/plot/scene.hpp"

namespace cusbi {

namespace {

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

}  // namespace cusbi
