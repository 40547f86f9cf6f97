// Network building blocks with explicit forward and backward (no general autograd).
// All parameters of a model live in one ParameterSet: one flat value buffer and one flat
// gradient buffer, so Adam, clipping, zeroing, saving and loading are single flat operations.
// Layers hold slots (offsets) into the set; forward keeps what backward needs in workspaces
// sized once per batch capacity, so a steady-state training step allocates nothing.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// Where one parameter tensor sits in its ParameterSet's flat buffers.
struct ParamSlot {
  int64_t offset = 0;
  Shape shape;
  int64_t numel() const { return shape_numel(shape); }
};

class ParameterSet {
 public:
  struct Entry {
    std::string name;  // PyTorch state_dict name, e.g. "blocks.0.linear_layers.1.weight"
    ParamSlot slot;
    float init_bound;             // initialised U(-init_bound, init_bound) ...
    bool constant = false;        // ... or, when constant, every element = constant_value
    float constant_value = 0.0f;  // (e.g. LULinear's identity init); draws no random numbers
  };

  // Registration phase: reserve a slot. Only before materialize().
  ParamSlot add(const std::string& name, const Shape& shape, float init_bound);
  // A slot initialised to `value` everywhere (consumes nothing from the generator).
  ParamSlot add_constant(const std::string& name, const Shape& shape, float value);
  // Allocates values and (zeroed) gradients on `device` and initialises every slot in
  // registration order from `generator` (drawn on the CPU, so every device gets the same values).
  void materialize(Device device, Generator& generator);
  bool materialized() const { return values_.defined(); }

  int64_t numel() const { return numel_; }
  Device device() const;
  Tensor values() const { return values_; }   // flat (numel,), shares memory
  Tensor grads() const { return grads_; }     // flat (numel,), shares memory
  Tensor value(const ParamSlot& slot) const;  // view with the slot's shape
  Tensor grad(const ParamSlot& slot) const;
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry& entry(const std::string& name) const;  // throws naming the missing parameter
  void zero_grad() { grads_.zero_(); }
  // Moves both buffers to `device` (views taken before become stale).
  void to(Device device);

 private:
  std::vector<Entry> entries_;
  int64_t numel_ = 0;
  Tensor values_;
  Tensor grads_;
};

// y = x W^T + b with W (out, in) row-major, as torch.nn.Linear. Default init bound 1/sqrt(in).
// backward keeps a scratch buffer (bias and weight-gradient partials, so that every thread or GPU
// block takes part) that grows only when a bigger batch arrives; copies of a Linear share it, so
// one Linear and its copies are not safe to run backward from several threads at once.
class Linear {
 public:
  Linear() = default;
  Linear(ParameterSet& params, const std::string& name, int64_t in_features, int64_t out_features,
         float init_bound = -1.0f);
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  const ParamSlot& weight_slot() const { return weight_; }
  const ParamSlot& bias_slot() const { return bias_; }

  // x: (B, in) -> y: (B, out), y preallocated and not overlapping x.
  void forward(const ParameterSet& params, const Tensor& x, Tensor& y) const;
  // Accumulates dW += dy^T x and db += sum_rows(dy). If dx is non-null it is overwritten with
  // dy W (B, in), or accumulated into when accumulate_dx is true; dx must not overlap x or dy.
  void backward(ParameterSet& params, const Tensor& x, const Tensor& dy, Tensor* dx,
                bool accumulate_dx = false) const;

 private:
  int64_t in_ = 0, out_ = 0;
  ParamSlot weight_, bias_;
  mutable Tensor scratch_;  // backward's reduction partials; empty until the first backward
};

// Elementwise ReLU and its backward (dx = dy where x > 0, else 0); outputs preallocated.
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& x, const Tensor& dy, Tensor& dx);

struct ResidualNetOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  int64_t hidden_features = 50;
  int64_t context_features = 0;  // 0: no context, no gating
  int64_t num_blocks = 2;
};

// nflows ResidualNet: initial Linear on [inputs ; context], num_blocks pre-activation residual
// blocks (ReLU, Linear, ReLU, Linear, then gating by sigmoid(Linear(context)) when there is a
// context), final Linear. Parameter names follow nflows' state_dict. Needs in, out and hidden
// features >= 1 and num_blocks >= 0. A ResidualNet is a handle: copies share parameters and
// workspace; it is not safe to run one from several threads at once.
class ResidualNet {
 public:
  // Owns a fresh ParameterSet on `device`, initialised from `generator` (default generator
  // when null) as PyTorch does: U(+-1/sqrt(fan_in)), U(+-1e-3) for each block's second Linear.
  explicit ResidualNet(const ResidualNetOptions& options, Device device = Device::best(),
                       Generator* generator = nullptr);
  // Registers into a shared set under `prefix` (e.g. "transform._transforms.1.transform_net.");
  // the owner materializes the set.
  ResidualNet(const ResidualNetOptions& options, std::shared_ptr<ParameterSet> params,
              const std::string& prefix);

  const ResidualNetOptions& options() const { return options_; }
  ParameterSet& parameter_set() { return *params_; }
  const ParameterSet& parameter_set() const { return *params_; }
  Tensor parameters() const { return params_->values(); }
  Tensor gradients() const { return params_->grads(); }
  void zero_grad() { params_->zero_grad(); }
  Device device() const { return params_->device(); }
  void to(Device device);

  // inputs (B, in), context (B, C) (undefined when C == 0) -> (B, out). The result is a view of
  // an internal workspace, valid until the next forward. inputs and context are kept by
  // reference (not copied) for backward: leave their values unchanged until then. The workspace
  // grows only when a bigger batch arrives; a forward and backward at a batch seen before
  // allocate nothing.
  Tensor forward(const Tensor& inputs, const Tensor& context = Tensor());
  // grad_output (B, out) for the last forward. Accumulates parameter gradients and returns the
  // gradient w.r.t. the inputs (B, in) (a workspace view). If grad_context is non-null it is
  // set to a workspace view (B, C) holding the gradient w.r.t. the context; when it is null
  // that gradient is not computed at all (1 + num_blocks GEMMs saved).
  Tensor backward(const Tensor& grad_output, Tensor* grad_context = nullptr);

 private:
  struct Impl;
  ResidualNetOptions options_;
  std::shared_ptr<ParameterSet> params_;
  std::shared_ptr<Impl> impl_;
};

// Standardisation y = (x - mean) / std per column, as sbi's z-scoring. Not trainable.
// log|det dy/dx| = -sum_d log std_d for every row.
class Standardize {
 public:
  Standardize() = default;
  Standardize(Tensor mean, Tensor std);  // both (D,), on one device
  // Statistics from `data` (N, D) as sbi computes them: rows with NaN/Inf are excluded, std is
  // unbiased (N - 1), entries below `min_std` are raised to it. `structured` uses one scalar
  // mean over all entries and the average of the per-row stds (sbi's "structured" mode).
  static Standardize fit(const Tensor& data, float min_std, bool structured = false);

  const Tensor& mean() const { return mean_; }
  const Tensor& std() const { return std_; }
  int64_t features() const { return mean_.numel(); }
  float log_abs_det() const { return log_abs_det_; }  // -sum log std, constant per row
  void to(Device device);

  // All (B, D) on the statistics' device; the output may be the input (in place).
  void forward(const Tensor& x, Tensor& y) const;     // y = (x - mean) / std
  void inverse(const Tensor& y, Tensor& x) const;     // x = y * std + mean
  void backward(const Tensor& dy, Tensor& dx) const;  // dx = dy / std

 private:
  void apply(int mode, const Tensor& in, Tensor& out, const char* who) const;
  Tensor mean_, std_;
  float log_abs_det_ = 0.0f;  // computed once, in double, when the statistics are set
};

}  // namespace cusbi
