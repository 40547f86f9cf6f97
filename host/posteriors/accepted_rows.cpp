// AcceptedRows: rejection sampling's accepted samples, compacted on the flow's device.
#include "host/posteriors/accepted_rows.hpp"

#include <algorithm>

#include "cusbi/error.hpp"
#include "host/cpu/select.hpp"
#include "kernels/api/select.h"
#include "kernels/cuda_api.h"

namespace cusbi::posteriors {

AcceptedRows::AcceptedRows(int64_t capacity, int64_t observations, int64_t dim, bool keep,
                           Device device)
    : capacity_(capacity),
      observations_(observations),
      dim_(dim),
      device_(device),
      target_(Tensor::zeros({observations}, DType::Int64, device)),
      filled_(Tensor::zeros({observations}, DType::Int64, device)),
      counts_(Tensor::zeros({observations}, DType::Int64, device)) {
  if (keep) store_ = Tensor::empty({capacity, observations, dim}, device);
}

const std::vector<int64_t>& AcceptedRows::add(const Tensor& samples, const Tensor& mask,
                                              const std::vector<int64_t>& active) {
  const int64_t cols = static_cast<int64_t>(active.size()), m = mask.size(0);
  CUSBI_CHECK(samples.device() == device_ && mask.device() == device_ &&
                  samples.numel() == m * cols * dim_ && mask.numel() == m * cols,
              "rejection sampling: a batch of samples "
                  << shape_str(samples.shape()) << " and support mask " << shape_str(mask.shape())
                  << " does not match " << cols << " observations of dimension " << dim_);
  if (active != active_) {  // one upload when an observation has finished
    target_.slice_rows(0, cols).copy_(Tensor::from(active, {cols}, Device::cpu()));
    active_ = active;
  }
  float* store = store_.defined() ? store_.data() : nullptr;
  if (device_.is_cpu()) {
    cpu::select_accepted(m, cols, dim_, samples.data(), mask.data(), target_.data_as<int64_t>(),
                         capacity_, observations_, filled_.data_as<int64_t>(), store,
                         counts_.data_as<int64_t>());
  } else {
    cuda::set_device(device_.index());
    cuda::select_accepted(m, cols, dim_, samples.data(), mask.data(), target_.data_as<int64_t>(),
                          capacity_, observations_, filled_.data_as<int64_t>(), store,
                          counts_.data_as<int64_t>());
  }
  host_counts_ = counts_.slice_rows(0, cols).to_vector_as<int64_t>();  // the batch's one read
  return host_counts_;
}

Tensor AcceptedRows::samples(int64_t rows) const {
  if (rows == capacity_) return store_;
  // A partial result (timeout): a copy, so the full store is not kept alive by the result.
  return store_.slice_rows(0, rows).clone();
}

}  // namespace cusbi::posteriors
