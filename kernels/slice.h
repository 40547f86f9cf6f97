// One chain's transition of sbi's vectorized slice sampler (SliceSamplerVectorized, spec
// mcmc_nre.md §2.1), written once for the CUDA kernel (kernels/slice.cu, a thread per chain) and
// the CPU loop (host/cpu/slice.cpp). Chains advance in lockstep: each iteration the potential is
// evaluated at every chain's `proposal` row, then slice_step consumes that value and writes the
// chain's next proposal. Coordinate-wise univariate slice sampling (Neal 2003): random bracket
// placement, stepping out, shrinkage toward the current point, a fresh random coordinate order
// per sweep, per-chain per-dimension widths tuned over the first `tuning` sweeps.
//
// Where this departs from sbi, and why:
// - A chain whose current point has potential -inf, +inf or NaN is marked failed (sbi would step
//   out forever on -inf); the host reports which chain and which sweep / coordinate.
// - Stepping out is capped at kSliceMaxStepOut steps per coordinate update, split between the
//   two ends by Neal's (2003, §4) uniform split J = floor(m V), K = m - 1 - J, which keeps the
//   transition exact; V comes from a separate random word, so the uniforms sbi draws are
//   unchanged. With tuned widths an update needs a few steps, so the cap binds about once in
//   kSliceMaxStepOut / (steps needed) updates, and then only narrows that one bracket.
// - Shrinkage is capped at kSliceMaxShrink rejections; a bracket shrunk that often (each
//   rejection shrinks it by a uniform factor, so about 2^-kSliceMaxShrink of its length is left)
//   has collapsed onto the current point in double precision, and the coordinate keeps its value.
//   The host reports such stalls (a potential that does not return the same value for the same
//   point is the usual cause).
// - MCMCPosterior sets reuse_value (SliceSettings): the current point's value is kept from its
//   acceptance instead of being evaluated again at the next update (same chains, fewer calls).
// - sbi's extra, discarded coordinate update after the last sweep is skipped: a chain is done
//   when its last sweep completes (the same samples, four or more fewer evaluations).
// - A NaN potential at a shrinkage proposal counts as outside the slice (sbi's `lp < logu` is
//   false for NaN, so sbi would accept the point and carry NaN on).
// - The slice level log p(x) + log(1 - u) is double; in sbi it becomes a float32 torch scalar
//   (the potential's dtype), so a comparison can differ when lp lies within about one float ulp
//   of the level (the golden fixtures, tools/sbi_slice_trajectory.py, are checked insensitive).
// Positions, widths and brackets are double (numpy's float64 in sbi); proposals are rounded to
// float for the float32 potential, as sbi's torch call does.
#pragma once
#include <cstdint>

#include "kernels/common.h"
#include "kernels/rng.h"

namespace cusbi::kern {

enum SliceState : int32_t {
  kSliceBegin = 0,   // proposal = x; the value is log p(x)
  kSliceLower = 1,   // proposal = x with coordinate k at lx
  kSliceUpper = 2,   // ... at ux
  kSliceShrink = 3,  // ... at xi, uniform in [lx, ux]
  kSliceDone = 4,    // all sweeps done
  kSliceFailed = 5,  // the current point's potential was not finite
};

constexpr int32_t kSliceMaxStepOut = 16384;
constexpr int32_t kSliceMaxShrink = 200;

// Fields of the per-chain bracket record (bracket[c * kSliceBracketFields + field]).
enum SliceBracketField : int32_t {
  kCxi = 0,   // coordinate k's value at the start of the update
  kWi = 1,    // the width used for this update
  kLogu = 2,  // slice level log p(x) + log(1 - u)
  kLx = 3,
  kUx = 4,
  kXi = 5,
  kLpx = 6,  // log p at the current point (known after its BEGIN or its acceptance)
  kSliceBracketFields = 7
};

// Events a step reports to the caller, which counts them (integer counts: exact in any order):
// counter e counts the steps whose result has bit 1 << e.
enum SliceEvent : int32_t {
  kSliceFinished = 1,  // the chain became Done or Failed
  kSliceSweep = 2,     // a sweep was completed
  kSliceCapped = 4,    // stepping out hit its cap in this update
  kSliceStalled = 8,   // shrinkage hit its cap
  kSliceFault = 16,    // the chain failed (also kSliceFinished)
};
constexpr int kSliceCounters = 5;  // the counters the loops keep, one per event bit above

struct SliceSettings {
  int32_t dim = 0;
  int32_t tuning = 50;   // width-tuning sweeps, not recorded (sbi's tuning)
  int64_t sweeps = 0;    // tuning + recorded sweeps per chain (sbi: tuning + W·T + ceil(N·T/C))
  int64_t thin = 1;      // every thin-th recorded sweep is kept
  int64_t warmup = 0;    // kept sweeps dropped first (sbi's warmup_steps W)
  int64_t kept = 0;      // kept sweeps stored per chain after the warm-up
  double max_width = 0;  // sbi's max_width (+inf): bracket ends stop beyond it from cxi
  // false: sbi's lockstep exactly, re-evaluating the current point at every coordinate update.
  // true: the value at the accepted point is kept and the next update begins at once, saving
  // one of the >= 4 evaluations per update. For a potential that returns the same value for the
  // same point the chains are identical either way (each chain draws the same uniforms in the
  // same order); only the iteration count drops. The spec (§2.3) notes the law is unchanged.
  bool reuse_value = false;
};

// Per-chain state, as structure-of-arrays over all chains; host or device pointers alike.
struct SliceChains {
  double* x;        // (C, D) current position
  double* width;    // (C, D) bracket widths
  int32_t* order;   // (C, D) this sweep's coordinate order
  double* bracket;  // (C, kSliceBracketFields)
  int32_t* coord;   // (C,) position i in order: the active coordinate is order[i]
  int32_t* state;   // (C,) SliceState
  int32_t* budget;  // (C, 2) step-outs left at the lower / upper end, or shrinks so far
  int64_t* sweep;   // (C,) completed sweeps t
  uint64_t* draws;  // (C,) draws taken from the chain's random stream
  float* proposal;  // (C, D) the point evaluated next
  float* samples;   // (C, kept, D) kept sweeps after the warm-up
  int64_t* fault;   // (C,) -1, or sweep·D + i where the current point was not finite
};

// The production random source: chain c's numbers are Philox blocks keyed by the run's seed,
// stream c + 1 and counter base + draw, so they depend on (seed, chain, draw) only (stream 0 is
// the generator's tensor draws; base is reserved from the generator per run). uniform() is a
// 53-bit double in [0, 1) (numpy's rand resolution); aux() is an independent uniform from the
// other words of the same block, for the step-out split.
struct ChainRandom {
  uint64_t seed, base;
  uint32_t chain;
  uint64_t* draws;
  double aux_value = 0.5;

  CUSBI_HD double uniform() {
    const Philox4 r = philox4x32(base + (*draws)++, chain, seed);
    aux_value = static_cast<double>((static_cast<uint64_t>(r.v[2]) << 21) ^ (r.v[3] >> 11)) *
                1.1102230246251565e-16;
    return static_cast<double>((static_cast<uint64_t>(r.v[0]) << 21) ^ (r.v[1] >> 11)) *
           1.1102230246251565e-16;  // (2^32 v0 + v1) >> 11 = 53 bits, times 2^-53
  }
  CUSBI_HD double aux() const { return aux_value; }  // of the last uniform()'s block
};

// A fresh uniformly random order of 0..D-1: Fisher-Yates from the top, one uniform per swap
// (sbi resets order to 0..D-1 and shuffles it; the test tool uses this same rule).
template <class Random>
CUSBI_HD void slice_shuffle(int32_t* order, int32_t dim, Random& random) {
  for (int32_t i = 0; i < dim; ++i) order[i] = i;
  for (int32_t i = dim - 1; i > 0; --i) {
    int32_t j = static_cast<int32_t>(random.uniform() * (i + 1));
    j = j > i ? i : j;
    const int32_t swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
}

// proposal row = x with coordinate k set to value (every coordinate rounded to float).
CUSBI_HD void slice_propose(const SliceSettings& s, const SliceChains& ch, int64_t c, int32_t k,
                            double value) {
  const double* x = ch.x + c * s.dim;
  float* p = ch.proposal + c * s.dim;
  for (int32_t d = 0; d < s.dim; ++d) p[d] = static_cast<float>(d == k ? value : x[d]);
}

// BEGIN's preparation (sbi does it at the top of the next iteration): the active coordinate's
// value and width, and the current point as the proposal.
CUSBI_HD void slice_prepare(const SliceSettings& s, const SliceChains& ch, int64_t c) {
  const int32_t k = ch.order[c * s.dim + ch.coord[c]];
  double* b = ch.bracket + c * kSliceBracketFields;
  b[kCxi] = ch.x[c * s.dim + k];
  b[kWi] = ch.width[c * s.dim + k];
  ch.state[c] = kSliceBegin;
  slice_propose(s, ch, c, -1, 0.0);
}

// BEGIN's transition with lp = log p(x): the slice level, the randomly placed bracket, the
// step-out budgets, and the lower end as the next proposal. A non-finite lp fails the chain.
template <class Random>
CUSBI_HD int32_t slice_begin(const SliceSettings& s, const SliceChains& ch, int64_t c, double lp,
                             Random& random) {
  double* b = ch.bracket + c * kSliceBracketFields;
  if (!(lp > -HUGE_VAL && lp < HUGE_VAL)) {  // -inf, +inf or NaN at the current point
    ch.fault[c] = ch.sweep[c] * s.dim + ch.coord[c];
    ch.state[c] = kSliceFailed;
    return kSliceFinished | kSliceFault;
  }
  b[kLpx] = lp;
  b[kLogu] = lp + log(1.0 - random.uniform());
  b[kLx] = b[kCxi] - b[kWi] * random.uniform();
  b[kUx] = b[kLx] + b[kWi];
  int32_t* budget = ch.budget + 2 * c;
  const int32_t left = static_cast<int32_t>(kSliceMaxStepOut * random.aux());
  budget[0] = left;
  budget[1] = kSliceMaxStepOut - 1 - left;
  ch.state[c] = kSliceLower;
  slice_propose(s, ch, c, ch.order[c * s.dim + ch.coord[c]], b[kLx]);
  return 0;
}

// The next coordinate update: BEGIN, which waits for log p(x), or with reuse_value begins at
// once from the value kept at acceptance.
template <class Random>
CUSBI_HD int32_t slice_next_update(const SliceSettings& s, const SliceChains& ch, int64_t c,
                                   Random& random) {
  slice_prepare(s, ch, c);
  if (!s.reuse_value) return 0;
  return slice_begin(s, ch, c, ch.bracket[c * kSliceBracketFields + kLpx], random);
}

// A run's start for chain c: position init (D floats), widths init_width, sweep 0, a first
// random order (sbi shuffles at run start), proposal = init.
template <class Random>
CUSBI_HD void slice_start(const SliceSettings& s, const SliceChains& ch, int64_t c,
                          const float* init, double init_width, Random& random) {
  for (int32_t d = 0; d < s.dim; ++d) {
    ch.x[c * s.dim + d] = init[d];
    ch.width[c * s.dim + d] = init_width;
  }
  ch.coord[c] = 0;
  ch.sweep[c] = 0;
  ch.fault[c] = -1;
  slice_shuffle(ch.order + c * s.dim, s.dim, random);
  slice_prepare(s, ch, c);
}

// Accepting xi: x[k] = xi, width tuning, and either the next coordinate or the sweep's end
// (record, new order, or done). Returns the events.
template <class Random>
CUSBI_HD int32_t slice_accept(const SliceSettings& s, const SliceChains& ch, int64_t c, int32_t k,
                              double lp, Random& random) {
  double* b = ch.bracket + c * kSliceBracketFields;
  const int64_t t = ch.sweep[c];
  ch.x[c * s.dim + k] = b[kXi];
  b[kLpx] = lp;
  if (t < s.tuning) {  // running mean of the final (post-shrinkage) bracket lengths
    double& w = ch.width[c * s.dim + k];
    w += ((b[kUx] - b[kLx]) - w) / static_cast<double>(t + 1);
  }
  if (ch.coord[c] < s.dim - 1) {
    ++ch.coord[c];
    return slice_next_update(s, ch, c, random);
  }
  if (t >= s.tuning && (t - s.tuning) % s.thin == 0) {
    const int64_t slot = (t - s.tuning) / s.thin - s.warmup;
    if (slot >= 0 && slot < s.kept)
      for (int32_t d = 0; d < s.dim; ++d)
        ch.samples[(c * s.kept + slot) * s.dim + d] = static_cast<float>(ch.x[c * s.dim + d]);
  }
  ch.sweep[c] = t + 1;
  if (t + 1 >= s.sweeps) {
    ch.state[c] = kSliceDone;
    return kSliceSweep | kSliceFinished;
  }
  ch.coord[c] = 0;
  slice_shuffle(ch.order + c * s.dim, s.dim, random);
  return kSliceSweep | slice_next_update(s, ch, c, random);
}

// One lockstep iteration of chain c: lp is the potential at its proposal row. Returns the
// SliceEvent bits that happened.
template <class Random>
CUSBI_HD int32_t slice_step(const SliceSettings& s, const SliceChains& ch, int64_t c, float lp32,
                            Random& random) {
  const int32_t state = ch.state[c];
  if (state == kSliceDone || state == kSliceFailed) return 0;
  const double lp = lp32;
  const int32_t k = ch.order[c * s.dim + ch.coord[c]];
  double* b = ch.bracket + c * kSliceBracketFields;
  int32_t* budget = ch.budget + 2 * c;
  switch (state) {
    case kSliceBegin:
      return slice_begin(s, ch, c, lp, random);
    case kSliceLower: {
      const bool step = lp >= b[kLogu] && b[kCxi] - b[kLx] < s.max_width;
      if (step && budget[0] > 0) {
        --budget[0];
        b[kLx] -= b[kWi];
        slice_propose(s, ch, c, k, b[kLx]);
        return 0;
      }
      ch.state[c] = kSliceUpper;
      slice_propose(s, ch, c, k, b[kUx]);
      return step ? kSliceCapped : 0;
    }
    case kSliceUpper: {
      const bool step = lp >= b[kLogu] && b[kUx] - b[kCxi] < s.max_width;
      if (step && budget[1] > 0) {
        --budget[1];
        b[kUx] += b[kWi];
        slice_propose(s, ch, c, k, b[kUx]);
        return 0;
      }
      b[kXi] = (b[kUx] - b[kLx]) * random.uniform() + b[kLx];
      budget[0] = 0;  // now counts shrinks
      ch.state[c] = kSliceShrink;
      slice_propose(s, ch, c, k, b[kXi]);
      return step ? kSliceCapped : 0;
    }
    default: {                             // kSliceShrink
      if (lp < b[kLogu] || !(lp == lp)) {  // outside the slice (NaN counts as outside)
        if (++budget[0] <= kSliceMaxShrink) {
          if (b[kXi] < b[kCxi])
            b[kLx] = b[kXi];
          else
            b[kUx] = b[kXi];
          b[kXi] = (b[kUx] - b[kLx]) * random.uniform() + b[kLx];
          slice_propose(s, ch, c, k, b[kXi]);
          return 0;
        }
        b[kXi] = b[kCxi];  // collapsed onto the current point: keep the coordinate
        return kSliceStalled | slice_accept(s, ch, c, k, b[kLpx], random);
      }
      return slice_accept(s, ch, c, k, lp, random);
    }
  }
}

}  // namespace cusbi::kern
