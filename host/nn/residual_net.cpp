// ResidualNet (nflows.nn.nets.ResidualNet): registration in nflows' state_dict order, argument
// checks, a workspace that grows only when a bigger batch arrives, and dispatch of the shared
// program (host/nn/residual_program.hpp) to the CPU or CUDA executor by the parameters' device.
#include "cusbi/nn.hpp"
#include "host/nn/checks.hpp"
#include "host/nn/residual_program.hpp"

namespace cusbi {

namespace nn {

namespace {
void check_options(const ResidualNetOptions& o) {
  CUSBI_CHECK(o.in_features >= 1 && o.out_features >= 1 && o.hidden_features >= 1,
              "ResidualNet needs in_features, out_features and hidden_features >= 1, got in="
                  << o.in_features << ", out=" << o.out_features
                  << ", hidden=" << o.hidden_features);
  CUSBI_CHECK(o.context_features >= 0 && o.num_blocks >= 0,
              "ResidualNet needs context_features >= 0 (0: no context) and num_blocks >= 0, got "
                  << o.context_features << " and " << o.num_blocks);
}

LinearOffsets offsets_of(const Linear& l) {
  return {l.weight_slot().offset, l.bias_slot().offset, l.in_features(), l.out_features()};
}

LinearOffsets find_linear(const ParameterSet& params, const std::string& name, int64_t in,
                          int64_t out) {
  const ParameterSet::Entry& w = params.entry(name + ".weight");
  const ParameterSet::Entry& b = params.entry(name + ".bias");
  CUSBI_CHECK(w.slot.shape == Shape({out, in}) && b.slot.shape == Shape({out}),
              "parameters '" << name << ".*' have shapes " << shape_str(w.slot.shape) << " and "
                             << shape_str(b.slot.shape) << ", expected (" << out << ", " << in
                             << ") and (" << out << ",); check the ResidualNetOptions");
  return {w.slot.offset, b.slot.offset, in, out};
}

ResidualNetLayout empty_layout(const ResidualNetOptions& o) {
  check_options(o);
  ResidualNetLayout l;
  l.in = o.in_features;
  l.context = o.context_features;
  l.hidden = o.hidden_features;
  l.out = o.out_features;
  l.blocks = o.num_blocks;
  l.context_layer.resize(o.num_blocks);
  l.linear0.resize(o.num_blocks);
  l.linear1.resize(o.num_blocks);
  return l;
}
}  // namespace

ResidualNetLayout register_residual_net(const ResidualNetOptions& o, ParameterSet& params,
                                        const std::string& prefix) {
  ResidualNetLayout l = empty_layout(o);
  const int64_t H = o.hidden_features, C = o.context_features;
  l.initial = offsets_of(Linear(params, prefix + "initial_layer", o.in_features + C, H));
  for (int64_t k = 0; k < o.num_blocks; ++k) {
    const std::string block = prefix + "blocks." + std::to_string(k) + ".";
    if (C > 0) l.context_layer[k] = offsets_of(Linear(params, block + "context_layer", C, H));
    l.linear0[k] = offsets_of(Linear(params, block + "linear_layers.0", H, H));
    // nflows' zero_initialization of each block's last Linear.
    l.linear1[k] = offsets_of(Linear(params, block + "linear_layers.1", H, H, 1e-3f));
  }
  l.final_layer = offsets_of(Linear(params, prefix + "final_layer", H, o.out_features));
  return l;
}

ResidualNetLayout find_residual_net(const ResidualNetOptions& o, const ParameterSet& params,
                                    const std::string& prefix) {
  ResidualNetLayout l = empty_layout(o);
  const int64_t H = o.hidden_features, C = o.context_features;
  l.initial = find_linear(params, prefix + "initial_layer", o.in_features + C, H);
  for (int64_t k = 0; k < o.num_blocks; ++k) {
    const std::string block = prefix + "blocks." + std::to_string(k) + ".";
    if (C > 0) l.context_layer[k] = find_linear(params, block + "context_layer", C, H);
    l.linear0[k] = find_linear(params, block + "linear_layers.0", H, H);
    l.linear1[k] = find_linear(params, block + "linear_layers.1", H, H);
  }
  l.final_layer = find_linear(params, prefix + "final_layer", H, o.out_features);
  return l;
}

}  // namespace nn

struct ResidualNet::Impl {
  explicit Impl(const nn::ResidualNetLayout& layout) : cpu_program(layout), cuda_program(layout) {}

  // Calls f(program, executor) for the device's executor.
  template <class F>
  void run(Device device, F&& f) {
    if (device.is_cpu()) {
      cpu::CpuExec<float> ex;
      f(cpu_program, ex);
    } else {
      cuda::set_device(device.index());
      nn::CudaExec ex;
      f(cuda_program, ex);
    }
  }
  // (rows, cols) view of the workspace starting at p.
  Tensor view(const float* p, int64_t rows, int64_t cols) const {
    const int64_t offset = p - workspace.data();
    return workspace.slice_rows(offset, offset + rows * cols).reshape({rows, cols});
  }
  void reset() {
    workspace = inputs = context = Tensor();
    capacity = batch = -1;
  }

  nn::ResidualNetProgram<cpu::CpuExec<float>> cpu_program;
  nn::ResidualNetProgram<nn::CudaExec> cuda_program;
  Tensor workspace;  // flat, on the parameters' device, sized for `capacity` rows
  int64_t capacity = -1;
  Tensor inputs, context;  // of the last forward, read again by backward (not copied)
  int64_t batch = -1;      // of the last forward; -1 before the first
};

ResidualNet::ResidualNet(const ResidualNetOptions& options, Device device, Generator* generator)
    : options_(options), params_(std::make_shared<ParameterSet>()) {
  const nn::ResidualNetLayout layout = nn::register_residual_net(options, *params_, "");
  params_->materialize(device, generator ? *generator : default_generator());
  impl_ = std::make_shared<Impl>(layout);
}

ResidualNet::ResidualNet(const ResidualNetOptions& options, std::shared_ptr<ParameterSet> params,
                         const std::string& prefix)
    : options_(options), params_(std::move(params)) {
  CUSBI_CHECK(params_ != nullptr, "ResidualNet: the shared ParameterSet is null");
  impl_ = std::make_shared<Impl>(nn::register_residual_net(options, *params_, prefix));
}

void ResidualNet::to(Device device) {
  params_->to(device);
  impl_->reset();
}

Tensor ResidualNet::forward(const Tensor& inputs, const Tensor& context) {
  const char* who = "ResidualNet.forward";
  const Device device = params_->device();
  const int64_t I = options_.in_features, C = options_.context_features;
  nn::check_matrix(inputs, who, "inputs", -1, I);
  nn::check_device(inputs, device, who, "inputs");
  const int64_t B = inputs.size(0);
  if (C > 0) {
    CUSBI_CHECK(context.defined(), who << ": the net was built with context_features = " << C
                                       << "; pass a (batch, " << C << ") context");
    nn::check_matrix(context, who, "context", -1, C);
    CUSBI_CHECK(context.size(0) == B, who << ": context has " << context.size(0)
                                          << " rows but inputs have " << B
                                          << "; pass one context row per input row");
    nn::check_device(context, device, who, "context");
  } else {
    CUSBI_CHECK(!context.defined() || context.numel() == 0,
                who << ": got a context of shape " << shape_str(context.shape())
                    << " but the net was built without context (context_features = 0); pass "
                       "none, or build the net with context_features set");
  }
  Impl& m = *impl_;
  // Backward reads inputs and context again, after this forward and the backward itself have
  // overwritten the workspace (net.forward(net.forward(x)) would feed it its own output).
  CUSBI_CHECK(!inputs.shares_memory_with(m.workspace) &&
                  !(C > 0 && context.shares_memory_with(m.workspace)),
              who << ": " << (inputs.shares_memory_with(m.workspace) ? "inputs" : "context")
                  << " is a view of this net's own workspace (an output or gradient it returned), "
                     "which the next forward and backward overwrite; pass a copy, e.g. "
                     "net.forward(out.clone())");
  if (B > m.capacity || !m.workspace.defined() || m.workspace.device() != device) {
    const nn::ResidualNetLayout& layout = m.cpu_program.layout();
    const int64_t numel = device.is_cpu() ? m.cpu_program.workspace_numel(layout, B)
                                          : m.cuda_program.workspace_numel(layout, B);
    m.workspace = Tensor::empty({numel}, device);
    m.capacity = B;
  }
  m.inputs = inputs;
  m.context = C > 0 ? context : Tensor();
  m.batch = B;
  const float* p = params_->values().data();
  float* g = params_->grads().data();
  float* ws = m.workspace.data();
  const float* c = C > 0 ? context.data() : nullptr;
  const float* out = nullptr;
  m.run(device, [&](auto& program, auto& ex) {
    program.bind(p, g, ws, B);
    if (B > 0) program.forward(ex, inputs.data(), c);
    out = program.buf.out;
  });
  return m.view(out, B, options_.out_features);
}

Tensor ResidualNet::backward(const Tensor& grad_output, Tensor* grad_context) {
  const char* who = "ResidualNet.backward";
  Impl& m = *impl_;
  CUSBI_CHECK(m.batch >= 0, who << ": no forward to differentiate; call forward first (backward "
                                   "uses what the last forward kept)");
  const Device device = params_->device();
  CUSBI_CHECK(m.workspace.device() == device, who << ": the net was moved to " << device.str()
                                                  << " after the last forward; call forward again");
  const int64_t B = m.batch, C = options_.context_features;
  CUSBI_CHECK(grad_output.defined() && grad_output.dim() == 2 && grad_output.size(0) == B,
              who << ": grad_output has shape "
                  << (grad_output.defined() ? shape_str(grad_output.shape()) : "undefined")
                  << " but the last forward had batch " << B << "; pass (" << B << ", "
                  << options_.out_features << ") for that forward");
  nn::check_matrix(grad_output, who, "grad_output", B, options_.out_features);
  nn::check_device(grad_output, device, who, "grad_output");
  // grad_output may be a view of this workspace (an output or gradient it returned): backward
  // reads it only in its first step, before it writes any of those views.
  const float* x = m.inputs.data();
  const float* c = C > 0 ? m.context.data() : nullptr;
  const float *dx = nullptr, *dc = nullptr;
  m.run(device, [&](auto& program, auto& ex) {
    program.bind(params_->values().data(), params_->grads().data(), m.workspace.data(), B);
    if (B > 0) program.backward(ex, x, c, grad_output.data(), grad_context != nullptr);
    dx = program.buf.dx;
    dc = program.buf.dc;
  });
  if (grad_context != nullptr) *grad_context = C > 0 ? m.view(dc, B, C) : Tensor();
  return m.view(dx, B, options_.in_features);
}

}  // namespace cusbi
