// The slice sampler's step on the GPU (kernels/slice.cu) vs its CPU twin (host/cpu/slice.cpp):
// the same settings, seed and starts, each side's proposals evaluated on the host by the same
// analytic potential, must leave the same chain state after every iteration. Skipped, and
// reported as skipped, without a GPU.
#include <limits>
#include <vector>

#include "host/cpu/slice.hpp"
#include "kernels/api/slice.h"
#include "support/slice_test_chains.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using kern::SliceSettings;
using testing::HostSliceChains;

// Every chain field as a device tensor (draws are uint64: stored as Int64 of the same bits).
struct DeviceSliceChains {
  DeviceSliceChains(const SliceSettings& s, int64_t chains)
      : x(zeros({chains, s.dim}, DType::Float64)),
        width(zeros({chains, s.dim}, DType::Float64)),
        bracket(zeros({chains, kern::kSliceBracketFields}, DType::Float64)),
        order(zeros({chains, s.dim}, DType::Int32)),
        coord(zeros({chains}, DType::Int32)),
        state(zeros({chains}, DType::Int32)),
        budget(zeros({chains, 2}, DType::Int32)),
        sweep(zeros({chains}, DType::Int64)),
        fault(zeros({chains}, DType::Int64)),
        draws(zeros({chains}, DType::Int64)),
        proposal(zeros({chains, s.dim}, DType::Float32)),
        samples(zeros({chains, s.kept, s.dim}, DType::Float32)),
        counters(zeros({kern::kSliceCounters}, DType::Int64)) {}

  static Tensor zeros(const Shape& shape, DType dtype) {
    return Tensor::zeros(shape, dtype, Device::cuda());
  }
  kern::SliceChains view() const {
    return {x.data_as<double>(),
            width.data_as<double>(),
            order.data_as<int32_t>(),
            bracket.data_as<double>(),
            coord.data_as<int32_t>(),
            state.data_as<int32_t>(),
            budget.data_as<int32_t>(),
            sweep.data_as<int64_t>(),
            reinterpret_cast<uint64_t*>(draws.data_as<int64_t>()),
            proposal.data(),
            samples.data(),
            fault.data_as<int64_t>()};
  }
  void copy_to(HostSliceChains& h) const {
    h.x = x.to_vector_as<double>();
    h.width = width.to_vector_as<double>();
    h.bracket = bracket.to_vector_as<double>();
    h.order = order.to_vector_as<int32_t>();
    h.coord = coord.to_vector_as<int32_t>();
    h.state = state.to_vector_as<int32_t>();
    h.budget = budget.to_vector_as<int32_t>();
    h.sweep = sweep.to_vector_as<int64_t>();
    h.fault = fault.to_vector_as<int64_t>();
    const std::vector<int64_t> d = draws.to_vector_as<int64_t>();
    h.draws.assign(d.begin(), d.end());
    h.proposal = proposal.to_vector();
    h.samples = samples.to_vector();
    h.counters = counters.to_vector_as<int64_t>();
  }

  Tensor x, width, bracket, order, coord, state, budget, sweep, fault, draws, proposal, samples,
      counters;
};

// Doubles within 1e-13 of max(1, |value|), floats within one float ulp, everything discrete
// equal. Both sides run the same double operations of kernels/slice.h, but g++ (-march with FMA)
// and nvcc (-fmad on) may each fuse a*b+c where the other does not, and CUDA's log is within an
// ulp of glibc's: positions and widths can differ by a few ulp, which does not grow (each update
// recomputes the coordinate from its bracket). The slice-level comparisons would flip only for a
// float32 potential within an ulp of a double level: never in these runs, so the chains take the
// same path and the random draws, orders, sweeps and counters are compared exactly.
constexpr double kRel = 1e-13;

void check_parity(int64_t chains, int32_t dim) {
  SCOPED_TRACE(::testing::Message() << chains << " chains, dim " << dim);
  SliceSettings s;
  s.dim = dim;
  s.tuning = 5;
  s.sweeps = 5 + 20;
  s.thin = 2;
  s.warmup = 3;
  s.kept = 10 - 3;  // 20 recorded sweeps, every other one kept, the first 3 of those dropped
  s.max_width = std::numeric_limits<double>::infinity();
  const double init_width = 0.05;
  const uint64_t seed = 0xDEADBEEFCAFEF00DULL, base = 17;  // high key bits; a non-zero base
  const std::vector<float> init = testing::slice_test_init(chains, dim, 100 + chains + dim);

  HostSliceChains on_cpu(s, chains), on_gpu(s, chains);
  DeviceSliceChains dev(s, chains);
  cpu::slice_start(s, on_cpu.view(), chains, init.data(), init_width, seed, base);
  const Tensor init_dev = Tensor::from(init, {chains, dim}, Device::cuda());
  cuda::slice_start(s, dev.view(), chains, init_dev.data(), init_width, seed, base);
  Tensor lp_dev = Tensor::zeros({chains}, Device::cuda());

  const int64_t kMaxIterations = 20000;  // lockstep runs need ~1-2k here
  int64_t it = 0;
  for (;; ++it) {
    const bool finished = on_cpu.counters[0] == chains || it == kMaxIterations;
    if (it % 64 == 0 || finished) {
      dev.copy_to(on_gpu);
      ASSERT_TRUE(testing::same_slice_chains(on_gpu, on_cpu, kRel)) << "after iteration " << it;
    }
    if (finished) break;
    const std::vector<float> lp_cpu = testing::slice_test_potential(on_cpu.proposal, dim);
    cpu::slice_step(s, on_cpu.view(), chains, lp_cpu.data(), seed, base, on_cpu.counters.data());
    // The GPU's own proposals are evaluated, so a divergence shows up instead of being fed over.
    const std::vector<float> lp_gpu = testing::slice_test_potential(dev.proposal.to_vector(), dim);
    lp_dev.copy_(Tensor::from(lp_gpu, {chains}, Device::cpu()));
    cuda::slice_step(s, dev.view(), chains, lp_dev.data(), seed, base,
                     dev.counters.data_as<int64_t>());
  }
  EXPECT_LT(it, kMaxIterations);
  EXPECT_EQ(on_cpu.counters[0], chains);
  EXPECT_EQ(on_cpu.counters[1], chains * s.sweeps);  // no chain failed (the starts are finite)
  for (int64_t c = 0; c < chains; ++c) EXPECT_EQ(on_cpu.state[c], kern::kSliceDone);
}

TEST(SliceParity, CpuAndCudaChainsAgree) {
  CUSBI_REQUIRE_GPU();
  for (const int64_t chains : {1, 7, 33, 1000})
    for (const int32_t dim : {1, 3}) check_parity(chains, dim);
}

}  // namespace
}  // namespace cusbi
