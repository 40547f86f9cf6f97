// sbi's state_dict layout of build_nsf (see sbi_layout.hpp): ResidualNet conditioners for
// D > 1, ContextSplineMap for D == 1, LU layers, z-scoring buffers, alternating mask buffers.
#include "host/flows/sbi_layout.hpp"

namespace cusbi::flows {

const char* zscore_name(ZScore z) {
  return z == ZScore::None ? "none" : z == ZScore::Independent ? "independent" : "structured";
}

namespace {

void add_linear(SbiLayout& l, const std::string& prefix, int64_t in, int64_t out) {
  l.params.push_back({prefix + "weight", {out, in}});
  l.params.push_back({prefix + "bias", {out}});
}

// nflows ResidualNet (D > 1): registration order initial, blocks (context, linear 0, 1), final.
void add_resnet(SbiLayout& l, const std::string& net, int64_t n_id, int64_t n_out, int64_t C,
                const NsfOptions& o) {
  const int64_t H = o.hidden_features;
  add_linear(l, net + "initial_layer.", n_id + C, H);
  for (int64_t b = 0; b < o.num_blocks; ++b) {
    const std::string block = net + "blocks." + std::to_string(b) + ".";
    add_linear(l, block + "context_layer.", C, H);
    add_linear(l, block + "linear_layers.0.", H, H);
    add_linear(l, block + "linear_layers.1.", H, H);
  }
  add_linear(l, net + "final_layer.", H, n_out);
}

// sbi ContextSplineMap (D == 1): Sequential(Linear(C,H), ReLU, [Linear(H,H), ReLU] x h,
// Linear(H,out)). The list is built by repetition, so the h hidden Linears are one module: the
// state_dict lists it under indices 2, 4, ..., 2h, named_parameters() only under 2.
void add_context_map(SbiLayout& l, const std::string& net, int64_t n_out, int64_t C,
                     const NsfOptions& o) {
  const int64_t H = o.hidden_features, h = o.hidden_layers_spline_context;
  const std::string seq = net + "spline_predictor.";
  add_linear(l, seq + "0.", C, H);
  if (h > 0) add_linear(l, seq + "2.", H, H);
  for (int64_t j = 2; j <= h; ++j)
    for (const char* p : {"weight", "bias"}) {
      const std::string alias = seq + std::to_string(2 * j) + "." + p;
      l.buffers.push_back({alias, std::string(p) == "weight" ? Shape{H, H} : Shape{H}});
      l.aliases[alias] = seq + "2." + p;
    }
  add_linear(l, seq + std::to_string(2 * h + 2) + ".", H, n_out);
}

void add_lu(SbiLayout& l, const std::string& prefix, int64_t D) {
  const int64_t tri = D * (D - 1) / 2;
  for (auto [name, n] : {std::pair{"bias", D},
                         {"lower_entries", tri},
                         {"upper_entries", tri},
                         {"unconstrained_upper_diag", D}})
    l.params.push_back({prefix + name, {n}});
}

}  // namespace

SbiLayout sbi_layout(int64_t D, int64_t C, const NsfOptions& o) {
  SbiLayout l;
  int64_t k = 0;
  const auto module = [&](int64_t i) { return kSbiTransforms + std::to_string(i) + "."; };
  if (o.z_score_input != ZScore::None) {
    const bool s = o.z_score_input == ZScore::Structured;
    l.shift = module(k) + "_shift", l.scale = module(k) + "_scale";
    l.buffers.push_back({l.shift, s ? Shape{} : Shape{D}, s});
    l.buffers.push_back({l.scale, s ? Shape{} : Shape{D}, s});
    ++k;
  }
  const int64_t per_dim = 3 * o.num_bins - 1;  // linear tails: K widths, K heights, K-1 derivs
  for (int64_t i = 0; i < o.num_transforms; ++i, ++k) {
    // sbi's alternating mask: layer i transforms indices of parity i % 2 (D == 1: mask [1]).
    std::vector<int64_t> id, tr;
    for (int64_t d = 0; d < D; ++d) (D == 1 || d % 2 == i % 2 ? tr : id).push_back(d);
    const std::string p = module(k);
    l.indices[p + "identity_features"] = id;
    l.indices[p + "transform_features"] = tr;
    l.buffers.push_back({p + "identity_features", {int64_t(id.size())}});
    l.buffers.push_back({p + "transform_features", {int64_t(tr.size())}});
    const int64_t n_out = int64_t(tr.size()) * per_dim;
    if (D == 1) add_context_map(l, p + "transform_net.", n_out, C, o);
    if (D > 1) add_resnet(l, p + "transform_net.", int64_t(id.size()), n_out, C, o);
    if (D > 1) add_lu(l, module(++k), D);
  }
  if (o.z_score_condition != ZScore::None) {
    const bool s = o.z_score_condition == ZScore::Structured;
    l.mean = kSbiEmbedding + "_mean", l.std = kSbiEmbedding + "_std";
    l.buffers.push_back({l.mean, s ? Shape{} : Shape{C}, s});
    l.buffers.push_back({l.std, s ? Shape{} : Shape{C}, s});
  }
  return l;
}


}  // namespace cusbi::flows
