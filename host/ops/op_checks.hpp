// Argument checks shared by the files of host/ops/: every op names itself and the offending
// shapes or devices, and says what to do, so a user's first error message is enough to fix it.
#pragma once
#include <cstdint>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi::ops {

inline void check_defined(const Tensor& a, const char* op) {
  CUSBI_CHECK(a.defined(), op << ": got an undefined (default-constructed) tensor; create it "
                                 "with Tensor::zeros/from/... first");
}

// How a user writes `device` in code, for messages that suggest a fix.
inline std::string device_code(const Device& device) {
  return device.is_cpu() ? "Device::cpu()" : "Device::cuda(" + std::to_string(device.index()) + ")";
}

// The device both operands live on; ops never move data behind the user's back.
inline Device common_device(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  CUSBI_CHECK(a.device() == b.device(), op << ": tensors are on different devices ("
                                           << a.device().str() << " and " << b.device().str()
                                           << "); move one with .to(" << device_code(a.device())
                                           << ") or .to(" << device_code(b.device()) << ") first");
  return a.device();
}

// `dim` in [-ndim, ndim) to [0, ndim).
inline int64_t normalize_dim(int64_t dim, const Shape& shape, const char* op) {
  const int64_t n = static_cast<int64_t>(shape.size());
  CUSBI_CHECK(-n <= dim && dim < n, op << ": dimension " << dim << " is out of range for shape "
                                       << shape_str(shape) << " (valid: " << -n << " to " << n - 1
                                       << ")");
  return dim < 0 ? dim + n : dim;
}

// Product of shape[begin, end).
inline int64_t span_numel(const Shape& shape, int64_t begin, int64_t end) {
  int64_t n = 1;
  for (int64_t d = begin; d < end; ++d) n *= shape[static_cast<size_t>(d)];
  return n;
}

// Loops shorter than this run on one thread: starting OpenMP threads costs more than they save.
constexpr int64_t kParallelMin = 1 << 15;

}  // namespace cusbi::ops
