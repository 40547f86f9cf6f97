// CPU twins of kernels/nre_loss.cu: each "lane" t of the CUDA block is walked in turn (rows t,
// t + kLossLanes, ...), then the lanes are combined by the same halving tree, so the CPU adds
// the rows in the GPU's order and the two agree up to the rounding of exp/log.
#include "host/cpu/nre_loss.hpp"

#include <cmath>

#include "kernels/nre_loss.h"

namespace cusbi::cpu {

template <typename T>
void nre_b_loss(const T* logits, int64_t batch, int64_t atoms, T* loss, T* grad) {
  double partial[kern::kLossLanes];
  const T scale = T(1) / static_cast<T>(batch);
  for (int t = 0; t < kern::kLossLanes; ++t) {
    double acc = 0.0;
    for (int64_t i = t; i < batch; i += kern::kLossLanes)
      acc +=
          static_cast<double>(kern::nre_b_row(logits + i * atoms, atoms, scale, grad + i * atoms));
    partial[t] = acc;
  }
  *loss = static_cast<T>(kern::nre_lane_tree(partial) / static_cast<double>(batch));
}

template <typename T>
void bnre_loss(const T* logits, int64_t batch, T lambda, T* loss, T* grad) {
  double bce[kern::kLossLanes], balance[kern::kLossLanes];
  for (int t = 0; t < kern::kLossLanes; ++t) {
    bce[t] = 0.0;
    balance[t] = 0.0;
    for (int64_t i = t; i < batch; i += kern::kLossLanes)
      kern::nre_a_pair(logits + 2 * i, &bce[t], &balance[t]);
  }
  const double b = static_cast<double>(batch);
  const double r = kern::nre_lane_tree(balance) / b;
  *loss =
      static_cast<T>(kern::nre_lane_tree(bce) / (2.0 * b) + static_cast<double>(lambda) * r * r);
  const T bce_scale = static_cast<T>(0.5 / b), balance_scale = static_cast<T>(2.0 * lambda * r / b);
  for (int64_t i = 0; i < batch; ++i)
    kern::nre_a_pair_grad(logits + 2 * i, bce_scale, balance_scale, grad + 2 * i);
}

template <typename T>
void nre_c_loss(const T* marginal, const T* joint, int64_t batch, int64_t classes, T gamma, T* loss,
                T* grad_marginal, T* grad_joint) {
  const auto c = kern::nre_c_consts<T>(classes, static_cast<double>(gamma));
  const T scale = T(1) / static_cast<T>(batch);
  double partial[kern::kLossLanes];
  for (int t = 0; t < kern::kLossLanes; ++t) {
    double acc = 0.0;
    for (int64_t i = t; i < batch; i += kern::kLossLanes)
      acc += static_cast<double>(
          kern::nre_c_row(marginal + i * (classes + 1), joint + i * classes, classes, c, scale,
                          grad_marginal + i * (classes + 1), grad_joint + i * classes));
    partial[t] = acc;
  }
  *loss = static_cast<T>(kern::nre_lane_tree(partial) / static_cast<double>(batch));
}

template void nre_b_loss<float>(const float*, int64_t, int64_t, float*, float*);
template void nre_b_loss<double>(const double*, int64_t, int64_t, double*, double*);
template void bnre_loss<float>(const float*, int64_t, float, float*, float*);
template void bnre_loss<double>(const double*, int64_t, double, double*, double*);
template void nre_c_loss<float>(const float*, const float*, int64_t, int64_t, float, float*, float*,
                                float*);
template void nre_c_loss<double>(const double*, const double*, int64_t, int64_t, double, double*,
                                 double*, double*);

}  // namespace cusbi::cpu
