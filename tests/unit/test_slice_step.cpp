// The slice sampler's step (kernels/slice.h through the CPU loop host/cpu/slice.cpp) where it
// departs from sbi: non-finite current points fail the chain, stepping out and shrinkage are
// capped and reported; and its randomness is counter-based, so results depend on the seed only,
// not on how chains are split over threads.
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/slice_test_chains.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using kern::SliceSettings;
using testing::HostSliceChains;
using testing::slice_test_potential;

SliceSettings settings(int32_t dim, int32_t tuning, int64_t sweeps, int64_t kept) {
  SliceSettings s;
  s.dim = dim;
  s.tuning = tuning;
  s.sweeps = sweeps;
  s.thin = 1;
  s.warmup = 0;
  s.kept = kept;
  s.max_width = std::numeric_limits<double>::infinity();
  return s;
}

// Restores the thread count a test changed.
struct Threads {
  explicit Threads(int n) : before(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(before); }
  int before;
};

// The potential turns bad at chain 0's current point at (sweep, coordinate position) = `at`:
// the chain fails there with fault = sweep * D + i; chain 1 runs on to the end untouched.
TEST(SliceStep, NonFiniteCurrentPointFailsTheChain) {
  const SliceSettings s = settings(3, 2, 6, 4);
  const std::vector<float> init = testing::slice_test_init(2, 3, 1);
  for (const float bad : {-INFINITY, INFINITY, NAN})
    for (const int64_t at_sweep : {0, 2})
      for (const int32_t at_coord : {0, 1}) {
        HostSliceChains h(s, 2);
        const int64_t its = testing::run_cpu_slice(h, s, init, 0.1, 7, 100000, [&](int64_t c) {
          if (c == 0 && h.state[0] == kern::kSliceBegin && h.sweep[0] == at_sweep &&
              h.coord[0] == at_coord)
            return bad;
          return slice_test_potential(&h.proposal[c * 3], 3);
        });
        SCOPED_TRACE(::testing::Message() << bad << " at sweep " << at_sweep << ", i " << at_coord);
        ASSERT_LT(its, 100000);
        EXPECT_EQ(h.state[0], kern::kSliceFailed);
        EXPECT_EQ(h.fault[0], at_sweep * 3 + at_coord);
        EXPECT_EQ(h.sweep[0], at_sweep);  // no sweep completes after the failure
        EXPECT_EQ(h.state[1], kern::kSliceDone);
        EXPECT_EQ(h.fault[1], -1);
        EXPECT_EQ(h.counters[0], 2);                  // both chains finished
        EXPECT_EQ(h.counters[1], at_sweep + 6);       // sweeps: chain 0's, then chain 1's six
        EXPECT_EQ(h.counters[2] + h.counters[3], 0);  // no cap bound
      }
}

// lp = 0 everywhere: every step-out is inside the slice, so only the cap ends it. The split
// J + K = kSliceMaxStepOut - 1 gives brackets of kSliceMaxStepOut widths, both ends report the
// cap, and each update takes 1 + (J + 1) + (K + 1) + 1 = kSliceMaxStepOut + 3 evaluations.
TEST(SliceStep, FlatPotentialStepOutStopsAtTheCap) {
  const SliceSettings s = settings(1, 1, 1, 0);  // one tuning sweep: width = bracket length
  const int64_t chains = 4;
  HostSliceChains h(s, chains);
  const int64_t its =
      testing::run_cpu_slice(h, s, testing::slice_test_init(chains, 1, 2), 0.5, 3,
                             4 * kern::kSliceMaxStepOut, [](int64_t) { return 0.0f; });
  EXPECT_EQ(its, kern::kSliceMaxStepOut + 3);
  EXPECT_EQ(h.counters[0], chains);
  EXPECT_EQ(h.counters[2], 2 * chains);  // kSliceCapped at the lower and at the upper end
  EXPECT_EQ(h.counters[3], 0);
  for (int64_t c = 0; c < chains; ++c) {
    EXPECT_EQ(h.state[c], kern::kSliceDone);
    // ux - lx after kSliceMaxStepOut - 1 steps of 0.5: each step rounds a number below 2^13 by
    // at most half an ulp (2^-41), so the length is within 16383 * 2^-41 = 7.5e-9 of exact.
    EXPECT_NEAR(h.width[c], 0.5 * kern::kSliceMaxStepOut, 1e-8);
  }
}

// NaN everywhere but at the current point (state Begin): stepping out stops at once, every
// shrink proposal is rejected, and after kSliceMaxShrink shrinks the update keeps the
// coordinate (kSliceStalled). Per update: 1 + 1 + 1 + (kSliceMaxShrink + 1) evaluations.
TEST(SliceStep, NanOffTheCurrentPointStallsAtTheShrinkCap) {
  const SliceSettings s = settings(2, 0, 1, 1);
  const int64_t chains = 3;
  HostSliceChains h(s, chains);
  const std::vector<float> init = testing::slice_test_init(chains, 2, 3);
  const int64_t its = testing::run_cpu_slice(h, s, init, 1.0, 4, 100000, [&](int64_t c) {
    return h.state[c] == kern::kSliceBegin ? 0.0f : NAN;
  });
  EXPECT_EQ(its, 2 * (3 + kern::kSliceMaxShrink + 1));
  EXPECT_EQ(h.counters[0], chains);
  EXPECT_EQ(h.counters[2], 0);
  EXPECT_EQ(h.counters[3], 2 * chains);  // each coordinate update stalled
  for (int64_t c = 0; c < chains; ++c) {
    EXPECT_EQ(h.state[c], kern::kSliceDone);
    for (int32_t d = 0; d < 2; ++d) {
      EXPECT_EQ(h.x[c * 2 + d], double(init[c * 2 + d]));  // unchanged
      EXPECT_EQ(h.samples[c * 2 + d], init[c * 2 + d]);
    }
  }
}

// 5000 chains run as parts of 2048 on the pool: one thread or two, the same bits; the same seed
// twice, the same bits; another seed, another trajectory.
TEST(SliceStep, CounterBasedRandomnessIsDeterministic) {
  SliceSettings s = settings(3, 5, 15, 8);
  s.warmup = 2;
  const int64_t chains = 5000;
  const std::vector<float> init = testing::slice_test_init(chains, 3, 4);
  auto run = [&](int threads, uint64_t seed) {
    Threads t(threads);
    HostSliceChains h(s, chains);
    testing::run_cpu_slice(h, s, init, 0.1, seed, 300,
                           [&](int64_t c) { return slice_test_potential(&h.proposal[c * 3], 3); });
    return h;
  };
  const HostSliceChains one = run(1, 42);
  EXPECT_GT(one.counters[1], chains);  // sweeps were completed: the comparison covers them
  EXPECT_TRUE(testing::same_slice_chains(run(2, 42), one, 0.0));
  EXPECT_TRUE(testing::same_slice_chains(run(1, 42), one, 0.0));
  EXPECT_FALSE(testing::same_slice_chains(run(1, 43), one, 0.0));
}

}  // namespace
}  // namespace cusbi

namespace cusbi {
namespace {

// reuse_value keeps the accepted point's value instead of evaluating it again: with a potential
// that gives the same value for the same point, each chain draws the same uniforms in the same
// order and ends in the same state, in fewer iterations (one fewer per coordinate update).
TEST(SliceStep, ReusingTheAcceptedValueGivesTheSameChains) {
  SliceSettings s = settings(3, 5, 25, 10);
  s.warmup = 5;
  const int64_t chains = 40;
  const std::vector<float> init = testing::slice_test_init(chains, 3, 9);
  auto run = [&](bool reuse, int64_t* iterations) {
    SliceSettings r = s;
    r.reuse_value = reuse;
    HostSliceChains h(r, chains);
    *iterations = testing::run_cpu_slice(h, r, init, 0.1, 7, 1000000, [&](int64_t c) {
      return slice_test_potential(&h.proposal[c * 3], 3);
    });
    return h;
  };
  int64_t plain_iterations = 0, reuse_iterations = 0;
  HostSliceChains plain = run(false, &plain_iterations);
  HostSliceChains reuse = run(true, &reuse_iterations);
  EXPECT_EQ(plain.counters[0], chains);  // all done
  // The bracket and proposal of a finished chain hold its last update's scratch values, which
  // differ between the two loops only in the order they were written; positions, widths,
  // samples, draws and counters must agree exactly.
  EXPECT_EQ(reuse.x, plain.x);
  EXPECT_EQ(reuse.width, plain.width);
  EXPECT_EQ(reuse.samples, plain.samples);
  EXPECT_EQ(reuse.draws, plain.draws);
  EXPECT_EQ(reuse.counters, plain.counters);
  // One evaluation saved per coordinate update after each chain's first: the slowest chain sets
  // the count, so the saving is at least (sweeps x dim - 1) iterations.
  EXPECT_LE(reuse_iterations, plain_iterations - (s.sweeps * 3 - 1));
}

}  // namespace
}  // namespace cusbi
