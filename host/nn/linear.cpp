// Linear (y = x W^T + b, torch.nn.Linear layout and init) and elementwise ReLU with their
// backward passes. The math is in host/nn/linear_ops.hpp and kernels/nn.h, shared by all devices.
#include <cmath>
#include <type_traits>

#include "cusbi/nn.hpp"
#include "host/exec/workspace.hpp"
#include "host/nn/checks.hpp"
#include "host/nn/linear_ops.hpp"

namespace cusbi {

Linear::Linear(ParameterSet& params, const std::string& name, int64_t in_features,
               int64_t out_features, float init_bound)
    : in_(in_features), out_(out_features) {
  CUSBI_CHECK(in_features >= 0 && out_features >= 0,
              "Linear '" << name << "': features must be >= 0, got in=" << in_features
                         << ", out=" << out_features);
  // torch.nn.Linear's reset_parameters: kaiming_uniform(a = sqrt(5)) gives U(+-1/sqrt(fan_in))
  // for the weight, and the bias uses the same bound (0 when fan_in is 0).
  const float bound =
      init_bound >= 0.0f
          ? init_bound
          : (in_features > 0 ? 1.0f / std::sqrt(static_cast<float>(in_features)) : 0.0f);
  const std::string prefix = name.empty() ? std::string() : name + ".";
  weight_ = params.add(prefix + "weight", {out_features, in_features}, bound);
  bias_ = params.add(prefix + "bias", {out_features}, bound);
}

void Linear::forward(const ParameterSet& params, const Tensor& x, Tensor& y) const {
  const Device device = params.device();
  nn::check_matrix(x, "Linear.forward", "x", -1, in_);
  const int64_t batch = x.size(0);
  nn::check_matrix(y, "Linear.forward", "y", batch, out_);
  nn::check_device(x, device, "Linear.forward", "x");
  nn::check_device(y, device, "Linear.forward", "y");
  // The GEMM (Eigen noalias, cuBLAS) reads x while writing y: they must not overlap.
  CUSBI_CHECK(!y.shares_memory_with(x),
              "Linear.forward: y shares memory with x; the layer cannot work in place, pass a "
              "separate y");
  if (batch == 0) return;
  const float* p = params.values().data();
  nn::dispatch(device, [&](auto& ex) {
    nn::linear_forward(ex, p + weight_.offset, p + bias_.offset, batch, in_, out_, x.data(),
                       y.data());
  });
}

void Linear::backward(ParameterSet& params, const Tensor& x, const Tensor& dy, Tensor* dx,
                      bool accumulate_dx) const {
  const Device device = params.device();
  nn::check_matrix(x, "Linear.backward", "x", -1, in_);
  const int64_t batch = x.size(0);
  nn::check_matrix(dy, "Linear.backward", "dy", batch, out_);
  nn::check_device(x, device, "Linear.backward", "x");
  nn::check_device(dy, device, "Linear.backward", "dy");
  if (dx != nullptr) {
    nn::check_matrix(*dx, "Linear.backward", "dx", batch, in_);
    nn::check_device(*dx, device, "Linear.backward", "dx");
    // dx = dy W is written while dy is read, and x is read by the weight gradient before.
    CUSBI_CHECK(!dx->shares_memory_with(dy) && !dx->shares_memory_with(x),
                "Linear.backward: dx shares memory with "
                    << (dx->shares_memory_with(dy) ? "dy" : "x") << "; pass a separate dx");
  }
  if (batch == 0) return;
  const float* p = params.values().data();
  float* g = params.grads().data();
  nn::dispatch(device, [&](auto& ex) {
    using Exec = std::remove_reference_t<decltype(ex)>;
    const int64_t needed = nn::linear_backward_scratch<Exec>(batch, in_, out_);
    float* scratch = needed > 0 ? exec::reserve(scratch_, needed, device) : nullptr;
    nn::linear_backward(ex, p + weight_.offset, g + weight_.offset, g + bias_.offset, batch, in_,
                        out_, x.data(), dy.data(), dx ? dx->data() : nullptr, accumulate_dx,
                        scratch);
  });
}

namespace {
void check_same(const Tensor& a, const Tensor& b, const char* who, const char* what) {
  CUSBI_CHECK(a.defined() && b.defined(), who << ": " << what << " is undefined");
  CUSBI_CHECK(a.shape() == b.shape(), who << ": " << what << " has shape " << shape_str(b.shape())
                                          << ", expected " << shape_str(a.shape())
                                          << " (the shape of x)");
  CUSBI_CHECK(a.device() == b.device(), who << ": " << what << " is on " << b.device().str()
                                            << " but x is on " << a.device().str()
                                            << "; put both on one device");
}
}  // namespace

void relu_forward(const Tensor& x, Tensor& y) {
  check_same(x, y, "relu_forward", "y");
  if (x.numel() == 0) return;
  nn::dispatch(x.device(), [&](auto& ex) { ex.relu(x.numel(), x.data(), y.data()); });
}

void relu_backward(const Tensor& x, const Tensor& dy, Tensor& dx) {
  check_same(x, dy, "relu_backward", "dy");
  check_same(x, dx, "relu_backward", "dx");
  if (x.numel() == 0) return;
  nn::dispatch(x.device(),
               [&](auto& ex) { ex.relu_backward(x.numel(), x.data(), dy.data(), dx.data()); });
}

}  // namespace cusbi
