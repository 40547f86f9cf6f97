// Device queries. The GPU count is read once per process: CUDA's answer does not change while
// the process runs, and Device::best() is called on every default-argument tensor creation.
#include "cusbi/device.hpp"

#include "cusbi/error.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

int cuda_device_count() {
  static const int count = cuda::device_count();
  return count;
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
  CUSBI_CHECK(cuda_device_count() > 0,
              "cannot use " << device.str()
                            << ": no CUDA GPU is visible on this machine; use Device::cpu() or "
                               "Device::best()");
  CUSBI_CHECK(device.index() >= 0 && device.index() < cuda_device_count(),
              "cannot use " << device.str() << ": only " << cuda_device_count()
                            << " GPU(s) are visible");
}

void synchronize(const Device& device) {
  if (device.is_cuda()) cuda::synchronize(device.index());
}

}  // namespace cusbi
