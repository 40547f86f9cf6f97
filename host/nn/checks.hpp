// Argument checks shared by the nn layers: every message names the layer, the argument, what it
// got and what it expected, so a user can fix the call. Also the nn executors' device dispatch
// (exec::on_device with cpu::CpuExec<float> and exec::CudaExec).
#pragma once
#include <cstdint>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/tensor.hpp"
#include "host/cpu/nn.hpp"
#include "host/exec/cuda_exec.hpp"
#include "host/exec/on_device.hpp"

namespace cusbi::nn {

// t must be a defined (rows, cols) matrix; rows < 0 accepts any row count.
inline void check_matrix(const Tensor& t, const char* who, const char* what, int64_t rows,
                         int64_t cols) {
  CUSBI_CHECK(t.defined(),
              who << ": " << what << " is undefined; pass a (batch, " << cols << ") tensor");
  CUSBI_CHECK(t.dim() == 2 && t.size(1) == cols && (rows < 0 || t.size(0) == rows),
              who << ": " << what << " has shape " << shape_str(t.shape()) << ", expected ("
                  << (rows < 0 ? std::string("batch") : std::to_string(rows)) << ", " << cols
                  << ")");
}

inline void check_device(const Tensor& t, Device device, const char* who, const char* what) {
  CUSBI_CHECK(t.device() == device, who << ": " << what << " is on " << t.device().str()
                                        << " but the parameters are on " << device.str()
                                        << "; move it with .to(" << device.str() << ")");
}

// Calls f(executor) with the CPU (float) or CUDA network executor of `device`.
template <class F>
void dispatch(Device device, F&& f) {
  exec::on_device<cpu::CpuExec<float>, exec::CudaExec>(device, f);
}

}  // namespace cusbi::nn
