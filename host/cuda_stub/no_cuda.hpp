// Shared by the stubs of a CPU-only build: every CUDA entry point throws this one message.
#pragma once
#include "cusbi/error.hpp"

namespace cusbi::cuda {
[[noreturn]] inline void no_cuda() {
  CUSBI_FAIL("cusbi was built without CUDA (CUSBI_CUDA=OFF or no nvcc at build time); use "
             "Device::cpu(), or rebuild with the CUDA toolkit to run on a GPU");
}
}  // namespace cusbi::cuda
