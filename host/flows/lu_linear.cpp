// LuLinear (nflows LULinear): registration with identity init and argument checks; each
// operation runs on the flow executors' LU passes (host/cpu/lu.hpp on the CPU, kernels/lu.cu
// on the GPU) through the one device dispatch (host/exec/on_device.hpp), with a grow-only
// cache and scratch (host/exec/workspace.hpp).
#include "host/flows/lu_linear.hpp"

#include <type_traits>

#include "cusbi/error.hpp"
#include "host/cpu/flows.hpp"
#include "host/exec/cuda_exec.hpp"
#include "host/exec/on_device.hpp"
#include "host/exec/workspace.hpp"
#include "kernels/lu.h"

namespace cusbi::flows {

namespace {

template <class F>
void on_device(Device device, F&& f) {
  exec::on_device<cpu::FlowCpuExec<float>, exec::FlowCudaExec>(device, f);
}

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
  float* lu = exec::reserve(cache_, 2 * d * d + 1, device);
  const float* p = params.values().data();
  on_device(device, [&](auto& ex) {
    ex.lu_prepare(d, p + lower_.offset, p + upper_.offset, p + diag_.offset, lu, lu + d * d,
                  lu + 2 * d * d);
  });
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
  on_device(device, [&](auto& ex) {
    ex.lu_forward(rows, d, c + d * d, bias, c + 2 * d * d, x.data(), y.data(),
                  data_or_null(logdet));
  });
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
  on_device(device, [&](auto& ex) {
    ex.lu_inverse(rows, d, c, bias, c + 2 * d * d, y.data(), x.data(), data_or_null(logdet));
  });
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
  const float* p = params.values().data();
  float* g = params.grads().data();
  const float* c = cache_.data();
  const float* dl = dlogdet.defined() ? dlogdet.data() : nullptr;
  on_device(device, [&](auto& ex) {
    using Exec = std::remove_reference_t<decltype(ex)>;
    float* scratch = exec::reserve(scratch_, Exec::lu_backward_scratch(rows, d), device);
    ex.lu_backward(rows, d, c, c + d * d, p + diag_.offset, x.data(), dy.data(), dl,
                   g + lower_.offset, g + upper_.offset, g + diag_.offset, g + bias_.offset,
                   dx.data(), scratch);
  });
}

}  // namespace cusbi::flows
