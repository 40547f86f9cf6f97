// sbi's z-score option values for the flow bindings (build_nsf's z_score_x / z_score_y, NPE's
// z_score_theta / z_score_x): "independent", "structured", "none", None (none) or a bool (sbi's
// old flag: True means independent).
#pragma once
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <string>

#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"

namespace cusbi::python {

namespace nb = nanobind;

inline ZScore parse_zscore(nb::handle value, const char* name) {
  if (value.is_none()) return ZScore::None;
  if (nb::isinstance<nb::bool_>(value))
    return nb::cast<bool>(value) ? ZScore::Independent : ZScore::None;
  CUSBI_CHECK(nb::isinstance<nb::str>(value),
              name << " must be \"independent\", \"structured\", \"none\" or None");
  const std::string mode = nb::cast<std::string>(value);
  if (mode == "independent") return ZScore::Independent;
  if (mode == "structured") return ZScore::Structured;
  if (mode == "none") return ZScore::None;
  CUSBI_FAIL(name << " is '" << mode
                  << "'; use \"independent\", \"structured\" or \"none\" (cusbi has no "
                     "\"transform_to_unconstrained\")");
}

}  // namespace cusbi::python
