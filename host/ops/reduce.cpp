// Reductions: sum/mean/max/logsumexp over one dimension, sum_all, and the finiteness checks.
// Deterministic on every device: each output is reduced in a fixed order (kernels/reduce.h),
// and the OpenMP loops split work so that no result depends on the thread count.
#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cusbi/tensor.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

using kern::ReduceOp;

// a: (outer, len, inner) -> out: (outer, inner); one output per iteration, so threads never
// share an accumulator.
void reduce_dim_cpu(ReduceOp op, const float* a, int64_t outer, int64_t len, int64_t inner,
                    float* out) {
  const int64_t outputs = outer * inner;
#pragma omp parallel for if (outputs * len >= ops::kParallelMin)
  for (int64_t j = 0; j < outputs; ++j) {
    const int64_t o = j / inner, i = j % inner;
    out[j] = kern::reduce_strided(op, a + o * len * inner + i, len, inner);
  }
}

Tensor reduce(const Tensor& a, int64_t dim, ReduceOp op, const char* name) {
  ops::check_defined(a, name);
  CUSBI_CHECK(a.dim() >= 1, name << ": needs a tensor with at least one dimension, got a scalar "
                                    "(shape ()); reshape({1}) it first");
  const Shape& shape = a.shape();
  const int64_t d = ops::normalize_dim(dim, shape, name);
  const int64_t len = shape[static_cast<size_t>(d)];
  CUSBI_CHECK(op != ReduceOp::Max || len > 0, name << ": cannot take the maximum over dimension "
                                                   << dim << " of shape " << shape_str(shape)
                                                   << ", which is empty");
  const int64_t outer = ops::span_numel(shape, 0, d);
  const int64_t inner = ops::span_numel(shape, d + 1, a.dim());
  Shape out_shape = shape;
  out_shape.erase(out_shape.begin() + d);
  Tensor out = Tensor::empty(out_shape, a.device());
  if (out.numel() == 0) return out;
  switch (a.device().type()) {
    case DeviceType::CPU:
      reduce_dim_cpu(op, a.data(), outer, len, inner, out.data());
      break;
    case DeviceType::CUDA:
      cuda::set_device(a.device().index());
      cuda::reduce_dim(op, a.data(), outer, len, inner, out.data());
      break;
  }
  return out;
}

// Fixed-size chunks summed in order, then the chunk sums in order: the same bits whatever the
// number of OpenMP threads.
constexpr int64_t kSumChunk = 1 << 14;

double sum_all_cpu(const float* a, int64_t n) {
  if (n <= kSumChunk) return kern::sum_strided(a, n, 1);
  const int64_t chunks = kern::ceil_div(n, kSumChunk);
  std::vector<double> partial(static_cast<size_t>(chunks));
#pragma omp parallel for
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kSumChunk, count = std::min(kSumChunk, n - begin);
    partial[static_cast<size_t>(c)] = kern::sum_strided(a + begin, count, 1);
  }
  double s = 0.0;
  for (double p : partial) s += p;
  return s;
}

bool all_finite_cpu(const float* a, int64_t n) {
  int64_t bad = 0;
#pragma omp parallel for reduction(+ : bad) if (n >= ops::kParallelMin)
  for (int64_t i = 0; i < n; ++i) bad += kern::is_finite(a[i]) ? 0 : 1;
  return bad == 0;
}

}  // namespace

Tensor sum(const Tensor& a, int64_t dim) { return reduce(a, dim, ReduceOp::Sum, "sum"); }
Tensor mean(const Tensor& a, int64_t dim) { return reduce(a, dim, ReduceOp::Mean, "mean"); }
Tensor max(const Tensor& a, int64_t dim) { return reduce(a, dim, ReduceOp::Max, "max"); }
Tensor logsumexp(const Tensor& a, int64_t dim) {
  return reduce(a, dim, ReduceOp::LogSumExp, "logsumexp");
}

float sum_all(const Tensor& a) {
  ops::check_defined(a, "sum_all");
  const int64_t n = a.numel();
  if (n == 0) return 0.0f;
  switch (a.device().type()) {
    case DeviceType::CPU:
      return static_cast<float>(sum_all_cpu(a.data(), n));
    case DeviceType::CUDA:
      cuda::set_device(a.device().index());
      return static_cast<float>(cuda::reduce_sum_all(a.data(), n));
  }
  return 0.0f;
}

bool all_finite(const Tensor& a) {
  ops::check_defined(a, "all_finite");
  const int64_t n = a.numel();
  if (n == 0) return true;
  switch (a.device().type()) {
    case DeviceType::CPU:
      return all_finite_cpu(a.data(), n);
    case DeviceType::CUDA:
      cuda::set_device(a.device().index());
      return cuda::all_finite(a.data(), n);
  }
  return true;
}

void check_finite(const Tensor& a, const std::string& what) {
  if (all_finite(a)) return;
  // Failure path only: count and locate on the host to make the message useful.
  const std::vector<float> v = a.to_vector();
  int64_t nan = 0, inf = 0, first = -1;
  for (size_t i = 0; i < v.size(); ++i) {
    if (std::isfinite(v[i])) continue;
    (std::isnan(v[i]) ? nan : inf) += 1;
    if (first < 0) first = static_cast<int64_t>(i);
  }
  CUSBI_FAIL(what << " has non-finite values (" << nan << " NaN, " << inf
                  << " inf; first: " << v[static_cast<size_t>(first)] << " at flat index " << first
                  << ") in a tensor of shape " << shape_str(a.shape()) << " on " << a.device().str()
                  << "; check the inputs that produced it (simulator outputs, learning rate)");
}

}  // namespace cusbi
