// Reductions: sum/mean/max/logsumexp over one dimension (allocating and out= forms), sum_all,
// and the finiteness checks. Arguments are checked here, then each op dispatches once to its CPU
// twin (host/cpu/reduce.cpp) or CUDA entry point (kernels/reduce.cu); both reduce every output
// in a fixed order, so results are deterministic and an out= form gives the allocating form's bits.
#include "host/cpu/reduce.hpp"

#include <cmath>
#include <vector>

#include "cusbi/tensor.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/api/reduce.h"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

using kern::ReduceOp;

struct ReduceShape {
  int64_t outer = 1, len = 0, inner = 1;
  Shape out;
};

ReduceShape reduce_shape(const Tensor& a, int64_t dim, ReduceOp op, const char* name) {
  ops::check_float(a, name);
  CUSBI_CHECK(a.dim() >= 1, name << ": needs a tensor with at least one dimension, got a scalar "
                                    "(shape ()); reshape({1}) it first");
  const Shape& shape = a.shape();
  const int64_t d = ops::normalize_dim(dim, shape, name);
  ReduceShape r;
  r.len = shape[static_cast<size_t>(d)];
  CUSBI_CHECK(op != ReduceOp::Max || r.len > 0, name << ": cannot take the maximum over dimension "
                                                     << dim << " of shape " << shape_str(shape)
                                                     << ", which is empty");
  r.outer = ops::span_numel(shape, 0, d);
  r.inner = ops::span_numel(shape, d + 1, a.dim());
  r.out = shape;
  r.out.erase(r.out.begin() + d);
  return r;
}

void reduce_into(const Tensor& a, const ReduceShape& r, ReduceOp op, Tensor& out) {
  if (out.numel() == 0) return;
  if (ops::runs_on_cpu(a.device()))
    cpu::reduce_dim(op, a.data(), r.outer, r.len, r.inner, out.data());
  else
    cuda::reduce_dim(op, a.data(), r.outer, r.len, r.inner, out.data());
}

Tensor reduce(const Tensor& a, int64_t dim, ReduceOp op, const char* name) {
  const ReduceShape r = reduce_shape(a, dim, op, name);
  Tensor out = Tensor::empty(r.out, a.device());
  reduce_into(a, r, op, out);
  return out;
}

void reduce_out(const Tensor& a, int64_t dim, ReduceOp op, Tensor& out, const char* name) {
  const ReduceShape r = reduce_shape(a, dim, op, name);
  ops::check_out(out, r.out, a.device(), name);
  ops::check_overlap(out, a, false, name);
  reduce_into(a, r, op, out);
}

}  // namespace

Tensor sum(const Tensor& a, int64_t dim) { return reduce(a, dim, ReduceOp::Sum, "sum"); }
Tensor mean(const Tensor& a, int64_t dim) { return reduce(a, dim, ReduceOp::Mean, "mean"); }
Tensor max(const Tensor& a, int64_t dim) { return reduce(a, dim, ReduceOp::Max, "max"); }
Tensor logsumexp(const Tensor& a, int64_t dim) {
  return reduce(a, dim, ReduceOp::LogSumExp, "logsumexp");
}

void sum(const Tensor& a, int64_t dim, Tensor& out) {
  reduce_out(a, dim, ReduceOp::Sum, out, "sum");
}
void mean(const Tensor& a, int64_t dim, Tensor& out) {
  reduce_out(a, dim, ReduceOp::Mean, out, "mean");
}
void max(const Tensor& a, int64_t dim, Tensor& out) {
  reduce_out(a, dim, ReduceOp::Max, out, "max");
}
void logsumexp(const Tensor& a, int64_t dim, Tensor& out) {
  reduce_out(a, dim, ReduceOp::LogSumExp, out, "logsumexp");
}

float sum_all(const Tensor& a) {
  ops::check_float(a, "sum_all");
  const int64_t n = a.numel();
  if (n == 0) return 0.0f;
  const double s = ops::runs_on_cpu(a.device()) ? cpu::reduce_sum_all(a.data(), n)
                                                : cuda::reduce_sum_all(a.data(), n);
  return static_cast<float>(s);
}

bool all_finite(const Tensor& a) {
  ops::check_float(a, "all_finite");
  const int64_t n = a.numel();
  if (n == 0) return true;
  return ops::runs_on_cpu(a.device()) ? cpu::all_finite(a.data(), n)
                                      : cuda::all_finite(a.data(), n);
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
