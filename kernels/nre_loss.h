// Per-row math of NRE's contrastive losses (spec mcmc_nre.md §6.3), shared by the CUDA kernels
// (kernels/nre_loss.cu) and the CPU twins (host/cpu/nre_loss.cpp), templated on the scalar so the
// gradient checks run it in double. Each row function returns the row's loss term and writes
// its gradient already scaled by the batch mean; the batch sum is the fixed lane-then-tree order
// below on both devices, so the loss does not depend on thread scheduling.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

// Lanes of the batch sum: lane t adds rows t, t + kLossLanes, ... in order (in double), then
// the lanes are combined by the halving tree of nre_lane_tree. One CUDA block of this many
// threads runs a loss; the CPU walks the same lanes.
constexpr int kLossLanes = 256;

// partial[0] <- the sum of partial[0..kLossLanes) in the tree order of the CUDA block.
CUSBI_HD double nre_lane_tree(double* partial) {
  for (int s = kLossLanes / 2; s > 0; s >>= 1)
    for (int t = 0; t < s; ++t) partial[t] += partial[t + s];
  return partial[0];
}

// log(sum_k exp(a_k)) of the values v(0..n), max-shifted so nothing overflows.
template <typename T, typename Value>
CUSBI_HD T nre_logsumexp(int64_t n, Value v) {
  T m = v(0);
  for (int64_t k = 1; k < n; ++k) m = v(k) > m ? v(k) : m;
  if (!(m > T(-INFINITY) && m < T(INFINITY))) return m;  // all -inf, +inf or NaN: as torch
  T s = T(0);
  for (int64_t k = 0; k < n; ++k) s += exp(v(k) - m);
  return m + log(s);
}

// NRE_B, one row f (K,) with the true pair at column 0: returns -(f_0 - logsumexp_k f_k) and
// writes grad_k = scale * (softmax_k - [k == 0]).
template <typename T>
CUSBI_HD T nre_b_row(const T* f, int64_t atoms, T scale, T* grad) {
  const T lse = nre_logsumexp<T>(atoms, [f](int64_t k) { return f[k]; });
  for (int64_t k = 0; k < atoms; ++k) grad[k] = scale * (exp(f[k] - lse) - (k == 0 ? T(1) : T(0)));
  return lse - f[0];
}

// Binary cross-entropy of sigmoid(z) against label y in {0, 1}, from the logit:
// max(z, 0) - z y + log1p(exp(-|z|)), which neither overflows nor rounds log(1 - sigmoid(z)) to
// -inf where sigmoid(z) rounds to 1. Its derivative is sigmoid(z) - y.
template <typename T>
CUSBI_HD T bce_with_logit(T z, T y) {
  return (z > T(0) ? z : T(0)) - z * y + log1p(exp(-fabs(z)));
}

// NRE_A / BNRE pair i: z_joint = logits[2i] (label 1), z_marginal = logits[2i + 1] (label 0).
// Adds the pair's BCE to *bce and sigmoid(z_j) + sigmoid(z_m) - 1 (BNRE's balance) to *balance.
template <typename T>
CUSBI_HD void nre_a_pair(const T* z, double* bce, double* balance) {
  *bce += static_cast<double>(bce_with_logit(z[0], T(1))) +
          static_cast<double>(bce_with_logit(z[1], T(0)));
  *balance += static_cast<double>(sigmoid(z[0]) + sigmoid(z[1]) - T(1));
}

// Gradient of BCE mean + lambda * r^2 for pair i, where r is the batch mean of the balance:
// d/dz = (sigmoid(z) - y) / (2B) + lambda * 2 r / B * sigmoid(z) (1 - sigmoid(z)).
// bce_scale = 1 / (2B), balance_scale = 2 lambda r / B.
template <typename T>
CUSBI_HD void nre_a_pair_grad(const T* z, T bce_scale, T balance_scale, T* grad) {
  const T sj = sigmoid(z[0]), sm = sigmoid(z[1]);
  grad[0] = bce_scale * (sj - T(1)) + balance_scale * sj * (T(1) - sj);
  grad[1] = bce_scale * sm + balance_scale * sm * (T(1) - sm);
}

// NRE_C's constants: log K, log gamma and the class weights p_marginal = 1 / (1 + gamma),
// p_joint = gamma / (1 + gamma) (sbi's _get_prior_probs_marginal_and_joint).
template <typename T>
struct NreCConsts {
  T log_k, log_gamma, p_marginal, p_joint;
};

// Computed in double and rounded once, the same on both devices.
template <typename T>
CUSBI_HD NreCConsts<T> nre_c_consts(int64_t classes, double gamma) {
  return {static_cast<T>(log(static_cast<double>(classes))), static_cast<T>(log(gamma)),
          static_cast<T>(1.0 / (1.0 + gamma)), static_cast<T>(gamma / (1.0 + gamma))};
}

// NRE_C, one row: g (K + 1,) from the K+1-atom draw (column 0, the joint pair, is dropped) and
// h (K,) from the K-atom draw (column 0 joint). Returns -(p_m l_m + p_j l_j) with
//   l_m = log K - logsumexp([log g + g_1, ..., log g + g_K, log K])
//   l_j = log g + h_0 - logsumexp([log g + h_0, ..., log g + h_{K-1}, log K])
// (log g = log gamma) and writes the gradients times `scale` (grad_g[0] = 0).
template <typename T>
CUSBI_HD T nre_c_row(const T* g, const T* h, int64_t classes, NreCConsts<T> c, T scale, T* grad_g,
                     T* grad_h) {
  const T lse_m = nre_logsumexp<T>(classes + 1, [g, classes, c](int64_t k) {
    return k < classes ? c.log_gamma + g[k + 1] : c.log_k;
  });
  const T lse_j = nre_logsumexp<T>(classes + 1, [h, classes, c](int64_t k) {
    return k < classes ? c.log_gamma + h[k] : c.log_k;
  });
  grad_g[0] = T(0);
  for (int64_t k = 0; k < classes; ++k) {
    grad_g[k + 1] = scale * c.p_marginal * exp(c.log_gamma + g[k + 1] - lse_m);
    grad_h[k] = scale * c.p_joint * (exp(c.log_gamma + h[k] - lse_j) - (k == 0 ? T(1) : T(0)));
  }
  const T l_m = c.log_k - lse_m, l_j = c.log_gamma + h[0] - lse_j;
  return -(c.p_marginal * l_m + c.p_joint * l_j);
}

}  // namespace cusbi::kern
