// CPU twins of kernels/c2st.cu: lane t adds elements t, t + kLossLanes, ... in double, then the
// lanes meet in kern::nre_lane_tree's halving order, as the CUDA block does.
#include "host/cpu/c2st.hpp"

#include "kernels/c2st.h"

namespace cusbi::cpu {

template <typename T>
void c2st_bce_loss(const T* logits, const T* labels, int64_t batch, T grad_scale, double loss_scale,
                   T* grad, double* acc) {
  double partial[kern::kLossLanes];
  for (int t = 0; t < kern::kLossLanes; ++t) {
    double sum = 0.0;
    for (int64_t i = t; i < batch; i += kern::kLossLanes)
      sum += static_cast<double>(kern::c2st_bce_row(logits[i], labels[i], grad_scale, grad + i));
    partial[t] = sum;
  }
  *acc += loss_scale * kern::nre_lane_tree(partial);
}

template <typename T>
void c2st_l2_penalty(const T* weights, int64_t count, T grad_coef, double loss_scale, T* grad,
                     double* acc) {
  double partial[kern::kLossLanes];
  for (int t = 0; t < kern::kLossLanes; ++t) {
    double sum = 0.0;
    for (int64_t i = t; i < count; i += kern::kLossLanes)
      sum += static_cast<double>(kern::c2st_l2_element(weights[i], grad_coef, grad + i));
    partial[t] = sum;
  }
  *acc += loss_scale * kern::nre_lane_tree(partial);
}

template void c2st_bce_loss<float>(const float*, const float*, int64_t, float, double, float*,
                                   double*);
template void c2st_bce_loss<double>(const double*, const double*, int64_t, double, double, double*,
                                    double*);
template void c2st_l2_penalty<float>(const float*, int64_t, float, double, float*, double*);
template void c2st_l2_penalty<double>(const double*, int64_t, double, double, double*, double*);

}  // namespace cusbi::cpu
