// Internal: iso-lines of a function sampled on a regular grid, by marching squares. Segments are
// joined into polylines: a line that meets the grid's edge stays open there (as matplotlib's
// contour), every other line comes back closed (first point == last point).
#pragma once
#include <array>
#include <vector>

#include "host/plot/scene.hpp"

namespace cusbi::plot {

using Polyline = std::vector<std::array<double, 2>>;

// z: nx x ny node values, row-major with y outer (z[j * nx + i] at (x_i, y_j)), nodes spaced
// evenly over rx x ry with both ends included. The line separates z >= level from z < level;
// saddle cells are resolved by the mean of their four corners.
std::vector<Polyline> iso_lines(const std::vector<double>& z, int nx, int ny, Range rx, Range ry,
                                double level);

}  // namespace cusbi::plot
