// The one device dispatch of the models: f(executor) with the CPU executor or, after selecting
// the GPU, the CUDA one. The runner (host/exec/runner.hpp) calls it once per model call; layers
// without a program (Linear, Standardize, LuLinear's single operations) call it directly.
#pragma once
#include "cusbi/tensor.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::exec {

template <class CpuExec, class CudaExec, class F>
void on_device(Device device, F&& f) {
  if (device.is_cpu()) {
    CpuExec ex;
    f(ex);
  } else {
    cuda::set_device(device.index());
    CudaExec ex;
    f(ex);
  }
}

}  // namespace cusbi::exec
