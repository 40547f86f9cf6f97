// The fixed layout of the deterministic global L2 norm, shared by the CUDA kernels
// (kernels/optim.cu) and their CPU twin (host/optim/grad_norm.cpp), plus the clip coefficient.
// The summation order is a function of n only: chunk c holds elements [c*kChunk, (c+1)*kChunk);
// lane t of a chunk sums its elements t, t+kLanes, ... in order (double), the kLanes lane sums
// meet in a halving tree; chunk sums are combined the same way (lane t sums chunks t, t+kLanes,
// ... in order, then the tree). CPU and GPU follow it exactly, so both give the same bits.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

constexpr int kNormLanes = 256;        // = CUDA threads per block
constexpr int kNormRowsPerChunk = 16;  // elements per lane per chunk
constexpr int64_t kNormChunk = int64_t(kNormLanes) * kNormRowsPerChunk;  // 4096 elements

// Squares of floats are exact in double (48-bit products), so acc + x*x equals fma(x, x, acc):
// compiler contraction cannot change the sum on either side.
CUSBI_HD double add_square(double acc, float x) {
  const double d = static_cast<double>(x);
  return acc + d * d;
}

// Reduces lanes[0..kNormLanes) into lanes[0] in the halving order the CUDA block uses. Host
// only; the kernel runs the same steps in shared memory with barriers between them.
inline double tree_sum_lanes(double* lanes) {
  for (int stride = kNormLanes / 2; stride > 0; stride /= 2)
    for (int t = 0; t < stride; ++t) lanes[t] += lanes[t + stride];
  return lanes[0];
}

// torch.nn.utils.clip_grad_norm_: coef = clamp(max_norm / (norm + 1e-6), max=1) in float32,
// where the division is reciprocal(norm + 1e-6) * max_norm (Tensor.__rtruediv__). A NaN norm
// gives a NaN coefficient (clamp propagates NaN); an infinite norm gives 0.
CUSBI_HD float clip_coefficient(float norm, float max_norm) {
  const float reciprocal = 1.0f / (norm + 1e-6f);
  const float coef = reciprocal * max_norm;
  return coef > 1.0f ? 1.0f : coef;  // NaN compares false and stays NaN
}

}  // namespace cusbi::kern
