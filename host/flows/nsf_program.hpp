// The neural spline flow as one executor program over flat buffers: z-scoring, num_transforms x
// (spline coupling -> LU linear), standard normal base; log_prob, the inverse (sampling), and the
// training pair loss/backward. Written once, instantiated with the CPU executor (float; double
// in tests/gradcheck) and the CUDA executor. Inference runs blocks of rows through all layers
// with two ping-pong activation buffers and one conditioner workspace for every layer, so its
// workspace grows neither with num_transforms nor beyond one block; training keeps each layer's
// input and conditioner activations for backward.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "host/exec/workspace.hpp"
#include "host/flows/coupling.hpp"
#include "kernels/flows.h"
#include "kernels/nn.h"

namespace cusbi::flows {

// Where one LU layer's parameters sit in the flat buffers (LuLinear's slots).
struct LuOffsets {
  int64_t bias = 0, lower = 0, upper = 0, diag = 0;
};

struct NsfLayout {
  NsfShape shape;
  SplineSpec spline;
  bool lu = false;  // D > 1: an LU layer after every coupling
  std::vector<CouplingLayout> couplings;
  std::vector<LuOffsets> lus;  // one per coupling when lu
};

// Parameters, gradients and z-score statistics of one flow as raw pointers of the executor's
// scalar; null statistics mean no z-scoring.
template <class T>
struct NsfPointers {
  const T* params = nullptr;
  T* grads = nullptr;
  const T* input_mean = nullptr;
  const T* input_std = nullptr;
  const T* condition_mean = nullptr;
  const T* condition_std = nullptr;
  T input_logdet = T(0);  // -sum log std of the input z-scoring
};

template <class Exec>
class NsfProgram {
 public:
  using T = typename Exec::Scalar;

  explicit NsfProgram(const NsfLayout& layout) : l_(layout) {
    for (const CouplingLayout& c : l_.couplings) couplings_.emplace_back(c);
    train_.act.resize(num_steps() + 1);
    train_.coupling.resize(l_.couplings.size());
  }
  const NsfLayout& layout() const { return l_; }

  // Inference runs over blocks of at most Exec::kInferenceBlockRows rows, so its workspace is
  // bounded by the block whatever the batch.
  static int64_t inference_numel(const NsfLayout& l, int64_t rows) {
    Inference b;
    return carve_inference(l, std::min(rows, Exec::kInferenceBlockRows), nullptr, b);
  }
  static int64_t training_numel(const NsfLayout& l, int64_t rows) {
    Training b;
    b.act.resize(num_steps(l) + 1);
    b.coupling.resize(l.couplings.size());
    return carve_training(l, rows, nullptr, b);
  }

  // out (rows,) = log q(input | condition) for input row source_row(im, r) and condition row
  // source_row(cm, r); z (rows, D), when non-null, = the base variable (the noise) of each row.
  // Either output may be null. ws: inference_numel(rows) elements.
  void log_prob(Exec& ex, const NsfPointers<T>& p, T* ws, int64_t rows, kern::RowMap im,
                const T* input, kern::RowMap cm, const T* condition, T* out, T* z = nullptr) {
    for_blocks(rows, im, cm, [&](int64_t r0, int64_t n, kern::RowMap bim, kern::RowMap bcm) {
      log_prob_block(ex, p, ws, n, bim, input, bcm, condition, out ? out + r0 : nullptr,
                     z ? z + r0 * features() : nullptr);
    });
  }

  // out (rows, D) = the inverse flow of base noise row source_row(nm, r) under condition row
  // source_row(cm, r), un-standardised. ws: inference_numel(rows) elements.
  void sample(Exec& ex, const NsfPointers<T>& p, T* ws, int64_t rows, kern::RowMap nm,
              const T* noise, kern::RowMap cm, const T* condition, T* out) {
    for_blocks(rows, nm, cm, [&](int64_t r0, int64_t n, kern::RowMap bnm, kern::RowMap bcm) {
      sample_block(ex, p, ws, n, bnm, noise, bcm, condition, out + r0 * features());
    });
  }

  // Training forward: out (rows,) = -log q, keeping every layer's activations in ws
  // (training_numel(rows) elements) for backward.
  void loss(Exec& ex, const NsfPointers<T>& p, T* ws, int64_t rows, kern::RowMap im, const T* input,
            kern::RowMap cm, const T* condition, T* out) {
    carve_training(l_, rows, ws, train_);
    Training& b = train_;
    start(ex, p, rows, im, input, cm, condition, b.ctx, b.act[0], b.total);
    int64_t s = 0;
    for (size_t i = 0; i < couplings_.size(); ++i) {
      couplings_[i].bind(p.params, p.grads, b.coupling[i], rows);
      couplings_[i].forward(ex, l_.spline, b.act[s], b.ctx, b.act[s + 1], b.logdet, b.total);
      ++s;
      if (l_.lu) {
        lu_forward(ex, p, i, b.lu, rows, b.act[s], b.act[s + 1], b.total);
        ++s;
      }
    }
    ex.base_log_prob(rows, features(), b.act[s], b.total, log_z(), T(-1), out);
  }

  // For the last loss over the same ws and rows: grad_loss (rows,) -> accumulated parameter
  // gradients. When non-null, grad_input (rows, D) receives the gradient w.r.t. the raw input
  // and grad_condition (rows, C) the gradient w.r.t. the raw condition, one row per loss row
  // (a broadcast condition row gets one gradient row per use). The condition gradient sums the
  // couplings' conditioner gradients (the standardised context is shared by all of them) and
  // passes through the condition's z-scoring; it is what NLE's potential needs (theta is the
  // condition there). Without it its GEMMs are skipped.
  void backward(Exec& ex, const NsfPointers<T>& p, T* ws, int64_t rows, const T* grad_loss,
                T* grad_input, T* grad_condition = nullptr) {
    carve_training(l_, rows, ws, train_);
    Training& b = train_;
    T* dctx = grad_condition ? b.dctx : nullptr;
    bool dctx_written = false;
    int64_t s = num_steps();
    ex.loss_grad(rows, features(), b.act[s], grad_loss, b.d[0], b.dlogdet);
    int cur = 0;
    for (size_t k = couplings_.size(); k-- > 0;) {
      if (l_.lu) {
        // The LU matrices are rebuilt here rather than kept per layer since the forward.
        lu_prepare(ex, p, k, b.lu);
        const LuOffsets& o = l_.lus[k];
        ex.lu_backward(rows, features(), b.lu, b.lu + dd(), p.params + o.diag, b.act[s - 1],
                       b.d[cur], b.dlogdet, p.grads + o.lower, p.grads + o.upper, p.grads + o.diag,
                       p.grads + o.bias, b.d[1 - cur], b.lu_scratch);
        cur = 1 - cur;
        --s;
      }
      couplings_[k].bind(p.params, p.grads, b.coupling[k], rows);
      couplings_[k].backward(ex, l_.spline, b.act[s - 1], b.ctx, b.d[cur], b.dlogdet, b.dparams,
                             b.d[1 - cur], dctx, dctx_written);
      dctx_written = dctx != nullptr;
      cur = 1 - cur;
      --s;
    }
    if (grad_input) {
      if (p.input_mean) {
        ex.standardize(kern::StandardizeMode::kBackward, rows, features(), b.d[cur], p.input_mean,
                       p.input_std, grad_input);
      } else {
        ex.copy(grad_input, b.d[cur], rows * features());
      }
    }
    if (grad_condition) {
      if (p.condition_mean) {
        ex.standardize(kern::StandardizeMode::kBackward, rows, context(), dctx, p.condition_mean,
                       p.condition_std, grad_condition);
      } else {
        ex.copy(grad_condition, dctx, rows * context());
      }
    }
  }

 private:
  // lu: one LU layer's packed L\U (D, D), W = L U (D, D) and log|det| (1), rebuilt before each
  // use, so one is enough for every layer.
  struct Inference {
    T *ctx = nullptr, *logdet = nullptr, *total = nullptr, *coupling = nullptr, *lu = nullptr;
    T* x[2] = {nullptr, nullptr};
  };
  struct Training {
    T *ctx = nullptr, *logdet = nullptr, *total = nullptr, *dparams = nullptr, *dlogdet = nullptr,
      *dctx = nullptr, *lu = nullptr, *lu_scratch = nullptr;
    T* d[2] = {nullptr, nullptr};
    std::vector<T*> act;       // step s's input is act[s]; act[num_steps] is the base variable z
    std::vector<T*> coupling;  // each coupling's own workspace
  };

  int64_t features() const { return l_.shape.features; }
  int64_t context() const { return l_.shape.context; }
  static int64_t num_steps(const NsfLayout& l) {
    return int64_t(l.couplings.size()) * (l.lu ? 2 : 1);
  }
  int64_t num_steps() const { return num_steps(l_); }
  // nflows' StandardNormal keeps 0.5 D log(2 pi) in float64 and sbi casts it to float32.
  T log_z() const { return T(0.5 * double(features()) * std::log(2.0 * M_PI)); }

  // f(first row, rows, maps) for consecutive blocks of at most kInferenceBlockRows rows.
  template <class F>
  static void for_blocks(int64_t rows, kern::RowMap a, kern::RowMap c, F&& f) {
    const int64_t block = Exec::kInferenceBlockRows;
    for (int64_t r0 = 0; r0 < rows; r0 += block) {
      kern::RowMap ba = a, bc = c;
      ba.first += r0;
      bc.first += r0;
      f(r0, std::min(block, rows - r0), ba, bc);
    }
  }

  void log_prob_block(Exec& ex, const NsfPointers<T>& p, T* ws, int64_t rows, kern::RowMap im,
                      const T* input, kern::RowMap cm, const T* condition, T* out, T* z) {
    Inference b;
    carve_inference(l_, rows, ws, b);
    start(ex, p, rows, im, input, cm, condition, b.ctx, b.x[0], b.total);
    int cur = 0;
    for (size_t i = 0; i < couplings_.size(); ++i) {
      couplings_[i].bind(p.params, p.grads, b.coupling, rows);
      couplings_[i].forward(ex, l_.spline, b.x[cur], b.ctx, b.x[1 - cur], b.logdet, b.total);
      cur = 1 - cur;
      if (l_.lu) {
        lu_forward(ex, p, i, b.lu, rows, b.x[cur], b.x[1 - cur], b.total);
        cur = 1 - cur;
      }
    }
    if (out) ex.base_log_prob(rows, features(), b.x[cur], b.total, log_z(), T(1), out);
    if (z) ex.copy(z, b.x[cur], rows * features());
  }

  void sample_block(Exec& ex, const NsfPointers<T>& p, T* ws, int64_t rows, kern::RowMap nm,
                    const T* noise, kern::RowMap cm, const T* condition, T* out) {
    Inference b;
    carve_inference(l_, rows, ws, b);
    ex.rows_affine(rows, context(), cm, condition, p.condition_mean, p.condition_std, b.ctx);
    ex.rows_affine(rows, features(), nm, noise, static_cast<const T*>(nullptr),
                   static_cast<const T*>(nullptr), b.x[0]);
    int cur = 0;
    for (size_t k = couplings_.size(); k-- > 0;) {
      if (l_.lu) {
        lu_prepare(ex, p, k, b.lu);
        ex.lu_inverse(rows, features(), b.lu, p.params + l_.lus[k].bias, b.lu + 2 * dd(), b.x[cur],
                      b.x[1 - cur], static_cast<T*>(nullptr));
        cur = 1 - cur;
      }
      couplings_[k].bind(p.params, p.grads, b.coupling, rows);
      couplings_[k].inverse(ex, l_.spline, b.x[cur], b.ctx, b.x[1 - cur]);
      cur = 1 - cur;
    }
    if (p.input_mean) {
      ex.standardize(kern::StandardizeMode::kInverse, rows, features(), b.x[cur], p.input_mean,
                     p.input_std, out);
    } else {
      ex.copy(out, b.x[cur], rows * features());
    }
  }

  int64_t dd() const { return features() * features(); }
  void lu_prepare(Exec& ex, const NsfPointers<T>& p, size_t i, T* lu) {
    const LuOffsets& o = l_.lus[i];
    ex.lu_prepare(features(), p.params + o.lower, p.params + o.upper, p.params + o.diag, lu,
                  lu + dd(), lu + 2 * dd());
  }
  // LU layer i from freshly rebuilt matrices: y = x W^T + b, total += log|det|.
  void lu_forward(Exec& ex, const NsfPointers<T>& p, size_t i, T* lu, int64_t rows, const T* x,
                  T* y, T* total) {
    lu_prepare(ex, p, i, lu);
    ex.lu_forward(rows, features(), lu + dd(), p.params + l_.lus[i].bias, lu + 2 * dd(), x, y,
                  total);
  }
  // Standardised context and input in flat row order, the running log|det| set to the input
  // z-scoring's.
  void start(Exec& ex, const NsfPointers<T>& p, int64_t rows, kern::RowMap im, const T* input,
             kern::RowMap cm, const T* condition, T* ctx, T* x, T* total) {
    ex.rows_affine(rows, context(), cm, condition, p.condition_mean, p.condition_std, ctx);
    ex.rows_affine(rows, features(), im, input, p.input_mean, p.input_std, x);
    ex.fill(total, rows, p.input_logdet);
  }

  static int64_t coupling_numel(const NsfLayout& l, int64_t rows) {
    int64_t n = 0;
    for (const CouplingLayout& c : l.couplings)
      n = std::max(n, CouplingProgram<Exec>::workspace_numel(c, rows));
    return n;
  }
  static int64_t max_transformed(const NsfLayout& l) {
    int64_t n = 0;
    for (const CouplingLayout& c : l.couplings) n = std::max(n, c.n_tr);
    return n;
  }
  static int64_t carve_inference(const NsfLayout& l, int64_t rows, T* base, Inference& b) {
    exec::Carver<T> c{base};
    const int64_t D = l.shape.features;
    b.ctx = c.take(rows * l.shape.context);
    b.x[0] = c.take(rows * D);
    b.x[1] = c.take(rows * D);
    b.logdet = c.take(rows * max_transformed(l));
    b.total = c.take(rows);
    b.coupling = c.take(coupling_numel(l, rows));
    b.lu = l.lu ? c.take(2 * D * D + 1) : nullptr;
    return c.used;
  }
  static int64_t carve_training(const NsfLayout& l, int64_t rows, T* base, Training& b) {
    exec::Carver<T> c{base};
    const int64_t D = l.shape.features;
    b.ctx = c.take(rows * l.shape.context);
    for (T*& a : b.act) a = c.take(rows * D);
    for (size_t i = 0; i < l.couplings.size(); ++i)
      b.coupling[i] = c.take(CouplingProgram<Exec>::workspace_numel(l.couplings[i], rows));
    b.logdet = c.take(rows * max_transformed(l));
    b.total = c.take(rows);
    b.d[0] = c.take(rows * D);
    b.d[1] = c.take(rows * D);
    b.dparams = c.take(rows * max_transformed(l) * kern::rq_num_params(l.spline.num_bins));
    b.dlogdet = c.take(rows);
    b.dctx = c.take(rows * l.shape.context);
    b.lu = l.lu ? c.take(2 * D * D + 1) : nullptr;
    b.lu_scratch = l.lu ? c.take(Exec::lu_backward_scratch(rows, D)) : nullptr;
    return c.used;
  }

  NsfLayout l_;
  std::vector<CouplingProgram<Exec>> couplings_;
  Training train_;
};

}  // namespace cusbi::flows
