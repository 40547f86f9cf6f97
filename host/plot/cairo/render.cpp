// Drawing a pairplot scene with cairo, in matplotlib's default look as sbi uses it: DejaVu Sans
// 10 pt text, 1.5 pt lines (1 pt histogram outlines), diagonal panels with only a bottom spine
// set 5 pt below the panel (sbi's despine offset), 3.5 pt outward ticks, tick labels thinned
// until they do not overlap. Panels above the diagonal get a light frame (sbi draws none) so
// their extent stays readable.
#include "host/plot/cairo/render.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "host/plot/ticks.hpp"

namespace cusbi::plot {

namespace {

constexpr double kFontPt = 10.0, kTitlePt = 16.0;
constexpr double kLinePt = 1.5;       // matplotlib lines.linewidth
constexpr double kStepLinePt = 1.0;   // patch.linewidth: step histograms
constexpr double kAxisLinePt = 0.8;   // axes.linewidth, xtick.major.width
constexpr double kSpineOffsetPt = 5;  // sbi despine offset
constexpr double kTickPt = 3.5, kTickPadPt = 3.5, kLabelPadPt = 4.0;
constexpr double kMinLabelGapPt = 4.0;  // between neighbouring tick labels
constexpr int kMinImagePixels = 400;    // images are upscaled (nearest) so viewers do not blur

struct Mapper {
  const Panel& p;
  double px(double x) const { return p.box.x + (x - p.x.low) / (p.x.high - p.x.low) * p.box.w; }
  double py(double y) const {
    return p.box.y + p.box.h - (y - p.y.low) / (p.y.high - p.y.low) * p.box.h;
  }
};

void set_color(cairo_t* cr, Rgb c, double alpha = 1.0) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

void draw(cairo_t* cr, const Mapper& m, const Steps& s) {
  const size_t bins = s.heights.size();
  cairo_move_to(cr, m.px(s.edges[0]), m.py(0));
  for (size_t i = 0; i < bins; ++i) {
    cairo_line_to(cr, m.px(s.edges[i]), m.py(s.heights[i]));
    cairo_line_to(cr, m.px(s.edges[i + 1]), m.py(s.heights[i]));
  }
  cairo_line_to(cr, m.px(s.edges[bins]), m.py(0));
  cairo_set_line_width(cr, kStepLinePt);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
  set_color(cr, s.color);
  cairo_stroke(cr);
}

void draw(cairo_t* cr, const Mapper& m, const Curve& c) {
  for (size_t i = 0; i < c.xs.size(); ++i) cairo_line_to(cr, m.px(c.xs[i]), m.py(c.ys[i]));
  cairo_set_line_width(cr, kLinePt);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  set_color(cr, c.color);
  cairo_stroke(cr);
}

void draw(cairo_t* cr, const Mapper& m, const Image& image) {
  const int f = std::max(
      1, (kMinImagePixels + std::max(image.nx, image.ny) - 1) / std::max(image.nx, image.ny));
  const int w = image.nx * f, h = image.ny * f;
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy);
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) return;  // reported at save
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int row = 0; row < h; ++row) {
    const int j = image.ny - 1 - row / f;  // grid row 0 is the low y end, drawn at the bottom
    auto* out = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(row) * stride);
    for (int col = 0; col < w; ++col) {
      const uint8_t* c = &image.rgb[(static_cast<size_t>(j) * image.nx + col / f) * 3];
      out[col] = (uint32_t{c[0]} << 16) | (uint32_t{c[1]} << 8) | c[2];
    }
  }
  cairo_surface_mark_dirty(surface.get());
  cairo_save(cr);
  cairo_translate(cr, m.p.box.x, m.p.box.y);
  cairo_scale(cr, m.p.box.w / w, m.p.box.h / h);
  cairo_set_source_surface(cr, surface.get(), 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, w, h);
  cairo_fill(cr);
  cairo_restore(cr);
}

void draw(cairo_t* cr, const Mapper& m, const Markers& k) {
  cairo_set_line_width(cr, 0.5);
  for (size_t i = 0; i < k.xs.size(); ++i) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, m.px(k.xs[i]), m.py(k.ys[i]), k.radius_pt, 0, 2 * M_PI);
    set_color(cr, k.color, k.alpha);
    if (!k.white_edge) {
      cairo_fill(cr);
      continue;
    }
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 1, 1, 1, k.alpha);
    cairo_stroke(cr);
  }
}

void draw(cairo_t* cr, const Mapper& m, const Contours& c) {
  for (const auto& line : c.lines) {
    if (line.size() < 2) continue;
    cairo_move_to(cr, m.px(line[0][0]), m.py(line[0][1]));
    for (size_t i = 1; i < line.size(); ++i) cairo_line_to(cr, m.px(line[i][0]), m.py(line[i][1]));
    if (line.front() == line.back()) cairo_close_path(cr);
  }
  cairo_set_line_width(cr, kLinePt);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  set_color(cr, c.color);
  cairo_stroke(cr);
}

void draw(cairo_t* cr, const Mapper& m, const VLines& v) {
  for (double x : v.xs) {
    cairo_move_to(cr, m.px(x), m.p.box.y);
    cairo_line_to(cr, m.px(x), m.p.box.y + m.p.box.h);
  }
  cairo_set_line_width(cr, kLinePt);
  set_color(cr, v.color);
  cairo_stroke(cr);
}

// Text with its top edge at y (ascent below it), horizontally centred on x or starting at x.
void show_text(cairo_t* cr, const std::string& text, double x, double top, bool centred) {
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, text.c_str(), &ext);
  cairo_move_to(cr, centred ? x - ext.x_advance / 2 : x, top + font.ascent);
  cairo_show_text(cr, text.c_str());
}

// Bottom spine, ticks, tick labels and the axis label of a diagonal panel.
void draw_x_axis(cairo_t* cr, const Panel& p) {
  const Mapper m{p};
  const double spine = p.box.y + p.box.h + kSpineOffsetPt;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, kAxisLinePt);
  cairo_move_to(cr, p.box.x, spine);
  cairo_line_to(cr, p.box.x + p.box.w, spine);
  cairo_stroke(cr);

  cairo_set_font_size(cr, kFontPt);
  // matplotlib's "auto" tick count: axis length / (3 x font size) intervals, at most 9; then
  // rounder steps while neighbouring labels would touch.
  const int max_ticks = std::clamp(static_cast<int>(p.box.w / (3 * kFontPt)), 1, 9) + 1;
  std::vector<double> ticks;
  double step = nice_step(p.x, max_ticks);
  for (;; step = next_nice_step(step)) {
    ticks = ticks_at(p.x, step);
    double widest = 0;
    for (double t : ticks) {
      cairo_text_extents_t ext;
      cairo_text_extents(cr, tick_label(t, step).c_str(), &ext);
      widest = std::max(widest, ext.x_advance);
    }
    if (ticks.size() < 2 || m.px(ticks[1]) - m.px(ticks[0]) >= widest + kMinLabelGapPt) break;
  }
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  for (double t : ticks) {
    cairo_move_to(cr, m.px(t), spine);
    cairo_line_to(cr, m.px(t), spine + kTickPt);
    cairo_stroke(cr);
    show_text(cr, tick_label(t, step), m.px(t), spine + kTickPt + kTickPadPt, true);
  }
  const double label_top = spine + kTickPt + kTickPadPt + font.ascent + font.descent + kLabelPadPt;
  show_text(cr, p.x_label, p.box.x + p.box.w / 2, label_top, true);
}

void draw_panel(cairo_t* cr, const Panel& p) {
  const Mapper m{p};
  cairo_save(cr);
  cairo_rectangle(cr, p.box.x, p.box.y, p.box.w, p.box.h);
  cairo_clip(cr);
  cairo_new_path(cr);
  for (const Layer& layer : p.layers) std::visit([&](const auto& l) { draw(cr, m, l); }, layer);
  cairo_restore(cr);
  if (!p.diagonal) {
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr, kAxisLinePt);
    cairo_rectangle(cr, p.box.x, p.box.y, p.box.w, p.box.h);
    cairo_stroke(cr);
  }
  if (p.x_axis) draw_x_axis(cr, p);
}

// Entries stacked and centred in the box: a line (sample sets) or a dot (points), then the text.
void draw_legend(cairo_t* cr, const Figure::Scene& scene) {
  if (scene.legend.empty()) return;
  cairo_set_font_size(cr, kFontPt);
  constexpr double kHandle = 20, kGap = 8, kRow = 1.5 * kFontPt;
  double widest = 0;
  for (const auto& e : scene.legend) {
    cairo_text_extents_t ext;
    cairo_text_extents(cr, e.text.c_str(), &ext);
    widest = std::max(widest, ext.x_advance);
  }
  const Rect& b = scene.legend_box;
  const double x0 = b.x + (b.w - kHandle - kGap - widest) / 2;
  double y = b.y + (b.h - kRow * static_cast<double>(scene.legend.size())) / 2;
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  for (const auto& e : scene.legend) {
    const double mid = y + kRow / 2;
    set_color(cr, e.color);
    if (e.marker) {
      cairo_arc(cr, x0 + kHandle / 2, mid, 3.0, 0, 2 * M_PI);
      cairo_fill(cr);
    } else {
      cairo_set_line_width(cr, kLinePt);
      cairo_move_to(cr, x0, mid);
      cairo_line_to(cr, x0 + kHandle, mid);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    show_text(cr, e.text, x0 + kHandle + kGap, mid - (font.ascent + font.descent) / 2, false);
    y += kRow;
  }
}

}  // namespace

void render(const Figure::Scene& scene, cairo_t* cr) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  for (const Panel& p : scene.panels) draw_panel(cr, p);
  draw_legend(cr, scene);
  if (!scene.title.empty()) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, kTitlePt);
    show_text(cr, scene.title, scene.width_pt / 2, 0.02 * scene.height_pt, true);
  }
}

}  // namespace cusbi::plot
