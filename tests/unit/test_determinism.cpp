// Same seed, same device, same bits (in the spirit of llm.c's test of a whole training run): a
// small NPE training run (split, initialisation, shuffles, Adam, clipping, z-scoring; several
// epochs), DirectPosterior::sample after it, and MCMCPosterior::sample on an NLE potential
// (the resample init and slice sampling) give bit-identical losses, weights and samples when run
// twice, and on the CPU for any OpenMP thread count. What would break it:
//   - float atomics or any reduction whose order depends on scheduling (a GEMM or column sum
//     split by thread count: Eigen's own threaded GEMM did this, see test_nn_determinism.cpp);
//   - a generator drawn from worker threads in a thread-dependent order (each draw must come
//     from a counter-based stream indexed by row, not by thread);
//   - an unordered container iterated to build weights or state (e.g. an unordered_map of
//     parameter names), or a reduction over chains in completion order;
//   - reading the clock or uninitialised memory into the computation (a timeout path, an
//     allocation reused without being overwritten).
// On CUDA the same runs are repeated on the GPU (CUSBI_REQUIRE_GPU; skipped without one): the
// kernels must reduce in a fixed order (no atomicAdd on floats), whatever the launch timing.
#include <gtest/gtest.h>
#include <omp.h>

#include <map>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "cusbi/nle.hpp"
#include "host/cpu/gemm.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::CaptureWarnings;
using testing::quiet;

// Sets the OpenMP thread count for its scope and restores the previous one.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

// A small flow and problem: the point is bit-equality of a whole run, not accuracy. Batches of
// 400 rows at hidden width 32 are past the size where a GEMM is split into row chunks across
// threads (checked below), so the thread count has something to change.
const NsfOptions kSmall{.hidden_features = 32, .num_transforms = 2, .num_bins = 4};
constexpr int64_t kSimulations = 1000, kBatch = 400;

// theta ~ U(-2, 2)^2, x = theta + 0.1 noise, (n, 2) each, made on the CPU.
std::pair<Tensor, Tensor> simulations(int64_t n) {
  Generator g(5);
  const Tensor theta = uniform({n, 2}, -2.0f, 2.0f, Device::cpu(), &g);
  return {theta, theta + 0.1f * randn_like(theta, &g)};
}

// Everything a run produces, as bits: the per-epoch losses, every weight and buffer of the
// trained flow (sbi's state_dict, ordered by name) and the samples.
struct RunBits {
  std::vector<double> training_loss, validation_loss;
  std::map<std::string, std::vector<float>> weights;
  std::vector<float> samples;
};

void expect_same_bits(const RunBits& a, const RunBits& b) {
  EXPECT_EQ(a.training_loss, b.training_loss);
  EXPECT_EQ(a.validation_loss, b.validation_loss);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.samples, b.samples);
}

std::map<std::string, std::vector<float>> weights_of(const NeuralSplineFlow& flow) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, tensor] : sbi_state_dict(flow)) out[name] = tensor.to_vector();
  return out;
}

// Several batches per epoch, 3 epochs at most (sbi's loop may run max + 1), then 2000 posterior
// samples for one observation. `seed` seeds training and sampling.
RunBits npe_run(Device device, uint64_t seed = 7) {
  const CaptureWarnings quiet_warnings;  // "not yet fully converged": expected after 3 epochs
  const BoxUniform prior(-2.0f, 2.0f, 2, device);
  const auto [theta, x] = simulations(kSimulations);
  NPE npe(prior, kSmall, device);
  npe.append_simulations(theta, x);
  Generator train_gen(seed);
  npe.train(quiet({.training_batch_size = kBatch, .max_num_epochs = 3, .generator = &train_gen}));
  DirectPosterior posterior = npe.build_posterior();
  Generator sample_gen(seed + 1);
  const Tensor x_o = Tensor::from({0.5f, -0.5f}, {1, 2}, device);
  RunBits r;
  r.training_loss = npe.summary().training_loss;
  r.validation_loss = npe.summary().validation_loss;
  r.weights = weights_of(npe.density_estimator());
  r.samples =
      posterior.sample({2000}, x_o, {.show_progress = false, .generator = &sample_gen}).to_vector();
  return r;
}

// NLE trained as above, then MCMC (slice sampling, sbi's resample init) with 32 chains.
RunBits nle_mcmc_run(Device device, uint64_t seed = 9) {
  const CaptureWarnings quiet_warnings;
  const BoxUniform prior(-2.0f, 2.0f, 2, device);
  const auto [theta, x] = simulations(kSimulations);
  NLE nle(prior, kSmall, device);
  nle.append_simulations(theta, x);
  Generator train_gen(seed);
  nle.train(quiet({.training_batch_size = kBatch, .max_num_epochs = 3, .generator = &train_gen}));
  Generator mcmc_gen(seed + 1);
  MCMCOptions o;
  o.num_chains = 32;
  o.warmup_steps = 10;
  o.show_progress = false;
  o.generator = &mcmc_gen;
  MCMCPosterior posterior = nle.build_posterior(o);
  RunBits r;
  r.training_loss = nle.summary().training_loss;
  r.validation_loss = nle.summary().validation_loss;
  r.weights = weights_of(nle.density_estimator());
  r.samples = posterior.sample({200}, Tensor::from({0.5f, -0.5f}, {1, 2}, device)).to_vector();
  return r;
}

TEST(Determinism, RunsAreLargeEnoughToBeSplitAcrossThreads) {
  // Otherwise the thread-count comparisons below would compare single-threaded runs.
  EXPECT_GE(cpu::gemm_chunks(kBatch), 2);
  EXPECT_GE(kBatch * kSmall.hidden_features * kSmall.hidden_features, cpu::kParallelMacs);
}

TEST(Determinism, NpeTrainingAndDirectSamplingSameBitsForAnyThreadCount) {
  const RunBits one = [] {
    const ThreadCount scope(1);
    return npe_run(Device::cpu());
  }();
  // Otherwise the comparison below would hold vacuously.
  ASSERT_GE(one.training_loss.size(), 2u);
  ASSERT_EQ(one.samples.size(), 4000u);
  // The comparison can fail: another seed changes every part of the run.
  const RunBits other = npe_run(Device::cpu(), 70);
  EXPECT_NE(other.validation_loss, one.validation_loss);
  EXPECT_NE(other.weights, one.weights);
  EXPECT_NE(other.samples, one.samples);
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(::testing::Message() << threads << " threads vs 1");
    const ThreadCount scope(threads);
    expect_same_bits(npe_run(Device::cpu()), one);
  }
}

TEST(Determinism, NleTrainingAndMcmcSamplingSameBitsForAnyThreadCount) {
  const RunBits one = [] {
    const ThreadCount scope(1);
    return nle_mcmc_run(Device::cpu());
  }();
  ASSERT_GE(one.training_loss.size(), 2u);
  ASSERT_EQ(one.samples.size(), 400u);
  const RunBits other = nle_mcmc_run(Device::cpu(), 90);
  EXPECT_NE(other.weights, one.weights);
  EXPECT_NE(other.samples, one.samples);
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(::testing::Message() << threads << " threads vs 1");
    const ThreadCount scope(threads);
    expect_same_bits(nle_mcmc_run(Device::cpu()), one);
  }
}

TEST(Determinism, CudaRunsRepeatBitForBit) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda(0);
  expect_same_bits(npe_run(gpu), npe_run(gpu));
  expect_same_bits(nle_mcmc_run(gpu), nle_mcmc_run(gpu));
}

}  // namespace
}  // namespace cusbi
