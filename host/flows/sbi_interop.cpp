// load_sbi_nsf: a NeuralSplineFlow from the state_dict of an estimator made by sbi's build_nsf
// (tools/export_sbi_nsf.py writes one). The expected names and shapes follow from (D, C,
// options) exactly as sbi lays them out; every discrepancy is collected and reported at once,
// with what the file itself looks like, so a user sees which option differs. Parameters are then
// copied by name; z-scoring comes from the buffers (input: nflows PointwiseAffineTransform, which
// stores shift = -mean/std and scale = 1/std; condition: sbi Standardize's _mean and _std).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/io.hpp"
#include "host/flows/sbi_layout.hpp"
#include "host/io/metadata_int.hpp"

namespace cusbi {
namespace {

using StateDict = std::map<std::string, Tensor>;
using flows::zscore_name;
using Layout = flows::SbiLayout;
using Expected = flows::SbiEntry;
using flows::sbi_layout;
const std::string& kTransforms = flows::kSbiTransforms;
const std::string& kEmbedding = flows::kSbiEmbedding;

// ---- what the file looks like, for the error message ---------------------------------------
int64_t dim0(const StateDict& sd, const std::string& key, int64_t d = 0) {
  const auto it = sd.find(key);
  return it != sd.end() && it->second.dim() > d ? it->second.size(d) : -1;
}

std::string describe_file(const StateDict& sd) {
  std::map<int64_t, std::set<std::string>> modules;  // transform index -> member names
  for (const auto& [key, t] : sd)
    if (key.rfind(kTransforms, 0) == 0) {
      const std::string rest = key.substr(kTransforms.size());
      const size_t dot = rest.find('.');
      if (dot == 0 || dot > 9 || rest.find_first_not_of("0123456789") != dot) continue;
      modules[std::stoll(rest.substr(0, dot))].insert(rest.substr(dot + 1));
    }
  std::ostringstream os;
  const auto z_mode = [&](const std::string& key) {
    const auto it = sd.find(key);
    return it == sd.end() ? "none" : it->second.dim() == 0 ? "structured" : "independent";
  };
  os << "z_score_input " << z_mode(kTransforms + "0._scale") << ", z_score_condition "
     << z_mode(kEmbedding + "_std");
  int64_t couplings = 0, first = -1;
  for (const auto& [k, names] : modules)
    if (names.count("transform_features")) couplings += 1, first = first < 0 ? k : first;
  os << ", num_transforms " << couplings;
  if (first < 0) return os.str();
  const std::string p = kTransforms + std::to_string(first) + ".";
  const int64_t n_id = dim0(sd, p + "identity_features");
  const int64_t n_tr = dim0(sd, p + "transform_features");
  os << ", D " << n_id + n_tr;
  const std::string net = p + "transform_net.";
  int64_t hidden = -1, C = -1, out = -1;
  if (sd.count(net + "initial_layer.weight")) {
    hidden = dim0(sd, net + "initial_layer.weight");
    C = dim0(sd, net + "initial_layer.weight", 1) - n_id;
    out = dim0(sd, net + "final_layer.weight");
    int64_t blocks = 0;
    while (sd.count(net + "blocks." + std::to_string(blocks) + ".linear_layers.0.weight")) ++blocks;
    os << ", num_blocks " << blocks;
  } else if (sd.count(net + "spline_predictor.0.weight")) {
    hidden = dim0(sd, net + "spline_predictor.0.weight");
    C = dim0(sd, net + "spline_predictor.0.weight", 1);
    int64_t last = 0;
    while (sd.count(net + "spline_predictor." + std::to_string(last + 2) + ".weight")) last += 2;
    out = dim0(sd, net + "spline_predictor." + std::to_string(last) + ".weight");
    os << ", hidden_layers_spline_context " << (last - 2) / 2;
  }
  os << ", C " << C << ", hidden_features " << hidden;
  if (n_tr > 0 && out > 0 && out % n_tr == 0 && (out / n_tr + 1) % 3 == 0)
    os << ", num_bins " << (out / n_tr + 1) / 3;
  return os.str();
}

std::string describe_options(int64_t D, int64_t C, const NsfOptions& o) {
  std::ostringstream os;
  os << "z_score_input " << zscore_name(o.z_score_input) << ", z_score_condition "
     << zscore_name(o.z_score_condition) << ", num_transforms " << o.num_transforms << ", D " << D;
  if (D > 1) os << ", num_blocks " << o.num_blocks;
  if (D == 1) os << ", hidden_layers_spline_context " << o.hidden_layers_spline_context;
  os << ", C " << C << ", hidden_features " << o.hidden_features << ", num_bins " << o.num_bins;
  return os.str();
}

std::string list(const std::vector<std::string>& names) {
  std::ostringstream os;
  const size_t shown = std::min<size_t>(names.size(), 4);
  for (size_t i = 0; i < shown; ++i) os << (i ? ", " : "") << names[i];
  if (names.size() > shown) os << ", ... (" << names.size() << " in all)";
  return os.str();
}

// "key value, key value" (describe_*) -> key -> value.
std::map<std::string, std::string> fields(const std::string& description) {
  std::map<std::string, std::string> out;
  std::istringstream is(description);
  for (std::string item; std::getline(is, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    const size_t space = item.rfind(' ');
    if (space != std::string::npos) out[item.substr(0, space)] = item.substr(space + 1);
  }
  return out;
}

// The options that the file contradicts, e.g. "num_bins 10 (the file has 4)".
std::string differences(const std::string& asked, const std::string& file) {
  const auto a = fields(asked), f = fields(file);
  std::vector<std::string> diff;
  for (const auto& [key, value] : a) {
    const auto it = f.find(key);
    if (it != f.end() && it->second != value)
      diff.push_back(key + " " + value + " (the file has " + it->second + ")");
  }
  return diff.empty() ? "none visible in the names and shapes" : list(diff);
}

// Every missing, unexpected or mis-shaped name; throws one error listing them all.
void check_names_and_shapes(const Layout& l, const StateDict& sd, int64_t D, int64_t C,
                            const NsfOptions& o) {
  std::vector<std::string> missing, unexpected, wrong;
  std::set<std::string> known;
  for (const auto* group : {&l.params, &l.buffers})
    for (const Expected& e : *group) {
      known.insert(e.name);
      const auto it = sd.find(e.name);
      if (it == sd.end()) {
        missing.push_back(e.name);
        continue;
      }
      const Shape& got = it->second.shape();
      if (got != e.shape && !(e.scalar_ok && it->second.numel() == 1 && got.size() <= 1))
        wrong.push_back(e.name + " " + shape_str(got) + " (expected " + shape_str(e.shape) + ")");
    }
  for (const auto& [key, t] : sd)
    if (!known.count(key)) unexpected.push_back(key);
  if (missing.empty() && unexpected.empty() && wrong.empty()) return;
  const std::string asked = describe_options(D, C, o), file = describe_file(sd);
  std::ostringstream os;
  os << "this is not the state_dict of an sbi NSF (build_nsf) with this architecture."
     << "\n  options that differ from the file: " << differences(asked, file)
     << "\n  asked for: " << asked << "\n  the file looks like: " << file;
  if (!missing.empty()) os << "\n  missing: " << list(missing);
  if (!unexpected.empty()) os << "\n  unexpected: " << list(unexpected);
  if (!wrong.empty()) os << "\n  wrong shape: " << list(wrong);
  os << "\n  Pass the input/condition sizes and NsfOptions the estimator was built with "
        "(tools/export_sbi_nsf.py records them and load_sbi_nsf(path) reads them). An embedding "
        "net other than sbi's z-scoring, and batch norm, are not supported.";
  CUSBI_FAIL(os.str());
}

std::vector<double> values_of(const StateDict& sd, const std::string& key, int64_t n) {
  const std::vector<float> v = sd.at(key).to_vector();
  std::vector<double> out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = v[v.size() == 1 ? 0 : i];  // structured: broadcast
  return out;
}

// Mask index buffers must hold sbi's alternating lists; shared Linears must be equal copies.
void check_contents(const Layout& l, const StateDict& sd) {
  for (const auto& [key, want] : l.indices) {
    const std::vector<float> got = sd.at(key).to_vector();
    bool same = got.size() == want.size();
    for (size_t i = 0; same && i < got.size(); ++i) same = got[i] == float(want[i]);
    CUSBI_CHECK(same, key << " does not hold sbi's alternating mask (expected the features of "
                             "parity of the layer index); the state_dict was not made by sbi's "
                             "build_nsf");
  }
  for (const auto& [alias, original] : l.aliases)
    CUSBI_CHECK(sd.at(alias).to_vector() == sd.at(original).to_vector(),
                alias << " differs from " << original
                      << ", but sbi's ContextSplineMap shares that Linear; the state_dict "
                         "was not made by sbi's build_nsf");
}

Standardize input_zscore(const Layout& l, const StateDict& sd, int64_t D, Device device) {
  if (l.shift.empty()) return Standardize();
  const std::vector<double> shift = values_of(sd, l.shift, D), scale = values_of(sd, l.scale, D);
  std::vector<float> mean(D), std(D);
  for (int64_t d = 0; d < D; ++d) {
    CUSBI_CHECK(std::isfinite(scale[d]) && scale[d] > 0 && std::isfinite(shift[d]),
                l.scale << "[" << d << "] = " << scale[d] << ", " << l.shift << "[" << d
                        << "] = " << shift[d]
                        << ": z-scoring needs a finite scale 1/std > 0 and a finite shift");
    // u = x * scale + shift = (x - mean) / std with std = 1/scale, mean = -shift/scale.
    std[d] = float(1.0 / scale[d]);
    mean[d] = float(-shift[d] / scale[d]);
  }
  return Standardize(Tensor::from(mean, {D}, device), Tensor::from(std, {D}, device));
}

Standardize condition_zscore(const Layout& l, const StateDict& sd, int64_t C, Device device) {
  if (l.mean.empty()) return Standardize();
  const std::vector<double> mean = values_of(sd, l.mean, C), std = values_of(sd, l.std, C);
  for (int64_t c = 0; c < C; ++c)
    CUSBI_CHECK(std::isfinite(mean[c]) && std::isfinite(std[c]) && std[c] > 0,
                l.mean << "[" << c << "] = " << mean[c] << ", " << l.std << "[" << c
                       << "] = " << std[c] << ": z-scoring needs finite statistics, std > 0");
  const std::vector<float> m(mean.begin(), mean.end()), s(std.begin(), std.end());
  return Standardize(Tensor::from(m, {C}, device), Tensor::from(s, {C}, device));
}

// The flow's entry for an sbi name: cusbi names are sbi's, with or without the leading "net.".
const ParameterSet::Entry* find_entry(const ParameterSet& set, const std::string& sbi_name) {
  const std::string bare = sbi_name.substr(4);  // every sbi name starts with "net."
  for (const auto& e : set.entries())
    if (e.name == sbi_name || e.name == bare) return &e;
  return nullptr;
}

// All parameters in one host buffer, then one copy to the flow's device.
void copy_parameters(const Layout& l, const StateDict& sd, NeuralSplineFlow& flow) {
  ParameterSet& set = flow.parameter_set();
  CUSBI_CHECK(int64_t(set.entries().size()) == int64_t(l.params.size()),
              "internal: cusbi's flow has " << set.entries().size() << " parameters, sbi's "
                                            << l.params.size() << "; please report this");
  std::vector<float> flat(set.numel());
  for (const Expected& e : l.params) {
    const ParameterSet::Entry* entry = find_entry(set, e.name);
    CUSBI_CHECK(entry != nullptr && entry->slot.shape == e.shape,
                "internal: cusbi's flow has no parameter "
                    << e.name << " of shape " << shape_str(e.shape) << "; please report this");
    const std::vector<float> v = sd.at(e.name).to_vector();
    std::copy(v.begin(), v.end(), flat.begin() + entry->slot.offset);
  }
  set.values().copy_(Tensor::from(flat, {set.numel()}, Device::cpu()));
}

std::string meta_value(const std::map<std::string, std::string>& meta, const std::string& key,
                       const std::string& path) {
  const auto it = meta.find(key);
  CUSBI_CHECK(it != meta.end(), path << " has no metadata '" << key
                                     << "'; write the file with tools/export_sbi_nsf.py");
  std::string v = it->second;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

int64_t meta_int(const std::map<std::string, std::string>& meta, const std::string& key,
                 const std::string& path) {
  return io::parse_metadata_int(meta_value(meta, key, path), key, path);
}

ZScore meta_zscore(const std::map<std::string, std::string>& meta, const std::string& key,
                   const std::string& path) {
  const std::string v = meta_value(meta, key, path);
  if (v == "none") return ZScore::None;
  if (v == "independent") return ZScore::Independent;
  if (v == "structured") return ZScore::Structured;
  CUSBI_FAIL(path << ": metadata '" << key << "' = '" << v
                  << "'; cusbi supports none, independent and structured");
}

}  // namespace

NeuralSplineFlow load_sbi_nsf(const std::map<std::string, Tensor>& state_dict,
                              int64_t input_features, int64_t condition_features,
                              const NsfOptions& options, Device device) {
  const int64_t D = input_features, C = condition_features;
  CUSBI_CHECK(D >= 1 && C >= 1, "load_sbi_nsf: input_features " << D << " and condition_features "
                                                                << C << " must both be >= 1");
  CUSBI_CHECK(options.num_bins >= 1 && options.num_transforms >= 1 &&
                  options.hidden_features >= 1 && options.num_blocks >= 0 &&
                  options.hidden_layers_spline_context >= 0,
              "load_sbi_nsf: options out of range (num_bins "
                  << options.num_bins << ", num_transforms " << options.num_transforms
                  << ", hidden_features " << options.hidden_features << ", num_blocks "
                  << options.num_blocks << ")");
  // Each size is a dimension of some tensor of an sbi state_dict, and each transform, block and
  // context layer has tensors of its own: larger sizes cannot match, and refusing them first
  // keeps a damaged file's huge numbers (num_transforms = 10^12) from building a layout of that
  // many entries (a hang, then out of memory).
  int64_t values = 0;
  for (const auto& [name, t] : state_dict) values += t.numel();
  const auto tensors = static_cast<int64_t>(state_dict.size());
  CUSBI_CHECK(
      D <= values && C <= values && options.hidden_features <= values &&
          options.num_bins <= values && options.num_transforms <= tensors &&
          options.num_blocks <= tensors && options.hidden_layers_spline_context <= tensors &&
          // each of D > 1's transforms has an LU bias of D values
          (D == 1 || options.num_transforms < 1 || D <= values / options.num_transforms),
      "load_sbi_nsf: input_features "
          << D << ", condition_features " << C << ", hidden_features " << options.hidden_features
          << ", num_bins " << options.num_bins << ", num_transforms " << options.num_transforms
          << ", num_blocks " << options.num_blocks << " or hidden_layers_spline_context "
          << options.hidden_layers_spline_context << " is larger than a state_dict of " << tensors
          << " tensors and " << values
          << " values can hold; pass the sizes and NsfOptions the estimator was built "
             "with (the file's metadata is damaged if it came from export_sbi_nsf.py)");
  const Layout layout = sbi_layout(D, C, options);
  check_names_and_shapes(layout, state_dict, D, C, options);
  check_contents(layout, state_dict);
  Generator scratch(0);  // the constructor's random init is overwritten; spare the default one
  NeuralSplineFlow flow(D, C, options, input_zscore(layout, state_dict, D, device),
                        condition_zscore(layout, state_dict, C, device), device, &scratch);
  copy_parameters(layout, state_dict, flow);
  return flow;
}

NeuralSplineFlow load_sbi_nsf(const std::string& safetensors_path, Device device) {
  std::map<std::string, std::string> meta;
  const StateDict sd = load_safetensors(safetensors_path, Device::cpu(), &meta);
  const std::string& p = safetensors_path;
  CUSBI_CHECK(meta.count("format") && meta_value(meta, "format", p) == "cusbi.sbi_nsf",
              p << " is not an sbi NSF export (no metadata format = cusbi.sbi_nsf); write it "
                   "with tools/export_sbi_nsf.py, or call load_sbi_nsf(state_dict, "
                   "input_features, condition_features, options)");
  NsfOptions o;
  o.num_bins = meta_int(meta, "num_bins", p);
  o.hidden_features = meta_int(meta, "hidden_features", p);
  o.num_transforms = meta_int(meta, "num_transforms", p);
  o.num_blocks = meta_int(meta, "num_blocks", p);
  o.hidden_layers_spline_context = meta_int(meta, "hidden_layers_spline_context", p);
  const std::string tail = meta_value(meta, "tail_bound", p);
  try {
    o.tail_bound = std::stof(tail);
  } catch (const std::exception&) {
    CUSBI_FAIL(p << ": metadata 'tail_bound' = '" << tail << "' is not a number");
  }
  o.z_score_input = meta_zscore(meta, "z_score_x", p);
  o.z_score_condition = meta_zscore(meta, "z_score_y", p);
  return load_sbi_nsf(sd, meta_int(meta, "input_features", p),
                      meta_int(meta, "condition_features", p), o, device);
}

}  // namespace cusbi
