// Per-element math of the spline coupling layers of build_nsf, written once for the CPU loops
// (host/cpu/flows.hpp, float and double) and the fused CUDA kernels (kernels/flows.cu):
// one (row, feature) at a time, transformed features through the rational-quadratic spline of
// kernels/rq_spline.h, identity features copied. Also the row gathers (sbi's broadcasting, the
// transposed noise of sampling), the base density and the loss gradient (spec: npe.md §1-2).
#pragma once
#include <cstdint>

#include "kernels/common.h"
#include "kernels/nn.h"
#include "kernels/rq_spline.h"

namespace cusbi::kern {

// Bin counts: each K in [1, kExactBins] has its own instantiation (loops of known length, the
// smallest stack arrays); larger K up to kMaxFlowBins run in the next padded bucket (24, 32, 64)
// with the bin count read at run time. rq_bins_supported holds for every K up to 64.
inline constexpr int kExactBins = 16;
inline constexpr int kMaxFlowBins = 64;

template <int MaxBins, bool Exact>
struct BinsTag {
  static constexpr int kMax = MaxBins;
  static constexpr bool kExact = Exact;
};

// Calls f(BinsTag<...>{}) for num_bins in [1, kMaxFlowBins]; returns false (calling nothing)
// for other counts, so the caller can raise a clear error.
template <class F>
bool dispatch_bins(int num_bins, F&& f) {
  switch (num_bins) {
#define CUSBI_FLOW_BINS_CASE(K) \
  case K:                       \
    f(BinsTag<K, true>{});      \
    return true;
    CUSBI_FLOW_BINS_CASE(1)
    CUSBI_FLOW_BINS_CASE(2)
    CUSBI_FLOW_BINS_CASE(3)
    CUSBI_FLOW_BINS_CASE(4)
    CUSBI_FLOW_BINS_CASE(5)
    CUSBI_FLOW_BINS_CASE(6)
    CUSBI_FLOW_BINS_CASE(7)
    CUSBI_FLOW_BINS_CASE(8)
    CUSBI_FLOW_BINS_CASE(9)
    CUSBI_FLOW_BINS_CASE(10)
    CUSBI_FLOW_BINS_CASE(11)
    CUSBI_FLOW_BINS_CASE(12)
    CUSBI_FLOW_BINS_CASE(13)
    CUSBI_FLOW_BINS_CASE(14)
    CUSBI_FLOW_BINS_CASE(15)
    CUSBI_FLOW_BINS_CASE(16)
#undef CUSBI_FLOW_BINS_CASE
    default:
      break;
  }
  if (num_bins < 1 || num_bins > kMaxFlowBins) return false;
  if (num_bins <= 24) {
    f(BinsTag<24, false>{});
  } else if (num_bins <= 32) {
    f(BinsTag<32, false>{});
  } else {
    f(BinsTag<64, false>{});
  }
  return true;
}

// One coupling layer's spline pass over rows of D features. Feature d is transformed when
// d % 2 == parity (sbi's alternating mask: layer i transforms the even features when i is even;
// D == 1 uses parity 0, mask [1]), and it is the (d / 2)-th transformed feature in either case;
// identity feature d is the (d / 2)-th identity feature too.
template <typename T>
struct CouplingArgs {
  int64_t rows = 0;
  int64_t features = 0;  // D
  int parity = 0;
  int num_bins = 0;
  T bound = T(3);             // tail bound B
  T divisor = T(1);           // sqrt(hidden_features) of the conditioner
  const T* params = nullptr;  // (rows, n_tr * (3K - 1)): the conditioner's output
  const T* x = nullptr;       // (rows, D): the layer's input (the output side for the inverse)
};

CUSBI_HD int64_t coupling_num_transformed(int64_t features, int parity) {
  return (features - parity + 1) / 2;
}
CUSBI_HD int64_t coupling_num_identity(int64_t features, int parity) {
  return features - coupling_num_transformed(features, parity);
}
CUSBI_HD bool coupling_transforms(int64_t d, int parity) { return (d & 1) == parity; }
// Column of the i-th identity feature.
CUSBI_HD int64_t coupling_identity_column(int64_t i, int parity) { return 2 * i + 1 - parity; }

// The spline of one (row, feature) without the K-1 softplus evaluations of the derivatives the
// bin does not read: only d_k and d_{k+1} are formed, each with rq_make_spline's expression, so
// values are bit for bit those of rq_spline_forward / _inverse / _backward.
template <typename T, int MaxBins>
CUSBI_HD void rq_bin_derivatives(const T* params, int num_bins, int k, RqSpline<T, MaxBins>& sp) {
  const T d_min = T(kRqMinDerivative);
  const T d_boundary = d_min + softplus(T(kRqBoundaryLogit));
  const T* u_d = params + 2 * num_bins;
  sp.d[k] = k == 0 ? d_boundary : d_min + softplus(u_d[k - 1]);
  sp.d[k + 1] = k + 1 == num_bins ? d_boundary : d_min + softplus(u_d[k]);
}

template <int MaxBins, typename T>
CUSBI_HD RqOut<T> rq_lazy_forward(const T* params, int num_bins, T bound, T divisor, T x) {
  if (!rq_inside(x, bound)) return {x, T(0)};
  RqSpline<T, MaxBins> sp;
  sp.num_bins = num_bins;
  sp.bound = bound;
  rq_knots(params, num_bins, divisor, kRqMinBinWidth, bound, sp.pw, sp.cw);
  const int k = rq_search(sp.cw, num_bins, x);
  rq_knots(params + num_bins, num_bins, divisor, kRqMinBinHeight, bound, sp.ph, sp.ch);
  rq_bin_derivatives(params, num_bins, k, sp);
  return rq_forward_in_bin(rq_bin(sp, k), x);
}

template <int MaxBins, typename T>
CUSBI_HD RqOut<T> rq_lazy_inverse(const T* params, int num_bins, T bound, T divisor, T y) {
  if (!rq_inside(y, bound)) return {y, T(0)};
  RqSpline<T, MaxBins> sp;
  sp.num_bins = num_bins;
  sp.bound = bound;
  rq_knots(params + num_bins, num_bins, divisor, kRqMinBinHeight, bound, sp.ph, sp.ch);
  const int k = rq_search(sp.ch, num_bins, y);
  rq_knots(params, num_bins, divisor, kRqMinBinWidth, bound, sp.pw, sp.cw);
  rq_bin_derivatives(params, num_bins, k, sp);
  return rq_inverse_in_bin(rq_bin(sp, k), y);
}

// Writes dparams (3K - 1) and returns dG/dx for G = dvalue * y + dlogdet * log|dy/dx|.
template <int MaxBins, typename T>
CUSBI_HD T rq_lazy_backward(const T* params, int num_bins, T bound, T divisor, T x, T dvalue,
                            T dlogdet, T* dparams) {
  if (!rq_inside(x, bound)) {
    for (int i = 0; i < rq_num_params(num_bins); ++i) dparams[i] = T(0);
    return dvalue;
  }
  RqSpline<T, MaxBins> sp;
  sp.num_bins = num_bins;
  sp.bound = bound;
  rq_knots(params, num_bins, divisor, kRqMinBinWidth, bound, sp.pw, sp.cw);
  rq_knots(params + num_bins, num_bins, divisor, kRqMinBinHeight, bound, sp.ph, sp.ch);
  rq_bin_derivatives(params, num_bins, rq_search(sp.cw, num_bins, x), sp);
  return rq_forward_backward(sp, params, divisor, x, dvalue, dlogdet, dparams);
}

// The bin count a BinsTag instantiation works with: the constant when exact.
template <int MaxBins, bool Exact, typename T>
CUSBI_HD int coupling_bins(const CouplingArgs<T>& a) {
  return Exact ? MaxBins : a.num_bins;
}

// Forward of feature d of row r: y[r, d], and for a transformed feature its log|det| into
// logdet[r, d / 2] ((rows, n_tr)).
template <int MaxBins, bool Exact, typename T>
CUSBI_HD void coupling_forward_at(const CouplingArgs<T>& a, int64_t r, int64_t d, T* y, T* logdet) {
  const int64_t D = a.features, at = r * D + d;
  if (!coupling_transforms(d, a.parity)) {
    y[at] = a.x[at];
    return;
  }
  const int K = coupling_bins<MaxBins, Exact>(a);
  const int64_t n_tr = coupling_num_transformed(D, a.parity), j = d >> 1;
  const T* p = a.params + (r * n_tr + j) * rq_num_params(K);
  const RqOut<T> o = rq_lazy_forward<MaxBins>(p, K, a.bound, a.divisor, a.x[at]);
  y[at] = o.value;
  logdet[r * n_tr + j] = o.logdet;
}

// Inverse of feature d of row r (a.x is the forward's output side); no log|det| (sampling).
template <int MaxBins, bool Exact, typename T>
CUSBI_HD void coupling_inverse_at(const CouplingArgs<T>& a, int64_t r, int64_t d, T* out) {
  const int64_t D = a.features, at = r * D + d;
  if (!coupling_transforms(d, a.parity)) {
    out[at] = a.x[at];
    return;
  }
  const int K = coupling_bins<MaxBins, Exact>(a);
  const int64_t n_tr = coupling_num_transformed(D, a.parity), j = d >> 1;
  const T* p = a.params + (r * n_tr + j) * rq_num_params(K);
  out[at] = rq_lazy_inverse<MaxBins>(p, K, a.bound, a.divisor, a.x[at]).value;
}

// Backward of feature d of row r for dy (rows, D) and dlogdet (rows,), the upstream gradient of
// the row's summed log|det|: dx[r, d] (identity features pass dy through; the conditioner's
// input gradient is added later) and, when transformed, the 3K-1 parameter gradients into
// dparams, laid out as params.
template <int MaxBins, bool Exact, typename T>
CUSBI_HD void coupling_backward_at(const CouplingArgs<T>& a, int64_t r, int64_t d, const T* dy,
                                   const T* dlogdet, T* dparams, T* dx) {
  const int64_t D = a.features, at = r * D + d;
  if (!coupling_transforms(d, a.parity)) {
    dx[at] = dy[at];
    return;
  }
  const int K = coupling_bins<MaxBins, Exact>(a);
  const int64_t n_tr = coupling_num_transformed(D, a.parity), j = d >> 1;
  const int64_t offset = (r * n_tr + j) * rq_num_params(K);
  dx[at] = rq_lazy_backward<MaxBins>(a.params + offset, K, a.bound, a.divisor, a.x[at], dy[at],
                                     dlogdet[r], dparams + offset);
}

// total[r] += sum_j logdet[r, j] over the row's n transformed features, summed in j order on
// every device (deterministic, and the same order on CPU and GPU).
template <typename T>
CUSBI_HD void add_row_logdet(int64_t r, int64_t n, const T* logdet, T* total) {
  T s = T(0);
  for (int64_t j = 0; j < n; ++j) s += logdet[r * n + j];
  total[r] += s;
}

// Source row of output row r, flat row q = first + r = s * period + b: s * outer + b * inner.
// Broadcasting a batch of 1 is inner = 0, a missing sample dimension outer = 0; sampling's
// noise, drawn as (B, n) and read as (n, B), is outer = 1, inner = n. `first` lets a pass over
// a block of rows start inside the flat order.
struct RowMap {
  int64_t period = 1;
  int64_t outer = 0;
  int64_t inner = 0;
  int64_t first = 0;
};

CUSBI_HD int64_t source_row(const RowMap& m, int64_t r) {
  const int64_t q = m.first + r;
  return (q / m.period) * m.outer + (q % m.period) * m.inner;
}

// nflows' StandardNormal: -0.5 sum z^2 - log_z with log_z = 0.5 D log(2 pi) (rounded once).
template <typename T>
CUSBI_HD T standard_normal_log_prob(const T* z, int64_t features, T log_z) {
  T s = T(0);
  for (int64_t d = 0; d < features; ++d) s += z[d] * z[d];
  return T(-0.5) * s - log_z;
}

}  // namespace cusbi::kern
