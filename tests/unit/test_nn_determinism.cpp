// Same inputs, same bits, whatever the OpenMP thread count: ResidualNet and Linear forward and
// backward on the CPU run with 1, 2 and 3 threads at a batch that spans several GEMM and
// column-sum chunks, and every output and gradient must match exactly (DESIGN: deterministic by
// default). Eigen's own threaded GEMM failed this for every weight gradient.
#include <omp.h>

#include <utility>
#include <vector>

#include "host/cpu/gemm.hpp"
#include "kernels/nn.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

// Sets the OpenMP thread count for its scope and restores the previous one, so that a failing
// assertion leaves the other tests with the thread count they started with.
class ThreadCount {
 public:
  explicit ThreadCount(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ThreadCount() { omp_set_num_threads(saved_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int saved_;
};

struct NetRun {
  std::vector<float> out, grads, dx, dc;
};

NetRun run_net(const ResidualNetOptions& o, int64_t batch, int threads) {
  const ThreadCount scope(threads);
  // Same seed every run: same parameters, inputs and upstream gradient.
  Generator gen(11);
  ResidualNet net(o, Device::cpu(), &gen);
  const Tensor x = randn({batch, o.in_features}, Device::cpu(), &gen);
  const Tensor c =
      o.context_features > 0 ? randn({batch, o.context_features}, Device::cpu(), &gen) : Tensor();
  const Tensor g = randn({batch, o.out_features}, Device::cpu(), &gen);
  NetRun r;
  r.out = net.forward(x, c).to_vector();
  Tensor dc;
  r.dx = net.backward(g, o.context_features > 0 ? &dc : nullptr).to_vector();
  if (dc.defined()) r.dc = dc.to_vector();
  r.grads = net.gradients().to_vector();
  return r;
}

void expect_same_bits_for_any_thread_count(const ResidualNetOptions& o, int64_t batch) {
  const NetRun one = run_net(o, batch, 1);
  for (int threads : {2, 3}) {
    SCOPED_TRACE(::testing::Message()
                 << threads << " threads vs 1, context " << o.context_features);
    const NetRun many = run_net(o, batch, threads);
    EXPECT_EQ(many.out, one.out);
    EXPECT_EQ(many.grads, one.grads);
    EXPECT_EQ(many.dx, one.dx);
    EXPECT_EQ(many.dc, one.dc);
  }
}

// The defect's reproduction: ResidualNet {in 3, out 29, hidden 128, C 5, 2 blocks}, B = 4000.
constexpr int64_t kBatch = 4000;

TEST(NnDeterminism, BatchSpansSeveralChunks) {
  // Otherwise the tests below would not exercise the multi-threaded split.
  EXPECT_GE(cpu::gemm_chunks(kBatch), 8);
  EXPECT_GE(cpu::weight_grad_chunks(kBatch, 128 * 128), 8);
  EXPECT_GE(kern::colsum_chunks(kBatch), 8);
}

TEST(NnDeterminism, WeightGradientPartialsAreNoBiggerThanTheirInputs) {
  // The per-chunk partials of dW (out, in) must fit in the memory of dy (B, out) and x (B, in).
  for (const int64_t batch : {1000, 10000, 100000})
    for (const auto& [out, in] : {std::pair<int64_t, int64_t>{1024, 1024}, {4096, 16}, {29, 128}})
      EXPECT_LE(cpu::weight_grad_scratch(batch, out * in), batch * (out + in))
          << "batch " << batch << ", weight (" << out << ", " << in << ")";
}

TEST(NnDeterminism, ResidualNetWithContextIgnoresThreadCount) {
  expect_same_bits_for_any_thread_count({3, 29, 128, 5, 2}, kBatch);
}

TEST(NnDeterminism, ResidualNetWithoutContextIgnoresThreadCount) {
  expect_same_bits_for_any_thread_count({3, 29, 64, 0, 2}, kBatch);
}

TEST(NnDeterminism, LinearIgnoresThreadCount) {
  auto run = [](int threads) {
    const ThreadCount scope(threads);
    Generator gen(12);
    ParameterSet ps;
    const Linear lin(ps, "l", 96, 80);
    ps.materialize(Device::cpu(), gen);
    const Tensor x = randn({kBatch, 96}, Device::cpu(), &gen);
    const Tensor dy = randn({kBatch, 80}, Device::cpu(), &gen);
    Tensor y = Tensor::empty({kBatch, 80}, Device::cpu());
    Tensor dx = Tensor::empty({kBatch, 96}, Device::cpu());
    lin.forward(ps, x, y);
    lin.backward(ps, x, dy, &dx);
    return std::vector<std::vector<float>>{y.to_vector(), dx.to_vector(), ps.grads().to_vector()};
  };
  const auto one = run(1);
  EXPECT_EQ(run(2), one);
  EXPECT_EQ(run(3), one);
}

}  // namespace
}  // namespace cusbi
