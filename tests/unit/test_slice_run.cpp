// SliceRun's read schedule: on a GPU the host reads the chains' counters only now and then
// (host/mcmc/slice_run.cpp). The CPU can follow the same schedule (set_sparse_reads), so the
// schedule is tested here without a GPU: the chains and samples must not change (finished chains
// ignore the extra iterations), the reads must be few, and the idle iterations under
// kCheckEvery.
#include <gtest/gtest.h>

#include "cusbi/cusbi.hpp"
#include "host/mcmc/slice_run.hpp"

namespace cusbi {
namespace {

kern::SliceSettings settings(int32_t dim) {
  kern::SliceSettings s;
  s.dim = dim;
  s.tuning = 50;
  s.sweeps = 50 + 120;
  s.thin = 1;
  s.warmup = 20;
  s.kept = 100;
  s.max_width = HUGE_VAL;
  s.reuse_value = true;
  return s;
}

TEST(SliceRun, SparseReadsKeepTheChainsAndReadRarely) {
  const int64_t chains = 64, dim = 3;
  auto potential = potential_from_function(
      [](const Tensor& theta) { return -0.5f * sum(theta * theta, 1); }, dim, Device::cpu());
  const Tensor init = rand({chains, dim}, Device::cpu());
  const kern::SliceSettings s = settings(dim);
  ProgressLine quiet("", 0, false);

  mcmc::SliceRun dense(chains, dim, s.kept, Device::cpu());
  const mcmc::SliceRunStats a = dense.run(*potential, init, s, 0.01, 5, 0, quiet);
  mcmc::SliceRun sparse(chains, dim, s.kept, Device::cpu());
  sparse.set_sparse_reads(true);
  const mcmc::SliceRunStats b = sparse.run(*potential, init, s, 0.01, 5, 0, quiet);

  EXPECT_EQ(dense.samples().to_vector(), sparse.samples().to_vector());
  EXPECT_EQ(a.host_round_trips, 0);
  // Reads: one after the first iteration, one at the earliest possible finish, then halving the
  // estimated remainder (about log2 of the run) and a few for the slowest chains' tail at 1/64
  // of the run apart. Reading every 8 iterations instead would take hundreds.
  EXPECT_LE(b.host_round_trips, 25) << "iterations " << b.iterations;
  EXPECT_GE(b.iterations, a.iterations);
  // Idle iterations after the last chain finished: fewer than max(8, run / 64) + 1.
  EXPECT_LE(b.iterations, a.iterations + std::max<int64_t>(8, b.iterations / 64) + 1);
}

}  // namespace
}  // namespace cusbi
