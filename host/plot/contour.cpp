// Marching squares (see contour.hpp). Each crossing point is named by the grid edge it lies on,
// so two cells that share an edge share the point exactly and joining segments is a walk over a
// map from edge to the (at most two) segments that touch it.
#include "host/plot/contour.hpp"

#include <cstdint>
#include <unordered_map>

namespace cusbi::plot {

namespace {

struct Segment {
  int64_t a, b;  // edge ids of its two ends
  bool used = false;
};

// Edge ids: the horizontal edge from node (i, j) to (i + 1, j) is 2 (j nx + i), the vertical
// one from (i, j) to (i, j + 1) is 2 (j nx + i) + 1.
struct Grid {
  const std::vector<double>& z;
  int nx, ny;
  Range rx, ry;
  double level;

  double at(int i, int j) const { return z[static_cast<size_t>(j) * nx + i]; }
  int64_t h_edge(int i, int j) const { return 2 * (static_cast<int64_t>(j) * nx + i); }
  int64_t v_edge(int i, int j) const { return h_edge(i, j) + 1; }

  // The point where the function crosses `level` along edge `id` (linear interpolation).
  std::array<double, 2> point(int64_t id) const {
    const int64_t node = id / 2;
    const int i = static_cast<int>(node % nx), j = static_cast<int>(node / nx);
    const bool vertical = id % 2 == 1;
    const double za = at(i, j), zb = vertical ? at(i, j + 1) : at(i + 1, j);
    const double t = (level - za) / (zb - za);
    const double dx = (rx.high - rx.low) / (nx - 1), dy = (ry.high - ry.low) / (ny - 1);
    const double x = rx.low + (i + (vertical ? 0.0 : t)) * dx;
    const double y = ry.low + (j + (vertical ? t : 0.0)) * dy;
    return {x, y};
  }
};

// Segments of one cell. Corner bits: 1 = (i, j), 2 = (i + 1, j), 4 = (i + 1, j + 1),
// 8 = (i, j + 1), set when that corner is >= level.
void cell_segments(const Grid& g, int i, int j, std::vector<Segment>& out) {
  const double z0 = g.at(i, j), z1 = g.at(i + 1, j), z2 = g.at(i + 1, j + 1), z3 = g.at(i, j + 1);
  const int c =
      (z0 >= g.level) | (z1 >= g.level) << 1 | (z2 >= g.level) << 2 | (z3 >= g.level) << 3;
  if (c == 0 || c == 15) return;
  const int64_t bottom = g.h_edge(i, j), top = g.h_edge(i, j + 1);
  const int64_t left = g.v_edge(i, j), right = g.v_edge(i + 1, j);
  const bool center_in = (z0 + z1 + z2 + z3) / 4 >= g.level;
  auto add = [&](int64_t a, int64_t b) { out.push_back({a, b}); };
  switch (c) {
    case 1:
    case 14:
      add(left, bottom);
      break;
    case 2:
    case 13:
      add(bottom, right);
      break;
    case 3:
    case 12:
      add(left, right);
      break;
    case 4:
    case 11:
      add(right, top);
      break;
    case 6:
    case 9:
      add(bottom, top);
      break;
    case 7:
    case 8:
      add(left, top);
      break;
    case 5:  // (i, j) and (i + 1, j + 1) inside
      if (center_in) {
        add(left, top);
        add(bottom, right);
      } else {
        add(left, bottom);
        add(right, top);
      }
      break;
    case 10:  // (i + 1, j) and (i, j + 1) inside
      if (center_in) {
        add(left, bottom);
        add(right, top);
      } else {
        add(bottom, right);
        add(left, top);
      }
      break;
    default:
      break;
  }
}

}  // namespace

std::vector<Polyline> iso_lines(const std::vector<double>& z, int nx, int ny, Range rx, Range ry,
                                double level) {
  const Grid g{z, nx, ny, rx, ry, level};
  std::vector<Segment> segments;
  for (int j = 0; j + 1 < ny; ++j)
    for (int i = 0; i + 1 < nx; ++i) cell_segments(g, i, j, segments);

  std::unordered_map<int64_t, std::vector<size_t>> touching;
  for (size_t s = 0; s < segments.size(); ++s) {
    touching[segments[s].a].push_back(s);
    touching[segments[s].b].push_back(s);
  }
  // Walks from `edge` along unused segments, appending their far ends.
  auto walk = [&](int64_t edge, Polyline& line) {
    for (;;) {
      size_t next = segments.size();
      for (size_t s : touching[edge])
        if (!segments[s].used) next = s;
      if (next == segments.size()) return;
      segments[next].used = true;
      edge = segments[next].a == edge ? segments[next].b : segments[next].a;
      line.push_back(g.point(edge));
    }
  };
  std::vector<Polyline> lines;
  // Open lines first: they start on an edge that only one segment touches (the grid's border).
  // (Visited in segment order, not map order, so the output is the same on every run.)
  for (size_t s = 0; s < segments.size(); ++s) {
    for (const int64_t edge : {segments[s].a, segments[s].b}) {
      if (segments[s].used || touching[edge].size() != 1) continue;
      Polyline line{g.point(edge)};
      walk(edge, line);
      lines.push_back(std::move(line));
    }
  }
  for (Segment& s : segments) {
    if (s.used) continue;
    Polyline line{g.point(s.a)};
    walk(s.a, line);  // comes back to s.a: the loop closes on its first point
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace cusbi::plot
