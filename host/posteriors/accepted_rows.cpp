// AcceptedRows: rejection sampling's accepted samples, compacted on the flow's device.
#include "host/posteriors/accepted_rows.hpp"

#include <algorithm>

#include "cusbi/error.hpp"
#include "host/cpu/select.hpp"
#include "kernels/api/select.h"
#include "kernels/cuda_api.h"

namespace cusbi::posteriors {

DeviceInts::DeviceInts(int64_t n, Device device) : device_(device) {
  if (device.is_cpu()) {
    host_.assign(static_cast<size_t>(n), 0);
    data_ = host_.data();
  } else if (n > 0) {
    data_ = static_cast<int64_t*>(
        cuda::allocate(static_cast<std::size_t>(n) * sizeof(int64_t), device.index()));
  }
}

DeviceInts::~DeviceInts() {
  if (device_.is_cuda()) cuda::release(data_, device_.index());
}

void DeviceInts::upload(const std::vector<int64_t>& values) {
  if (device_.is_cpu()) {
    std::copy(values.begin(), values.end(), host_.begin());
    return;
  }
  cuda::set_device(device_.index());
  cuda::copy(data_, values.data(), values.size() * sizeof(int64_t), cuda::CopyKind::HostToDevice);
}

void DeviceInts::download(std::vector<int64_t>& values) const {
  if (device_.is_cpu()) {
    std::copy_n(host_.begin(), values.size(), values.begin());
    return;
  }
  cuda::set_device(device_.index());
  cuda::copy(values.data(), data_, values.size() * sizeof(int64_t), cuda::CopyKind::DeviceToHost);
}

AcceptedRows::AcceptedRows(int64_t capacity, int64_t observations, int64_t dim, bool keep,
                           Device device)
    : capacity_(capacity),
      observations_(observations),
      dim_(dim),
      device_(device),
      target_(observations, device),
      filled_(observations, device),
      counts_(observations, device) {
  if (keep) store_ = Tensor::empty({capacity, observations, dim}, device);
  if (device.is_cuda() && observations > 0)
    filled_.upload(std::vector<int64_t>(static_cast<size_t>(observations), 0));
}

const std::vector<int64_t>& AcceptedRows::add(const Tensor& samples, const Tensor& mask,
                                              const std::vector<int64_t>& active) {
  const int64_t cols = static_cast<int64_t>(active.size()), m = mask.size(0);
  CUSBI_CHECK(samples.device() == device_ && mask.device() == device_ &&
                  samples.numel() == m * cols * dim_ && mask.numel() == m * cols,
              "rejection sampling: a batch of samples "
                  << shape_str(samples.shape()) << " and support mask " << shape_str(mask.shape())
                  << " does not match " << cols << " observations of dimension " << dim_);
  if (active != active_) {
    target_.upload(active);
    active_ = active;
  }
  host_counts_.resize(active.size());
  float* store = store_.defined() ? store_.data() : nullptr;
  if (device_.is_cpu()) {
    cpu::select_accepted(m, cols, dim_, samples.data(), mask.data(), target_.data(), capacity_,
                         observations_, filled_.data(), store, counts_.data());
  } else {
    cuda::set_device(device_.index());
    cuda::select_accepted(m, cols, dim_, samples.data(), mask.data(), target_.data(), capacity_,
                          observations_, filled_.data(), store, counts_.data());
  }
  counts_.download(host_counts_);
  return host_counts_;
}

Tensor AcceptedRows::samples(int64_t rows) const {
  if (rows == capacity_) return store_;
  // A partial result (timeout): a copy, so the full store is not kept alive by the result.
  return store_.slice_rows(0, rows).clone();
}

}  // namespace cusbi::posteriors
