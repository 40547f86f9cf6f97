// ResidualNet (nflows.nn.nets.ResidualNet): registration in nflows' state_dict order, argument
// checks, and its program (host/nn/residual_program.hpp) run through the execution layer
// (host/exec/runner.hpp): one device dispatch per call, a grow-only workspace, and on the CPU
// row parts on the pool's threads, as the flow. The output and the gradients it returns are
// row-ordered pieces at the front of that workspace, written by every part.
#include <algorithm>

#include "cusbi/nn.hpp"
#include "host/cpu/nn.hpp"
#include "host/exec/cuda_exec.hpp"
#include "host/exec/runner.hpp"
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

namespace {
using exec::Phase;
using NetRunner = exec::Runner<nn::ResidualNetLayout, nn::ResidualNetProgram, cpu::CpuExec<float>,
                               exec::CudaExec>;

struct TrainingNumel {
  const nn::ResidualNetLayout& layout;
  template <class P>
  int64_t operator()(P*, int64_t n) const {
    return P::workspace_numel(layout, n, /*caller_outputs=*/true);
  }
};

// The range [begin, end) of the set's parameters that belong to the net: the row parts'
// gradient partials cover only those.
std::pair<int64_t, int64_t> parameter_range(const nn::ResidualNetLayout& l) {
  int64_t begin = INT64_MAX, end = 0;
  auto add = [&](const nn::LinearOffsets& o) {
    begin = std::min({begin, o.weight, o.bias});
    end = std::max({end, o.weight + o.in * o.out, o.bias + o.out});
  };
  add(l.initial);
  add(l.final_layer);
  for (int64_t k = 0; k < l.blocks; ++k) {
    if (l.context > 0) add(l.context_layer[size_t(k)]);
    add(l.linear0[size_t(k)]);
    add(l.linear1[size_t(k)]);
  }
  return {begin, end};
}
}  // namespace

struct ResidualNet::Impl {
  explicit Impl(const nn::ResidualNetLayout& layout)
      : runner(layout), params(parameter_range(layout)) {}

  // The pieces of the front of the workspace for a batch of B rows: out (B, out), dx (B, in),
  // dc (B, C), and their total.
  struct Front {
    int64_t out = 0, dx = 0, dc = 0, numel = 0;
  };
  Front front(int64_t B) const {
    const nn::ResidualNetLayout& l = runner.layout();
    exec::Carver<float> c;
    Front f;
    f.out = c.used;
    c.take(B * l.out);
    f.dx = c.used;
    c.take(B * l.in);
    f.dc = c.used;
    c.take(B * l.context);
    f.numel = c.used;
    return f;
  }
  // The caller's buffers of the rows of `part`.
  nn::ResidualNetOutputs<float> outputs(const exec::Part& part) const {
    const nn::ResidualNetLayout& l = runner.layout();
    const Front f = front(batch);
    nn::ResidualNetOutputs<float> io;
    io.out = part.front + f.out + part.first * l.out;
    io.dx = part.front + f.dx + part.first * l.in;
    io.dc = l.context > 0 ? part.front + f.dc + part.first * l.context : nullptr;
    return io;
  }
  void reset() {
    runner.reset();
    inputs = context = Tensor();
    batch = -1;
  }

  NetRunner runner;
  std::pair<int64_t, int64_t> params;  // the net's range of the parameter set
  Tensor inputs, context;              // of the last forward, read again by backward (not copied)
  int64_t batch = -1;                  // of the last forward; -1 before the first
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
  const Tensor& ws = m.runner.workspace(Phase::kTraining).tensor();
  CUSBI_CHECK(!inputs.shares_memory_with(ws) && !(C > 0 && context.shares_memory_with(ws)),
              who << ": " << (inputs.shares_memory_with(ws) ? "inputs" : "context")
                  << " is a view of this net's own workspace (an output or gradient it returned), "
                     "which the next forward and backward overwrite; pass a copy, e.g. "
                     "net.forward(out.clone())");
  m.inputs = inputs;
  m.context = C > 0 ? context : Tensor();
  m.batch = B;
  const float* p = params_->values().data();
  float* g = params_->grads().data();
  const float* x = inputs.data();
  const float* c = C > 0 ? context.data() : nullptr;
  float* front =
      m.runner.run(Phase::kTraining, device, B, m.front(B).numel, TrainingNumel{m.runner.layout()},
                   [&](auto& program, auto& ex, const exec::Part& part) {
                     const nn::ResidualNetOutputs<float> io = m.outputs(part);
                     program.bind(p, g, part.ws, part.rows, &io);
                     if (part.rows > 0)
                       program.forward(ex, x + part.first * I, c ? c + part.first * C : nullptr);
                   });
  return m.runner.workspace(Phase::kTraining)
      .view(front + m.front(B).out, B, options_.out_features);
}

Tensor ResidualNet::backward(const Tensor& grad_output, Tensor* grad_context) {
  const char* who = "ResidualNet.backward";
  Impl& m = *impl_;
  CUSBI_CHECK(m.batch >= 0, who << ": no forward to differentiate; call forward first (backward "
                                   "uses what the last forward kept)");
  const Device device = params_->device();
  CUSBI_CHECK(m.runner.device(Phase::kTraining) == device,
              who << ": the net was moved to " << device.str()
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
  const float* p = params_->values().data();
  const float* x = m.inputs.data();
  const float* c = C > 0 ? m.context.data() : nullptr;
  const float* dout = grad_output.data();
  const int64_t I = options_.in_features, O = options_.out_features;
  const bool want_dc = grad_context != nullptr;
  const int64_t first_param = m.params.first;
  m.runner.backward(params_->grads().data() + first_param, m.params.second - first_param,
                    [&](auto& program, auto& ex, const exec::Part& part, float* grads) {
                      const nn::ResidualNetOutputs<float> io = m.outputs(part);
                      // The program addresses gradients by the set's offsets.
                      program.bind(p, grads - first_param, part.ws, part.rows, &io);
                      if (part.rows > 0)
                        program.backward(ex, x + part.first * I, c ? c + part.first * C : nullptr,
                                         dout + part.first * O, want_dc);
                    });
  const exec::Workspace& ws = m.runner.workspace(Phase::kTraining);
  float* front = m.runner.front(Phase::kTraining);
  const Impl::Front f = m.front(B);
  if (grad_context != nullptr) *grad_context = C > 0 ? ws.view(front + f.dc, B, C) : Tensor();
  return ws.view(front + f.dx, B, I);
}

}  // namespace cusbi
