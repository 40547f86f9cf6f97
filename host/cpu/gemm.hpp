// CPU GEMMs of the network programs: Eigen's single-threaded GEMM (the library builds with
// EIGEN_DONT_PARALLELIZE) run on the pool's threads (host/exec/thread_pool.hpp) over fixed row
// chunks of the batch. Eigen's own
// threading picks its blocking from the thread count, so weight gradients (inner dimension =
// batch) would change with OMP_NUM_THREADS; here every split depends only on the batch size, so
// the same inputs give the same bits whatever the thread count.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "host/exec/thread_pool.hpp"
#include "host/exec/workspace.hpp"
#include "kernels/common.h"

namespace cusbi::cpu {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using ConstRowMap = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// Batch rows are cut into ceil(rows / kGemmRows) chunks, at most kGemmMaxChunks (bounds the
// partials' scratch; still 4 chunks per thread on 16 cores), of equal size up to one row: about
// kGemmRows rows each is enough depth for Eigen's kernels to run near peak and makes the
// per-chunk weight-gradient partials cheap to add. Equal sizes keep the threads balanced at
// sbi's batch of 200 (100 + 100 rows, not 128 + 72). The split depends on the row count only,
// never on the thread count, so results are the same bits for any OMP_NUM_THREADS.
constexpr int64_t kGemmRows = 128;
constexpr int64_t kGemmMaxChunks = 64;
// Below this many multiply-adds a GEMM stays on one thread: waking the team costs more.
constexpr int64_t kParallelMacs = int64_t(1) << 18;
constexpr int64_t kParallelAdds = int64_t(1) << 16;

inline int64_t gemm_chunk_rows(int64_t rows) {
  const int64_t chunks = std::clamp<int64_t>(kern::ceil_div(rows, kGemmRows), 1, kGemmMaxChunks);
  return std::max<int64_t>(1, kern::ceil_div(rows, chunks));
}

inline int64_t gemm_chunks(int64_t rows) {
  return rows <= 0 ? 1 : kern::ceil_div(rows, gemm_chunk_rows(rows));
}

// Weight-gradient chunks are also at least sqrt(out * in) / 2 rows, which is >= out * in /
// (out + in): the partials then never take more memory than dy and x themselves (a 1024 x 1024
// weight at batch 10^4 would otherwise want 63 partials, 264 MB, for 82 MB of dy and x).
inline int64_t weight_grad_chunk_rows(int64_t batch, int64_t numel) {
  const auto by_size = static_cast<int64_t>(std::sqrt(static_cast<double>(numel)) / 2);
  return std::max(gemm_chunk_rows(batch), by_size);
}

inline int64_t weight_grad_chunks(int64_t batch, int64_t numel) {
  return batch <= 0 ? 1 : kern::ceil_div(batch, weight_grad_chunk_rows(batch, numel));
}

// Scratch (elements) that weight_grad needs for a (numel)-element weight at this batch: one
// partial per chunk after the first, each rounded to 16 elements to keep 64-byte alignment.
inline int64_t weight_grad_scratch(int64_t batch, int64_t numel) {
  return (weight_grad_chunks(batch, numel) - 1) * exec::align_up(numel);
}

// C (m, n) = op(A) op(B) + beta C for row-major matrices with leading dimensions (elements
// between rows); beta is 0 (C need not be initialised) or 1 (accumulate). One thread.
template <class T>
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  RowMap<T> C(c, m, n, Eigen::OuterStride<>(ldc));
  if (k == 0) {
    if (beta == T(0)) C.setZero();
    return;
  }
  ConstRowMap<T> A(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  ConstRowMap<T> B(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  auto run = [&](const auto& lhs, const auto& rhs) {
    if (beta == T(0))
      C.noalias() = lhs * rhs;
    else
      C.noalias() += lhs * rhs;
  };
  if (!trans_a && !trans_b)
    run(A, B);
  else if (!trans_a)
    run(A, B.transpose());
  else if (!trans_b)
    run(A.transpose(), B);
  else
    run(A.transpose(), B.transpose());
}

// gemm_serial, with C's rows (the batch when A is not transposed) in fixed chunks on the
// pool's threads: each chunk is its own GEMM on its rows of A and C, so the split changes nothing
// between thread counts.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t chunks = trans_a ? 1 : gemm_chunks(m);
  if (chunks == 1) {
    gemm_serial(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const int64_t rows = gemm_chunk_rows(m);
  exec::parallel_for(chunks, m * n * k >= kParallelMacs, [&](int64_t ch) {
    const int64_t r0 = ch * rows, r1 = std::min(m, r0 + rows);
    gemm_serial(false, trans_b, r1 - r0, n, k, a + r0 * lda, lda, b, ldb, beta, c + r0 * ldc, ldc);
  });
}

// dw (out, in) += dy^T x for dy (batch, out), x (batch, in); the inner dimension is the batch.
// With scratch (weight_grad_scratch(batch, out * in) elements) chunk 0 adds into dw while each
// later chunk writes its own partial, then the partials are added in chunk order; without
// scratch one thread does it all. Either order is fixed by the batch size alone.
template <class T>
void weight_grad(int64_t out, int64_t in, int64_t batch, const T* dy, int64_t ldy, const T* x,
                 int64_t ldx, T* dw, int64_t lddw, T* scratch) {
  const int64_t chunks = weight_grad_chunks(batch, out * in);
  if (scratch == nullptr || chunks == 1) {
    gemm_serial(true, false, out, in, batch, dy, ldy, x, ldx, T(1), dw, lddw);
    return;
  }
  const int64_t rows = weight_grad_chunk_rows(batch, out * in);
  const int64_t stride = exec::align_up(out * in);
  const bool parallel = out * in * batch >= kParallelMacs;
  exec::parallel_for(chunks, parallel, [&](int64_t ch) {
    const int64_t r0 = ch * rows, r1 = std::min(batch, r0 + rows);
    T* part = ch == 0 ? dw : scratch + (ch - 1) * stride;
    gemm_serial(true, false, out, in, r1 - r0, dy + r0 * ldy, ldy, x + r0 * ldx, ldx,
                T(ch == 0 ? 1 : 0), part, ch == 0 ? lddw : in);
  });
  // The partials' sum is memory-bound and small next to the GEMMs: threads only when it is big.
  exec::parallel_for(out, (chunks - 1) * out * in >= kParallelAdds, [&](int64_t i) {
    T* row = dw + i * lddw;
    for (int64_t ch = 1; ch < chunks; ++ch) {
      const T* p = scratch + (ch - 1) * stride + i * in;
      for (int64_t j = 0; j < in; ++j) row[j] += p[j];
    }
  });
}

}  // namespace cusbi::cpu
