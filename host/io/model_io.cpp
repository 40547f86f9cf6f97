// Model files (include/cusbi/persistence.hpp): safetensors with sbi-named estimator tensors,
// the prior's tensors and JSON metadata. Loading validates the header before the tensors (a
// foreign or newer file gets a message saying so, not a shape error), then rebuilds the flow
// through load_sbi_nsf, which checks every name, shape and buffer.
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "cusbi/error.hpp"
#include "cusbi/io.hpp"
#include "cusbi/persistence.hpp"
#include "host/io/model_header.hpp"
#include "host/io/prior_io.hpp"

namespace cusbi {

namespace {

using Metadata = std::map<std::string, std::string>;
using TensorMap = std::map<std::string, Tensor>;
using nlohmann::json;

const char* const kFormat = "cusbi.model";
using io::kClassifierKind;
using io::kFlowKind;
using io::kPosteriorKind;
const char* const kDefaultX = "posterior.default_x";

const char* zscore_text(ZScore z) {
  return z == ZScore::None ? "none" : z == ZScore::Independent ? "independent" : "structured";
}

std::string estimator_json(const NeuralSplineFlow& flow) {
  const NsfOptions& o = flow.options();
  json j;
  j["type"] = "nsf";
  j["input_features"] = flow.input_features();
  j["condition_features"] = flow.condition_features();
  j["hidden_features"] = o.hidden_features;
  j["num_transforms"] = o.num_transforms;
  j["num_bins"] = o.num_bins;
  j["tail_bound"] = o.tail_bound;
  j["num_blocks"] = o.num_blocks;
  j["hidden_layers_spline_context"] = o.hidden_layers_spline_context;
  j["z_score_input"] = zscore_text(o.z_score_input);
  j["z_score_condition"] = zscore_text(o.z_score_condition);
  return j.dump();
}

Metadata header(const char* kind, const NeuralSplineFlow& flow) {
  return io::model_metadata(kind, estimator_json(flow));
}

ModelFileInfo check_header(const Metadata& meta, const std::filesystem::path& path) {
  return io::check_model_header(meta, path);
}

// The function that loads a model of `kind`.
const char* loader_of(const std::string& kind) {
  if (kind == kFlowKind) return "load_nsf";
  if (kind == kPosteriorKind) return "load_direct_posterior (or load_nsf for its estimator)";
  return "load_ratio_classifier";
}

}  // namespace

namespace io {

Metadata model_metadata(const char* kind, const std::string& estimator_json) {
  return {{"format", kFormat},
          {"format_version", std::to_string(kModelFormatVersion)},
          {"kind", kind},
          {"cusbi_version", CUSBI_VERSION},
          {"estimator", estimator_json}};
}

void require_kind(const ModelFileInfo& info, const std::filesystem::path& path,
                  const char* loader) {
  const std::string l = loader;
  const bool ok = l == "load_nsf" ? info.kind == kFlowKind || info.kind == kPosteriorKind
                  : l == "load_direct_posterior" ? info.kind == kPosteriorKind
                                                 : info.kind == kClassifierKind;
  if (ok) return;
  if (l == "load_direct_posterior" && info.kind == kFlowKind)
    CUSBI_FAIL(path.string() << " holds a " << info.kind
                             << " without a prior; load it with load_nsf and build "
                                "DirectPosterior(flow, prior)");
  CUSBI_FAIL(path.string() << " holds a " << info.kind << ", which " << l
                           << " cannot read; load it with " << loader_of(info.kind));
}

// The metadata of a cusbi model file, checked: format, version (not newer than this build).
ModelFileInfo check_model_header(const Metadata& meta, const std::filesystem::path& path) {
  const std::string p = path.string();
  const auto at = [&](const char* key) {
    const auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  if (at("format") == "cusbi.sbi_nsf")
    CUSBI_FAIL(p << " is an sbi flow export (tools/export_sbi_nsf.py), not a cusbi model; load "
                    "it with load_sbi_nsf");
  if (at("format") == "cusbi.sbi_classifier")
    CUSBI_FAIL(p << " is an sbi classifier export (tools/export_sbi_classifier.py), not a cusbi "
                    "model; load it with load_sbi_classifier");
  CUSBI_CHECK(at("format") == kFormat,
              p << " is not a cusbi model file (its metadata has no format = cusbi.model); "
                   "save models with cusbi::save");
  ModelFileInfo info;
  const std::string version = at("format_version");
  try {
    size_t used = 0;
    info.format_version = std::stoi(version, &used);
    if (used != version.size()) info.format_version = 0;
  } catch (const std::exception&) {
    info.format_version = 0;
  }
  CUSBI_CHECK(info.format_version >= 1, p << ": format_version '" << version
                                          << "' is not a version number; the file is "
                                             "damaged");
  CUSBI_CHECK(info.format_version <= kModelFormatVersion,
              p << " was written by a newer cusbi (" << at("cusbi_version") << ", format version "
                << info.format_version << "); this build reads format versions up to "
                << kModelFormatVersion << ": upgrade cusbi to load it");
  info.kind = at("kind");
  info.cusbi_version = at("cusbi_version");
  info.estimator_json = at("estimator");
  info.prior_json = at("prior");
  CUSBI_CHECK(info.kind == kFlowKind || info.kind == kPosteriorKind || info.kind == kClassifierKind,
              p << " holds a model of kind '" << info.kind << "', which this cusbi cannot load");
  return info;
}

}  // namespace io

namespace {

ZScore zscore_from(const json& j, const char* key) {
  const std::string v = j.at(key).get<std::string>();
  if (v == "none") return ZScore::None;
  if (v == "independent") return ZScore::Independent;
  if (v == "structured") return ZScore::Structured;
  throw json::other_error::create(0, std::string(key) + " is '" + v + "'", nullptr);
}

// An integer field. nlohmann's get<int64_t>() on a JSON float casts it, which is undefined
// behaviour for a value outside int64's range (e.g. 1e300 in a damaged file).
int64_t int_from(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number_integer())
    throw json::other_error::create(0, std::string(key) + " is not an integer", nullptr);
  return v.get<int64_t>();
}

// The same for tail_bound, a float: converting a double beyond float's range is undefined by the
// standard (inf on IEEE machines); check_nsf_options then rejects non-positive values.
float float_from(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number() || !(std::abs(v.get<double>()) <= std::numeric_limits<float>::max()))
    throw json::other_error::create(0, std::string(key) + " is not a finite float", nullptr);
  return v.get<float>();
}

NeuralSplineFlow flow_from(const ModelFileInfo& info, const TensorMap& tensors, Device device,
                           const std::filesystem::path& path) {
  int64_t D = 0, C = 0;
  NsfOptions o;
  try {
    const json j = json::parse(info.estimator_json);
    D = int_from(j, "input_features");
    C = int_from(j, "condition_features");
    o.hidden_features = int_from(j, "hidden_features");
    o.num_transforms = int_from(j, "num_transforms");
    o.num_bins = int_from(j, "num_bins");
    o.tail_bound = float_from(j, "tail_bound");
    o.num_blocks = int_from(j, "num_blocks");
    o.hidden_layers_spline_context = int_from(j, "hidden_layers_spline_context");
    o.z_score_input = zscore_from(j, "z_score_input");
    o.z_score_condition = zscore_from(j, "z_score_condition");
  } catch (const json::exception& e) {
    CUSBI_FAIL(path.string() << ": metadata 'estimator' is invalid (" << e.what()
                             << "); the file is damaged");
  }
  TensorMap state_dict;
  for (const auto& [name, t] : tensors)
    if (name.rfind("net.", 0) == 0) state_dict.emplace(name, t);
  try {
    return load_sbi_nsf(state_dict, D, C, o, device);
  } catch (const Error& e) {
    CUSBI_FAIL(path.string() << ": the estimator's tensors do not match its metadata; the file "
                                "is damaged ("
                             << e.what() << ")");
  }
}

}  // namespace

void save(const NeuralSplineFlow& estimator, const std::filesystem::path& path) {
  save_safetensors(path, sbi_state_dict(estimator), header(kFlowKind, estimator));
}

void save(const DirectPosterior& posterior, const std::filesystem::path& path) {
  TensorMap tensors = sbi_state_dict(posterior.estimator());
  Metadata meta = header(kPosteriorKind, posterior.estimator());
  meta["prior"] = io::write_prior(posterior.prior(), tensors);
  if (posterior.default_x().defined()) tensors[kDefaultX] = posterior.default_x();
  save_safetensors(path, tensors, meta);
}

ModelFileInfo inspect_model(const std::filesystem::path& path) {
  return check_header(load_safetensors_metadata(path), path);
}

NeuralSplineFlow load_nsf(const std::filesystem::path& path, Device device) {
  Metadata meta;
  const TensorMap tensors = load_safetensors(path, Device::cpu(), &meta);
  const ModelFileInfo info = check_header(meta, path);
  io::require_kind(info, path, "load_nsf");
  return flow_from(info, tensors, device, path);
}

DirectPosterior load_direct_posterior(const std::filesystem::path& path, Device device) {
  Metadata meta;
  const TensorMap tensors = load_safetensors(path, Device::cpu(), &meta);
  const ModelFileInfo info = check_header(meta, path);
  io::require_kind(info, path, "load_direct_posterior");
  auto flow = std::make_shared<NeuralSplineFlow>(flow_from(info, tensors, device, path));
  const std::unique_ptr<Distribution> prior =
      io::read_prior(info.prior_json, tensors, device, path);
  DirectPosterior posterior(flow, *prior);
  if (const auto it = tensors.find(kDefaultX); it != tensors.end())
    posterior.set_default_x(it->second.to(device));
  return posterior;
}

}  // namespace cusbi
