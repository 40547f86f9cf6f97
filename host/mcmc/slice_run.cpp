// SliceRun: the lockstep loop of the many-chain slice sampler. Per iteration: potential at the
// proposals (one batched call), then one step over all chains. The loop cannot know which
// chains are done without reading the device, so it reads the event counters after the first
// iteration (an all-NaN potential fails every chain there), then not before the earliest
// iteration at which every chain could be done (each coordinate update takes at least 3
// evaluations), then every kCheckEvery iterations: a run of I iterations waits for the device
// about 2 + (I - earliest) / kCheckEvery times and runs at most kCheckEvery - 1 idle iterations.
#include "host/mcmc/slice_run.hpp"

#include <algorithm>
#include <limits>

#include "cusbi/error.hpp"
#include "host/cpu/slice.hpp"
#include "kernels/api/slice.h"
#include "kernels/cuda_api.h"

namespace cusbi::mcmc {

namespace {

// Iterations between the host's reads of the counters on a GPU. An iteration costs a flow
// evaluation (tens of launches); a read costs one round trip (~10-20 us). 8 keeps both the idle
// iterations at the end (< 8) and the round trips (1 per 8 iterations) small.
constexpr int64_t kCheckEvery = 8;

}  // namespace

SliceRun::SliceRun(int64_t chains, int64_t dim, int64_t kept, Device device)
    : chains_(chains), dim_(dim), device_(device) {
  x_ = Tensor::empty({chains, dim}, DType::Float64, device);
  width_ = Tensor::empty({chains, dim}, DType::Float64, device);
  bracket_ = Tensor::empty({chains, kern::kSliceBracketFields}, DType::Float64, device);
  order_ = Tensor::empty({chains, dim}, DType::Int32, device);
  coord_ = Tensor::empty({chains}, DType::Int32, device);
  state_ = Tensor::empty({chains}, DType::Int32, device);
  budget_ = Tensor::zeros({chains, 2}, DType::Int32, device);
  sweep_ = Tensor::empty({chains}, DType::Int64, device);
  fault_ = Tensor::empty({chains}, DType::Int64, device);
  draws_ = Tensor::empty({chains}, DType::Int64, device);
  counters_ = Tensor::zeros({kern::kSliceCounters}, DType::Int64, device);
  proposal_ = Tensor::empty({chains, dim}, device);
  lp_ = Tensor::empty({chains}, device);
  samples_ = Tensor::zeros({chains, kept, dim}, device);
}

kern::SliceChains SliceRun::pointers() {
  kern::SliceChains ch;
  ch.x = x_.data_as<double>();
  ch.width = width_.data_as<double>();
  ch.order = order_.data_as<int32_t>();
  ch.bracket = bracket_.data_as<double>();
  ch.coord = coord_.data_as<int32_t>();
  ch.state = state_.data_as<int32_t>();
  ch.budget = budget_.data_as<int32_t>();
  ch.sweep = sweep_.data_as<int64_t>();
  ch.draws = reinterpret_cast<uint64_t*>(draws_.data_as<int64_t>());
  ch.proposal = proposal_.data();
  ch.samples = samples_.data();
  ch.fault = fault_.data_as<int64_t>();
  return ch;
}

SliceRunStats SliceRun::run(Potential& potential, const Tensor& init,
                            const kern::SliceSettings& settings, double init_width, uint64_t seed,
                            uint64_t base, ProgressLine& progress) {
  CUSBI_CHECK(potential.device() == device_,
              "MCMC: the potential is on " << potential.device().str() << " but the chains run on "
                                           << device_.str() << "; build both on one device");
  CUSBI_CHECK(init.dim() == 2 && init.size(0) == chains_ && init.size(1) == dim_ &&
                  init.device() == device_,
              "MCMC: initial points " << shape_str(init.shape()) << " do not match " << chains_
                                      << " chains of dimension " << dim_);
  const kern::SliceChains ch = pointers();
  const bool cpu = device_.is_cpu();
  counters_.zero_();
  if (cpu) {
    cpu::slice_start(settings, ch, chains_, init.data(), init_width, seed, base);
  } else {
    cuda::set_device(device_.index());
    cuda::slice_start(settings, ch, chains_, init.data(), init_width, seed, base);
  }
  // Each coordinate update takes >= 3 iterations (4 without reuse_value), so no chain finishes
  // earlier than this.
  const int64_t earliest = 3 * settings.sweeps * settings.dim;
  // Stepping out and shrinking are capped, so an update takes at most this many iterations.
  const int64_t per_update = 2 + kern::kSliceMaxStepOut + kern::kSliceMaxShrink + 1;
  const int64_t latest = per_update * settings.sweeps * settings.dim + 1;

  SliceRunStats stats;
  int64_t host_counts[kern::kSliceCounters] = {};
  int64_t next_check = 1;
  for (;;) {
    potential.evaluate(proposal_, lp_);
    if (cpu)
      cpu::slice_step(settings, ch, chains_, lp_.data(), seed, base, counters_.data_as<int64_t>());
    else
      cuda::slice_step(settings, ch, chains_, lp_.data(), seed, base, counters_.data_as<int64_t>());
    ++stats.iterations;
    if (!cpu && stats.iterations < next_check) continue;
    if (cpu) {
      std::copy_n(counters_.data_as<int64_t>(), kern::kSliceCounters, host_counts);
    } else {
      const std::vector<int64_t> read = counters_.to_vector_as<int64_t>();
      std::copy(read.begin(), read.end(), host_counts);
      ++stats.host_round_trips;
      next_check = std::max(earliest, stats.iterations + kCheckEvery);
    }
    progress.update(host_counts[1]);
    if (host_counts[0] == chains_) break;
    CUSBI_CHECK(stats.iterations <= latest, "MCMC: the slice sampler ran "
                                                << stats.iterations
                                                << " iterations, more than its bound; this is a "
                                                   "bug in cusbi, please report it");
  }
  stats.capped = host_counts[2];
  stats.stalled = host_counts[3];
  if (host_counts[4] > 0) {  // one read of the fault records, only when some chain failed
    const std::vector<int64_t> fault = fault_.to_vector_as<int64_t>();
    if (!cpu) ++stats.host_round_trips;
    for (int64_t c = 0; c < chains_; ++c)
      if (fault[c] >= 0) stats.faults.push_back({c, fault[c] / dim_, fault[c] % dim_});
  }
  return stats;
}

}  // namespace cusbi::mcmc
