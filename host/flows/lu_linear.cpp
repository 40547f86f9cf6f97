// LuLinear (nflows LULinear): registration with identity init, argument checks and device
// dispatch, and the CPU loops. The CPU path runs the GEMM-shaped work (forward, dW = dy^T x,
// dx = dy W) on host/cpu's Eigen GEMMs over fixed row chunks and everything else on the
// per-element math of kernels/lu.h, templated on the scalar so tests/gradcheck runs this code
// in double. The CUDA path is kernels/lu.cu through kernels/api/lu.h.
#include "host/flows/lu_linear.hpp"

#include <algorithm>

#include "cusbi/error.hpp"
#include "host/cpu/gemm.hpp"
#include "host/cpu/nn_exec.hpp"
#include "kernels/cuda_api.h"
#include "kernels/lu.h"

namespace cusbi::flows {

namespace lu_cpu {

template <class T>
void prepare(int64_t d, const T* lower, const T* upper, const T* diag, T* lu, T* w, T* logabsdet) {
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      lu[i * d + j] = kern::lu_packed_element(d, i, j, lower, upper, diag);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) w[i * d + j] = kern::lu_weight_element(d, i, j, lu);
  *logabsdet = kern::lu_logabsdet(d, lu);
}

template <class T>
void forward(int64_t rows, int64_t d, const T* w, const T* bias, const T* logabsdet, const T* x,
             T* y, T* logdet) {
  cpu::gemm(false, true, rows, d, d, x, d, w, d, T(0), y, d);
  const T ld = *logabsdet;
  cpu::for_row_chunks(rows, d, [=](int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; ++b) {
      for (int64_t j = 0; j < d; ++j) y[b * d + j] += bias[j];
      if (logdet != nullptr) logdet[b] += ld;
    }
  });
}

template <class T>
void inverse(int64_t rows, int64_t d, const T* lu, const T* bias, const T* logabsdet, const T* y,
             T* x, T* logdet) {
  const T ld = *logabsdet;
  // A row's solve costs ~D^2 operations: weigh the chunking's parallel threshold by that.
  cpu::for_row_chunks(rows, d * d, [=](int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; ++b) {
      kern::lu_solve_row(d, lu, bias, y + b * d, x + b * d);
      if (logdet != nullptr) logdet[b] -= ld;
    }
  });
}

// Layout: the reductions' chunk partials first (shared by the three reductions, which run one
// after the other), then dW (D*D), then S = sum dlogdet (1).
int64_t backward_scratch(int64_t rows, int64_t d) {
  const int64_t reduce =
      std::max(cpu::weight_grad_scratch(rows, d * d), kern::colsum_scratch(rows, d));
  return (reduce + 15) / 16 * 16 + d * d + 1;
}

template <class T>
void backward(int64_t rows, int64_t d, const T* lu, const T* w, const T* diag, const T* x,
              const T* dy, const T* dlogdet, T* g_lower, T* g_upper, T* g_diag, T* g_bias, T* dx,
              T* scratch) {
  const int64_t reduce = backward_scratch(rows, d) - d * d - 1;
  T* dw = scratch + reduce;
  T* dlogdet_sum = dw + d * d;
  cpu::colsum(rows, d, dy, g_bias, scratch);
  std::fill(dw, dw + d * d, T(0));
  cpu::weight_grad(d, d, rows, dy, d, x, d, dw, d, scratch);
  *dlogdet_sum = T(0);
  if (dlogdet != nullptr) cpu::colsum(rows, int64_t(1), dlogdet, dlogdet_sum, scratch);
  if (dx != nullptr) cpu::gemm(false, false, rows, d, d, dy, d, w, d, T(0), dx, d);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      kern::lu_accumulate_entry_grad(d, i, j, lu, dw, *dlogdet_sum, diag, g_lower, g_upper, g_diag);
}

#define CUSBI_LU_CPU_INSTANTIATE(T)                                                             \
  template void prepare<T>(int64_t, const T*, const T*, const T*, T*, T*, T*);                  \
  template void forward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);   \
  template void inverse<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);   \
  template void backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, const T*, \
                            const T*, T*, T*, T*, T*, T*, T*);
CUSBI_LU_CPU_INSTANTIATE(float)
CUSBI_LU_CPU_INSTANTIATE(double)
#undef CUSBI_LU_CPU_INSTANTIATE

}  // namespace lu_cpu

namespace {

std::string with_dot(const std::string& prefix) {
  return prefix.empty() || prefix.back() == '.' ? prefix : prefix + ".";
}

// t must be a defined (rows, d) matrix on `device`; rows < 0 accepts any row count.
void check_matrix(const Tensor& t, Device device, const char* who, const char* what, int64_t rows,
                  int64_t d) {
  CUSBI_CHECK(t.defined(),
              who << ": " << what << " is undefined; pass a (batch, " << d << ") tensor");
  CUSBI_CHECK(t.dim() == 2 && t.size(1) == d && (rows < 0 || t.size(0) == rows),
              who << ": " << what << " has shape " << shape_str(t.shape()) << ", expected ("
                  << (rows < 0 ? std::string("batch") : std::to_string(rows)) << ", " << d
                  << ") (the layer has " << d << " features)");
  CUSBI_CHECK(t.device() == device, who << ": " << what << " is on " << t.device().str()
                                        << " but the parameters are on " << device.str()
                                        << "; move it with .to(" << device.str() << ")");
}

// An optional per-row vector: undefined, or (rows,) on `device`.
void check_rows(const Tensor& t, Device device, const char* who, const char* what, int64_t rows) {
  if (!t.defined()) return;
  CUSBI_CHECK(t.dim() == 1 && t.size(0) == rows, who << ": " << what << " has shape "
                                                     << shape_str(t.shape()) << ", expected ("
                                                     << rows << ",) (one value per row)");
  CUSBI_CHECK(t.device() == device, who << ": " << what << " is on " << t.device().str()
                                        << " but the parameters are on " << device.str());
}

float* data_or_null(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

}  // namespace

LuLinear::LuLinear(ParameterSet& params, const std::string& prefix, int64_t features)
    : features_(features) {
  CUSBI_CHECK(features >= 1,
              "LuLinear '" << prefix << "': features must be >= 1, got " << features);
  const std::string p = with_dot(prefix);
  const int64_t tri = features * (features - 1) / 2;
  // nflows' order: Linear.__init__ registers bias before LULinear adds its three entries.
  bias_ = params.add_constant(p + "bias", {features}, 0.0f);
  lower_ = params.add_constant(p + "lower_entries", {tri}, 0.0f);
  upper_ = params.add_constant(p + "upper_entries", {tri}, 0.0f);
  // Rounded from double, as init.constant_ assigns np.log(np.exp(1 - eps) - 1) to float32.
  diag_ = params.add_constant(p + "unconstrained_upper_diag", {features},
                              static_cast<float>(kern::kLuIdentityDiag));
}

void LuLinear::prepare(const ParameterSet& params) {
  CUSBI_CHECK(features_ >= 1,
              "LuLinear.prepare: this LuLinear was default-constructed; "
              "construct it with a ParameterSet and a feature count");
  const Device device = params.device();
  const int64_t d = features_;
  if (!cache_.defined() || cache_.device() != device)
    cache_ = Tensor::empty({2 * d * d + 1}, device);
  const float* p = params.values().data();
  float* lu = cache_.data();
  if (device.is_cpu()) {
    lu_cpu::prepare(d, p + lower_.offset, p + upper_.offset, p + diag_.offset, lu, lu + d * d,
                    lu + 2 * d * d);
  } else {
    cuda::set_device(device.index());
    cuda::lu_prepare(d, p + lower_.offset, p + upper_.offset, p + diag_.offset, lu, lu + d * d,
                     lu + 2 * d * d);
  }
}

Tensor LuLinear::weight() const {
  CUSBI_CHECK(cache_.defined(), "LuLinear.weight: call prepare(params) first");
  const int64_t d = features_;
  return cache_.slice_rows(d * d, 2 * d * d).reshape({d, d});
}

Tensor LuLinear::logabsdet() const {
  CUSBI_CHECK(cache_.defined(), "LuLinear.logabsdet: call prepare(params) first");
  return cache_.slice_rows(2 * features_ * features_, 2 * features_ * features_ + 1);
}

void LuLinear::check_prepared(const ParameterSet& params, const char* who) const {
  CUSBI_CHECK(cache_.defined() && cache_.device() == params.device(),
              who << ": call prepare(params) after every parameter change (or move) and before "
                     "forward, inverse or backward");
}

void LuLinear::forward(const ParameterSet& params, const Tensor& x, Tensor& y,
                       Tensor& logdet) const {
  const char* who = "LuLinear.forward";
  check_prepared(params, who);
  const Device device = params.device();
  const int64_t d = features_;
  check_matrix(x, device, who, "x", -1, d);
  const int64_t rows = x.size(0);
  check_matrix(y, device, who, "y", rows, d);
  check_rows(logdet, device, who, "logdet", rows);
  // The GEMM reads x while writing y.
  CUSBI_CHECK(!y.shares_memory_with(x), who << ": y shares memory with x; pass a separate y");
  if (rows == 0) return;
  const float* bias = params.values().data() + bias_.offset;
  const float* c = cache_.data();
  if (device.is_cpu()) {
    lu_cpu::forward(rows, d, c + d * d, bias, c + 2 * d * d, x.data(), y.data(),
                    data_or_null(logdet));
  } else {
    cuda::set_device(device.index());
    cuda::lu_forward(rows, d, c + d * d, bias, c + 2 * d * d, x.data(), y.data(),
                     data_or_null(logdet));
  }
}

void LuLinear::inverse(const ParameterSet& params, const Tensor& y, Tensor& x,
                       Tensor& logdet) const {
  const char* who = "LuLinear.inverse";
  check_prepared(params, who);
  const Device device = params.device();
  const int64_t d = features_;
  check_matrix(y, device, who, "y", -1, d);
  const int64_t rows = y.size(0);
  check_matrix(x, device, who, "x", rows, d);
  check_rows(logdet, device, who, "logdet", rows);
  // Row-wise in place is fine (x may be y), but a shifted overlap would read solved values.
  CUSBI_CHECK(!x.shares_memory_with(y) || x.data() == y.data(),
              who << ": x partly overlaps y; pass y itself (in place) or a separate x");
  if (rows == 0) return;
  const float* bias = params.values().data() + bias_.offset;
  const float* c = cache_.data();
  if (device.is_cpu()) {
    lu_cpu::inverse(rows, d, c, bias, c + 2 * d * d, y.data(), x.data(), data_or_null(logdet));
  } else {
    cuda::set_device(device.index());
    cuda::lu_inverse(rows, d, c, bias, c + 2 * d * d, y.data(), x.data(), data_or_null(logdet));
  }
}

void LuLinear::backward(ParameterSet& params, const Tensor& x, const Tensor& dy,
                        const Tensor& dlogdet, Tensor& dx) {
  const char* who = "LuLinear.backward";
  check_prepared(params, who);
  const Device device = params.device();
  const int64_t d = features_;
  check_matrix(x, device, who, "x", -1, d);
  const int64_t rows = x.size(0);
  check_matrix(dy, device, who, "dy", rows, d);
  check_rows(dlogdet, device, who, "dlogdet", rows);
  check_matrix(dx, device, who, "dx", rows, d);
  CUSBI_CHECK(!dx.shares_memory_with(dy) && !dx.shares_memory_with(x),
              who << ": dx shares memory with " << (dx.shares_memory_with(dy) ? "dy" : "x")
                  << "; pass a separate dx");
  if (rows == 0) return;
  const int64_t needed =
      device.is_cpu() ? lu_cpu::backward_scratch(rows, d) : kern::lu_cuda_backward_scratch(rows, d);
  if (!scratch_.defined() || scratch_.numel() < needed || scratch_.device() != device)
    scratch_ = Tensor::empty({needed}, device);
  const float* p = params.values().data();
  float* g = params.grads().data();
  const float* c = cache_.data();
  const float* dl = dlogdet.defined() ? dlogdet.data() : nullptr;
  if (device.is_cpu()) {
    lu_cpu::backward(rows, d, c, c + d * d, p + diag_.offset, x.data(), dy.data(), dl,
                     g + lower_.offset, g + upper_.offset, g + diag_.offset, g + bias_.offset,
                     dx.data(), scratch_.data());
  } else {
    cuda::set_device(device.index());
    cuda::lu_backward(rows, d, c, c + d * d, p + diag_.offset, x.data(), dy.data(), dl,
                      g + lower_.offset, g + upper_.offset, g + diag_.offset, g + bias_.offset,
                      dx.data(), scratch_.data());
  }
}

}  // namespace cusbi::flows
