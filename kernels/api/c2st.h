// CUDA entry points of the C2ST classifier's loss (host/metrics/): device pointers; *acc is a
// device double that each call adds its term to (the epoch's loss, read once per epoch). One block
// adds the terms in a fixed order (kernels/c2st.h): deterministic, no atomics. CPU twins of the
// same contracts in host/cpu/c2st.hpp.
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// logits, labels (B,) -> grad (B,) = grad_scale (sigmoid(z) - y); *acc += loss_scale sum BCE.
void c2st_bce_loss(const float* logits, const float* labels, int64_t batch, float grad_scale,
                   double loss_scale, float* grad, double* acc);
// weights (count,): grad += grad_coef * w; *acc += loss_scale * sum w^2.
void c2st_l2_penalty(const float* weights, int64_t count, float grad_coef, double loss_scale,
                     float* grad, double* acc);

}  // namespace cusbi::cuda
