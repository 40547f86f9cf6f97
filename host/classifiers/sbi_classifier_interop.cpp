// sbi interop for ratio classifiers: load_sbi_classifier reads the state_dict of an estimator
// made by sbi's build_{resnet,mlp,linear}_classifier (tools/export_sbi_classifier.py writes
// one), sbi_state_dict writes a classifier back under the same names. Parameter names are sbi's
// already (register_classifier); the z-scoring is sbi's Standardize buffers
// embedding_net_{theta,x}.0._mean/_std, (features,) or 0-dim for "structured", absent for
// "none". As load_sbi_nsf, every missing, unexpected or mis-shaped name is reported at once.
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/io.hpp"
#include "host/classifiers/classifier_impl.hpp"
#include "host/io/metadata_int.hpp"

namespace cusbi {
namespace {

using StateDict = std::map<std::string, Tensor>;

const std::string kThetaZ = "embedding_net_theta.0.";  // Sequential(Standardize, ...)
const std::string kXZ = "embedding_net_x.0.";
const char* const kExportFormat = "cusbi.sbi_classifier";

struct Expected {
  std::string name;
  Shape shape;
};

bool is_structured(const std::string& mode) { return mode == "structured"; }

void check_mode(const std::string& mode, const char* side) {
  CUSBI_CHECK(mode == "none" || mode == "independent" || mode == "structured",
              "load_sbi_classifier: z_score_" << side << " '" << mode
                                              << "'; use none, independent or structured");
}

// sbi's state_dict entries for (kind, D, C, options): parameters in named_parameters() order,
// then the z-score buffers.
std::vector<Expected> sbi_entries(const std::string& kind, int64_t D, int64_t C,
                                  const ClassifierOptions& o) {
  ParameterSet names;  // registration only: nothing allocated
  classifiers::register_classifier(kind, D, C, o, names);
  std::vector<Expected> out;
  for (const auto& e : names.entries()) out.push_back({e.name, e.slot.shape});
  const auto add_z = [&](const std::string& prefix, const std::string& mode, int64_t n) {
    if (mode == "none") return;
    const Shape s = is_structured(mode) ? Shape{} : Shape{n};
    out.push_back({prefix + "_mean", s});
    out.push_back({prefix + "_std", s});
  };
  add_z(kThetaZ, o.z_score_theta, D);
  add_z(kXZ, o.z_score_x, C);
  return out;
}

int64_t size_of(const StateDict& sd, const std::string& key, int64_t d) {
  const auto it = sd.find(key);
  return it != sd.end() && it->second.dim() > d ? it->second.size(d) : -1;
}

// What the file looks like, for the error message.
std::string describe_file(const StateDict& sd) {
  std::ostringstream os;
  const auto z_mode = [&](const std::string& prefix) {
    const auto it = sd.find(prefix + "_std");
    return it == sd.end() ? "none" : it->second.dim() == 0 ? "structured" : "independent";
  };
  os << "z_score_theta " << z_mode(kThetaZ) << ", z_score_x " << z_mode(kXZ);
  if (sd.count("net.initial_layer.weight")) {
    int64_t blocks = 0;
    while (sd.count("net.blocks." + std::to_string(blocks) + ".linear_layers.0.weight")) ++blocks;
    os << ", kind resnet, theta + x features " << size_of(sd, "net.initial_layer.weight", 1)
       << ", hidden_features " << size_of(sd, "net.initial_layer.weight", 0) << ", num_blocks "
       << blocks;
  } else if (sd.count("net.0.weight")) {
    os << ", kind mlp, theta + x features " << size_of(sd, "net.0.weight", 1)
       << ", hidden_features " << size_of(sd, "net.0.weight", 0);
  } else if (sd.count("net.weight")) {
    os << ", kind linear, theta + x features " << size_of(sd, "net.weight", 1);
  } else {
    os << ", no trunk of sbi's classifier builders (net.initial_layer, net.0 or net)";
  }
  return os.str();
}

std::string list(const std::vector<std::string>& names) {
  std::ostringstream os;
  const size_t shown = std::min<size_t>(names.size(), 4);
  for (size_t i = 0; i < shown; ++i) os << (i ? ", " : "") << names[i];
  if (names.size() > shown) os << ", ... (" << names.size() << " in all)";
  return os.str();
}

void check_names_and_shapes(const std::vector<Expected>& expected, const StateDict& sd,
                            const std::string& kind, int64_t D, int64_t C,
                            const ClassifierOptions& o) {
  std::vector<std::string> missing, unexpected, wrong;
  std::set<std::string> known;
  for (const Expected& e : expected) {
    known.insert(e.name);
    const auto it = sd.find(e.name);
    if (it == sd.end()) {
      missing.push_back(e.name);
      continue;
    }
    // A structured statistic may come as (1,) as well as sbi's 0-dim.
    const Tensor& t = it->second;
    const bool scalar_ok = e.shape.empty() && t.numel() == 1 && t.dim() <= 1;
    if (t.shape() != e.shape && !scalar_ok)
      wrong.push_back(e.name + " " + shape_str(t.shape()) + " (expected " + shape_str(e.shape) +
                      ")");
  }
  for (const auto& [key, t] : sd)
    if (!known.count(key)) unexpected.push_back(key);
  if (missing.empty() && unexpected.empty() && wrong.empty()) return;
  std::ostringstream os;
  os << "load_sbi_classifier: this is not the state_dict of sbi's build_" << kind
     << "_classifier with this architecture.\n  asked for: z_score_theta " << o.z_score_theta
     << ", z_score_x " << o.z_score_x << ", kind " << kind << ", theta + x features " << D << " + "
     << C;
  if (kind != "linear") os << ", hidden_features " << o.hidden_features;
  if (kind == "resnet") os << ", num_blocks " << o.num_blocks;
  os << "\n  the file looks like: " << describe_file(sd);
  if (!missing.empty()) os << "\n  missing: " << list(missing);
  if (!unexpected.empty()) os << "\n  unexpected: " << list(unexpected);
  if (!wrong.empty()) os << "\n  wrong shape: " << list(wrong);
  os << "\n  Pass the kind, sizes and ClassifierOptions the classifier was built with "
        "(tools/export_sbi_classifier.py records them and load_sbi_classifier(path) reads them). "
        "Embedding nets other than sbi's z-scoring, batch norm and dropout are not supported.";
  CUSBI_FAIL(os.str());
}

// sbi's Standardize buffers -> a (n,) Standardize on the CPU; "none" -> empty.
Standardize zscore_of(const StateDict& sd, const std::string& prefix, const std::string& mode,
                      int64_t n) {
  if (mode == "none") return Standardize();
  const std::vector<float> mean = sd.at(prefix + "_mean").to_vector();
  const std::vector<float> std = sd.at(prefix + "_std").to_vector();
  std::vector<float> m(static_cast<size_t>(n)), s(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    m[i] = mean[mean.size() == 1 ? 0 : i];  // structured: one statistic for every feature
    s[i] = std[std.size() == 1 ? 0 : i];
    CUSBI_CHECK(std::isfinite(m[i]) && std::isfinite(s[i]) && s[i] > 0,
                "load_sbi_classifier: " << prefix << "_mean[" << i << "] = " << m[i] << ", "
                                        << prefix << "_std[" << i << "] = " << s[i]
                                        << ": z-scoring needs finite statistics, std > 0");
  }
  return Standardize(Tensor::from(m, {n}, Device::cpu()), Tensor::from(s, {n}, Device::cpu()));
}

// A (n,) statistic as sbi stores it: 0-dim for "structured" (every entry equal).
Tensor statistic(const Tensor& values, bool structured) {
  const std::vector<float> v = values.to_vector();
  if (structured) return Tensor::from({v.at(0)}, {}, Device::cpu());
  return Tensor::from(v, {int64_t(v.size())}, Device::cpu());
}

std::string meta_value(const std::map<std::string, std::string>& meta, const std::string& key,
                       const std::string& path) {
  const auto it = meta.find(key);
  CUSBI_CHECK(it != meta.end(), path << " has no metadata '" << key
                                     << "'; write the file with tools/export_sbi_classifier.py");
  return it->second;
}

int64_t meta_int(const std::map<std::string, std::string>& meta, const std::string& key,
                 const std::string& path) {
  return io::parse_metadata_int(meta_value(meta, key, path), key, path);
}

}  // namespace

RatioClassifier load_sbi_classifier(const std::map<std::string, Tensor>& state_dict,
                                    const std::string& kind, int64_t theta_features,
                                    int64_t x_features, const ClassifierOptions& options,
                                    Device device) {
  const int64_t D = theta_features, C = x_features;
  CUSBI_CHECK(kind == "resnet" || kind == "mlp" || kind == "linear",
              "load_sbi_classifier: kind '" << kind << "'; use \"resnet\", \"mlp\" or \"linear\"");
  CUSBI_CHECK(D >= 1 && C >= 1, "load_sbi_classifier: theta_features "
                                    << D << " and x_features " << C << " must both be >= 1");
  CUSBI_CHECK(kind == "linear" || options.hidden_features >= 1,
              "load_sbi_classifier: hidden_features must be >= 1, got " << options.hidden_features);
  CUSBI_CHECK(kind != "resnet" || options.num_blocks >= 0,
              "load_sbi_classifier: num_blocks must be >= 0, got " << options.num_blocks);
  check_mode(options.z_score_theta, "theta");
  check_mode(options.z_score_x, "x");
  check_names_and_shapes(sbi_entries(kind, D, C, options), state_dict, kind, D, C, options);
  const Standardize tz = zscore_of(state_dict, kThetaZ, options.z_score_theta, D);
  const Standardize xz = zscore_of(state_dict, kXZ, options.z_score_x, C);
  Generator scratch(0);  // the random init is overwritten; spare the default generator
  auto impl = classifiers::make_classifier(kind, D, C, options, tz, xz, device, scratch);
  // All parameters in one host buffer, then one copy to the device. cusbi's names are sbi's.
  ParameterSet& set = impl->params;
  std::vector<float> flat(size_t(set.numel()));
  for (const auto& e : set.entries()) {
    const std::vector<float> v = state_dict.at(e.name).to_vector();
    std::copy(v.begin(), v.end(), flat.begin() + e.slot.offset);
  }
  set.values().copy_(Tensor::from(flat, {set.numel()}, Device::cpu()));
  return RatioClassifier(impl);
}

RatioClassifier load_sbi_classifier(const std::string& safetensors_path, Device device) {
  std::map<std::string, std::string> meta;
  const StateDict sd = load_safetensors(safetensors_path, Device::cpu(), &meta);
  const std::string& p = safetensors_path;
  CUSBI_CHECK(meta.count("format") && meta.at("format") == kExportFormat,
              p << " is not an sbi classifier export (no metadata format = " << kExportFormat
                << "); write it with tools/export_sbi_classifier.py, or call "
                   "load_sbi_classifier(state_dict, kind, theta_features, x_features, options)");
  ClassifierOptions o;
  const std::string kind = meta_value(meta, "kind", p);
  o.hidden_features = meta_int(meta, "hidden_features", p);
  o.num_blocks = meta_int(meta, "num_blocks", p);
  o.z_score_theta = meta_value(meta, "z_score_theta", p);
  o.z_score_x = meta_value(meta, "z_score_x", p);
  return load_sbi_classifier(sd, kind, meta_int(meta, "theta_features", p),
                             meta_int(meta, "x_features", p), o, device);
}

std::map<std::string, Tensor> sbi_state_dict(const RatioClassifier& classifier) {
  const ParameterSet& set = classifier.parameter_set();
  const std::vector<float> values = set.values().to_vector();  // one copy from the device
  StateDict sd;
  for (const auto& e : set.entries()) {
    const auto first = values.begin() + e.slot.offset;
    sd[e.name] = Tensor::from(std::vector<float>(first, first + e.slot.numel()), e.slot.shape,
                              Device::cpu());
  }
  const ClassifierOptions& o = classifier.options();
  const auto add_z = [&](const std::string& prefix, const Standardize& z, const std::string& mode) {
    if (!z.mean().defined()) return;
    sd[prefix + "_mean"] = statistic(z.mean(), is_structured(mode));
    sd[prefix + "_std"] = statistic(z.std(), is_structured(mode));
  };
  add_z(kThetaZ, classifier.theta_zscore(), o.z_score_theta);
  add_z(kXZ, classifier.x_zscore(), o.z_score_x);
  return sd;
}

}  // namespace cusbi
