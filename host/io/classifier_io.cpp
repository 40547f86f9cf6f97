// Ratio classifier files (include/cusbi/persistence.hpp), kind "ratio_classifier": the tensors
// are the classifier's sbi state_dict (sbi_state_dict: net.* and the z-score buffers), the
// "estimator" metadata the builder's kind, sizes and ClassifierOptions. Loading checks the
// shared header first, then rebuilds through load_sbi_classifier, which checks every name and
// shape, so a file loads exactly as an sbi export of the same classifier would.
#include <nlohmann/json.hpp>

#include "cusbi/error.hpp"
#include "cusbi/io.hpp"
#include "cusbi/persistence.hpp"
#include "host/io/model_header.hpp"

namespace cusbi {

namespace {

using nlohmann::json;

std::string classifier_json(const RatioClassifier& classifier) {
  const ClassifierOptions& o = classifier.options();
  json j;
  j["type"] = "ratio_classifier";
  j["classifier"] = classifier.kind();
  j["theta_features"] = classifier.theta_features();
  j["x_features"] = classifier.x_features();
  j["hidden_features"] = o.hidden_features;
  j["num_blocks"] = o.num_blocks;
  j["dropout_probability"] = o.dropout_probability;
  j["use_batch_norm"] = o.use_batch_norm;
  j["z_score_theta"] = o.z_score_theta;
  j["z_score_x"] = o.z_score_x;
  return j.dump();
}

}  // namespace

void save(const RatioClassifier& classifier, const std::filesystem::path& path) {
  save_safetensors(path, sbi_state_dict(classifier),
                   io::model_metadata(io::kClassifierKind, classifier_json(classifier)));
}

RatioClassifier load_ratio_classifier(const std::filesystem::path& path, Device device) {
  std::map<std::string, std::string> meta;
  const std::map<std::string, Tensor> tensors = load_safetensors(path, Device::cpu(), &meta);
  const ModelFileInfo info = io::check_model_header(meta, path);
  io::require_kind(info, path, "load_ratio_classifier");
  std::string kind;
  int64_t D = 0, C = 0;
  ClassifierOptions o;
  try {
    const json j = json::parse(info.estimator_json);
    kind = j.at("classifier").get<std::string>();
    D = j.at("theta_features").get<int64_t>();
    C = j.at("x_features").get<int64_t>();
    o.hidden_features = j.at("hidden_features").get<int64_t>();
    o.num_blocks = j.at("num_blocks").get<int64_t>();
    o.dropout_probability = j.at("dropout_probability").get<float>();
    o.use_batch_norm = j.at("use_batch_norm").get<bool>();
    o.z_score_theta = j.at("z_score_theta").get<std::string>();
    o.z_score_x = j.at("z_score_x").get<std::string>();
  } catch (const json::exception& e) {
    CUSBI_FAIL(path.string() << ": metadata 'estimator' is invalid (" << e.what()
                             << "); the file is damaged");
  }
  try {
    return load_sbi_classifier(tensors, kind, D, C, o, device);
  } catch (const Error& e) {
    CUSBI_FAIL(path.string() << ": the classifier's tensors do not match its metadata; the file "
                                "is damaged ("
                             << e.what() << ")");
  }
}

}  // namespace cusbi
