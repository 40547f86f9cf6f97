// Linear layer y = x W^T + b as executor operations (one GEMM and one bias pass forward; a
// column sum and two GEMMs backward), shared by Linear (nn.hpp) and the ResidualNet program and
// instantiated on every executor (cpu::CpuExec<float|double>, exec::CudaExec).
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

// Scratch (elements) for linear_backward to use every thread or GPU block: the column sum and
// the weight gradient run one after the other, so they share it.
template <class Exec>
int64_t linear_backward_scratch(int64_t batch, int64_t in, int64_t out) {
  const int64_t colsum = kern::colsum_scratch(batch, out);
  const int64_t weight = Exec::weight_grad_scratch(batch, out * in);
  return colsum > weight ? colsum : weight;
}

// dW += dy^T x, db += colsum(dy); dx = dy W (or += when accumulate_dx) when dx is non-null.
// scratch: null (serial reductions) or linear_backward_scratch<Exec>(batch, in, out) elements.
template <class Exec, class T>
void linear_backward(Exec& ex, const T* weight, T* grad_weight, T* grad_bias, int64_t batch,
                     int64_t in, int64_t out, const T* x, const T* dy, T* dx, bool accumulate_dx,
                     T* scratch) {
  ex.colsum(batch, out, dy, grad_bias, scratch);
  ex.weight_grad(out, in, batch, dy, out, x, in, grad_weight, in, scratch);
  if (dx != nullptr)
    ex.gemm(false, false, batch, in, out, dy, out, weight, in, T(accumulate_dx ? 1 : 0), dx, in);
}

}  // namespace cusbi::nn
