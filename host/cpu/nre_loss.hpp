// CPU twins of NRE's fused losses (kernels/api/nre_loss.h, same contracts): one pass per row
// with the math of kernels/nre_loss.h and the batch sum in the CUDA block's lane/tree order.
// Templates, instantiated for float (the library) and double (the gradient checks).
#pragma once
#include <cstdint>

namespace cusbi::cpu {

// logits (B, K) -> *loss (scalar), grad (B, K).
template <typename T>
void nre_b_loss(const T* logits, int64_t batch, int64_t atoms, T* loss, T* grad);
// logits (2B,) interleaved joint/marginal -> BCE mean + lambda * (mean balance)^2 (lambda 0 is
// NRE_A), grad (2B,).
template <typename T>
void bnre_loss(const T* logits, int64_t batch, T lambda, T* loss, T* grad);
// marginal (B, K + 1), joint (B, K) -> *loss, grad_marginal (B, K + 1), grad_joint (B, K).
template <typename T>
void nre_c_loss(const T* marginal, const T* joint, int64_t batch, int64_t classes, T gamma, T* loss,
                T* grad_marginal, T* grad_joint);

}  // namespace cusbi::cpu
