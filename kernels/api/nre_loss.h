// CUDA entry points of NRE's fused contrastive losses (spec mcmc_nre.md §6.3): one pass returns
// the batch-mean loss and d loss / d logits. Device pointers; *loss is a device float. One block
// adds the rows in a fixed order (kernels/nre_loss.h): deterministic, no atomics. CPU twins of
// the same contracts in host/cpu/nre_loss.hpp.
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// NRE_B: logits (B, K), true class at column 0 -> loss, grad (B, K).
void nre_b_loss(const float* logits, int64_t batch, int64_t atoms, float* loss, float* grad);
// NRE_A (lambda 0) and BNRE: logits (2B,) [joint_0, marginal_0, ...] -> loss, grad (2B,).
void bnre_loss(const float* logits, int64_t batch, float lambda, float* loss, float* grad);
// NRE_C: marginal (B, K + 1), joint (B, K) -> loss, grad_marginal, grad_joint.
void nre_c_loss(const float* marginal, const float* joint, int64_t batch, int64_t classes,
                float gamma, float* loss, float* grad_marginal, float* grad_joint);

}  // namespace cusbi::cuda
