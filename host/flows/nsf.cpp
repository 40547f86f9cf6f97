// NeuralSplineFlow: argument checks with sbi's shape rules and the flow's pointers; the flow
// program (host/flows/nsf_program.hpp) runs through the execution layer (host/exec/runner.hpp),
// which owns the per-device programs, the grow-only workspaces and the CPU's row parts, and
// dispatches on the device once per call. No call here synchronises with the device: loss's
// finiteness check runs on the CPU only (on a GPU data is checked at intake).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "host/cpu/flows.hpp"
#include "host/exec/cuda_exec.hpp"
#include "host/exec/runner.hpp"
#include "host/flows/nsf_checks.hpp"
#include "host/flows/nsf_layout.hpp"

namespace cusbi {

namespace {
using NsfRunner =
    exec::Runner<flows::NsfLayout, flows::NsfProgram, cpu::FlowCpuExec<float>, exec::FlowCudaExec>;
using exec::Phase;

// Workspace elements of one program of the pointed-to type for n rows.
struct InferenceNumel {
  const flows::NsfLayout& layout;
  template <class P>
  int64_t operator()(P*, int64_t n) const {
    return P::inference_numel(layout, n);
  }
};
// The front of the training workspace: backward's input gradient (rows, D), then its
// condition gradient (rows, C); every row part writes its rows of both.
struct GradientFront {
  int64_t input = 0, condition = 0, numel = 0;
};
GradientFront gradient_front(int64_t rows, int64_t D, int64_t C) {
  exec::Carver<float> c;
  GradientFront f;
  f.input = c.used;
  c.take(rows * D);
  f.condition = c.used;
  c.take(rows * C);
  f.numel = c.used;
  return f;
}

struct TrainingNumel {
  const flows::NsfLayout& layout;
  template <class P>
  int64_t operator()(P*, int64_t n) const {
    return P::training_numel(layout, n);
  }
};
}  // namespace

struct NeuralSplineFlow::Impl {
  Impl(int64_t d, int64_t c, const NsfOptions& o, Standardize in, Standardize cond)
      : options(o), D(d), C(c), input_z(std::move(in)), condition_z(std::move(cond)) {}

  flows::NsfPointers<float> pointers() {
    flows::NsfPointers<float> p;
    p.params = params.values().data();
    p.grads = params.grads().data();
    if (input_z.mean().defined()) {
      p.input_mean = input_z.mean().data();
      p.input_std = input_z.std().data();
      p.input_logdet = input_z.log_abs_det();
    }
    if (condition_z.mean().defined()) {
      p.condition_mean = condition_z.mean().data();
      p.condition_std = condition_z.std().data();
    }
    return p;
  }

  NsfOptions options;
  int64_t D, C;
  Standardize input_z, condition_z;  // undefined: no z-scoring on that side
  Device device = Device::cpu();
  ParameterSet params;
  std::unique_ptr<NsfRunner> runner;
  int64_t training_rows = -1;  // rows of the last loss; -1: nothing to differentiate
  Shape training_shape;        // the last loss's shape
  bool check_training_inputs = true;

  // log_prob / inverse_transform on any device: out (rows,) and z (rows, D) may be null.
  void run_log_prob(const flows::LogProbRows& r, const Tensor& input, const Tensor& condition,
                    float* out, float* z) {
    const flows::NsfPointers<float> p = pointers();
    runner->run(Phase::kInference, device, r.samples * r.batch, 0, InferenceNumel{runner->layout()},
                [&](auto& program, auto& ex, const exec::Part& part) {
                  kern::RowMap im = r.input, cm = r.condition;
                  im.first += part.first;
                  cm.first += part.first;
                  program.log_prob(ex, p, part.ws, part.rows, im, input.data(), cm,
                                   condition.data(), out ? out + part.first : nullptr,
                                   z ? z + part.first * D : nullptr);
                });
  }
  // The inverse flow on base noise (rows = r.samples * r.batch) into out (rows, D).
  void run_sample(const flows::SampleRows& r, const Tensor& noise, const Tensor& condition,
                  float* out) {
    const flows::NsfPointers<float> p = pointers();
    runner->run(Phase::kInference, device, r.samples * r.batch, 0, InferenceNumel{runner->layout()},
                [&](auto& program, auto& ex, const exec::Part& part) {
                  kern::RowMap nm = r.noise, cm = r.condition;
                  nm.first += part.first;
                  cm.first += part.first;
                  program.sample(ex, p, part.ws, part.rows, nm, noise.data(), cm, condition.data(),
                                 out + part.first * D);
                });
  }
};

NeuralSplineFlow::NeuralSplineFlow(int64_t input_features, int64_t condition_features,
                                   const NsfOptions& options, const Standardize& input_zscore,
                                   const Standardize& condition_zscore, Device device,
                                   Generator* generator) {
  flows::check_nsf_options(input_features, condition_features, options);
  flows::check_zscore(input_zscore, input_features, "input");
  flows::check_zscore(condition_zscore, condition_features, "condition");
  check_device_usable(device);
  impl_ = std::make_unique<Impl>(input_features, condition_features, options, input_zscore,
                                 condition_zscore);
  Impl& m = *impl_;
  m.device = device;
  if (m.input_z.mean().defined()) m.input_z.to(device);
  if (m.condition_z.mean().defined()) m.condition_z.to(device);
  flows::NsfShape shape;
  shape.features = input_features;
  shape.context = condition_features;
  shape.hidden = options.hidden_features;
  shape.num_blocks = options.num_blocks;
  shape.hidden_layers_spline_context = options.hidden_layers_spline_context;
  const flows::NsfLayout layout = flows::register_nsf(
      m.params, shape,
      flows::spline_spec(options.num_bins, options.tail_bound, options.hidden_features),
      options.num_transforms, m.input_z.mean().defined());
  m.params.materialize(device, generator ? *generator : default_generator());
  m.runner = std::make_unique<NsfRunner>(layout);
}

NeuralSplineFlow::~NeuralSplineFlow() = default;
NeuralSplineFlow::NeuralSplineFlow(NeuralSplineFlow&&) noexcept = default;
NeuralSplineFlow& NeuralSplineFlow::operator=(NeuralSplineFlow&&) noexcept = default;

int64_t NeuralSplineFlow::input_features() const { return impl_->D; }
int64_t NeuralSplineFlow::condition_features() const { return impl_->C; }
const NsfOptions& NeuralSplineFlow::options() const { return impl_->options; }
Device NeuralSplineFlow::device() const { return impl_->device; }
Tensor NeuralSplineFlow::parameters() const { return impl_->params.values(); }
Tensor NeuralSplineFlow::gradients() const { return impl_->params.grads(); }
void NeuralSplineFlow::zero_grad() { impl_->params.zero_grad(); }
ParameterSet& NeuralSplineFlow::parameter_set() { return impl_->params; }
const ParameterSet& NeuralSplineFlow::parameter_set() const { return impl_->params; }
const Standardize& NeuralSplineFlow::input_zscore() const { return impl_->input_z; }
const Standardize& NeuralSplineFlow::condition_zscore() const { return impl_->condition_z; }

void NeuralSplineFlow::set_check_training_inputs(bool check) {
  impl_->check_training_inputs = check;
}

NeuralSplineFlow NeuralSplineFlow::clone(std::optional<Device> device) const {
  const Impl& m = *impl_;
  // A private generator: the copy's initial weights are overwritten at once, and drawing them
  // must not move the default generator's stream.
  Generator scratch(0);
  auto deep = [](const Standardize& z) {
    return z.mean().defined() ? Standardize(z.mean().clone(), z.std().clone()) : Standardize();
  };
  NeuralSplineFlow copy(m.D, m.C, m.options, deep(m.input_z), deep(m.condition_z),
                        device.value_or(m.device), &scratch);
  copy.impl_->params.values().copy_(m.params.values());
  copy.impl_->check_training_inputs = m.check_training_inputs;
  return copy;
}

void NeuralSplineFlow::to(Device device) {
  check_device_usable(device);
  Impl& m = *impl_;
  m.params.to(device);
  if (m.input_z.mean().defined()) m.input_z.to(device);
  if (m.condition_z.mean().defined()) m.condition_z.to(device);
  m.device = device;
  m.runner->reset();
  m.training_rows = -1;
}

Tensor NeuralSplineFlow::loss(const Tensor& input, const Tensor& condition) {
  const flows::LossRows r = flows::loss_rows(input, condition, impl_->D, impl_->C, impl_->device);
  Tensor out = Tensor::empty(r.out_shape, impl_->device);
  loss(input, condition, out);
  return out;
}

void NeuralSplineFlow::loss(const Tensor& input, const Tensor& condition, Tensor& out) {
  Impl& m = *impl_;
  const flows::LossRows r = flows::loss_rows(input, condition, m.D, m.C, m.device);
  CUSBI_CHECK(out.defined() && out.shape() == r.out_shape,
              "NeuralSplineFlow.loss: out has shape "
                  << (out.defined() ? shape_str(out.shape()) : "undefined") << ", expected "
                  << shape_str(r.out_shape));
  flows::check_on(out, m.device, "NeuralSplineFlow.loss", "out");
  if (m.check_training_inputs && m.device.is_cpu()) {  // on a GPU it would wait for the device
    check_finite(input, "NeuralSplineFlow.loss: input (training data)");
    check_finite(condition, "NeuralSplineFlow.loss: condition (training data)");
  }
  m.training_rows = -1;  // a failure below leaves nothing to differentiate
  if (r.rows > 0) {
    const flows::NsfPointers<float> p = m.pointers();
    m.runner->run(Phase::kTraining, m.device, r.rows, gradient_front(r.rows, m.D, m.C).numel,
                  TrainingNumel{m.runner->layout()},
                  [&](auto& program, auto& ex, const exec::Part& part) {
                    kern::RowMap im = r.input, cm = r.condition;
                    im.first += part.first;
                    cm.first += part.first;
                    program.loss(ex, p, part.ws, part.rows, im, input.data(), cm, condition.data(),
                                 out.data() + part.first);
                  });
  }
  m.training_rows = r.rows;
  m.training_shape = r.out_shape;
}

void NeuralSplineFlow::backward(const Tensor& grad_loss, Tensor* grad_input,
                                Tensor* grad_condition) {
  Impl& m = *impl_;
  const int64_t rows = m.training_rows;
  CUSBI_CHECK(rows >= 0,
              "NeuralSplineFlow.backward: no loss to differentiate; call loss(input, "
              "condition) first (after to(), call it again)");
  // The loss's own shape, or its entries flattened (rows in the same order either way).
  CUSBI_CHECK(grad_loss.defined() && grad_loss.numel() == rows &&
                  (grad_loss.dim() == 1 || grad_loss.shape() == m.training_shape),
              "NeuralSplineFlow.backward: grad_loss has shape "
                  << (grad_loss.defined() ? shape_str(grad_loss.shape()) : "undefined")
                  << " but the last loss had batch " << rows << " (shape "
                  << shape_str(m.training_shape) << "); pass (" << rows << ",)"
                  << (m.training_shape.size() > 1 ? " or " + shape_str(m.training_shape) : ""));
  flows::check_on(grad_loss, m.device, "NeuralSplineFlow.backward", "grad_loss");
  if (rows == 0) {
    if (grad_input) *grad_input = Tensor::zeros({0, m.D}, m.device);
    if (grad_condition) *grad_condition = Tensor::zeros({0, m.C}, m.device);
    return;
  }
  const flows::NsfPointers<float> p = m.pointers();
  const GradientFront f = gradient_front(rows, m.D, m.C);
  float* front = m.runner->front(Phase::kTraining);
  float* gi = grad_input ? front + f.input : nullptr;
  float* gc = grad_condition ? front + f.condition : nullptr;
  const int64_t D = m.D, C = m.C;
  m.runner->backward(m.params.grads().data(), m.params.grads().numel(),
                     [&](auto& program, auto& ex, const exec::Part& part, float* grads) {
                       flows::NsfPointers<float> pk = p;
                       pk.grads = grads;
                       program.backward(ex, pk, part.ws, part.rows, grad_loss.data() + part.first,
                                        gi ? gi + part.first * D : nullptr,
                                        gc ? gc + part.first * C : nullptr);
                     });
  const exec::Workspace& ws = m.runner->workspace(Phase::kTraining);
  if (grad_input) *grad_input = ws.view(gi, rows, D);
  if (grad_condition) *grad_condition = ws.view(gc, rows, C);
}

void NeuralSplineFlow::log_prob(const Tensor& input, const Tensor& condition, Tensor& out) {
  Impl& m = *impl_;
  const flows::LogProbRows r = flows::log_prob_rows(input, condition, m.D, m.C, m.device);
  CUSBI_CHECK(out.defined() && out.shape() == Shape({r.samples, r.batch}),
              "NeuralSplineFlow.log_prob: out has shape "
                  << (out.defined() ? shape_str(out.shape()) : "undefined") << ", expected ("
                  << r.samples << ", " << r.batch << ")");
  flows::check_on(out, m.device, "NeuralSplineFlow.log_prob", "out");
  if (r.samples * r.batch == 0) return;
  m.run_log_prob(r, input, condition, out.data(), nullptr);
}

Tensor NeuralSplineFlow::log_prob(const Tensor& input, const Tensor& condition) {
  const flows::LogProbRows r =
      flows::log_prob_rows(input, condition, impl_->D, impl_->C, impl_->device);
  Tensor out = Tensor::empty({r.samples, r.batch}, impl_->device);
  log_prob(input, condition, out);
  return out;
}

Tensor NeuralSplineFlow::inverse_transform(const Tensor& input, const Tensor& condition) {
  Impl& m = *impl_;
  const flows::LogProbRows r = flows::log_prob_rows(input, condition, m.D, m.C, m.device);
  const int64_t rows = r.samples * r.batch;
  Tensor z = Tensor::empty({rows, m.D}, m.device);
  if (rows > 0) m.run_log_prob(r, input, condition, nullptr, z.data());
  return input.dim() == 3 ? z.reshape({r.samples, r.batch, m.D}) : z.reshape({r.batch, m.D});
}

Tensor NeuralSplineFlow::sample_from_noise(const Tensor& noise, const Tensor& condition) {
  Impl& m = *impl_;
  const flows::SampleRows r = flows::noise_rows(noise, condition, m.D, m.C, m.device);
  Tensor out = Tensor::empty(noise.shape(), m.device);
  if (r.samples * r.batch == 0) return out;
  m.run_sample(r, noise, condition, out.data());
  return out;
}

Tensor NeuralSplineFlow::sample(const Shape& sample_shape, const Tensor& condition,
                                Generator* generator) {
  Impl& m = *impl_;
  const flows::SampleRows r = flows::sample_rows(sample_shape, condition, m.C, m.device);
  Shape shape = sample_shape;
  shape.push_back(r.batch);
  shape.push_back(m.D);
  Tensor out = Tensor::empty(shape, m.device);
  const int64_t rows = r.samples * r.batch;
  if (rows == 0) return out;
  // nflows draws randn(B n, D) viewed as (B, n, D); r.noise reads it as (n, B, D).
  const Tensor noise = randn({rows, m.D}, m.device, generator);
  m.run_sample(r, noise, condition, out.data());
  return out;
}

}  // namespace cusbi
