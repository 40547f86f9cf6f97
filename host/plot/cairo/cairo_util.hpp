// Internal: owning handles for cairo objects and a status check that throws cusbi::Error.
#pragma once
#include <cairo.h>

#include <memory>
#include <string>

#include "cusbi/error.hpp"

namespace cusbi::plot {

using SurfacePtr = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

inline void check_cairo(cairo_status_t status, const std::string& what) {
  CUSBI_CHECK(status == CAIRO_STATUS_SUCCESS,
              "pairplot: " << what << " failed in cairo: " << cairo_status_to_string(status));
}

}  // namespace cusbi::plot
