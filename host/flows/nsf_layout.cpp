// The parameters of build_nsf's flow, registered in the order and under the names of sbi's
// NFlowsFlow state_dict, so that loading an sbi model is a name-by-name copy: the transforms
// are numbered as in nflows' CompositeTransform list — index 0 is the input z-scoring
// (PointwiseAffineTransform, buffers only) when there is one, then coupling, LU, coupling, LU,
// ... (couplings only when D == 1).
#include "host/flows/nsf_layout.hpp"

#include <cmath>
#include <string>

namespace cusbi::flows {

NsfLayout register_nsf(ParameterSet& params, const NsfShape& shape, const SplineSpec& spline,
                       int64_t num_transforms, bool zscored_input) {
  NsfLayout l;
  l.shape = shape;
  l.spline = spline;
  l.lu = shape.features > 1;
  int index = zscored_input ? 1 : 0;
  for (int64_t i = 0; i < num_transforms; ++i) {
    l.couplings.push_back(register_coupling(params, shape, int(i), index++, spline));
    if (l.lu) {
      const LuLinear lu(params, "net._transform._transforms." + std::to_string(index++) + ".",
                        shape.features);
      l.lus.push_back({lu.bias_slot().offset, lu.lower_slot().offset, lu.upper_slot().offset,
                       lu.diag_slot().offset});
    }
  }
  return l;
}

SplineSpec spline_spec(int64_t num_bins, double tail_bound, int64_t hidden_features) {
  SplineSpec s;
  s.num_bins = int(num_bins);
  s.bound = tail_bound;
  // nflows divides by np.sqrt(hidden_features), a double rounded to the tensor's type.
  s.divisor = std::sqrt(double(hidden_features));
  return s;
}

}  // namespace cusbi::flows
