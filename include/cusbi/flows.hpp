// Conditional density estimators. build_nsf is sbi's neural spline flow (sbi.neural_nets.
// net_builders.build_nsf, nflows underneath): z-scoring of input and condition,
// num_transforms x (rational-quadratic spline coupling with alternating masks -> LU linear),
// standard normal base. Same architecture, defaults, parameter names and numbers as sbi, so a
// flow trained by sbi can be loaded here (load_sbi_nsf) and vice versa.
// Shapes follow sbi: input (B, D) / (S, B, D), condition (B, C); for NPE the input is theta and
// the condition is x, for NLE the roles swap.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "cusbi/nn.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// sbi's z_score_x / z_score_y options.
enum class ZScore { None, Independent, Structured };

struct NsfOptions {
  int64_t hidden_features = 50;
  int64_t num_transforms = 5;
  int64_t num_bins = 10;
  float tail_bound = 3.0f;
  int64_t num_blocks = 2;
  int64_t hidden_layers_spline_context = 1;  // only used when D == 1 (ContextSplineMap)
  ZScore z_score_input = ZScore::Independent;
  ZScore z_score_condition = ZScore::Independent;
};

class NeuralSplineFlow {
 public:
  // Architecture from options, standardisation statistics given (undefined tensors = identity).
  // Parameters are initialised as PyTorch does from `generator` (default generator when null).
  NeuralSplineFlow(int64_t input_features, int64_t condition_features, const NsfOptions& options,
                   const Standardize& input_zscore, const Standardize& condition_zscore,
                   Device device, Generator* generator = nullptr);
  ~NeuralSplineFlow();
  NeuralSplineFlow(NeuralSplineFlow&&) noexcept;
  NeuralSplineFlow& operator=(NeuralSplineFlow&&) noexcept;

  int64_t input_features() const;      // D
  int64_t condition_features() const;  // C
  const NsfOptions& options() const;
  Device device() const;
  void to(Device device);

  // Training: per-sample negative log-density -log q(input | condition), (B,). The flow keeps
  // what backward needs until the next call of loss/log_prob/sample.
  Tensor loss(const Tensor& input, const Tensor& condition);
  // grad_loss (B,) for the last loss(): accumulates parameter gradients.
  void backward(const Tensor& grad_loss);

  // log q(input | condition). input (S, B, D) or (B, D), condition (B, C) or (S, B, C); batch
  // sizes broadcast as in sbi (equal, or one of them 1). Returns (S, B) ((1, B) for 2-D input).
  // On device-resident tensors of a fixed size, repeated calls allocate nothing and do not
  // synchronise with the host (workspaces are sized once and reused).
  Tensor log_prob(const Tensor& input, const Tensor& condition);
  // As log_prob, writing into a preallocated out (S, B): the allocation-free form for hot loops.
  void log_prob(const Tensor& input, const Tensor& condition, Tensor& out);

  // Samples (*sample_shape, B, D) for condition (B, C), drawn from `generator`.
  Tensor sample(const Shape& sample_shape, const Tensor& condition,
                Generator* generator = nullptr);
  // The inverse flow applied to given base noise: noise (N, B, D) -> samples (N, B, D), row
  // order as sbi (sample j of condition b uses noise[j, b]). Used to compare with sbi exactly.
  Tensor sample_from_noise(const Tensor& noise, const Tensor& condition);

  Tensor parameters() const;  // flat, shares memory (for Adam)
  Tensor gradients() const;   // flat, shares memory
  void zero_grad();
  ParameterSet& parameter_set();
  const ParameterSet& parameter_set() const;
  const Standardize& input_zscore() const;
  const Standardize& condition_zscore() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// sbi's build_nsf(batch_x = input, batch_y = condition): statistics for z-scoring come from the
// given training data (rows with NaN/Inf excluded; unbiased std; floors 1e-14 for the input and
// 1e-7 for the condition), the flow is created on input's device.
NeuralSplineFlow build_nsf(const Tensor& input, const Tensor& condition,
                           const NsfOptions& options = {}, Generator* generator = nullptr);

// A flow trained by sbi: `state_dict` holds the estimator's state_dict tensors under their
// PyTorch names (as exported with safetensors), including the z-score buffers.
NeuralSplineFlow load_sbi_nsf(const std::map<std::string, Tensor>& state_dict,
                              int64_t input_features, int64_t condition_features,
                              const NsfOptions& options, Device device = Device::best());

}  // namespace cusbi
