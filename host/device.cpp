// Device queries. The GPU count is read once per process: CUDA's answer does not change while
// the process runs, and Device::best() is called on every default-argument tensor creation.
// When there is none, the reason (the runtime's own error) is kept for the error messages.
#include "cusbi/device.hpp"

#include "cusbi/error.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {
const cuda::DeviceQuery& device_query() {
  static const cuda::DeviceQuery query = cuda::query_devices();
  return query;
}
}  // namespace

int cuda_device_count() { return device_query().count; }

std::string cuda_unavailable_reason() {
  if (!cuda::built_with_cuda())
    return "cusbi was built without CUDA (CUSBI_CUDA=OFF or no nvcc at build time); rebuild "
           "with the CUDA toolkit to run on a GPU";
  if (device_query().count > 0) return {};
  const std::string& problem = device_query().problem;
  return problem.empty() ? std::string("the CUDA runtime reports no usable GPU") : problem;
}

bool cuda_available() { return cuda_device_count() > 0; }

Device Device::best() { return cuda_available() ? Device::cuda(0) : Device::cpu(); }

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index_);
}

void check_device_usable(const Device& device) {
  if (device.is_cpu()) return;
  CUSBI_CHECK(cuda::built_with_cuda(),
              "cannot use " << device.str()
                            << ": cusbi was built without CUDA; use Device::cpu() or rebuild "
                               "with the CUDA toolkit");
  CUSBI_CHECK(cuda_device_count() > 0, "cannot use " << device.str() << ": "
                                                     << cuda_unavailable_reason()
                                                     << "; or use Device::cpu() (Device::best() "
                                                        "falls back to it)");
  CUSBI_CHECK(
      device.index() >= 0 && device.index() < cuda_device_count(),
      "cannot use " << device.str() << ": only " << cuda_device_count() << " GPU(s) are visible");
}

void synchronize(const Device& device) {
  if (device.is_cuda()) cuda::synchronize(device.index());
}

}  // namespace cusbi
