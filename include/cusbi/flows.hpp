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
#include <optional>
#include <string>

#include "cusbi/nn.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// sbi's z_score_x / z_score_y options.
enum class ZScore { None, Independent, Structured };

// sbi's build_nsf arguments and defaults. Ranges: hidden_features >= 1, num_transforms >= 1,
// num_bins in [1, 64], tail_bound finite and > 0, num_blocks >= 0,
// hidden_layers_spline_context >= 0 (as in sbi, its hidden Linear is shared by all repetitions).
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

// sbi's NFlowsFlow around build_nsf's flow. All work runs on the device of the parameters
// (device(); move with to()), on tensors there. Workspaces are kept per flow and grow only when
// a bigger batch arrives, so one flow must not be used from several threads at once. Movable,
// not copyable.
class NeuralSplineFlow {
 public:
  // Architecture from options, standardisation statistics given: a default-constructed
  // Standardize means no z-scoring on that side (then options.z_score_* are ignored, and the
  // transforms are numbered as sbi numbers them without z-scoring). Parameters are initialised
  // as nflows does (PyTorch's U(+-1/sqrt(fan_in)), U(+-1e-3) for each residual block's last
  // Linear, LU identity) from `generator` (default generator when null), under sbi's
  // state_dict names ("net._transform._transforms.{k}.transform_net.initial_layer.weight", ...).
  NeuralSplineFlow(int64_t input_features, int64_t condition_features, const NsfOptions& options,
                   const Standardize& input_zscore, const Standardize& condition_zscore,
                   Device device, Generator* generator = nullptr);
  ~NeuralSplineFlow();
  NeuralSplineFlow(NeuralSplineFlow&&) noexcept;
  NeuralSplineFlow& operator=(NeuralSplineFlow&&) noexcept;

  // An independent copy (parameters and z-score statistics), on `device` or on this flow's.
  NeuralSplineFlow clone(std::optional<Device> device = std::nullopt) const;

  int64_t input_features() const;      // D
  int64_t condition_features() const;  // C
  const NsfOptions& options() const;
  Device device() const;
  void to(Device device);

  // Training: per-sample negative log-density -log q(input | condition), (B,), for input
  // (B, D) and condition (B, C) or (1, C). Any of log_prob's shapes and broadcasting are taken
  // too (input (S, B, D) gives (S, B), rows in log_prob's order): NLE's potential gradient runs
  // its trials x thetas pairs this way. On the CPU it throws if either holds NaN or +-inf.
  // On a GPU it does not look (that would make the host wait for the device every step, and a
  // step could not be captured as a CUDA graph): check data once where it enters, as the
  // trainers do at append_simulations, or with all_finite() in a custom loop; a non-finite
  // input shows as a non-finite loss. The flow keeps what backward needs until the next loss
  // (log_prob and sample use a workspace of their own).
  Tensor loss(const Tensor& input, const Tensor& condition);
  // As loss, writing into a preallocated out of loss's shape ((B,) or (S, B)): a steady-state
  // training step then allocates nothing.
  void loss(const Tensor& input, const Tensor& condition, Tensor& out);
  // Whether loss() checks its inputs for NaN/Inf on the CPU (on by default; never on a GPU). A
  // trainer that checked its data once at intake turns it off.
  void set_check_training_inputs(bool check);
  // grad_loss for the last loss(), (B,) (or the loss's (S, B), or its S B entries flattened,
  // with B then meaning S B below): accumulates parameter gradients (zero them with
  // zero_grad). When grad_input is non-null it is set to the gradient w.r.t. the input (B, D);
  // when grad_condition is non-null, to the gradient w.r.t. the condition (B, C), through the
  // conditioner networks and the condition's z-scoring (NLE's potential differentiates with
  // respect to theta, the condition there). A condition given as (1, C) and broadcast gets one
  // gradient row per loss row: sum them for the gradient w.r.t. that single row. Both are views
  // of the flow's workspace, valid until the next loss or backward; the condition gradient's
  // GEMMs are skipped when it is not asked for.
  void backward(const Tensor& grad_loss, Tensor* grad_input = nullptr,
                Tensor* grad_condition = nullptr);

  // log q(input | condition). input (S, B, D) or (B, D), condition (B, C) or (S, B, C); batch
  // sizes broadcast as in sbi (equal, or one of them 1). Returns (S, B) ((1, B) for 2-D input).
  // On device-resident tensors of a fixed size, repeated calls allocate nothing and do not
  // synchronise with the host (workspaces are sized once and reused).
  Tensor log_prob(const Tensor& input, const Tensor& condition);
  // As log_prob, writing into a preallocated out (S, B): the allocation-free form for hot loops.
  void log_prob(const Tensor& input, const Tensor& condition, Tensor& out);

  // The forward flow: the base variable (noise) z of each input, sbi's inverse_transform. Shapes
  // and broadcasting as log_prob; returns (S, B, D) for 3-D input, (B, D) for 2-D input.
  Tensor inverse_transform(const Tensor& input, const Tensor& condition);

  // Samples (*sample_shape, B, D) for condition (B, C): base noise randn(B n, D) from
  // `generator` (default generator when null), row b n + j feeding sample j of condition b, as
  // nflows draws it.
  Tensor sample(const Shape& sample_shape, const Tensor& condition, Generator* generator = nullptr);
  // The inverse flow applied to given base noise: noise (N, B, D) -> samples (N, B, D), row
  // order as sbi (sample j of condition b uses noise[j, b]); condition (B, C) or (1, C). Used
  // to compare with sbi exactly.
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
// 1e-7 for the condition; a single condition row keeps std 1, as sbi), the flow is created on
// input's device.
NeuralSplineFlow build_nsf(const Tensor& input, const Tensor& condition,
                           const NsfOptions& options = {}, Generator* generator = nullptr);

// A flow trained by sbi: `state_dict` holds the estimator's state_dict tensors under their
// PyTorch names (as exported with safetensors), including the z-score buffers.
NeuralSplineFlow load_sbi_nsf(const std::map<std::string, Tensor>& state_dict,
                              int64_t input_features, int64_t condition_features,
                              const NsfOptions& options, Device device = Device::best());
// The same from a safetensors file written by tools/export_sbi_nsf.py: the state_dict tensors
// plus metadata (format "cusbi.sbi_nsf") holding the sizes and build_nsf options.
NeuralSplineFlow load_sbi_nsf(const std::string& safetensors_path, Device device = Device::best());

// The flow's state_dict as sbi's build_nsf names and lays it out (parameters, z-score and mask
// buffers), on the CPU: what load_sbi_nsf reads, and what an sbi estimator of the same
// architecture accepts with load_state_dict (after converting the tensors to torch).
std::map<std::string, Tensor> sbi_state_dict(const NeuralSplineFlow& flow);

}  // namespace cusbi
