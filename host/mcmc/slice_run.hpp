// One run of the many-chain slice sampler (kernels/slice.h) against a Potential: the chains'
// state lives in device buffers sized once per chain count; each lockstep iteration is one
// batched potential call on the proposals and one step over all chains (a CUDA kernel or the
// CPU twin). On the GPU the host reads the five event counters only every few iterations
// (kCheckEvery after the earliest possible finish), so the loop queues work without waiting.
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/potentials.hpp"
#include "cusbi/progress.hpp"
#include "cusbi/tensor.hpp"
#include "kernels/slice.h"

namespace cusbi::mcmc {

// A chain whose current point had a non-finite potential: at which sweep and coordinate.
struct ChainFault {
  int64_t chain, sweep, update;  // update: the i-th coordinate update of that sweep
};

struct SliceRunStats {
  int64_t iterations = 0, host_round_trips = 0, capped = 0, stalled = 0;
  std::vector<ChainFault> faults;  // in chain order
};

class SliceRun {
 public:
  // Buffers for `chains` chains of dimension `dim` storing `kept` samples each, on `device`.
  SliceRun(int64_t chains, int64_t dim, int64_t kept, Device device);

  // Runs every chain from init (C, D) float (z space) until all are done or failed, with the
  // potential evaluated on the proposals (potential.device() must be the run's device).
  // Randomness: chain c draws Philox numbers keyed by (seed, c, base + draw). The progress line
  // (may be inactive) advances by completed sweeps.
  SliceRunStats run(Potential& potential, const Tensor& init, const kern::SliceSettings& settings,
                    double init_width, uint64_t seed, uint64_t base, ProgressLine& progress);

  // (C, kept, D) float: the kept sweeps of the last run, z space, chain-major.
  const Tensor& samples() const { return samples_; }
  Device device() const { return device_; }
  // On the CPU the counters are read every iteration (free there); with sparse reads the CPU
  // follows the GPU's schedule instead, which lets tests check that schedule without a GPU.
  void set_sparse_reads(bool sparse) { sparse_reads_ = sparse; }

 private:
  kern::SliceChains pointers();

  int64_t chains_, dim_;
  Device device_;
  bool sparse_reads_ = false;
  Tensor x_, width_, bracket_;             // float64
  Tensor order_, coord_, state_, budget_;  // int32
  Tensor sweep_, fault_, counters_;        // int64
  Tensor draws_;                           // uint64 stored as int64
  Tensor proposal_, samples_, lp_;         // float32
};

}  // namespace cusbi::mcmc
