// Per-row rule of NRE's atom draw (spec mcmc_nre.md §6.2), shared by the CUDA kernel
// (kernels/atoms.cu) and the CPU twin (host/cpu/atoms.cpp): row i gets its own index at column 0
// and K - 1 distinct others from {0..B-1} \ {i}, uniformly without replacement, as sbi's
// torch.multinomial over (1 - I) / (B - 1). Counter-based (Philox, row i = stream i), so the
// same seed and counter give the same indices on every device and thread layout.
#pragma once
#include <cstdint>

#include "kernels/common.h"
#include "kernels/rng.h"

namespace cusbi::kern {

// Uniform integer in [0, n) from 32 random bits by a 64-bit multiply (Lemire, no rejection):
// the bias is at most n / 2^32, below 1e-6 for the batch sizes NRE uses (n <= a few thousand).
CUSBI_HD int64_t uniform_below(uint32_t bits, int64_t n) {
  return static_cast<int64_t>((static_cast<uint64_t>(bits) * static_cast<uint64_t>(n)) >> 32);
}

// Writes row i (K entries) of the contrasting indices: row[0] = i, row[1..K) a uniformly random
// ordered sample of K - 1 distinct indices other than i. Floyd's permutation sampling (Bentley
// & Floyd 1987) over the B - 1 candidates c, mapped to c < i ? c : c + 1: step j = n - m .. n - 1
// draws t in [0, j]; a t already taken puts j just after t, a new t goes to the front. This
// gives every ordered sample the same probability with m draws (counters offset .. offset+m-1)
// and O(m^2) work, no O(B) scratch.
CUSBI_HD void contrasting_row(int64_t i, int64_t batch, int64_t atoms, uint64_t seed,
                              uint64_t offset, int64_t* row) {
  row[0] = i;
  int64_t* s = row + 1;  // the sample so far, s[0..size)
  const int64_t n = batch - 1, m = atoms - 1;
  for (int64_t size = 0; size < m; ++size) {
    const int64_t j = n - m + size;
    const uint32_t bits =
        philox4x32(offset + static_cast<uint64_t>(size), static_cast<uint32_t>(i), seed).v[0];
    const int64_t t = uniform_below(bits, j + 1);
    int64_t at = -1;
    for (int64_t p = 0; p < size; ++p)
      if (s[p] == t) at = p;
    const int64_t insert = at >= 0 ? at + 1 : 0, value = at >= 0 ? j : t;
    for (int64_t p = size; p > insert; --p) s[p] = s[p - 1];
    s[insert] = value;
  }
  for (int64_t p = 0; p < m; ++p) s[p] = s[p] < i ? s[p] : s[p] + 1;
}

}  // namespace cusbi::kern
