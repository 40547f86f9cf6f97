// sbi's accept_reject_sample for DirectPosterior: draw from the flow, keep what lies in the
// prior's support, grow the batch by sbi's adaptive rule until every observation has its
// samples. Shared by sample(), sample_batched() and the leakage correction; private to
// host/posteriors/ (tests include it to observe the batch sequence).
// Per batch the accepted rows are compacted on the device (host/posteriors/accepted_rows.hpp)
// and only per-observation counts are copied back: the one synchronisation of a batch.
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/distributions.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi::posteriors {

// Which low-acceptance warning to give: sbi words it differently for the leakage correction.
enum class RejectionPurpose { Sampling, LeakageCorrection };

struct RejectionConfig {
  int64_t num_samples = 1;    // accepted samples wanted per observation
  int64_t max_batch = 10000;  // max proposals per observation and batch
  bool show_progress = false;
  double max_time = 0.0;  // seconds, 0: no limit
  bool partial_on_timeout = false;
  bool keep_samples = true;  // false: count acceptances only (the leakage correction)
  RejectionPurpose purpose = RejectionPurpose::Sampling;
  Generator* generator = nullptr;
};

struct RejectionRun {
  int64_t rows = 0;  // samples per observation returned: num_samples, fewer after a timeout
  Tensor samples;    // (rows, B, D) on the flow's device; undefined unless keep_samples
  std::vector<int64_t> accepted, proposed;  // per observation, over all batches (overshoot too)
  std::vector<float> rates;                 // accepted / proposed per observation
  // Per batch, in order: proposals per observation, how many observations it proposed for,
  // and how many of its proposals were accepted (all observations): the adaptive batch rule
  // made observable.
  std::vector<int64_t> batch_sizes, batch_observations, batch_accepted;
};

// condition: (B, C) on the flow's device, already checked. Throws cusbi::Error on timeout
// unless config.partial_on_timeout and every observation has at least one sample.
RejectionRun accept_reject_sample(NeuralSplineFlow& flow, const Distribution& prior,
                                  const Tensor& condition, const RejectionConfig& config);

// sbi's rule for the next batch: min(max_batch, max(int(1.5 remaining / max(rate, 1e-12)), 100)).
int64_t next_batch_size(int64_t max_batch, int64_t remaining, double rate);

}  // namespace cusbi::posteriors
