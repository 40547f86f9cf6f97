// sbi's ratio classifiers for NRE (spec mcmc_nre.md §6.1): a network f(theta, x) -> one logit,
// the log-ratio log p(theta, x) / (p(theta) p(x)) up to NRE_B's x-dependent offset. theta and x
// are z-scored (statistics from the builder's samples), concatenated theta first, and fed to a
// trunk: sbi's build_resnet_classifier (nflows ResidualNet, 2 pre-activation blocks of 50),
// build_mlp_classifier (Linear, LayerNorm, ReLU twice, Linear; LayerNorm as sbi >= 0.26) or
// build_linear_classifier (one Linear). Parameter names follow sbi's state_dict.
// Like the tutorial (`net = build_resnet_classifier(x, theta)`; `net(theta, x)`), a builder's
// first argument holds samples of the network's first input, whose z-scoring it fits: the
// tutorial passes x there and cusbi, like sbi, uses those statistics for theta.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "cusbi/nn.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// sbi's classifier builder arguments (defaults of sbi 0.27).
struct ClassifierOptions {
  int64_t hidden_features = 50;
  int64_t num_blocks = 2;            // resnet only
  float dropout_probability = 0.0f;  // resnet only; 0 as sbi (training-time dropout unsupported)
  bool use_batch_norm = false;       // resnet only; true is not supported (sbi's default false)
  // z-scoring of the first (theta) and second (x) input: "independent" (per dimension),
  // "structured" (one scalar mean, mean of per-row stds) or "none".
  std::string z_score_theta = "independent";
  std::string z_score_x = "independent";
};

// sbi's RatioEstimator: logits = trunk([z(theta), z(x)]). A handle: copies share parameters and
// workspaces (clone() copies deeply). Not safe to run one from several threads at once.
class RatioClassifier {
 public:
  // theta (B, D), x (B, C) on device() -> logits (B,). The allocating form returns a fresh
  // tensor; the out= form writes into a preallocated (B,) and allocates nothing once the
  // workspaces have seen batch B. Keeps what backward needs until the next forward.
  Tensor forward(const Tensor& theta, const Tensor& x);
  void forward(const Tensor& theta, const Tensor& x, Tensor& logits);
  // grad_logits (B,) for the last forward: accumulates parameter gradients; when grad_theta is
  // non-null it is set to d(sum grad_logits * logits) / d theta, (B, D) (for potential
  // gradients): a view of the classifier's workspace, valid until the next forward or backward
  // (as NeuralSplineFlow::backward's grad_input). Allocates nothing once the batch was seen.
  void backward(const Tensor& grad_logits, Tensor* grad_theta = nullptr);

  Tensor parameters() const;  // flat views for optimisers, as the flow's
  Tensor gradients() const;
  void zero_grad();
  ParameterSet& parameter_set();
  const ParameterSet& parameter_set() const;

  int64_t theta_features() const;
  int64_t x_features() const;
  Device device() const;
  void to(Device device);
  RatioClassifier clone() const;
  const std::string& kind() const;  // "resnet", "mlp" or "linear"
  const ClassifierOptions& options() const;
  // The fitted z-scoring of theta and x (sbi's embedding_net_theta.0 / embedding_net_x.0
  // _mean and _std buffers); empty (mean() undefined) for "none".
  const Standardize& theta_zscore() const;
  const Standardize& x_zscore() const;

  struct Impl;
  explicit RatioClassifier(std::shared_ptr<Impl> impl);

 private:
  std::shared_ptr<Impl> impl_;
};

// Builders, as sbi's: batch_theta (N, D) and batch_x (N, C) give the input sizes and the
// z-scoring statistics (rows with NaN/inf skipped, as sbi); parameters initialised from
// `generator` (the default generator when null) as torch does. On batch_theta's device.
RatioClassifier build_resnet_classifier(const Tensor& batch_theta, const Tensor& batch_x,
                                        const ClassifierOptions& options = {},
                                        Generator* generator = nullptr);
RatioClassifier build_mlp_classifier(const Tensor& batch_theta, const Tensor& batch_x,
                                     const ClassifierOptions& options = {},
                                     Generator* generator = nullptr);
RatioClassifier build_linear_classifier(const Tensor& batch_theta, const Tensor& batch_x,
                                        const ClassifierOptions& options = {},
                                        Generator* generator = nullptr);

// A classifier trained by sbi: `state_dict` holds the RatioEstimator's state_dict under its
// PyTorch names (net.*, and the Standardize buffers embedding_net_theta.0._mean/_std and
// embedding_net_x.0._mean/_std unless that side's z-scoring is "none"), for a classifier of
// `kind` ("resnet", "mlp", "linear") built with these sizes and options. Every missing,
// unexpected or mis-shaped name is reported in one cusbi::Error, with what the file looks like.
RatioClassifier load_sbi_classifier(const std::map<std::string, Tensor>& state_dict,
                                    const std::string& kind, int64_t theta_features,
                                    int64_t x_features, const ClassifierOptions& options,
                                    Device device = Device::best());
// The same from a safetensors file written by tools/export_sbi_classifier.py: the state_dict
// plus metadata (format "cusbi.sbi_classifier") holding the kind, sizes and builder options.
RatioClassifier load_sbi_classifier(const std::string& safetensors_path,
                                    Device device = Device::best());

// The classifier's state_dict as sbi names and lays it out (parameters; z-score buffers, 0-dim
// for "structured"), on the CPU: what load_sbi_classifier reads, and what sbi's builder of the
// same architecture accepts with load_state_dict.
std::map<std::string, Tensor> sbi_state_dict(const RatioClassifier& classifier);

}  // namespace cusbi
