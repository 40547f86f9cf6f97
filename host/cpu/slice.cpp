// CPU twin of kernels/slice.cu: kernels/slice.h per chain, chains in ranges on the pool. Event
// counts are summed per range and added under a lock (integers: exact in any order).
#include "host/cpu/slice.hpp"

#include <mutex>

#include "host/exec/thread_pool.hpp"

namespace cusbi::cpu {

namespace {
// A chain's transition costs tens of nanoseconds: ranges of this many chains amortise a part.
constexpr int64_t kChainsPerPart = 2048;
}  // namespace

void slice_start(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                 int64_t num_chains, const float* init, double init_width, uint64_t seed,
                 uint64_t base) {
  exec::parallel_range(
      num_chains, num_chains > kChainsPerPart,
      [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          chains.draws[c] = 0;
          kern::ChainRandom random{seed, base, static_cast<uint32_t>(c + 1), chains.draws + c};
          kern::slice_start(settings, chains, c, init + c * settings.dim, init_width, random);
        }
      },
      kChainsPerPart);
}

void slice_step(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                int64_t num_chains, const float* lp, uint64_t seed, uint64_t base,
                int64_t* counters) {
  std::mutex lock;
  exec::parallel_range(
      num_chains, num_chains > kChainsPerPart,
      [&](int64_t begin, int64_t end) {
        int64_t local[kern::kSliceCounters] = {};
        for (int64_t c = begin; c < end; ++c) {
          kern::ChainRandom random{seed, base, static_cast<uint32_t>(c + 1), chains.draws + c};
          const int32_t events = kern::slice_step(settings, chains, c, lp[c], random);
          for (int e = 0; e < kern::kSliceCounters; ++e) local[e] += (events >> e) & 1;
        }
        const std::lock_guard<std::mutex> guard(lock);
        for (int e = 0; e < kern::kSliceCounters; ++e) counters[e] += local[e];
      },
      kChainsPerPart);
}

}  // namespace cusbi::cpu
