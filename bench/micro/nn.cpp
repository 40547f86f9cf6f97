// Micro benchmarks of the network layers: Linear and ResidualNet forward+backward on the CPU and
// on CUDA, and "eigen_sgemm", the same sequence of GEMMs done by plain Eigen with the same
// threads: ResidualNet's GFLOP rate over eigen_sgemm's says how close the layer code gets to the
// GEMM it is built on. Counters: items_per_second = samples/s, "GFLOP" = GFLOP/s. Shapes are
// those of a spline-flow conditioner (in=1, out=29 = 3*10-1 spline parameters for 10 bins,
// 2 blocks). GPU runs synchronise every iteration, so the times include the whole GPU work.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"

namespace {

using cusbi::Device;
using cusbi::Tensor;

constexpr int64_t kIn = 1;      // spline conditioner: one transformed feature ...
constexpr int64_t kOut = 29;    // ... mapped to 3 * 10 - 1 spline parameters
constexpr int64_t kBlocks = 2;  // sbi's default num_blocks

// One dense layer y(B, out) = x(B, in) W^T; `needs_dx` when its input gradient is used.
struct Gemm {
  int64_t in, out;
  bool needs_dx;
};

// The GEMMs of ResidualNet forward+backward: initial Linear on [inputs ; context], per block two
// hidden Linears plus the context gating Linear, final Linear. The input gradient is needed for
// the hidden and final layers; the gating layers' is not (no context gradient is requested) and
// the initial layer's only for its `in` input columns.
std::vector<Gemm> residualnet_gemms(int64_t hidden, int64_t context) {
  std::vector<Gemm> gemms{{kIn + context, hidden, false}};
  for (int64_t b = 0; b < kBlocks; ++b) {
    gemms.push_back({hidden, hidden, true});
    gemms.push_back({hidden, hidden, true});
    if (context > 0) gemms.push_back({context, hidden, false});
  }
  gemms.push_back({hidden, kOut, true});
  return gemms;
}

// Exact multiply-add count (x2) of forward (x W^T), weight gradient (dy^T x) and the needed
// input gradients (dy W). Bias adds and elementwise work are not counted.
double fwd_bwd_flops(const std::vector<Gemm>& gemms, int64_t batch) {
  double flops = 0;
  for (const Gemm& g : gemms) flops += 2.0 * 2.0 * batch * g.in * g.out;  // forward + dW
  for (const Gemm& g : gemms)
    if (g.needs_dx) flops += 2.0 * batch * g.in * g.out;
  flops += 2.0 * batch * kIn * gemms.front().out;  // initial layer: dx for the inputs only
  return flops;
}

void set_counters(benchmark::State& state, int64_t batch, double flops) {
  state.SetItemsProcessed(state.iterations() * batch);  // items_per_second = samples/s
  state.counters["GFLOP"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

bool skip_without_gpu(benchmark::State& state, const Device& device) {
  if (device.is_cuda() && !cusbi::cuda_available()) {
    state.SkipWithError("no GPU");
    return true;
  }
  return false;
}

// args: batch, hidden width (in = out).
void linear_fwd_bwd(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t batch = state.range(0), width = state.range(1);
  cusbi::Generator generator(0);
  cusbi::ParameterSet params;
  const cusbi::Linear linear(params, "linear", width, width);
  params.materialize(device, generator);
  const Tensor x = cusbi::randn({batch, width}, device, &generator);
  const Tensor dy = cusbi::randn({batch, width}, device, &generator);
  Tensor y = Tensor::empty({batch, width}, device);
  Tensor dx = Tensor::empty({batch, width}, device);
  for (auto _ : state) {
    linear.forward(params, x, y);
    linear.backward(params, x, dy, &dx);
    cusbi::synchronize(device);
  }
  set_counters(state, batch, 3.0 * 2.0 * batch * width * width);
}

// args: batch, hidden width, context features.
void residualnet_fwd_bwd(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t batch = state.range(0), hidden = state.range(1), context = state.range(2);
  cusbi::Generator generator(0);
  cusbi::ResidualNet net({.in_features = kIn,
                          .out_features = kOut,
                          .hidden_features = hidden,
                          .context_features = context,
                          .num_blocks = kBlocks},
                         device, &generator);
  const Tensor inputs = cusbi::randn({batch, kIn}, device, &generator);
  const Tensor ctx = cusbi::randn({batch, context}, device, &generator);
  const Tensor grad_output = cusbi::randn({batch, kOut}, device, &generator);
  for (auto _ : state) {
    net.forward(inputs, ctx);
    net.backward(grad_output);
    cusbi::synchronize(device);
  }
  set_counters(state, batch, fwd_bwd_flops(residualnet_gemms(hidden, context), batch));
}

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The GEMMs of residualnet_fwd_bwd alone, row-major like cusbi's tensors, buffers allocated once.
void eigen_sgemm(benchmark::State& state) {
  const int64_t batch = state.range(0), hidden = state.range(1), context = state.range(2);
  const std::vector<Gemm> gemms = residualnet_gemms(hidden, context);
  struct Buffers {
    RowMatrix x, w, y, dy, dw, dx;
  };
  std::vector<Buffers> buffers;
  for (const Gemm& g : gemms)
    buffers.push_back({RowMatrix::Random(batch, g.in), RowMatrix::Random(g.out, g.in),
                       RowMatrix(batch, g.out), RowMatrix::Random(batch, g.out),
                       RowMatrix(g.out, g.in), RowMatrix(batch, g.in)});
  for (auto _ : state) {
    for (size_t i = 0; i < gemms.size(); ++i) {
      Buffers& b = buffers[i];
      b.y.noalias() = b.x * b.w.transpose();
      b.dw.noalias() = b.dy.transpose() * b.x;
      if (gemms[i].needs_dx) b.dx.noalias() = b.dy * b.w;
    }
    // The initial layer's input gradient, inputs columns only.
    buffers[0].dx.leftCols(kIn).noalias() = buffers[0].dy * buffers[0].w.leftCols(kIn);
    benchmark::DoNotOptimize(buffers.back().dx.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, batch, fwd_bwd_flops(gemms, batch));
  // A label, not a counter: the CSV reporter wants every run to have the same counters.
  state.SetLabel("eigen threads: " + std::to_string(Eigen::nbThreads()));
}

const std::vector<int64_t> kBatches{200, 1000, 10000, 100000};

void linear_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "width"})->ArgsProduct({kBatches, {50, 64}});
}

// (hidden 50, context 2): sbi's default conditioner for a 2-d problem; (64, 8): a wider one.
void residualnet_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"batch", "hidden", "context"});
  for (int64_t batch : kBatches) {
    b->Args({batch, 50, 2});
    b->Args({batch, 64, 8});
  }
}

}  // namespace

BENCHMARK_CAPTURE(linear_fwd_bwd, cpu, Device::cpu())->Apply(linear_args)->UseRealTime();
BENCHMARK_CAPTURE(linear_fwd_bwd, cuda, Device::cuda(0))->Apply(linear_args)->UseRealTime();
BENCHMARK_CAPTURE(residualnet_fwd_bwd, cpu, Device::cpu())->Apply(residualnet_args)->UseRealTime();
BENCHMARK_CAPTURE(residualnet_fwd_bwd, cuda, Device::cuda(0))
    ->Apply(residualnet_args)
    ->UseRealTime();
BENCHMARK(eigen_sgemm)->Apply(residualnet_args)->UseRealTime();

BENCHMARK_MAIN();
