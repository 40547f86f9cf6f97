// Registration of one spline coupling layer of build_nsf under sbi's state_dict names: the mask
// (layer i transforms the even features when i is even, else the odd ones; D == 1: mask [1]),
// and its conditioner — nflows' ResidualNet on [identity features ; context] or, when D == 1,
// sbi's ContextSplineMap on the context alone — emitting n_tr (3K - 1) spline parameters.
#include "host/flows/coupling.hpp"

#include "kernels/rq_spline.h"

namespace cusbi::flows {

CouplingLayout register_coupling(ParameterSet& params, const NsfShape& shape, int layer, int index,
                                 const SplineSpec& spline) {
  CouplingLayout c;
  c.index = index;
  c.features = shape.features;
  c.parity = shape.features == 1 ? 0 : layer % 2;
  c.n_tr = kern::coupling_num_transformed(shape.features, c.parity);
  c.n_id = kern::coupling_num_identity(shape.features, c.parity);
  c.context_map = shape.features == 1;
  const std::string prefix =
      "net._transform._transforms." + std::to_string(index) + ".transform_net.";
  const int64_t out = c.n_tr * kern::rq_num_params(spline.num_bins);
  if (c.context_map) {
    c.map = register_spline_map(params, prefix, shape.context, shape.hidden, out,
                                shape.hidden_layers_spline_context);
  } else {
    ResidualNetOptions o;
    o.in_features = c.n_id;
    o.out_features = out;
    o.hidden_features = shape.hidden;
    o.context_features = shape.context;
    o.num_blocks = shape.num_blocks;
    c.net = nn::register_residual_net(o, params, prefix);
  }
  return c;
}

}  // namespace cusbi::flows
