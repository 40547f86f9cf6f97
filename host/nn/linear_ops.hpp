// Linear layer y = x W^T + b as executor operations (one GEMM and one bias pass forward; a
// column sum and two GEMMs backward), shared by Linear (nn.hpp) and the ResidualNet program and
// instantiated on every executor (cpu::CpuExec<float|double>, nn::CudaExec).
#pragma once
#include <cstdint>

#include "kernels/nn.h"

namespace cusbi::nn {

// x (batch, in), W (out, in), b (out,) -> y (batch, out).
template <class Exec, class T>
void linear_forward(Exec& ex, const T* weight, const T* bias, int64_t batch, int64_t in,
                    int64_t out, const T* x, T* y) {
  ex.gemm(false, true, batch, out, in, x, in, weight, in, T(0), y, out);
  ex.bias_act(kern::BiasAct::kBias, batch, out, y, bias, static_cast<T*>(nullptr));
}

// dW += dy^T x, db += colsum(dy); dx = dy W (or += when accumulate_dx) when dx is non-null.
// scratch: null or kern::colsum_scratch(batch, out) elements.
template <class Exec, class T>
void linear_backward(Exec& ex, const T* weight, T* grad_weight, T* grad_bias, int64_t batch,
                     int64_t in, int64_t out, const T* x, const T* dy, T* dx, bool accumulate_dx,
                     T* scratch) {
  ex.colsum(batch, out, dy, grad_bias, scratch);
  ex.gemm(true, false, out, in, batch, dy, out, x, in, T(1), grad_weight, in);
  if (dx != nullptr)
    ex.gemm(false, false, batch, in, out, dy, out, weight, in, T(accumulate_dx ? 1 : 0), dx, in);
}

}  // namespace cusbi::nn
