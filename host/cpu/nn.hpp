// CPU twin of kernels/nn.cu: the executor of the network programs (host/nn/residual_program.hpp),
// the chunked Eigen GEMMs of host/cpu/gemm.hpp and fused elementwise passes over the
// per-element math of kernels/nn.h. Templated on the scalar: float in production, double in
// tests/gradcheck, through this same code. Passes over large matrices run in fixed row chunks
// claimed by the pool's threads (host/exec/thread_pool.hpp), so column sums (bias gradients)
// and weight gradients are reduced in an order that does not depend on the thread count.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "host/cpu/gemm.hpp"
#include "host/exec/thread_pool.hpp"
#include "kernels/nn.h"

namespace cusbi::cpu {

// Below this many elements a pass stays on one thread: waking the team costs more than it saves.
constexpr int64_t kParallelElements = 16384;

// body(row_begin, row_end) over fixed row chunks, on the pool's threads for large matrices.
template <class Body>
void for_row_chunks(int64_t rows, int64_t cols, Body body) {
  const int64_t chunk = kern::colsum_chunk_rows(rows), chunks = kern::colsum_chunks(rows);
  exec::parallel_for(chunks, rows * cols >= kParallelElements,
                     [&](int64_t c) { body(c * chunk, std::min(rows, (c + 1) * chunk)); });
}

// body(row_begin, row_end, acc0, acc1) adds the column sums of its rows into acc0/acc1 (each
// `cols` long, null when that sum is not wanted). With scratch (kern::colsum_scratch elements)
// each chunk sums into its own zeroed partial and the partials are added to out0/out1 in chunk
// order; without scratch one thread adds row by row straight into out0/out1. Both orders are
// fixed, so results are deterministic.
template <class T, class Body>
void chunked_colsum(int64_t rows, int64_t cols, T* out0, T* out1, T* scratch, Body body) {
  if (scratch == nullptr || rows * cols < kParallelElements) {
    body(int64_t(0), rows, out0, out1);
    return;
  }
  const int64_t chunk = kern::colsum_chunk_rows(rows), chunks = kern::colsum_chunks(rows);
  T* part0 = scratch;
  T* part1 = scratch + chunks * cols;
  exec::parallel_for(chunks, true, [&](int64_t c) {
    T* p0 = out0 ? part0 + c * cols : nullptr;
    T* p1 = out1 ? part1 + c * cols : nullptr;
    if (p0) std::fill(p0, p0 + cols, T(0));
    if (p1) std::fill(p1, p1 + cols, T(0));
    body(c * chunk, std::min(rows, (c + 1) * chunk), p0, p1);
  });
  for (int64_t c = 0; c < chunks; ++c)
    for (int64_t j = 0; j < cols; ++j) {
      if (out0) out0[j] += part0[c * cols + j];
      if (out1) out1[j] += part1[c * cols + j];
    }
}

// y += b, y = relu(y + b), or y += b with r = relu(y) (kern::BiasAct); y (rows, cols).
template <class T>
void bias_act(kern::BiasAct mode, int64_t rows, int64_t cols, T* y, const T* bias, T* r) {
  for_row_chunks(rows, cols, [=](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      T* yi = y + i * cols;
      if (mode == kern::BiasAct::kBias) {
        for (int64_t j = 0; j < cols; ++j) yi[j] += bias[j];
      } else if (mode == kern::BiasAct::kBiasRelu) {
        for (int64_t j = 0; j < cols; ++j) yi[j] = kern::relu(yi[j] + bias[j]);
      } else {
        T* ri = r + i * cols;
        for (int64_t j = 0; j < cols; ++j) {
          const T v = yi[j] + bias[j];
          yi[j] = v;
          ri[j] = kern::relu(v);
        }
      }
    }
  });
}

// Residual update h += (z + bz) * sigmoid(g + bg) (g overwritten by the sigmoid), or
// h += z + bz when g is null; then r = relu(h) when r is non-null. All (rows, cols).
// The gate's exp(-|x|) comes from Eigen's vectorised exp, a tile of columns at a time; the rest
// of the math is kern::gated_branch_from_exp, as on the GPU.
template <class T>
void gate_forward(int64_t rows, int64_t cols, T* h, const T* z, const T* bz, T* g, const T* bg,
                  T* r) {
  constexpr int64_t kTile = 128;
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  for_row_chunks(rows, cols, [=](int64_t r0, int64_t r1) {
    alignas(64) T x[kTile], e[kTile];
    for (int64_t i = r0; i < r1; ++i) {
      T* hi = h + i * cols;
      const T* zi = z + i * cols;
      if (g) {
        T* gi = g + i * cols;
        for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
          const int64_t n = std::min(kTile, cols - j0);
          for (int64_t j = 0; j < n; ++j) {
            x[j] = gi[j0 + j] + bg[j0 + j];
            e[j] = -std::abs(x[j]);
          }
          Eigen::Map<Array>(e, n) = Eigen::Map<Array>(e, n).exp();
          for (int64_t j = 0; j < n; ++j) {
            T s;  // a local, so the compiler sees no aliasing and vectorises the loop
            hi[j0 + j] += kern::gated_branch_from_exp(zi[j0 + j], bz[j0 + j], x[j], e[j], &s);
            gi[j0 + j] = s;
          }
        }
      } else {
        for (int64_t j = 0; j < cols; ++j) hi[j] += zi[j] + bz[j];
      }
      if (r) {
        T* ri = r + i * cols;
        for (int64_t j = 0; j < cols; ++j) ri[j] = kern::relu(hi[j]);
      }
    }
  });
}

// Backward of one gated residual update, fused with the pending ReLU backward of the block
// above: first dh += relu_grad(dr, r) when dr is non-null; then, with a gate s, dt = dh s and
// dg = dh (z + bz) s (1 - s) with db_z += colsum(dt), db_g += colsum(dg); without a gate
// db_z += colsum(dh) (the branch gradient is dh itself). Null db_z skips the column sums.
template <class T>
void gate_backward(int64_t rows, int64_t cols, T* dh, const T* dr, const T* r, const T* z,
                   const T* bz, const T* s, T* dt, T* dg, T* db_z, T* db_g, T* scratch) {
  chunked_colsum(rows, cols, db_z, s ? db_g : nullptr, scratch,
                 [=](int64_t r0, int64_t r1, T* acc_z, T* acc_g) {
                   for (int64_t i = r0; i < r1; ++i) {
                     T* dhi = dh + i * cols;
                     if (dr) {
                       const T* dri = dr + i * cols;
                       const T* ri = r + i * cols;
                       for (int64_t j = 0; j < cols; ++j) dhi[j] += kern::relu_grad(dri[j], ri[j]);
                     }
                     if (s) {
                       const T* zi = z + i * cols;
                       const T* si = s + i * cols;
                       T* dti = dt + i * cols;
                       T* dgi = dg + i * cols;
                       for (int64_t j = 0; j < cols; ++j)
                         kern::gated_branch_grad(dhi[j], zi[j], bz[j], si[j], &dti[j], &dgi[j]);
                       if (acc_z)
                         for (int64_t j = 0; j < cols; ++j) acc_z[j] += dti[j];
                       if (acc_g)
                         for (int64_t j = 0; j < cols; ++j) acc_g[j] += dgi[j];
                     } else if (acc_z) {
                       for (int64_t j = 0; j < cols; ++j) acc_z[j] += dhi[j];
                     }
                   }
                 });
}

// du = relu_grad(du, u) in place (u is the ReLU's output) and db += colsum(du).
template <class T>
void relu_backward_colsum(int64_t rows, int64_t cols, T* du, const T* u, T* db, T* scratch) {
  chunked_colsum(rows, cols, db, static_cast<T*>(nullptr), scratch,
                 [=](int64_t r0, int64_t r1, T* acc, T*) {
                   for (int64_t i = r0; i < r1; ++i) {
                     T* dui = du + i * cols;
                     const T* ui = u + i * cols;
                     for (int64_t j = 0; j < cols; ++j) {
                       dui[j] = kern::relu_grad(dui[j], ui[j]);
                       acc[j] += dui[j];
                     }
                   }
                 });
}

// db += colsum(dy), dy (rows, cols).
template <class T>
void colsum(int64_t rows, int64_t cols, const T* dy, T* db, T* scratch) {
  chunked_colsum(rows, cols, db, static_cast<T*>(nullptr), scratch,
                 [=](int64_t r0, int64_t r1, T* acc, T*) {
                   for (int64_t i = r0; i < r1; ++i)
                     for (int64_t j = 0; j < cols; ++j) acc[j] += dy[i * cols + j];
                 });
}

template <class T>
void relu(int64_t n, const T* x, T* y) {
  for_row_chunks(n, 1, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = kern::relu(x[i]);
  });
}

template <class T>
void relu_backward(int64_t n, const T* x, const T* dy, T* dx) {
  for_row_chunks(n, 1, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = kern::relu_grad(dy[i], x[i]);
  });
}

// out = standardize_element(mode, in, mean_j, std_j) for in, out (rows, cols).
template <class T>
void standardize(kern::StandardizeMode mode, int64_t rows, int64_t cols, const T* in, const T* mean,
                 const T* std, T* out) {
  for_row_chunks(rows, cols, [=](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i)
      for (int64_t j = 0; j < cols; ++j)
        out[i * cols + j] = kern::standardize_element(mode, in[i * cols + j], mean[j], std[j]);
  });
}

// The executor interface the programs are written against (see host/exec/cuda_exec.hpp).
template <class T>
struct CpuExec {
  using Scalar = T;
  void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
            int64_t ldb, T beta, T* c, int64_t ldc) {
    cpu::gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
  }
  // dw (out, in) += dy^T x over the batch; scratch: null or weight_grad_scratch elements.
  void weight_grad(int64_t out, int64_t in, int64_t batch, const T* dy, int64_t ldy, const T* x,
                   int64_t ldx, T* dw, int64_t lddw, T* scratch) {
    cpu::weight_grad(out, in, batch, dy, ldy, x, ldx, dw, lddw, scratch);
  }
  static int64_t weight_grad_scratch(int64_t batch, int64_t numel) {
    return cpu::weight_grad_scratch(batch, numel);
  }
  void bias_act(kern::BiasAct mode, int64_t rows, int64_t cols, T* y, const T* bias, T* r) {
    cpu::bias_act(mode, rows, cols, y, bias, r);
  }
  void gate_forward(int64_t rows, int64_t cols, T* h, const T* z, const T* bz, T* g, const T* bg,
                    T* r) {
    cpu::gate_forward(rows, cols, h, z, bz, g, bg, r);
  }
  void gate_backward(int64_t rows, int64_t cols, T* dh, const T* dr, const T* r, const T* z,
                     const T* bz, const T* s, T* dt, T* dg, T* db_z, T* db_g, T* scratch) {
    cpu::gate_backward(rows, cols, dh, dr, r, z, bz, s, dt, dg, db_z, db_g, scratch);
  }
  void relu_backward_colsum(int64_t rows, int64_t cols, T* du, const T* u, T* db, T* scratch) {
    cpu::relu_backward_colsum(rows, cols, du, u, db, scratch);
  }
  void colsum(int64_t rows, int64_t cols, const T* dy, T* db, T* scratch) {
    cpu::colsum(rows, cols, dy, db, scratch);
  }
  void relu(int64_t n, const T* x, T* y) { cpu::relu(n, x, y); }
  void standardize(kern::StandardizeMode mode, int64_t rows, int64_t cols, const T* in,
                   const T* mean, const T* std, T* out) {
    cpu::standardize(mode, rows, cols, in, mean, std, out);
  }
  void relu_backward(int64_t n, const T* x, const T* dy, T* dx) {
    cpu::relu_backward(n, x, dy, dx);
  }
};

}  // namespace cusbi::cpu
