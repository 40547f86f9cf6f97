// NeuralSplineFlow: argument checks with sbi's shape rules, the workspaces (one for inference,
// one for training, each sized for the largest batch seen and then reused), and dispatch by the
// parameters' device: the flow program (host/flows/nsf_program.hpp) on the CUDA executor, or on
// the CPU's row parts (host/flows/nsf_cpu_parts.hpp). No call here synchronises with the device:
// loss's finiteness check runs on the CPU only (on a GPU data is checked at intake).
#include <algorithm>
#include <cmath>
#include <utility>

#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "host/flows/flow_exec.hpp"
#include "host/flows/nsf_checks.hpp"
#include "host/flows/nsf_cpu_parts.hpp"
#include "host/flows/nsf_layout.hpp"

namespace cusbi {

using flows::CudaFlowExec;

struct NeuralSplineFlow::Impl {
  Impl(int64_t d, int64_t c, const NsfOptions& o, Standardize in, Standardize cond)
      : options(o), D(d), C(c), input_z(std::move(in)), condition_z(std::move(cond)) {}

  // Calls f(program, executor) on the GPU of the parameters (the CPU runs row parts instead,
  // see `parts`).
  template <class F>
  void run_gpu(F&& f) {
    cuda::set_device(device.index());
    CudaFlowExec ex;
    f(*gpu, ex);
  }
  // Grows the GPU workspace `ws` (only) to hold `rows` rows of the program's inference or
  // training buffers; inference needs at most one block of rows whatever the batch.
  void reserve_gpu(Tensor& ws, int64_t rows, bool training) {
    using GpuProgram = flows::NsfProgram<CudaFlowExec>;
    const int64_t numel = training ? GpuProgram::training_numel(gpu->layout(), rows)
                                   : GpuProgram::inference_numel(gpu->layout(), rows);
    if (ws.defined() && ws.numel() >= numel && ws.device() == device) return;
    ws = Tensor();  // release the old one first: peak memory is the new size, not both
    ws = Tensor::empty({numel}, device);
  }
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
  std::unique_ptr<flows::NsfProgram<CudaFlowExec>> gpu;
  Tensor inference_ws, training_ws;
  Tensor gradient_ws;          // GPU: backward's input and condition gradients
  int64_t training_rows = -1;  // rows of the last loss; -1: nothing to differentiate
  Shape training_shape;        // the last loss's shape
  bool check_training_inputs = true;

  // The CPU's row parts (host/flows/nsf_cpu_parts.hpp): programs, offsets, partials.
  std::unique_ptr<flows::CpuParts> parts;

  // log_prob / inverse_transform on any device: out (rows,) and z (rows, D) may be null.
  void run_log_prob(const flows::LogProbRows& r, const Tensor& input, const Tensor& condition,
                    float* out, float* z) {
    const int64_t rows = r.samples * r.batch;
    const flows::NsfPointers<float> p = pointers();
    if (device.is_cpu()) {
      parts->for_inference(rows, inference_ws,
                           [&](int64_t r0, int64_t n, auto& program, auto& ex, float* ws) {
                             kern::RowMap im = r.input, cm = r.condition;
                             im.first += r0;
                             cm.first += r0;
                             program.log_prob(ex, p, ws, n, im, input.data(), cm, condition.data(),
                                              out ? out + r0 : nullptr, z ? z + r0 * D : nullptr);
                           });
      return;
    }
    reserve_gpu(inference_ws, rows, false);
    run_gpu([&](auto& program, auto& ex) {
      program.log_prob(ex, p, inference_ws.data(), rows, r.input, input.data(), r.condition,
                       condition.data(), out, z);
    });
  }
  // The inverse flow on base noise (rows = r.samples * r.batch) into out (rows, D).
  void run_sample(const flows::SampleRows& r, const Tensor& noise, const Tensor& condition,
                  float* out) {
    const int64_t rows = r.samples * r.batch;
    const flows::NsfPointers<float> p = pointers();
    if (device.is_cpu()) {
      parts->for_inference(
          rows, inference_ws, [&](int64_t r0, int64_t n, auto& program, auto& ex, float* ws) {
            kern::RowMap nm = r.noise, cm = r.condition;
            nm.first += r0;
            cm.first += r0;
            program.sample(ex, p, ws, n, nm, noise.data(), cm, condition.data(), out + r0 * D);
          });
      return;
    }
    reserve_gpu(inference_ws, rows, false);
    run_gpu([&](auto& program, auto& ex) {
      program.sample(ex, p, inference_ws.data(), rows, r.noise, noise.data(), r.condition,
                     condition.data(), out);
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
  m.parts = std::make_unique<flows::CpuParts>(layout);
  m.gpu = std::make_unique<flows::NsfProgram<CudaFlowExec>>(layout);
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
  m.inference_ws = m.training_ws = m.gradient_ws = Tensor();
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
  if (r.rows > 0 && m.device.is_cpu()) {
    const flows::NsfPointers<float> p = m.pointers();
    m.parts->prepare_training(r.rows, m.training_ws);
    m.parts->for_training(r.rows, m.training_ws,
                          [&](int64_t, int64_t r0, int64_t n, auto& program, auto& ex, float* ws) {
                            kern::RowMap im = r.input, cm = r.condition;
                            im.first += r0;
                            cm.first += r0;
                            program.loss(ex, p, ws, n, im, input.data(), cm, condition.data(),
                                         out.data() + r0);
                          });
  } else if (r.rows > 0) {
    m.reserve_gpu(m.training_ws, r.rows, true);
    const flows::NsfPointers<float> p = m.pointers();
    m.run_gpu([&](auto& program, auto& ex) {
      program.loss(ex, p, m.training_ws.data(), r.rows, r.input, input.data(), r.condition,
                   condition.data(), out.data());
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
  if (m.device.is_cpu()) {
    m.parts->backward(m.pointers(), m.params.grads(), m.training_rows, m.D, m.C, grad_loss,
                      m.training_ws, grad_input, grad_condition);
    return;
  }
  // The GPU's input and condition gradients share one grow-only buffer, (rows, D) then (rows, C).
  const int64_t need = rows * (m.D + m.C);
  if (!m.gradient_ws.defined() || m.gradient_ws.numel() < need ||
      m.gradient_ws.device() != m.device) {
    m.gradient_ws = Tensor();
    m.gradient_ws = Tensor::empty({need}, m.device);
  }
  float* gi = grad_input ? m.gradient_ws.data() : nullptr;
  float* gc = grad_condition ? m.gradient_ws.data() + rows * m.D : nullptr;
  const flows::NsfPointers<float> p = m.pointers();
  m.run_gpu([&](auto& program, auto& ex) {
    program.backward(ex, p, m.training_ws.data(), rows, grad_loss.data(), gi, gc);
  });
  if (grad_input) *grad_input = m.gradient_ws.slice_rows(0, rows * m.D).reshape({rows, m.D});
  if (grad_condition)
    *grad_condition = m.gradient_ws.slice_rows(rows * m.D, rows * (m.D + m.C)).reshape({rows, m.C});
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
