// CPU twins of kernels/c2st.cu: lane t adds elements t, t + kLossLanes, ... in double, then the
// lanes meet in kern::nre_lane_tree's halving order, as the CUDA block does. The loops walk the
// elements in memory order, kLossLanes at a time (one per lane): each lane still adds its
// elements in the same order, and the loop is contiguous, so it vectorises.
#include "host/cpu/c2st.hpp"

#include <algorithm>

#include "kernels/c2st.h"

namespace cusbi::cpu {

template <typename T>
void c2st_bce_loss(const T* logits, const T* labels, int64_t batch, T grad_scale, double loss_scale,
                   T* grad, double* acc) {
  double partial[kern::kLossLanes] = {};
  for (int64_t row = 0; row < batch; row += kern::kLossLanes) {
    const int64_t width = std::min<int64_t>(kern::kLossLanes, batch - row);
    for (int64_t t = 0; t < width; ++t) {
      const int64_t i = row + t;
      partial[t] +=
          static_cast<double>(kern::c2st_bce_row(logits[i], labels[i], grad_scale, grad + i));
    }
  }
  *acc += loss_scale * kern::nre_lane_tree(partial);
}

template <typename T>
void c2st_l2_penalty(const T* weights, int64_t count, T grad_coef, double loss_scale, T* grad,
                     double* acc) {
  double partial[kern::kLossLanes] = {};
  for (int64_t row = 0; row < count; row += kern::kLossLanes) {
    const int64_t width = std::min<int64_t>(kern::kLossLanes, count - row);
    for (int64_t t = 0; t < width; ++t) {
      const int64_t i = row + t;
      partial[t] += static_cast<double>(kern::c2st_l2_element(weights[i], grad_coef, grad + i));
    }
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
