// Per-element math of the C2ST classifier's loss (sklearn MLPClassifier's binary log-loss with
// its L2 penalty), shared by the CUDA kernels (kernels/c2st.cu) and the CPU twins
// (host/cpu/c2st.cpp), templated on the scalar. Sums run in the lane-then-tree order of
// kernels/nre_loss.h on both devices, so the epoch loss does not depend on thread scheduling.
#pragma once
#include <cstdint>

#include "kernels/common.h"
#include "kernels/nre_loss.h"

namespace cusbi::kern {

// Row i of a batch: returns BCE(sigmoid(z), y) from the logit (kern::bce_with_logit, finite
// where sklearn's clipped log would be) and writes d/dz = grad_scale * (sigmoid(z) - y), the
// derivative sklearn back-propagates (its deltas[last] = p - y, divided by the batch rows).
template <typename T>
CUSBI_HD T c2st_bce_row(T z, T y, T grad_scale, T* grad) {
  *grad = grad_scale * (sigmoid(z) - y);
  return bce_with_logit(z, y);
}

// One weight of sklearn's L2 penalty 0.5 alpha ||W||^2 / rows: adds grad_coef * w (grad_coef =
// alpha / rows) to its gradient and returns w^2 for the loss sum. Biases carry no penalty.
template <typename T>
CUSBI_HD T c2st_l2_element(T w, T grad_coef, T* grad) {
  *grad += grad_coef * w;
  return w * w;
}

}  // namespace cusbi::kern
