// Elementwise Tensor ops: + - * / (tensor-tensor with suffix broadcasting, tensor-scalar,
// scalar-tensor), unary minus and the unary math set. Arguments are checked here, then one
// switch on the device runs the CPU loop (over kernels/elementwise.h) or the CUDA launcher.
#include "kernels/elementwise.h"

#include <algorithm>

#include "cusbi/tensor.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

using kern::BinaryOp;
using kern::UnaryOp;

Shape strip_leading_ones(const Shape& s) {
  auto first = std::find_if(s.begin(), s.end(), [](int64_t d) { return d != 1; });
  return Shape(first, s.end());
}

// True when `s`, leading 1s dropped, is a trailing part of `out`: then element i of the output
// reads element i % numel(s) of the operand, with no index arithmetic per dimension.
bool is_suffix_of(const Shape& s, const Shape& out) {
  const Shape t = strip_leading_ones(s);
  return t.size() <= out.size() && std::equal(t.begin(), t.end(), out.end() - t.size());
}

// PyTorch's broadcast shape, restricted to suffix broadcasting: (N, D) with (D,), (1, D) or ()
// is fine, (N, D) with (N, 1) is not (that would broadcast inside a row).
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  bool ok = true;
  for (size_t k = 0; k < rank; ++k) {
    const int64_t da = k + a.size() < rank ? 1 : a[k + a.size() - rank];
    const int64_t db = k + b.size() < rank ? 1 : b[k + b.size() - rank];
    ok = ok && (da == db || da == 1 || db == 1);
    out[k] = da == 1 ? db : da;
  }
  CUSBI_CHECK(ok && is_suffix_of(a, out) && is_suffix_of(b, out),
              op << ": shapes " << shape_str(a) << " and " << shape_str(b)
                 << " do not broadcast; cusbi broadcasts by suffix only (equal shapes, or one "
                    "shape a trailing part of the other, e.g. (N, D) with (D,), (1, D) or ()); "
                    "reshape the operands or repeat the smaller one");
  return out;
}

template <BinaryOp Op>
void binary_cpu(const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  if (na == n && nb == n) {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_binary<Op>(a[i], b[i]);
  } else if (na == n) {  // b repeats every nb elements
#pragma omp parallel for collapse(2) if (n >= ops::kParallelMin)
    for (int64_t r = 0; r < n / nb; ++r)
      for (int64_t j = 0; j < nb; ++j)
        out[r * nb + j] = kern::apply_binary<Op>(a[r * nb + j], b[j]);
  } else {  // a repeats every na elements
#pragma omp parallel for collapse(2) if (n >= ops::kParallelMin)
    for (int64_t r = 0; r < n / na; ++r)
      for (int64_t j = 0; j < na; ++j)
        out[r * na + j] = kern::apply_binary<Op>(a[j], b[r * na + j]);
  }
}

template <BinaryOp Op>
void binary_scalar_cpu(const float* a, float s, bool scalar_left, float* out, int64_t n) {
  if (scalar_left) {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_binary<Op>(s, a[i]);
  } else {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_binary<Op>(a[i], s);
  }
}

template <UnaryOp Op>
void unary_cpu(const float* a, float* out, int64_t n) {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_unary<Op>(a[i]);
}

Tensor binary(const Tensor& a, const Tensor& b, BinaryOp op, const char* name) {
  const Device device = ops::common_device(a, b, name);
  Tensor out = Tensor::empty(broadcast_shape(a.shape(), b.shape(), name), device);
  const int64_t n = out.numel(), na = a.numel(), nb = b.numel();
  if (n == 0) return out;
  switch (device.type()) {
    case DeviceType::CPU:
      kern::visit_binary(op, [&](auto tag) {
        binary_cpu<decltype(tag)::value>(a.data(), na, b.data(), nb, out.data(), n);
      });
      break;
    case DeviceType::CUDA:
      cuda::set_device(device.index());
      cuda::elementwise_binary(op, a.data(), na, b.data(), nb, out.data(), n);
      break;
  }
  return out;
}

Tensor binary_scalar(const Tensor& a, float s, bool scalar_left, BinaryOp op, const char* name) {
  ops::check_defined(a, name);
  const Device device = a.device();
  Tensor out = Tensor::empty(a.shape(), device);
  const int64_t n = out.numel();
  if (n == 0) return out;
  switch (device.type()) {
    case DeviceType::CPU:
      kern::visit_binary(op, [&](auto tag) {
        binary_scalar_cpu<decltype(tag)::value>(a.data(), s, scalar_left, out.data(), n);
      });
      break;
    case DeviceType::CUDA:
      cuda::set_device(device.index());
      cuda::elementwise_binary_scalar(op, a.data(), s, scalar_left, out.data(), n);
      break;
  }
  return out;
}

Tensor unary(const Tensor& a, UnaryOp op, const char* name) {
  ops::check_defined(a, name);
  const Device device = a.device();
  Tensor out = Tensor::empty(a.shape(), device);
  const int64_t n = out.numel();
  if (n == 0) return out;
  switch (device.type()) {
    case DeviceType::CPU:
      kern::visit_unary(
          op, [&](auto tag) { unary_cpu<decltype(tag)::value>(a.data(), out.data(), n); });
      break;
    case DeviceType::CUDA:
      cuda::set_device(device.index());
      cuda::elementwise_unary(op, a.data(), out.data(), n);
      break;
  }
  return out;
}

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Add, "operator+");
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Sub, "operator-");
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Mul, "operator*");
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Div, "operator/");
}

Tensor operator+(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Add, "operator+");
}
Tensor operator-(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Sub, "operator-");
}
Tensor operator*(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Mul, "operator*");
}
Tensor operator/(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Div, "operator/");
}
Tensor operator+(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Add, "operator+");
}
Tensor operator-(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Sub, "operator-");
}
Tensor operator*(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Mul, "operator*");
}
Tensor operator/(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Div, "operator/");
}

Tensor operator-(const Tensor& a) { return unary(a, UnaryOp::Neg, "operator-"); }
Tensor exp(const Tensor& a) { return unary(a, UnaryOp::Exp, "exp"); }
Tensor log(const Tensor& a) { return unary(a, UnaryOp::Log, "log"); }
Tensor sqrt(const Tensor& a) { return unary(a, UnaryOp::Sqrt, "sqrt"); }
Tensor abs(const Tensor& a) { return unary(a, UnaryOp::Abs, "abs"); }
Tensor square(const Tensor& a) { return unary(a, UnaryOp::Square, "square"); }
Tensor sigmoid(const Tensor& a) { return unary(a, UnaryOp::Sigmoid, "sigmoid"); }
Tensor relu(const Tensor& a) { return unary(a, UnaryOp::Relu, "relu"); }

}  // namespace cusbi
