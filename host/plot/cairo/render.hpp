// Internal: draws a prepared pairplot with cairo. The caller makes the surface (SVG or image)
// and scales the context so that one user unit is one point.
#pragma once
#include <cairo.h>

#include "host/plot/scene.hpp"

namespace cusbi::plot {

void render(const Figure::Scene& scene, cairo_t* cr);

}  // namespace cusbi::plot
