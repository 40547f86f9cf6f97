// CUDA side of the network building blocks: cuBLAS GEMMs on row-major matrices, the fused
// bias/ReLU/gating passes, backward passes fused with deterministic column sums (bias
// gradients), ReLU and Standardize. The per-element math is kernels/nn.h, shared with the CPU
// loops of host/cpu/nn.hpp.
#include <climits>

#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/nn.h"

namespace cusbi::cuda {

// Elementwise and column-sum kernels: a block covers 32 consecutive columns (one coalesced
// 128-byte row segment) by 8 rows; the grid tiles the columns and strides over the rows.
constexpr int kTileCols = 32;
constexpr int kTileRows = 8;
constexpr int64_t kMaxGridY = 65535;

inline dim3 tile_block() { return dim3(kTileCols, kTileRows); }

inline dim3 tile_grid(int64_t rows, int64_t cols) {
  const int64_t gx = (cols + kTileCols - 1) / kTileCols;
  int64_t gy = (rows + kTileRows - 1) / kTileRows;
  if (gy > kMaxGridY) gy = kMaxGridY;
  if (gy < 1) gy = 1;
  return dim3(static_cast<unsigned>(gx), static_cast<unsigned>(gy));
}

void nn_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a,
             int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  CUSBI_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
                  ldc <= INT_MAX,
              "GEMM of (" << m << " x " << k << ") by (" << k << " x " << n
                          << ") exceeds cuBLAS's 32-bit sizes; split the batch");
  if (k == 0) {
    if (beta == 0.0f)
      CUSBI_CUDA_CHECK(
          cudaMemset2DAsync(c, ldc * sizeof(float), 0, n * sizeof(float), m, stream()));
    return;
  }
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, and a row-major matrix is
  // its transpose in column-major with the same leading dimension: swap the operands.
  const float alpha = 1.0f;
  CUSBI_CUBLAS_LAUNCH(cublasSgemm(cublas_handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n), int(m), int(k),
                                  &alpha, b, int(ldb), a, int(lda), &beta, c, int(ldc)));
}

__global__ void bias_act_kernel(kern::BiasAct mode, int64_t rows, int64_t cols, float* y,
                                const float* bias, float* r) {
  const int64_t j = blockIdx.x * int64_t(kTileCols) + threadIdx.x;
  if (j >= cols) return;
  const float b = bias[j];
  for (int64_t i = blockIdx.y * int64_t(kTileRows) + threadIdx.y; i < rows;
       i += int64_t(gridDim.y) * kTileRows) {
    const int64_t k = i * cols + j;
    const float v = y[k] + b;
    if (mode == kern::BiasAct::kBiasRelu) {
      y[k] = kern::relu(v);
    } else {
      y[k] = v;
      if (mode == kern::BiasAct::kBiasAndRelu) r[k] = kern::relu(v);
    }
  }
}

void nn_bias_act(kern::BiasAct mode, int64_t rows, int64_t cols, float* y, const float* bias,
                 float* r) {
  if (rows == 0 || cols == 0) return;
  bias_act_kernel<<<tile_grid(rows, cols), tile_block(), 0, stream()>>>(mode, rows, cols, y, bias,
                                                                        r);
  CUSBI_CUDA_CHECK_LAUNCH();
}

__global__ void gate_forward_kernel(int64_t rows, int64_t cols, float* h, const float* z,
                                    const float* bz, float* g, const float* bg, float* r) {
  const int64_t j = blockIdx.x * int64_t(kTileCols) + threadIdx.x;
  if (j >= cols) return;
  const float bzj = bz[j], bgj = g ? bg[j] : 0.0f;
  for (int64_t i = blockIdx.y * int64_t(kTileRows) + threadIdx.y; i < rows;
       i += int64_t(gridDim.y) * kTileRows) {
    const int64_t k = i * cols + j;
    float hv = h[k];
    if (g) {
      float s;
      hv += kern::gated_branch(z[k], bzj, g[k], bgj, &s);
      g[k] = s;
    } else {
      hv += z[k] + bzj;
    }
    h[k] = hv;
    if (r) r[k] = kern::relu(hv);
  }
}

void nn_gate_forward(int64_t rows, int64_t cols, float* h, const float* z, const float* bz,
                     float* g, const float* bg, float* r) {
  if (rows == 0 || cols == 0) return;
  gate_forward_kernel<<<tile_grid(rows, cols), tile_block(), 0, stream()>>>(rows, cols, h, z, bz, g,
                                                                            bg, r);
  CUSBI_CUDA_CHECK_LAUNCH();
}

// ---- backward passes fused with column sums --------------------------------------------------
// A block sums its 32 columns over one chunk of rows (kern::colsum_chunk_rows), each of its 8 row
// lanes in row order, then the lanes in lane order through shared memory. With one chunk the
// block adds straight into the bias gradient; otherwise it writes a partial and
// combine_partials_kernel adds the partials as a fixed tree. No atomics: the same bits every run.

struct GateBackwardOp {  // see cpu::gate_backward
  float* dh;
  const float *dr, *r, *z, *bz, *s;
  float *dt, *dg;
  __device__ void operator()(int64_t k, int64_t j, float& acc0, float& acc1) const {
    float d = dh[k];
    if (dr) {
      d += kern::relu_grad(dr[k], r[k]);
      dh[k] = d;
    }
    if (s) {
      float t, g;
      kern::gated_branch_grad(d, z[k], bz[j], s[k], &t, &g);
      dt[k] = t;
      dg[k] = g;
      acc0 += t;
      acc1 += g;
    } else {
      acc0 += d;
    }
  }
};

struct ReluBackwardOp {
  float* du;
  const float* u;
  __device__ void operator()(int64_t k, int64_t, float& acc0, float&) const {
    const float v = kern::relu_grad(du[k], u[k]);
    du[k] = v;
    acc0 += v;
  }
};

struct ColsumOp {
  const float* dy;
  __device__ void operator()(int64_t k, int64_t, float& acc0, float&) const { acc0 += dy[k]; }
};

// kLanes row lanes per column: 8 for 64-row chunks, 32 when one block column takes every row.
// __launch_bounds__ makes the compiler fit the block: at 32 lanes (1024 threads) a thread may
// use at most 64 registers, and without the bound a kernel that grew past that would fail only
// at launch, on a GPU.
template <int kLanes, class Op>
__global__ void __launch_bounds__(kTileCols* kLanes)
    colsum_kernel(Op op, int64_t rows, int64_t cols, int64_t chunk_rows, float* out0, float* out1,
                  bool accumulate) {
  __shared__ float lanes0[kLanes][kTileCols], lanes1[kLanes][kTileCols];
  const int64_t j = blockIdx.x * int64_t(kTileCols) + threadIdx.x;
  const int64_t begin = blockIdx.y * chunk_rows;
  const int64_t end = begin + chunk_rows < rows ? begin + chunk_rows : rows;
  float acc0 = 0.0f, acc1 = 0.0f;
  if (j < cols)
    for (int64_t i = begin + threadIdx.y; i < end; i += kLanes) op(i * cols + j, j, acc0, acc1);
  lanes0[threadIdx.y][threadIdx.x] = acc0;
  lanes1[threadIdx.y][threadIdx.x] = acc1;
  __syncthreads();
  if (threadIdx.y != 0 || j >= cols) return;
  float sum0 = 0.0f, sum1 = 0.0f;
  for (int y = 0; y < kLanes; ++y) {
    sum0 += lanes0[y][threadIdx.x];
    sum1 += lanes1[y][threadIdx.x];
  }
  const int64_t at = accumulate ? j : blockIdx.y * cols + j;
  if (out0) out0[at] = accumulate ? out0[at] + sum0 : sum0;
  if (out1) out1[at] = accumulate ? out1[at] + sum1 : sum1;
}

// Adds the chunk partials of each column into out0/out1 as a fixed tree: row lane y of the
// block first sums partials y, y + 32, y + 64, ... in that order (at most ceil(chunks / 32)
// terms), then the 32 lane sums are added pairwise (lane y += lane y + 16, + 8, + 4, + 2, + 1).
// The order is fixed by the indices, never by scheduling: the same bits every run. It replaces
// one thread adding every partial of its column in turn, which was serial in the chunk count.
constexpr int kCombineLanes = 32;

__global__ void __launch_bounds__(kTileCols* kCombineLanes)
    combine_partials_kernel(int64_t chunks, int64_t cols, const float* part0, const float* part1,
                            float* out0, float* out1) {
  __shared__ float lanes0[kCombineLanes][kTileCols], lanes1[kCombineLanes][kTileCols];
  const int64_t j = blockIdx.x * int64_t(kTileCols) + threadIdx.x;
  const int y = threadIdx.y;
  float acc0 = 0.0f, acc1 = 0.0f;
  if (j < cols)
    for (int64_t c = y; c < chunks; c += kCombineLanes) {
      if (out0) acc0 += part0[c * cols + j];
      if (out1) acc1 += part1[c * cols + j];
    }
  lanes0[y][threadIdx.x] = acc0;
  lanes1[y][threadIdx.x] = acc1;
  for (int stride = kCombineLanes / 2; stride > 0; stride /= 2) {
    __syncthreads();
    if (y < stride) {
      lanes0[y][threadIdx.x] += lanes0[y + stride][threadIdx.x];
      lanes1[y][threadIdx.x] += lanes1[y + stride][threadIdx.x];
    }
  }
  if (y != 0 || j >= cols) return;
  if (out0) out0[j] += lanes0[0][threadIdx.x];
  if (out1) out1[j] += lanes1[0][threadIdx.x];
}

// Runs op over (rows, cols) adding its column sums into out0/out1 (either may be null).
template <class Op>
void launch_colsum(const Op& op, int64_t rows, int64_t cols, float* out0, float* out1,
                   float* scratch) {
  if (rows == 0 || cols == 0) return;
  const int64_t chunks = scratch ? kern::colsum_chunks(rows) : 1;
  const unsigned gx = static_cast<unsigned>((cols + kTileCols - 1) / kTileCols);
  if (chunks == 1) {
    constexpr int kLanes = 32;
    colsum_kernel<kLanes><<<dim3(gx, 1), dim3(kTileCols, kLanes), 0, stream()>>>(
        op, rows, cols, rows, out0, out1, true);
    CUSBI_CUDA_CHECK_LAUNCH();
    return;
  }
  float* part0 = out0 ? scratch : nullptr;
  float* part1 = out1 ? scratch + chunks * cols : nullptr;
  colsum_kernel<kTileRows><<<dim3(gx, static_cast<unsigned>(chunks)), tile_block(), 0, stream()>>>(
      op, rows, cols, kern::colsum_chunk_rows(rows), part0, part1, false);
  CUSBI_CUDA_CHECK_LAUNCH();
  if (out0 == nullptr && out1 == nullptr) return;
  combine_partials_kernel<<<dim3(gx), dim3(kTileCols, kCombineLanes), 0, stream()>>>(
      chunks, cols, part0, part1, out0, out1);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void nn_gate_backward(int64_t rows, int64_t cols, float* dh, const float* dr, const float* r,
                      const float* z, const float* bz, const float* s, float* dt, float* dg,
                      float* db_z, float* db_g, float* scratch) {
  launch_colsum(GateBackwardOp{dh, dr, r, z, bz, s, dt, dg}, rows, cols, db_z, s ? db_g : nullptr,
                scratch);
}

void nn_relu_backward_colsum(int64_t rows, int64_t cols, float* du, const float* u, float* db,
                             float* scratch) {
  launch_colsum(ReluBackwardOp{du, u}, rows, cols, db, nullptr, scratch);
}

void nn_colsum(int64_t rows, int64_t cols, const float* dy, float* db, float* scratch) {
  launch_colsum(ColsumOp{dy}, rows, cols, db, nullptr, scratch);
}

__global__ void relu_kernel(int64_t n, const float* x, float* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] = kern::relu(x[i]);
}

__global__ void relu_backward_kernel(int64_t n, const float* x, const float* dy, float* dx) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = kern::relu_grad(dy[i], x[i]);
}

void nn_relu(int64_t n, const float* x, float* y) {
  if (n == 0) return;
  relu_kernel<<<grid_for(n), kBlock, 0, stream()>>>(n, x, y);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void nn_relu_backward(int64_t n, const float* x, const float* dy, float* dx) {
  if (n == 0) return;
  relu_backward_kernel<<<grid_for(n), kBlock, 0, stream()>>>(n, x, dy, dx);
  CUSBI_CUDA_CHECK_LAUNCH();
}

__global__ void standardize_kernel(kern::StandardizeMode mode, int64_t rows, int64_t cols,
                                   const float* in, const float* mean, const float* std,
                                   float* out) {
  const int64_t j = blockIdx.x * int64_t(kTileCols) + threadIdx.x;
  if (j >= cols) return;
  const float m = mean[j], s = std[j];
  for (int64_t i = blockIdx.y * int64_t(kTileRows) + threadIdx.y; i < rows;
       i += int64_t(gridDim.y) * kTileRows)
    out[i * cols + j] = kern::standardize_element(mode, in[i * cols + j], m, s);
}

void nn_standardize(kern::StandardizeMode mode, int64_t rows, int64_t cols, const float* in,
                    const float* mean, const float* std, float* out) {
  if (rows == 0 || cols == 0) return;
  standardize_kernel<<<tile_grid(rows, cols), tile_block(), 0, stream()>>>(mode, rows, cols, in,
                                                                           mean, std, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
