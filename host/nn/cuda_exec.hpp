// CUDA executor of the network programs: the same interface as cpu::CpuExec<float>
// (host/cpu/nn_exec.hpp), forwarding to the entry points of kernels/api/nn.h. CUDA-free, so
// host code compiles it with g++; in a CPU-only build the entry points are stubs that throw.
#pragma once
#include <cstdint>

#include "kernels/cuda_api.h"

namespace cusbi::nn {

struct CudaExec {
  using Scalar = float;
  void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
            const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    cuda::nn_gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
  }
  // dw (out, in) += dy^T x: one cuBLAS GEMM, deterministic for a given GPU and shape, so it
  // needs no scratch.
  void weight_grad(int64_t out, int64_t in, int64_t batch, const float* dy, int64_t ldy,
                   const float* x, int64_t ldx, float* dw, int64_t lddw, float*) {
    cuda::nn_gemm(true, false, out, in, batch, dy, ldy, x, ldx, 1.0f, dw, lddw);
  }
  static int64_t weight_grad_scratch(int64_t, int64_t) { return 0; }
  void bias_act(kern::BiasAct mode, int64_t rows, int64_t cols, float* y, const float* bias,
                float* r) {
    cuda::nn_bias_act(mode, rows, cols, y, bias, r);
  }
  void gate_forward(int64_t rows, int64_t cols, float* h, const float* z, const float* bz, float* g,
                    const float* bg, float* r) {
    cuda::nn_gate_forward(rows, cols, h, z, bz, g, bg, r);
  }
  void gate_backward(int64_t rows, int64_t cols, float* dh, const float* dr, const float* r,
                     const float* z, const float* bz, const float* s, float* dt, float* dg,
                     float* db_z, float* db_g, float* scratch) {
    cuda::nn_gate_backward(rows, cols, dh, dr, r, z, bz, s, dt, dg, db_z, db_g, scratch);
  }
  void relu_backward_colsum(int64_t rows, int64_t cols, float* du, const float* u, float* db,
                            float* scratch) {
    cuda::nn_relu_backward_colsum(rows, cols, du, u, db, scratch);
  }
  void colsum(int64_t rows, int64_t cols, const float* dy, float* db, float* scratch) {
    cuda::nn_colsum(rows, cols, dy, db, scratch);
  }
  void relu(int64_t n, const float* x, float* y) { cuda::nn_relu(n, x, y); }
  void relu_backward(int64_t n, const float* x, const float* dy, float* dx) {
    cuda::nn_relu_backward(n, x, dy, dx);
  }
};

}  // namespace cusbi::nn
