// Argument checks shared by the files of host/ops/: every op names itself and the offending
// shapes or devices, and says what to do, so a user's first error message is enough to fix it.
#pragma once
#include <cstdint>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/tensor.hpp"
#include "kernels/api/runtime.h"

namespace cusbi::ops {

inline void check_defined(const Tensor& a, const char* op) {
  CUSBI_CHECK(a.defined(), op << ": got an undefined (default-constructed) tensor; create it "
                                 "with Tensor::zeros/from/... first");
}

// Math ops take float32; integer tensors hold indices and counters.
inline void check_float(const Tensor& a, const char* op) {
  check_defined(a, op);
  CUSBI_CHECK(a.dtype() == DType::Float32,
              op << ": needs float32 tensors, got a " << dtype_name(a.dtype())
                 << " tensor of shape " << shape_str(a.shape())
                 << "; math ops run on float32 only (integer tensors hold indices and counters)");
}

// The dispatch of every op: `if (ops::runs_on_cpu(d)) cpu::f(...); else cuda::f(...);`. For a
// GPU it makes that device current first, as every cuda:: entry point expects.
inline bool runs_on_cpu(const Device& device) {
  if (device.is_cpu()) return true;
  cuda::set_device(device.index());
  return false;
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

// A preallocated output of an out= form: defined, float32, the expected shape, on `device`.
inline void check_out(const Tensor& out, const Shape& shape, const Device& device, const char* op) {
  CUSBI_CHECK(out.defined(), op << ": out is undefined; allocate it once with Tensor::empty("
                                << shape_str(shape) << ", device) and reuse it");
  CUSBI_CHECK(out.dtype() == DType::Float32,
              op << ": out is " << dtype_name(out.dtype()) << ", it must be float32");
  CUSBI_CHECK(out.shape() == shape, op << ": out has shape " << shape_str(out.shape())
                                       << ", expected " << shape_str(shape));
  CUSBI_CHECK(out.device() == device, op << ": out is on " << out.device().str()
                                         << ", the inputs on " << device.str()
                                         << "; allocate out on the inputs' device");
}

// out may be an input itself (the same elements: each is read before it is written), but no
// other overlap, where an element would be read after another position's write.
inline void check_overlap(const Tensor& out, const Tensor& in, bool allow_same, const char* op) {
  if (!out.shares_memory_with(in)) return;
  const bool same = out.numel() == in.numel() && out.data() == in.data();
  CUSBI_CHECK(allow_same && same, op << ": out overlaps an input"
                                     << (allow_same ? " partially" : "")
                                     << "; write into a separate buffer"
                                     << (allow_same ? " or into the input itself" : ""));
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
