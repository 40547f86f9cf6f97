// sbi's ContextSplineMap, the conditioner of a one-dimensional NSF (no identity features to
// condition on): Linear(C, H) -> ReLU -> [Linear(H, H) -> ReLU] x hidden_layers -> Linear(H, 3K-1),
// as an executor program over flat buffers like nn::ResidualNetProgram. sbi builds the repeated
// part by multiplying a Python list, so with hidden_layers > 1 one Linear is applied every time
// (shared weights); so does this, and its gradient sums over the repetitions.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "host/exec/workspace.hpp"
#include "cusbi/nn.hpp"
#include "host/nn/linear_ops.hpp"
#include "host/nn/residual_program.hpp"
#include "kernels/nn.h"

namespace cusbi::flows {

struct SplineMapLayout {
  int64_t context = 0, hidden = 0, out = 0, hidden_layers = 0;
  nn::LinearOffsets first, repeated, last;  // repeated is unused when hidden_layers == 0
};

// Registers under `prefix` with sbi's names: spline_predictor.0 (C -> H), .2 (the repeated H -> H,
// when hidden_layers >= 1), .{2 hidden_layers + 2} (H -> out); PyTorch's default init.
inline SplineMapLayout register_spline_map(ParameterSet& params, const std::string& prefix,
                                           int64_t context, int64_t hidden, int64_t out,
                                           int64_t hidden_layers) {
  auto linear = [&](int64_t index, int64_t in, int64_t o) {
    const Linear l(params, prefix + "spline_predictor." + std::to_string(index), in, o);
    return nn::LinearOffsets{l.weight_slot().offset, l.bias_slot().offset, in, o};
  };
  SplineMapLayout m;
  m.context = context;
  m.hidden = hidden;
  m.out = out;
  m.hidden_layers = hidden_layers;
  m.first = linear(0, context, hidden);
  if (hidden_layers >= 1) m.repeated = linear(2, hidden, hidden);
  m.last = linear(2 * hidden_layers + 2, hidden, out);
  return m;
}

template <class Exec>
class SplineMapProgram {
 public:
  using T = typename Exec::Scalar;

  explicit SplineMapProgram(const SplineMapLayout& layout)
      : l_(layout), h_(layout.hidden_layers + 1, nullptr) {}

  static int64_t workspace_numel(const SplineMapLayout& l, int64_t rows) {
    return carve(l, rows, nullptr, nullptr);
  }
  void bind(const T* params, T* grads, T* workspace, int64_t rows) {
    p_ = params;
    g_ = grads;
    rows_ = rows;
    carve(l_, rows, workspace, this);
  }

  // ctx (rows, C) -> out (rows, 3K-1); keeps every hidden activation for backward.
  void forward(Exec& ex, const T* ctx) {
    const int64_t B = rows_, H = l_.hidden;
    relu_linear(ex, l_.first, ctx, h_[0]);
    for (int64_t i = 1; i <= l_.hidden_layers; ++i) relu_linear(ex, l_.repeated, h_[i - 1], h_[i]);
    nn::linear_forward(ex, p_ + l_.last.weight, p_ + l_.last.bias, B, H, l_.out,
                       h_[l_.hidden_layers], out);
  }

  // For the ctx of the last forward and dout (rows, out): accumulates parameter gradients and,
  // when dctx is non-null, writes the context gradient (rows, C) there, or adds it to what dctx
  // holds when accumulate_dctx.
  void backward(Exec& ex, const T* ctx, const T* dout, T* dctx = nullptr,
                bool accumulate_dctx = false) {
    const int64_t B = rows_, H = l_.hidden, n = l_.hidden_layers;
    const nn::LinearOffsets& f = l_.last;
    T* dh = d_[0];
    nn::linear_backward(ex, p_ + f.weight, g_ + f.weight, g_ + f.bias, B, H, l_.out, h_[n], dout,
                        dh, false, scratch_);
    for (int64_t i = n; i >= 1; --i) {
      T* below = d_[(n - i + 1) % 2];
      relu_linear_backward(ex, l_.repeated, h_[i - 1], h_[i], dh, below);
      dh = below;
    }
    relu_linear_backward(ex, l_.first, ctx, h_[0], dh, dctx, accumulate_dctx);
  }

  T* out = nullptr;  // (rows, out) after forward

 private:
  // y = relu(x W^T + b), kept as the ReLU's output (relu_grad tests its sign).
  void relu_linear(Exec& ex, const nn::LinearOffsets& w, const T* x, T* y) {
    ex.gemm(false, true, rows_, w.out, w.in, x, w.in, p_ + w.weight, w.in, T(0), y, w.out);
    ex.bias_act(kern::BiasAct::kBiasRelu, rows_, w.out, y, p_ + w.bias, static_cast<T*>(nullptr));
  }
  // dy (gradient w.r.t. y = relu(x W^T + b)) is masked in place; dx = dy W (+ dx when
  // accumulate) when dx is non-null.
  void relu_linear_backward(Exec& ex, const nn::LinearOffsets& w, const T* x, const T* y, T* dy,
                            T* dx, bool accumulate = false) {
    ex.relu_backward_colsum(rows_, w.out, dy, y, g_ + w.bias, scratch_);
    ex.weight_grad(w.out, w.in, rows_, dy, w.out, x, w.in, g_ + w.weight, w.in, scratch_);
    if (dx)
      ex.gemm(false, false, rows_, w.in, w.out, dy, w.out, p_ + w.weight, w.in,
              T(accumulate ? 1 : 0), dx, w.in);
  }

  static int64_t carve(const SplineMapLayout& l, int64_t rows, T* base, SplineMapProgram* p) {
    exec::Carver<T> c{base};
    auto take = [&](int64_t n) { return c.take(n); };
    for (int64_t i = 0; i <= l.hidden_layers; ++i) {
      T* h = take(rows * l.hidden);
      if (p) p->h_[i] = h;
    }
    T* out = take(rows * l.out);
    T* d0 = take(rows * l.hidden);
    T* d1 = take(rows * l.hidden);
    const int64_t widest = std::max({l.hidden, l.context, l.out});
    T* scratch = take(std::max(kern::colsum_scratch(rows, std::max(l.hidden, l.out)),
                               Exec::weight_grad_scratch(rows, l.hidden * widest)));
    if (p) {
      p->out = out;
      p->d_[0] = d0;
      p->d_[1] = d1;
      p->scratch_ = scratch;
    }
    return c.used;
  }

  SplineMapLayout l_;
  const T* p_ = nullptr;
  T* g_ = nullptr;
  int64_t rows_ = 0;
  std::vector<T*> h_;  // hidden activations, hidden_layers + 1 of (rows, H)
  T* d_[2] = {nullptr, nullptr};
  T* scratch_ = nullptr;
};

}  // namespace cusbi::flows
