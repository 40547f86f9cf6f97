// cumsum and matmul of tensor_ops.hpp. matmul runs the device's GEMM, the one the networks use
// (host/cpu/gemm.hpp's Eigen on the CPU, cuda::nn_gemm's cuBLAS on the device's stream), so a
// simulator's matrix products need no host round trip. cumsum runs kern::cumsum_strided per line.
#include "cusbi/tensor_ops.hpp"
#include "host/cpu/gemm.hpp"
#include "host/cpu/tensor_ops.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

Tensor cumsum(const Tensor& a, int64_t dim) {
  ops::check_float(a, "cumsum");
  const int64_t d = ops::normalize_dim(dim, a.shape(), "cumsum");
  Tensor out = Tensor::empty(a.shape(), a.device());
  if (out.numel() == 0) return out;
  const int64_t outer = ops::span_numel(a.shape(), 0, d);
  const int64_t len = a.shape()[static_cast<size_t>(d)];
  const int64_t inner = ops::span_numel(a.shape(), d + 1, a.dim());
  if (ops::runs_on_cpu(a.device()))
    cpu::cumsum_dim(a.data(), outer, len, inner, out.data());
  else
    cuda::cumsum_dim(a.data(), outer, len, inner, out.data());
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  ops::check_float(a, "matmul");
  ops::check_float(b, "matmul");
  const Device device = ops::common_device(a, b, "matmul");
  const bool shapes_ok =
      (a.dim() == 2 && (b.dim() == 2 || b.dim() == 1)) || (a.dim() == 1 && b.dim() == 2);
  CUSBI_CHECK(shapes_ok, "matmul: shapes " << shape_str(a.shape()) << " and "
                                           << shape_str(b.shape())
                                           << " are not supported; use (N, K) x (K, M), (N, K) x "
                                              "(K,) or (K,) x (K, M)");
  // Row-major (m, k) x (k, n): a vector on the left is one row, on the right one column.
  const int64_t m = a.dim() == 2 ? a.size(0) : 1;
  const int64_t k = a.dim() == 2 ? a.size(1) : a.size(0);
  const int64_t kb = b.size(0);
  const int64_t n = b.dim() == 2 ? b.size(1) : 1;
  CUSBI_CHECK(k == kb, "matmul: inner dimensions differ: "
                           << shape_str(a.shape()) << " x " << shape_str(b.shape()) << " (" << k
                           << " vs " << kb << "); transpose an operand?");
  Shape shape;
  if (a.dim() == 2) shape.push_back(m);
  if (b.dim() == 2) shape.push_back(n);
  if (k == 0) return Tensor::zeros(shape, device);
  Tensor out = Tensor::empty(shape, device);
  if (m == 0 || n == 0) return out;
  if (ops::runs_on_cpu(device))
    cpu::gemm<float>(false, false, m, n, k, a.data(), k, b.data(), n, 0.0f, out.data(), n);
  else
    cuda::nn_gemm(false, false, m, n, k, a.data(), k, b.data(), n, 0.0f, out.data(), n);
  return out;
}

}  // namespace cusbi
