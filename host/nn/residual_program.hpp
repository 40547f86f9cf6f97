// nflows' ResidualNet forward and backward, written once as a sequence of executor operations
// (GEMMs, fused bias/ReLU/gating passes with their column sums) over flat parameter, gradient and
// workspace buffers. Instantiated with cpu::CpuExec<float> (production CPU), exec::CudaExec
// (production GPU) and cpu::CpuExec<double> (tests/gradcheck), so the paths cannot drift apart.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cusbi/nn.hpp"
#include "host/exec/workspace.hpp"
#include "host/nn/linear_ops.hpp"
#include "kernels/nn.h"

namespace cusbi::nn {

// Where one Linear's parameters sit in a flat buffer; weight (out, in) row-major.
struct LinearOffsets {
  int64_t weight = 0, bias = 0, in = 0, out = 0;
};

struct ResidualNetLayout {
  int64_t in = 0, context = 0, hidden = 0, out = 0, blocks = 0;
  LinearOffsets initial, final_layer;
  std::vector<LinearOffsets> context_layer, linear0, linear1;  // one per block
};

// Registers a ResidualNet's parameters in nflows' state_dict order under `prefix`.
ResidualNetLayout register_residual_net(const ResidualNetOptions& options, ParameterSet& params,
                                        const std::string& prefix);
// The layout of a net already registered in `params` under `prefix`, found by name.
ResidualNetLayout find_residual_net(const ResidualNetOptions& options, const ParameterSet& params,
                                    const std::string& prefix);

// Views into the workspace for one batch B. Forward keeps what backward reads.
template <class T>
struct ResidualNetBuffers {
  T* h = nullptr;               // (B, H) residual stream; after forward, the last block's output
  T* out = nullptr;             // (B, out)
  std::vector<T*> r, u, z2, s;  // per block (B, H): ReLU(h_k), ReLU(Linear_1), Linear_2 - bias,
                                // sigmoid gate (only with context)
  T* dh = nullptr;              // (B, H) gradient w.r.t. the residual stream
  T *dt = nullptr, *dg = nullptr, *du = nullptr, *dr = nullptr;  // (B, H) per-block temporaries
  T* dx = nullptr;                                               // (B, in)
  T* dc = nullptr;                                               // (B, C)
  T* scratch = nullptr;  // column-sum and weight-gradient partials
};

// Carves the pieces of a workspace (host/exec/workspace.hpp), or only counts them when base is
// null. Sized per executor: only the CPU one needs weight-gradient partials. With `io`, the
// output and the input and context gradients are the caller's (row-ordered buffers that several
// row parts write into) and take no workspace.
template <class T>
struct ResidualNetOutputs {
  T *out = nullptr, *dx = nullptr, *dc = nullptr;
};

template <class Exec>
int64_t carve_residual_workspace(const ResidualNetLayout& l, int64_t batch,
                                 typename Exec::Scalar* base,
                                 ResidualNetBuffers<typename Exec::Scalar>* b,
                                 const ResidualNetOutputs<typename Exec::Scalar>* io = nullptr) {
  using T = typename Exec::Scalar;
  exec::Carver<T> carver{base};
  auto take = [&](int64_t n) { return carver.take(n); };
  const int64_t bh = batch * l.hidden;
  const bool gated = l.context > 0;
  ResidualNetBuffers<T> tmp;
  ResidualNetBuffers<T>& d = b ? *b : tmp;
  d.r.resize(l.blocks);
  d.u.resize(l.blocks);
  d.z2.resize(l.blocks);
  d.s.resize(l.blocks);
  d.h = take(bh);
  d.out = io ? io->out : take(batch * l.out);
  for (int64_t k = 0; k < l.blocks; ++k) {
    d.r[k] = take(bh);
    d.u[k] = take(bh);
    d.z2[k] = take(bh);
    d.s[k] = gated ? take(bh) : nullptr;
  }
  d.dh = take(bh);
  d.du = take(bh);
  d.dr = take(bh);
  d.dt = gated ? take(bh) : nullptr;
  d.dg = gated ? take(bh) : nullptr;
  d.dx = io ? io->dx : take(batch * l.in);
  d.dc = !gated ? nullptr : io ? io->dc : take(batch * l.context);
  // Column sums and weight gradients run one after the other and share the scratch.
  const int64_t widest = std::max({l.hidden, l.in, l.context, l.out});
  d.scratch = take(std::max(kern::colsum_scratch(batch, std::max(l.hidden, l.out)),
                            Exec::weight_grad_scratch(batch, l.hidden * widest)));
  return carver.used;
}

template <class Exec>
class ResidualNetProgram {
 public:
  using T = typename Exec::Scalar;

  explicit ResidualNetProgram(const ResidualNetLayout& layout) : l_(layout) {
    carve_residual_workspace<Exec>(l_, 0, nullptr, &buf);  // sizes the per-block vectors once
  }
  const ResidualNetLayout& layout() const { return l_; }
  // caller_outputs: the output and gradients will be the caller's (bind's `io`).
  static int64_t workspace_numel(const ResidualNetLayout& layout, int64_t batch,
                                 bool caller_outputs = false) {
    const ResidualNetOutputs<T> none;
    return carve_residual_workspace<Exec>(layout, batch, nullptr, nullptr,
                                          caller_outputs ? &none : nullptr);
  }

  // Points the program at flat parameters, gradients and a workspace of at least
  // workspace_numel(batch, io != nullptr) elements; with io, buf.out, buf.dx and buf.dc are
  // io's (B, out), (B, in) and (B, C) buffers. Allocates nothing once constructed.
  void bind(const T* params, T* grads, T* workspace, int64_t batch,
            const ResidualNetOutputs<T>* io = nullptr) {
    p_ = params;
    g_ = grads;
    batch_ = batch;
    carve_residual_workspace<Exec>(l_, batch, workspace, &buf, io);
  }

  // x (B, in), c (B, C) (null when C == 0) -> buf.out (B, out).
  void forward(Exec& ex, const T* x, const T* c) {
    initial_forward(ex, x, c);
    for (int64_t k = 0; k < l_.blocks; ++k) block_forward(ex, k, c);
    linear_forward(ex, p_ + l_.final_layer.weight, p_ + l_.final_layer.bias, batch_, l_.hidden,
                   l_.out, buf.h, buf.out);
  }

  // For the x, c of the last forward and dout (B, out): accumulates parameter gradients and
  // writes buf.dx (B, in) and, when context_grad, the context gradient (B, C) (skipping its
  // GEMMs otherwise: a flow whose context is fixed data never needs it). The context gradient
  // goes to buf.dc, or to dc_out when given, added to what dc_out holds when accumulate_dc
  // (a flow sums its couplings' context gradients this way, in GEMMs with beta = 1).
  void backward(Exec& ex, const T* x, const T* c, const T* dout, bool context_grad = true,
                T* dc_out = nullptr, bool accumulate_dc = false) {
    const LinearOffsets& f = l_.final_layer;
    linear_backward(ex, p_ + f.weight, g_ + f.weight, g_ + f.bias, batch_, l_.hidden, l_.out, buf.h,
                    dout, buf.dh, false, buf.scratch);
    pending_dr = pending_r = nullptr;
    want_dc = context_grad && l_.context > 0;
    dc_ = dc_out;
    dc_written = accumulate_dc;
    for (int64_t k = l_.blocks - 1; k >= 0; --k) block_backward(ex, k, c);
    initial_backward(ex, x, c);
  }

  // h = [x ; c] W0^T + b0 without materialising the concatenation: W0's column blocks are
  // strided views. Also r_0 = ReLU(h), the first block's input.
  void initial_forward(Exec& ex, const T* x, const T* c) {
    const LinearOffsets& w = l_.initial;
    const int64_t B = batch_, H = l_.hidden, I = l_.in, C = l_.context, ld = I + C;
    ex.gemm(false, true, B, H, I, x, I, p_ + w.weight, ld, T(0), buf.h, H);
    if (C > 0) ex.gemm(false, true, B, H, C, c, C, p_ + w.weight + I, ld, T(1), buf.h, H);
    const bool relu = l_.blocks > 0;
    ex.bias_act(relu ? kern::BiasAct::kBiasAndRelu : kern::BiasAct::kBias, B, H, buf.h, p_ + w.bias,
                relu ? buf.r[0] : nullptr);
  }

  // Block k: reads buf.r[k] = ReLU(h), updates buf.h in place, writes buf.r[k + 1].
  void block_forward(Exec& ex, int64_t k, const T* c) {
    const LinearOffsets &w1 = l_.linear0[k], &w2 = l_.linear1[k];
    const int64_t B = batch_, H = l_.hidden, C = l_.context;
    T* s = C > 0 ? buf.s[k] : nullptr;
    if (C > 0) ex.gemm(false, true, B, H, C, c, C, p_ + l_.context_layer[k].weight, C, T(0), s, H);
    ex.gemm(false, true, B, H, H, buf.r[k], H, p_ + w1.weight, H, T(0), buf.u[k], H);
    ex.bias_act(kern::BiasAct::kBiasRelu, B, H, buf.u[k], p_ + w1.bias, static_cast<T*>(nullptr));
    ex.gemm(false, true, B, H, H, buf.u[k], H, p_ + w2.weight, H, T(0), buf.z2[k], H);
    ex.gate_forward(B, H, buf.h, buf.z2[k], p_ + w2.bias, s,
                    C > 0 ? p_ + l_.context_layer[k].bias : nullptr,
                    k + 1 < l_.blocks ? buf.r[k + 1] : nullptr);
  }

  // Block k backward for buf.dh = gradient w.r.t. its output. The ReLU backward of its input
  // is left pending (pending_dr, pending_r) and fused into the next pass below it.
  void block_backward(Exec& ex, int64_t k, const T* c) {
    const LinearOffsets &w1 = l_.linear0[k], &w2 = l_.linear1[k];
    const int64_t B = batch_, H = l_.hidden, C = l_.context;
    const bool gated = C > 0;
    T* gate_bias_grad = gated ? g_ + l_.context_layer[k].bias : nullptr;
    ex.gate_backward(B, H, buf.dh, pending_dr, pending_r, buf.z2[k], p_ + w2.bias,
                     gated ? buf.s[k] : nullptr, buf.dt, buf.dg, g_ + w2.bias, gate_bias_grad,
                     buf.scratch);
    const T* dt = gated ? buf.dt : buf.dh;
    ex.weight_grad(H, H, B, dt, H, buf.u[k], H, g_ + w2.weight, H, buf.scratch);
    ex.gemm(false, false, B, H, H, dt, H, p_ + w2.weight, H, T(0), buf.du, H);
    if (gated) {
      const LinearOffsets& wc = l_.context_layer[k];
      ex.weight_grad(H, C, B, buf.dg, H, c, C, g_ + wc.weight, C, buf.scratch);
      if (want_dc) {
        ex.gemm(false, false, B, C, H, buf.dg, H, p_ + wc.weight, C, T(dc_written ? 1 : 0),
                dc_target(), C);
        dc_written = true;
      }
    }
    ex.relu_backward_colsum(B, H, buf.du, buf.u[k], g_ + w1.bias, buf.scratch);
    ex.weight_grad(H, H, B, buf.du, H, buf.r[k], H, g_ + w1.weight, H, buf.scratch);
    ex.gemm(false, false, B, H, H, buf.du, H, p_ + w1.weight, H, T(0), buf.dr, H);
    pending_dr = buf.dr;
    pending_r = buf.r[k];
  }

  void initial_backward(Exec& ex, const T* x, const T* c) {
    const LinearOffsets& w = l_.initial;
    const int64_t B = batch_, H = l_.hidden, I = l_.in, C = l_.context, ld = I + C;
    ex.gate_backward(B, H, buf.dh, pending_dr, pending_r, nullptr, nullptr, nullptr, nullptr,
                     nullptr, g_ + w.bias, nullptr, buf.scratch);
    pending_dr = pending_r = nullptr;
    ex.weight_grad(H, I, B, buf.dh, H, x, I, g_ + w.weight, ld, buf.scratch);
    ex.gemm(false, false, B, I, H, buf.dh, H, p_ + w.weight, ld, T(0), buf.dx, I);
    if (C > 0) {
      ex.weight_grad(H, C, B, buf.dh, H, c, C, g_ + w.weight + I, ld, buf.scratch);
      if (want_dc)
        ex.gemm(false, false, B, C, H, buf.dh, H, p_ + w.weight + I, ld, T(dc_written ? 1 : 0),
                dc_target(), C);
    }
  }

  ResidualNetBuffers<T> buf;
  const T* pending_dr = nullptr;  // ReLU backward owed by the pass below: dh += relu_grad(dr, r)
  const T* pending_r = nullptr;
  bool dc_written = false;  // the first context-gradient GEMM overwrites, later ones add
  bool want_dc = true;      // compute the context gradient at all
  T* dc_ = nullptr;         // the caller's context-gradient buffer; null: buf.dc

 private:
  T* dc_target() const { return dc_ ? dc_ : buf.dc; }

  ResidualNetLayout l_;
  const T* p_ = nullptr;
  T* g_ = nullptr;
  int64_t batch_ = 0;
};

}  // namespace cusbi::nn
