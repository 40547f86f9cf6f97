// SliceRun: the lockstep loop of the many-chain slice sampler. Per iteration: potential at the
// proposals (one batched call), then one step over all chains. The loop cannot know which
// chains are done without reading the device, so on a GPU it reads the event counters after the
// first iteration (an all-NaN potential fails every chain there), then not before the earliest
// iteration at which every chain could be done (each coordinate update takes at least 3
// evaluations), then at half the estimated remaining iterations (from the sweeps completed so
// far), spaced at least max(kCheckEvery, 1/kIdleShare of the run so far): about log2 of the
// run's length plus a few reads for the slowest chains' tail.
#include "host/mcmc/slice_run.hpp"

#include <algorithm>
#include <limits>

#include "cusbi/error.hpp"
#include "host/cpu/slice.hpp"
#include "kernels/api/slice.h"
#include "kernels/cuda_api.h"

namespace cusbi::mcmc {

namespace {

// The fewest iterations between the host's reads of the counters on a GPU: kCheckEvery, or
// 1/kIdleShare of the iterations so far. An iteration costs a flow evaluation (tens of
// launches); a read costs a round trip and lets the device's queue run dry. The chains finish
// at different times (the slowest lags the mean by some percent of the run), so the tail is read
// at this spacing: a few reads, and at most max(8, 1/64 of the run) idle iterations at the end.
constexpr int64_t kCheckEvery = 8;
constexpr int64_t kIdleShare = 64;

// The iteration of the next read: half of the iterations the sweeps still missing would take at
// the rate seen so far (iterations per completed sweep and chain), at least kCheckEvery ahead.
// Failed chains complete no more sweeps: their share is left out (an underestimate, so a read
// never comes late by more than kCheckEvery).
int64_t next_read(int64_t iterations, const int64_t* counts, int64_t sweeps, int64_t chains) {
  int64_t ahead = std::max(kCheckEvery, iterations / kIdleShare);
  const int64_t done = counts[1], failed = counts[4], alive = chains - failed;
  if (done > 0 && alive > 0) {
    const double per_sweep = double(iterations) * double(chains) / double(done);
    const double missing =
        double(std::max<int64_t>(0, (chains - failed) * sweeps - done)) / double(alive);
    ahead = std::max<int64_t>(ahead, static_cast<int64_t>(0.5 * per_sweep * missing));
  }
  return iterations + ahead;
}

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
  const bool sparse = !cpu || sparse_reads_;  // read the counters only now and then
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
    if (sparse && stats.iterations < next_check) continue;
    if (!sparse) {
      std::copy_n(counters_.data_as<int64_t>(), kern::kSliceCounters, host_counts);
    } else {
      const std::vector<int64_t> read = counters_.to_vector_as<int64_t>();
      std::copy(read.begin(), read.end(), host_counts);
      ++stats.host_round_trips;
      next_check =
          std::max(earliest, next_read(stats.iterations, host_counts, settings.sweeps, chains_));
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
    if (sparse) ++stats.host_round_trips;
    for (int64_t c = 0; c < chains_; ++c)
      if (fault[c] >= 0) stats.faults.push_back({c, fault[c] / dim_, fault[c] % dim_});
  }
  return stats;
}

}  // namespace cusbi::mcmc
