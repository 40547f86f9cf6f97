// CPU twins of the C2ST classifier's loss kernels (kernels/api/c2st.h, same contracts): the math
// of kernels/c2st.h with the sums in the CUDA block's lane/tree order. Templates, instantiated
// for float (the library) and double (tests).
#pragma once
#include <cstdint>

namespace cusbi::cpu {

template <typename T>
void c2st_bce_loss(const T* logits, const T* labels, int64_t batch, T grad_scale, double loss_scale,
                   T* grad, double* acc);
template <typename T>
void c2st_l2_penalty(const T* weights, int64_t count, T grad_coef, double loss_scale, T* grad,
                     double* acc);

}  // namespace cusbi::cpu
