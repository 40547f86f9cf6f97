// nflows' PiecewiseRationalQuadraticCouplingTransform as sbi's build_nsf configures it (linear
// tails, alternating masks, ResidualNet conditioner; sbi's ContextSplineMap when D == 1), as an
// executor program over flat buffers: gather the identity features, run the conditioner on them
// and the context, then one fused spline pass per (row, feature) that writes the outputs in
// place of the inputs' columns and sums each row's log|det| in a fixed order.
#pragma once
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "cusbi/nn.hpp"
#include "host/exec/workspace.hpp"
#include "host/flows/spline_map.hpp"
#include "host/nn/residual_program.hpp"
#include "kernels/flows.h"

namespace cusbi::flows {

struct CouplingLayout {
  int index = 0;   // position in sbi's CompositeTransform list (its state_dict prefix)
  int parity = 0;  // transformed features: d % 2 == parity
  int64_t features = 0, n_id = 0, n_tr = 0;
  bool context_map = false;  // D == 1: ContextSplineMap, no identity features
  nn::ResidualNetLayout net;
  SplineMapLayout map;
};

// The spline settings shared by every coupling of a flow.
struct SplineSpec {
  int num_bins = 10;
  double bound = 3.0;
  double divisor = 1.0;  // sqrt(hidden_features): nflows divides widths and heights by it
};

struct NsfShape {
  int64_t features = 0, context = 0, hidden = 0, num_blocks = 0, hidden_layers_spline_context = 0;
};

// Registers coupling `layer` (0-based among the couplings) at CompositeTransform index `index`
// under "net._transform._transforms.{index}.transform_net.", with nflows' initialisation.
CouplingLayout register_coupling(ParameterSet& params, const NsfShape& shape, int layer, int index,
                                 const SplineSpec& spline);

template <class Exec>
class CouplingProgram {
 public:
  using T = typename Exec::Scalar;

  explicit CouplingProgram(const CouplingLayout& layout) : l_(layout) {
    if (l_.context_map) {
      map_.emplace(l_.map);
    } else {
      net_.emplace(l_.net);
    }
  }
  const CouplingLayout& layout() const { return l_; }

  static int64_t workspace_numel(const CouplingLayout& l, int64_t rows) {
    return exec::align_up(rows * l.n_id) +
           (l.context_map ? SplineMapProgram<Exec>::workspace_numel(l.map, rows)
                              : nn::ResidualNetProgram<Exec>::workspace_numel(l.net, rows));
  }
  // Points the gathered identity features and the conditioner at `workspace` (at least
  // workspace_numel(rows) elements). Allocates nothing.
  void bind(const T* params, T* grads, T* workspace, int64_t rows) {
    rows_ = rows;
    exec::Carver<T> c{workspace};
    a_ = c.take(rows * l_.n_id);
    T* rest = workspace + c.used;
    if (map_) {
      map_->bind(params, grads, rest, rows);
    } else {
      net_->bind(params, grads, rest, rows);
    }
  }

  // x (rows, D) -> y (rows, D), total (rows,) += log|det|; logdet: (rows, n_tr) scratch.
  void forward(Exec& ex, const SplineSpec& s, const T* x, const T* ctx, T* y, T* logdet, T* total) {
    ex.coupling_forward(args(s, conditioner(ex, x, ctx), x), y, logdet, total);
  }
  // y (rows, D) -> x (rows, D): the identity features are unchanged by the forward, so one
  // conditioner pass on them gives the spline that produced y.
  void inverse(Exec& ex, const SplineSpec& s, const T* y, const T* ctx, T* x) {
    ex.coupling_inverse(args(s, conditioner(ex, y, ctx), y), x);
  }
  // After forward(x) with the same binding: dy (rows, D), dlogdet (rows,) -> dx (rows, D) and
  // parameter gradients (accumulated). dparams: (rows, n_tr (3K-1)) scratch. When dctx is
  // non-null the gradient w.r.t. the (standardised) context ctx (rows, C) is written there, or
  // added to it when accumulate_dctx: the couplings of a flow share one context.
  void backward(Exec& ex, const SplineSpec& s, const T* x, const T* ctx, const T* dy,
                const T* dlogdet, T* dparams, T* dx, T* dctx = nullptr,
                bool accumulate_dctx = false) {
    ex.coupling_backward(args(s, params_out(), x), dy, dlogdet, dparams, dx);
    if (map_) {
      map_->backward(ex, ctx, dparams, dctx, accumulate_dctx);
    } else {
      net_->backward(ex, a_, ctx, dparams, /*context_grad=*/dctx != nullptr, dctx,
                     accumulate_dctx);
      ex.scatter_add_identity(rows_, l_.features, l_.parity, net_->buf.dx, dx);
    }
  }

 private:
  const T* params_out() const { return map_ ? map_->out : net_->buf.out; }
  const T* conditioner(Exec& ex, const T* x, const T* ctx) {
    if (map_) {
      map_->forward(ex, ctx);
    } else {
      ex.gather_identity(rows_, l_.features, l_.parity, x, a_);
      net_->forward(ex, a_, ctx);
    }
    return params_out();
  }
  kern::CouplingArgs<T> args(const SplineSpec& s, const T* params, const T* x) const {
    kern::CouplingArgs<T> a;
    a.rows = rows_;
    a.features = l_.features;
    a.parity = l_.parity;
    a.num_bins = s.num_bins;
    a.bound = T(s.bound);
    a.divisor = T(s.divisor);
    a.params = params;
    a.x = x;
    return a;
  }

  CouplingLayout l_;
  std::optional<nn::ResidualNetProgram<Exec>> net_;
  std::optional<SplineMapProgram<Exec>> map_;
  T* a_ = nullptr;  // (rows, n_id) gathered identity features
  int64_t rows_ = 0;
};

}  // namespace cusbi::flows
