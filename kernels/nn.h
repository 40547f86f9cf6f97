// Per-element math of the network building blocks (nn.hpp), written once for the CPU loops
// (host/cpu/nn.hpp, float and double) and the CUDA kernels (kernels/nn*.cu, float).
// Also the row-chunking rule of deterministic column sums, shared so that both devices size
// their scratch the same way and reduce in an order that does not depend on thread counts.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

// What the fused bias pass writes: y += b; y = relu(y + b); or y += b and r = relu(y).
enum class BiasAct : int { kBias = 0, kBiasRelu = 1, kBiasAndRelu = 2 };

// dy masked by the ReLU whose output (or input: same sign test) is y. As torch's
// threshold_backward: the gradient at exactly 0 is 0.
template <typename T>
CUSBI_HD T relu_grad(T dy, T y) {
  return y > T(0) ? dy : T(0);
}

// Residual update of a gated block: t = z + bz is the block's branch, s = sigmoid(x) with
// x = g + bg its gate (GLU over [t, g]); returns the gated branch t * s and stores s for the
// backward. e = exp(-|x|) is passed in so that CPU loops can evaluate it with a vector exp
// (common.h's sigmoid_from_exp, the one sigmoid of the library).
template <typename T>
CUSBI_HD T gated_branch_from_exp(T z, T bz, T x, T e, T* s) {
  *s = sigmoid_from_exp(x, e);
  return (z + bz) * *s;
}

template <typename T>
CUSBI_HD T gated_branch(T z, T bz, T g, T bg, T* s) {
  const T x = g + bg;
  return gated_branch_from_exp(z, bz, x, exp(-fabs(x)), s);
}

// Backward of gated_branch for upstream dh: dt = dh s, dg = dh t s (1 - s).
template <typename T>
CUSBI_HD void gated_branch_grad(T dh, T z, T bz, T s, T* dt, T* dg) {
  *dt = dh * s;
  *dg = dh * (z + bz) * s * (T(1) - s);
}

// Standardize (sbi's z-scoring). Division, not multiplication by 1/std, to match torch's
// (x - mean) / std bit for bit where the operands agree.
enum class StandardizeMode : int { kForward = 0, kInverse = 1, kBackward = 2 };

template <typename T>
CUSBI_HD T standardize_element(StandardizeMode mode, T v, T mean, T std) {
  switch (mode) {
    case StandardizeMode::kForward:
      return (v - mean) / std;
    case StandardizeMode::kInverse:
      return v * std + mean;
    default:
      return v / std;  // backward: d/dx (x - m) / s = 1 / s
  }
}

// Column sums split rows into fixed chunks of at least kColsumRows rows and sum each chunk into a
// partial; the split depends only on the number of rows, so the result is the same whatever the
// thread or block count. The chunk count stays within CUDA's grid.y limit. The order of the
// additions is fixed on each device but differs between them (parity is to a tolerance):
//  - CPU (host/cpu/nn.hpp chunked_colsum): each chunk in row order, then the partials in
//    chunk order, added to the output;
//  - CUDA (kernels/nn.cu): each chunk as 8 row lanes (rows i, i + 8, ...) added in lane order,
//    then the partials as a fixed tree (32 strided lane sums, then pairwise) added to the output.
constexpr int64_t kColsumRows = 64;
constexpr int64_t kColsumMaxChunks = 65535;

CUSBI_HD int64_t colsum_chunk_rows(int64_t rows) {
  const int64_t needed = ceil_div(rows, kColsumMaxChunks);
  return needed > kColsumRows ? needed : kColsumRows;
}

CUSBI_HD int64_t colsum_chunks(int64_t rows) {
  return rows <= 0 ? 1 : ceil_div(rows, colsum_chunk_rows(rows));
}

// Scratch (in elements) for two simultaneous column sums over `rows` x `cols`.
CUSBI_HD int64_t colsum_scratch(int64_t rows, int64_t cols) {
  return 2 * colsum_chunks(rows) * cols;
}

}  // namespace cusbi::kern
