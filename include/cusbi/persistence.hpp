// Saving and loading trained models: one safetensors file per model, so a Python user can open
// it with `safetensors.torch.load_file`. Layout of a file:
//   tensors  "net.*"                 the estimator, under sbi's build_nsf state_dict names
//                                    (those entries alone load into sbi's estimator with
//                                    load_state_dict), z-score statistics included;
//            "prior.*"               the prior's parameters (posterior files);
//            "posterior.default_x"   the default observation, when one is set;
//   metadata "format" = "cusbi.model", "format_version" = "1", "kind" = "neural_spline_flow"
//            or "direct_posterior", "cusbi_version", "estimator" (JSON: sizes and NsfOptions),
//            "prior" (JSON: the prior's type).
// A ratio classifier file (kind "ratio_classifier") holds the classifier's state_dict under
// sbi's names ("net.*" and the z-score buffers "embedding_net_theta.0._mean/_std",
// "embedding_net_x.0._mean/_std"; all of it loads into sbi's build_{resnet,mlp,linear}_
// classifier with load_state_dict), and "estimator" is JSON: "classifier" (resnet, mlp or
// linear), theta_features, x_features and the ClassifierOptions.
// Writes are atomic (a temporary file in the same folder, flushed, then renamed over the
// target). Loading checks everything and throws cusbi::Error naming the file and the problem: a
// file that is not a cusbi model, is truncated, comes from a newer format version, or holds
// another kind of model than asked for.
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "cusbi/classifiers.hpp"
#include "cusbi/distributions.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/posteriors.hpp"

namespace cusbi {

// The newest format this build writes and reads.
inline constexpr int kModelFormatVersion = 1;

void save(const NeuralSplineFlow& estimator, const std::filesystem::path& path);
// The estimator, the prior and the default x (if set). Cached leakage factors and MAPs are
// not saved: they are recomputed on demand.
void save(const DirectPosterior& posterior, const std::filesystem::path& path);
// The classifier's weights, z-scoring, kind, sizes and options (not its gradients).
void save(const RatioClassifier& classifier, const std::filesystem::path& path);

// The estimator of a "neural_spline_flow" or a "direct_posterior" file.
NeuralSplineFlow load_nsf(const std::filesystem::path& path, Device device = Device::best());
// A "direct_posterior" file: estimator, prior and default x.
DirectPosterior load_direct_posterior(const std::filesystem::path& path,
                                      Device device = Device::best());
// A "ratio_classifier" file: the same logits, bit for bit, as the classifier that was saved.
RatioClassifier load_ratio_classifier(const std::filesystem::path& path,
                                      Device device = Device::best());

// What a model file holds, read from its header only.
struct ModelFileInfo {
  std::string kind;  // "neural_spline_flow", "direct_posterior" or "ratio_classifier"
  int format_version = 0;
  std::string cusbi_version;   // of the cusbi that wrote it
  std::string estimator_json;  // sizes and options (a classifier's kind too)
  std::string prior_json;      // empty for an estimator file
};
ModelFileInfo inspect_model(const std::filesystem::path& path);

}  // namespace cusbi
