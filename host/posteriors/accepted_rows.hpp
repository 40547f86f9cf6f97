// The store of rejection sampling's accepted samples, on the flow's device: each batch's
// accepted proposals are compacted into it where they were drawn (kernels/select.cu on a GPU,
// host/cpu/select.cpp on the CPU), in proposal order, and only the per-observation accepted
// counts come back to the host (sbi's adaptive batch rule needs them).
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/tensor.hpp"

namespace cusbi::posteriors {

class AcceptedRows {
 public:
  // capacity: samples kept per observation (later ones are counted only); keep = false: count
  // only, no store.
  AcceptedRows(int64_t capacity, int64_t observations, int64_t dim, bool keep, Device device);
  // One batch: samples (m, active.size(), D) and the prior's support mask (m, active.size()),
  // column k drawn for observation active[k]. Returns each column's accepted count (overshoot
  // included), valid until the next call. One device-to-host copy (the counts), plus one upload
  // of `active` when it differs from the last batch's.
  const std::vector<int64_t>& add(const Tensor& samples, const Tensor& mask,
                                  const std::vector<int64_t>& active);
  // (rows, observations, D): the first `rows` accepted samples of each observation (rows <=
  // capacity and every observation has them).
  Tensor samples(int64_t rows) const;

 private:
  int64_t capacity_, observations_, dim_;
  Device device_;
  Tensor store_;                     // (capacity, observations, D), undefined when not kept
  Tensor target_, filled_, counts_;  // Int64 (observations,) on the device
  std::vector<int64_t> active_;      // what target_ holds
  std::vector<int64_t> host_counts_;
};

}  // namespace cusbi::posteriors
