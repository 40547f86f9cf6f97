// random_permutation: Fisher-Yates driven by counter-based Philox draws (kernels/rng.h), so the
// train/validation split and the per-epoch shuffles are a function of (seed, offset) alone: the
// same on every machine and device, whatever the thread count. The draws are independent of one
// another, so they are computed in parallel; only the swaps run in order.
#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/inference.hpp"
#include "host/exec/thread_pool.hpp"
#include "kernels/rng.h"

namespace cusbi {

namespace {
constexpr int64_t kParallelMin = 1 << 14;  // below this, starting threads costs more than it saves
}

std::vector<int64_t> random_permutation(int64_t n, Generator* generator) {
  CUSBI_CHECK(n >= 0, "random_permutation: n is " << n << "; pass n >= 0");
  Generator& g = generator ? *generator : default_generator();
  const uint64_t first = g.advance(static_cast<uint64_t>(n));
  const uint64_t seed = g.seed();
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  if (n < 2) return perm;

  // j_i uniform in [0, i]: the top 64 bits of (64 random bits) * (i + 1), Lemire's multiply
  // instead of a modulo (bias below n / 2^64, far under anything measurable).
  std::vector<int64_t> pick(static_cast<size_t>(n));
  exec::parallel_range(n, n >= kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t i = std::max<int64_t>(begin, 1); i < end; ++i) {
      const kern::Philox4 r = kern::philox4x32(first + static_cast<uint64_t>(i), 0, seed);
      const uint64_t bits = (static_cast<uint64_t>(r.v[1]) << 32) | r.v[0];
      pick[static_cast<size_t>(i)] = static_cast<int64_t>(
          (static_cast<unsigned __int128>(bits) * static_cast<uint64_t>(i + 1)) >> 64);
    }
  });
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(perm[static_cast<size_t>(i)],
              perm[static_cast<size_t>(pick[static_cast<size_t>(i)])]);
  return perm;
}

}  // namespace cusbi
