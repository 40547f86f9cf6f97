// The execution layer (host/exec/): the workspace grows only for a bigger batch and carves
// aligned pieces whose count-only size is the real size; the runner's row parts give the same
// bits for any thread count (flow and ResidualNet) and ResidualNet's parted results match one
// program over the whole batch; the pool finishes a job when a worker never shows up.
#include <omp.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "host/allocation_counter.hpp"
#include "host/cpu/nn.hpp"
#include "host/exec/row_parts.hpp"
#include "host/exec/thread_pool.hpp"
#include "host/exec/workspace.hpp"
#include "host/nn/residual_program.hpp"
#include "support/test_support.hpp"

namespace cusbi::testing {
namespace {

// Restores the thread count a test changed.
struct Threads {
  explicit Threads(int n) : before(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(before); }
  int before;
};

TEST(ExecWorkspace, CarvesAlignedPiecesAndCountsTheSameSize) {
  exec::Carver<float> count;
  for (const int64_t n : {1, 17, 0, 33, 16}) count.take(n);
  EXPECT_EQ(count.used, 16 + 32 + 0 + 48 + 16);
  exec::Workspace ws;
  float* base = ws.reserve(count.used, Device::cpu());
  exec::Carver<float> carve{base};
  for (const int64_t n : {1, 17, 0, 33, 16}) {
    const float* p = carve.take(n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u)
        << "piece of " << n << " not 64-byte aligned";
  }
  EXPECT_EQ(carve.used, count.used);
}

TEST(ExecWorkspace, GrowsOnlyForABiggerBatch) {
  exec::Workspace ws;
  const int64_t before = detail::allocation_count();
  float* first = ws.reserve(1000, Device::cpu());
  EXPECT_EQ(detail::allocation_count(), before + 1);
  EXPECT_EQ(ws.reserve(1000, Device::cpu()), first);
  EXPECT_EQ(ws.reserve(10, Device::cpu()), first) << "a smaller request must reuse the buffer";
  EXPECT_EQ(detail::allocation_count(), before + 1);
  ws.reserve(1001, Device::cpu());
  EXPECT_EQ(detail::allocation_count(), before + 2);
  EXPECT_GE(ws.tensor().numel(), 1001);
}

using testing::small_flow;

// loss, the parameter gradients and the input gradient of one training step.
std::vector<std::vector<float>> flow_step(NeuralSplineFlow& flow, const Tensor& theta,
                                          const Tensor& x, const Tensor& g) {
  flow.zero_grad();
  std::vector<std::vector<float>> r{flow.loss(theta, x).to_vector()};
  Tensor gi;
  flow.backward(g, &gi);
  r.push_back(flow.gradients().to_vector());
  r.push_back(gi.to_vector());
  return r;
}

// The output, the parameter gradients and the input and context gradients of one step.
std::vector<std::vector<float>> net_step(ResidualNet& net, const Tensor& x, const Tensor& c,
                                         const Tensor& g) {
  net.zero_grad();
  std::vector<std::vector<float>> r{net.forward(x, c).to_vector()};
  Tensor gc;
  r.push_back(net.backward(g, &gc).to_vector());
  r.push_back(gc.to_vector());
  r.push_back(net.gradients().to_vector());
  return r;
}

TEST(ExecRunner, SameBitsForOneOrTwoThreadsAtSbiBatch) {
  const int64_t B = 200;  // sbi's training batch: 2 parts
  ASSERT_EQ(exec::row_parts(B), 2);
  Generator gen(11);
  const Tensor theta = randn({B, 3}, Device::cpu(), &gen), x = randn({B, 2}, Device::cpu(), &gen);
  const Tensor gl = rand({B}, Device::cpu(), &gen);
  NeuralSplineFlow flow = small_flow();
  ResidualNet net({3, 7, 32, 4, 2}, Device::cpu(), &gen);
  const Tensor nx = randn({B, 3}, Device::cpu(), &gen), nc = randn({B, 4}, Device::cpu(), &gen);
  const Tensor ng = randn({B, 7}, Device::cpu(), &gen);
  std::vector<std::vector<std::vector<float>>> flows, nets;
  for (const int threads : {1, 2}) {
    Threads t(threads);
    flows.push_back(flow_step(flow, theta, x, gl));
    nets.push_back(net_step(net, nx, nc, ng));
  }
  EXPECT_EQ(flows[0], flows[1]);
  EXPECT_EQ(nets[0], nets[1]);
}

TEST(ExecRunner, LargeBatchesSameBitsForAnyThreadCount) {
  // Above kMaxPartedRows the batch runs as one program whose GEMMs, column sums and spline
  // passes each split into fixed chunks claimed by the pool's threads.
  const int64_t B = exec::kMaxPartedRows + 808;
  ASSERT_EQ(exec::row_parts(B), 1);
  Generator gen(15);
  const Tensor theta = randn({B, 3}, Device::cpu(), &gen), x = randn({B, 2}, Device::cpu(), &gen);
  const Tensor gl = rand({B}, Device::cpu(), &gen);
  NeuralSplineFlow flow = small_flow();
  ResidualNet net({3, 29, 50, 5, 2}, Device::cpu(), &gen);
  const Tensor nx = randn({B, 3}, Device::cpu(), &gen), nc = randn({B, 5}, Device::cpu(), &gen);
  const Tensor ng = randn({B, 29}, Device::cpu(), &gen);
  std::vector<std::vector<std::vector<float>>> flows, nets;
  for (const int threads : {1, 2, 3}) {
    Threads t(threads);
    flows.push_back(flow_step(flow, theta, x, gl));
    nets.push_back(net_step(net, nx, nc, ng));
  }
  EXPECT_EQ(flows[0], flows[1]);
  EXPECT_EQ(flows[0], flows[2]);
  EXPECT_EQ(nets[0], nets[1]);
  EXPECT_EQ(nets[0], nets[2]);
}

TEST(ExecRunner, ResidualNetPartsMatchOneProgramOverTheBatch) {
  const int64_t B = 300;  // 4 parts of 75 rows
  ASSERT_EQ(exec::row_parts(B), 4);
  const ResidualNetOptions o{3, 7, 32, 4, 2};
  Generator gen(12);
  ResidualNet net(o, Device::cpu(), &gen);
  const Tensor x = randn({B, 3}, Device::cpu(), &gen), c = randn({B, 4}, Device::cpu(), &gen);
  const Tensor g = randn({B, 7}, Device::cpu(), &gen);
  const std::vector<std::vector<float>> parted = net_step(net, x, c, g);

  // The same math as one program over all rows, as before the runner cut batches.
  using Program = nn::ResidualNetProgram<cpu::CpuExec<float>>;
  Program program(nn::find_residual_net(o, net.parameter_set(), ""));
  std::vector<float> ws(size_t(Program::workspace_numel(program.layout(), B)) + 16);
  float* aligned = ws.data() + (16 - reinterpret_cast<uintptr_t>(ws.data()) / 4 % 16) % 16;
  net.zero_grad();
  program.bind(net.parameters().data(), net.gradients().data(), aligned, B);
  cpu::CpuExec<float> ex;
  program.forward(ex, x.data(), c.data());
  const std::vector<float> out(program.buf.out, program.buf.out + B * 7);
  program.backward(ex, x.data(), c.data(), g.data(), true);
  const std::vector<float> dx(program.buf.dx, program.buf.dx + B * 3);
  const std::vector<float> dc(program.buf.dc, program.buf.dc + B * 4);
  // Each row's output and input gradients are the same operations on the same values; only
  // Eigen's blocking of a 75-row vs a 300-row GEMM may round differently (a few ulp).
  EXPECT_TRUE(all_close(parted[0], out, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(parted[1], dx, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(parted[2], dc, 1e-6, 1e-5));
  // Parameter gradients sum 300 rows' terms as 4 partials of 75 instead of the GEMM's own
  // chunks: float rounding of a 300-term sum, ~1e-6 of the largest terms; a lost or doubled
  // part would change them by ~25%.
  EXPECT_TRUE(all_close(parted[3], net.gradients().to_vector(), 1e-5, 1e-4));
}

TEST(ExecRunner, CpuFlowHotPathsAllocateNothingOnceSized) {
  NeuralSplineFlow flow = small_flow();
  Generator gen(14);
  const Tensor in = randn({8, 100, 3}, Device::cpu(), &gen);
  const Tensor cond = randn({100, 2}, Device::cpu(), &gen);
  Tensor out = Tensor::empty({8, 100}, Device::cpu());
  const Tensor theta = randn({300, 3}, Device::cpu(), &gen),
               x = randn({300, 2}, Device::cpu(), &gen);
  Tensor loss = Tensor::empty({300}, Device::cpu());
  const Tensor grad = Tensor::full({300}, 1.0f / 300, Device::cpu());
  flow.set_check_training_inputs(false);  // as the trainer
  flow.log_prob(in, cond, out);
  flow.loss(theta, x, loss);
  flow.backward(grad);  // sizes the gradient partials of 4 parts
  const int64_t before = detail::allocation_count();
  for (int i = 0; i < 3; ++i) {
    flow.log_prob(in, cond, out);
    flow.zero_grad();
    flow.loss(theta, x, loss);
    flow.backward(grad);
  }
  EXPECT_EQ(detail::allocation_count(), before) << "a repeated step allocated";
  // A smaller batch (2 parts instead of 4) fits in what is there.
  Tensor small_loss = loss.slice_rows(0, 200);
  flow.loss(theta.slice_rows(0, 200), x.slice_rows(0, 200), small_loss);
  flow.backward(grad.slice_rows(0, 200));
  EXPECT_EQ(detail::allocation_count(), before) << "a smaller batch allocated";
}

TEST(ExecPool, FinishesAJobWhenAWorkerNeverShowsUp) {
  Threads t(2);
  exec::ThreadPool& pool = exec::ThreadPool::instance();
  std::vector<std::atomic<int>> runs(64);
  auto job = [&](int64_t i) { runs[size_t(i)].fetch_add(1); };
  exec::parallel_for(64, true, job);  // starts the worker
  pool.stall_worker_for_testing(0, true);
  const int64_t by_workers = pool.parts_run_by_workers();
  for (auto& r : runs) r = 0;
  exec::parallel_for(64, true, job);
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "part " << i;
  EXPECT_EQ(pool.parts_run_by_workers(), by_workers) << "the stalled worker ran a part";

  // A whole training step with the worker stalled: the caller runs every part, same bits.
  NeuralSplineFlow flow = small_flow();
  Generator gen(13);
  const Tensor theta = randn({200, 3}, Device::cpu(), &gen),
               x = randn({200, 2}, Device::cpu(), &gen);
  const Tensor gl = rand({200}, Device::cpu(), &gen);
  const auto stalled = flow_step(flow, theta, x, gl);
  pool.stall_worker_for_testing(0, false);
  // The released worker wakes late, for jobs that are over: it must claim nothing of them and
  // take part in the next jobs normally.
  for (auto& r : runs) r = 0;
  for (int rep = 0; rep < 50; ++rep) exec::parallel_for(64, true, job);
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 50) << "part " << i;
  EXPECT_EQ(flow_step(flow, theta, x, gl), stalled);
}

TEST(ExecPool, RethrowsAPartsExceptionAfterTheOtherParts) {
  Threads t(2);
  std::vector<std::atomic<int>> runs(8);
  EXPECT_THROW(exec::parallel_for(8, true,
                                  [&](int64_t i) {
                                    runs[size_t(i)] = 1;
                                    if (i == 3) throw std::runtime_error("part 3");
                                  }),
               std::runtime_error);
  for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i].load(), 1) << "part " << i;
  // The pool still works afterwards.
  std::atomic<int> sum{0};
  exec::parallel_for(8, true, [&](int64_t i) { sum += int(i); });
  EXPECT_EQ(sum.load(), 28);
}

TEST(ExecPool, NestedLoopsRunInlineInPartOrder) {
  Threads t(2);
  std::vector<std::vector<int64_t>> order(4);
  exec::parallel_for(4, true, [&](int64_t i) {
    EXPECT_TRUE(exec::in_parallel_job());
    exec::parallel_for(5, true, [&](int64_t j) { order[size_t(i)].push_back(j); });
  });
  for (const auto& o : order) EXPECT_EQ(o, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(exec::in_parallel_job());
}

}  // namespace
}  // namespace cusbi::testing
