// CUDA executors of the programs: CudaExec (the network programs, the same interface as
// cpu::CpuExec<float> in host/cpu/nn.hpp) and FlowCudaExec (the flow program, as
// cpu::FlowCpuExec<float> in host/cpu/flows.hpp), forwarding to the entry points of
// kernels/api/{nn,flows,lu}.h. CUDA-free, so host code compiles it with g++; in a CPU-only build
// the entry points are stubs that throw.
#pragma once
#include <cstdint>

#include "kernels/cuda_api.h"
#include "kernels/flows.h"
#include "kernels/lu.h"
#include "kernels/nn.h"

namespace cusbi::exec {

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
  void standardize(kern::StandardizeMode mode, int64_t rows, int64_t cols, const float* in,
                   const float* mean, const float* std, float* out) {
    if (rows > 0) cuda::nn_standardize(mode, rows, cols, in, mean, std, out);
  }
  void relu_backward(int64_t n, const float* x, const float* dy, float* dx) {
    cuda::nn_relu_backward(n, x, dy, dx);
  }
};

struct FlowCudaExec : CudaExec {
  // Blocks large enough to fill the GPU; they bound the inference workspace (~1 GB for the
  // default flow) at any batch size.
  static constexpr int64_t kInferenceBlockRows = int64_t(1) << 18;
  void rows_affine(int64_t rows, int64_t cols, kern::RowMap map, const float* src,
                   const float* mean, const float* std, float* dst) {
    cuda::flows_rows_affine(rows, cols, map, src, mean, std, dst);
  }
  void gather_identity(int64_t rows, int64_t features, int parity, const float* x, float* a) {
    cuda::flows_gather_identity(rows, features, parity, x, a);
  }
  void scatter_add_identity(int64_t rows, int64_t features, int parity, const float* da,
                            float* dx) {
    cuda::flows_scatter_add_identity(rows, features, parity, da, dx);
  }
  void coupling_forward(const kern::CouplingArgs<float>& a, float* y, float* logdet, float* total) {
    cuda::flows_coupling_forward(a, y, logdet, total);
  }
  void coupling_inverse(const kern::CouplingArgs<float>& a, float* out) {
    cuda::flows_coupling_inverse(a, out);
  }
  void coupling_backward(const kern::CouplingArgs<float>& a, const float* dy, const float* dlogdet,
                         float* dparams, float* dx) {
    cuda::flows_coupling_backward(a, dy, dlogdet, dparams, dx);
  }
  void base_log_prob(int64_t rows, int64_t features, const float* z, const float* total,
                     float log_z, float sign, float* out) {
    cuda::flows_base_log_prob(rows, features, z, total, log_z, sign, out);
  }
  void loss_grad(int64_t rows, int64_t features, const float* z, const float* grad, float* dz,
                 float* dlogdet) {
    cuda::flows_loss_grad(rows, features, z, grad, dz, dlogdet);
  }
  void lu_prepare(int64_t d, const float* lower, const float* upper, const float* diag, float* lu,
                  float* w, float* logabsdet) {
    cuda::lu_prepare(d, lower, upper, diag, lu, w, logabsdet);
  }
  void lu_forward(int64_t rows, int64_t d, const float* w, const float* bias,
                  const float* logabsdet, const float* x, float* y, float* logdet) {
    if (rows > 0) cuda::lu_forward(rows, d, w, bias, logabsdet, x, y, logdet);
  }
  void lu_inverse(int64_t rows, int64_t d, const float* lu, const float* bias,
                  const float* logabsdet, const float* y, float* x, float* logdet) {
    if (rows > 0) cuda::lu_inverse(rows, d, lu, bias, logabsdet, y, x, logdet);
  }
  void lu_backward(int64_t rows, int64_t d, const float* lu, const float* w, const float* diag,
                   const float* x, const float* dy, const float* dlogdet, float* g_lower,
                   float* g_upper, float* g_diag, float* g_bias, float* dx, float* scratch) {
    if (rows > 0)
      cuda::lu_backward(rows, d, lu, w, diag, x, dy, dlogdet, g_lower, g_upper, g_diag, g_bias, dx,
                        scratch);
  }
  static int64_t lu_backward_scratch(int64_t rows, int64_t d) {
    return kern::lu_cuda_backward_scratch(rows, d);
  }
  void fill(float* p, int64_t n, float value) {
    if (n > 0) cuda::fill(p, n, value);
  }
  void copy(float* dst, const float* src, int64_t n) {
    if (n > 0) cuda::copy(dst, src, sizeof(float) * n, cuda::CopyKind::DeviceToDevice);
  }
};

}  // namespace cusbi::exec
