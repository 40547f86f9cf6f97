// Registration of a whole neural spline flow in a ParameterSet (sbi's state_dict names and
// order) and the spline settings derived from the options; shared by NeuralSplineFlow and the
// tests that run the flow program in double.
#pragma once
#include <cstdint>

#include "cusbi/nn.hpp"
#include "host/flows/lu_linear.hpp"
#include "host/flows/nsf_program.hpp"

namespace cusbi::flows {

// Registers num_transforms couplings and, when D > 1, an LU layer (flows::LuLinear) after
// each; the caller materialises `params`.
NsfLayout register_nsf(ParameterSet& params, const NsfShape& shape, const SplineSpec& spline,
                       int64_t num_transforms, bool zscored_input);

SplineSpec spline_spec(int64_t num_bins, double tail_bound, int64_t hidden_features);

}  // namespace cusbi::flows
