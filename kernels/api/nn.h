// CUDA entry points of the network building blocks (nn.hpp). Device pointers, row-major
// matrices, float. Each mirrors the CPU function of the same name in host/cpu/nn.hpp; the
// per-element math is shared through kernels/nn.h. Column sums take an optional scratch of
// kern::colsum_scratch(rows, cols) floats: with it they use all chunks in parallel, without it
// one block column reduces every row (slower for large batches, but still deterministic).
#pragma once
#include <cstdint>

#include "kernels/nn.h"

namespace cusbi::cuda {

// C (m, n) = op(A) op(B) + beta C (cuBLAS, row-major through swapped operands); beta 0 or 1.
void nn_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
             int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void nn_bias_act(kern::BiasAct mode, int64_t rows, int64_t cols, float* y, const float* bias,
                 float* r);
void nn_gate_forward(int64_t rows, int64_t cols, float* h, const float* z, const float* bz,
                     float* g, const float* bg, float* r);
void nn_gate_backward(int64_t rows, int64_t cols, float* dh, const float* dr, const float* r,
                      const float* z, const float* bz, const float* s, float* dt, float* dg,
                      float* db_z, float* db_g, float* scratch);
void nn_relu_backward_colsum(int64_t rows, int64_t cols, float* du, const float* u, float* db,
                             float* scratch);
void nn_colsum(int64_t rows, int64_t cols, const float* dy, float* db, float* scratch);
void nn_relu(int64_t n, const float* x, float* y);
void nn_relu_backward(int64_t n, const float* x, const float* dy, float* dx);
void nn_standardize(kern::StandardizeMode mode, int64_t rows, int64_t cols, const float* in,
                    const float* mean, const float* std, float* out);

}  // namespace cusbi::cuda
