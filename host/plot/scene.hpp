// Internal: a pairplot prepared for drawing. pairplot() does all the statistics (histograms,
// KDEs, contour lines) once and stores plain primitives in data coordinates per panel; render.cpp
// turns them into cairo calls for whichever surface save() asks for. Lengths are in points
// (1/72 inch), y grows downwards, as in cairo.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cusbi/plot.hpp"

namespace cusbi::plot {

struct Rgb {
  double r, g, b;
};

struct Rect {
  double x, y, w, h;
};

struct Range {
  double low, high;
};

// Step outline of a histogram: heights[i] over [edges[i], edges[i+1]), drawn as matplotlib's
// histtype="step" (down to zero at both ends).
struct Steps {
  std::vector<double> edges, heights;
  Rgb color;
};
struct Curve {  // a polyline in data coordinates
  std::vector<double> xs, ys;
  Rgb color;
};
// Cells of a grid over the panel's limits, row 0 at the low y end; RGB bytes, nx * ny * 3.
struct Image {
  int nx = 0, ny = 0;
  std::vector<uint8_t> rgb;
};
struct Markers {
  std::vector<double> xs, ys;
  Rgb color;
  double radius_pt, alpha;
  bool white_edge;
};
struct Contours {  // iso-lines, each a polyline in data coordinates
  std::vector<std::vector<std::array<double, 2>>> lines;
  Rgb color;
};
struct VLines {  // vertical lines over the whole panel height
  std::vector<double> xs;
  Rgb color;
};
using Layer = std::variant<Steps, Curve, Image, Markers, Contours, VLines>;

struct Panel {
  int64_t row = 0, col = 0;  // grid position
  bool diagonal = false;
  Rect box{};           // in points
  Range x{}, y{};       // data shown across the box
  bool x_axis = false;  // bottom spine with ticks and the label below (diagonal panels, as sbi)
  std::string x_label;
  std::vector<Layer> layers;  // drawn in order
};

struct LegendEntry {
  std::string text;
  Rgb color;
  bool marker;  // a dot (points) instead of a line (samples)
};

}  // namespace cusbi::plot

namespace cusbi {

struct Figure::Scene {
  double width_pt = 0, height_pt = 0, dpi = 100;
  std::vector<plot::Panel> panels;
  int64_t grid = 0;  // panels per row and column
  std::string title;
  std::vector<plot::LegendEntry> legend;
  plot::Rect legend_box{};  // where the legend goes (an empty cell, or the first panel)
};

}  // namespace cusbi
