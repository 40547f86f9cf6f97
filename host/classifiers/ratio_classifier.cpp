// RatioClassifier: argument checks and the classifier program (classifier_program.hpp) run
// through the execution layer (host/exec/runner.hpp): one device dispatch per call, grow-only
// workspaces, row parts on the CPU with gradient partials added in part order (the same bits
// for any thread count). Logits go straight into the caller's tensor; d/d theta is a view of
// the front of the training workspace.
#include "cusbi/error.hpp"
#include "host/classifiers/classifier_impl.hpp"
#include "host/nn/checks.hpp"

namespace cusbi {

namespace {
using exec::Phase;

struct TrainingNumel {
  const classifiers::ClassifierLayout& layout;
  template <class P>
  int64_t operator()(P*, int64_t n) const {
    return P::workspace_numel(layout, n);
  }
};
}  // namespace

RatioClassifier::RatioClassifier(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {
  CUSBI_CHECK(impl_ != nullptr, "RatioClassifier: null implementation; use a builder");
}

Tensor RatioClassifier::forward(const Tensor& theta, const Tensor& x) {
  CUSBI_CHECK(theta.defined() && theta.dim() == 2,
              "RatioClassifier.forward: theta has shape "
                  << (theta.defined() ? shape_str(theta.shape()) : "undefined")
                  << ", expected (batch, " << impl_->D << ")");
  Tensor logits = Tensor::empty({theta.size(0)}, impl_->device);
  forward(theta, x, logits);
  return logits;
}

void RatioClassifier::forward(const Tensor& theta, const Tensor& x, Tensor& logits) {
  const char* who = "RatioClassifier.forward";
  Impl& m = *impl_;
  nn::check_matrix(theta, who, "theta", -1, m.D);
  const int64_t B = theta.size(0);
  nn::check_matrix(x, who, "x", -1, m.C);
  CUSBI_CHECK(x.size(0) == B, who << ": theta has " << B << " rows but x has " << x.size(0)
                                  << "; pass one x row per theta row");
  nn::check_device(theta, m.device, who, "theta");
  nn::check_device(x, m.device, who, "x");
  CUSBI_CHECK(logits.defined() && logits.shape() == Shape({B}),
              who << ": logits has shape "
                  << (logits.defined() ? shape_str(logits.shape()) : "undefined") << ", expected ("
                  << B << ",)");
  nn::check_device(logits, m.device, who, "logits");
  const Tensor& ws = m.runner->workspace(Phase::kTraining).tensor();
  CUSBI_CHECK(!logits.shares_memory_with(ws),
              who << ": logits is a view of this classifier's workspace (a gradient it "
                     "returned); pass a tensor of your own");
  m.batch = -1;  // a failure below leaves nothing to differentiate
  if (B > 0) {
    const float* mean = m.mean.data();
    const float* std = m.std.data();
    const float* p = m.params.values().data();
    float* g = m.params.grads().data();
    const int64_t D = m.D, C = m.C;
    float* out = logits.data();
    m.runner->run(Phase::kTraining, m.device, B, B * D, TrainingNumel{m.runner->layout()},
                  [&](auto& program, auto& ex, const exec::Part& part) {
                    program.bind(p, g, mean, std, part.ws, part.rows, {out + part.first, nullptr});
                    if (part.rows > 0)
                      program.forward(ex, theta.data() + part.first * D, x.data() + part.first * C);
                  });
  }
  m.batch = B;
}

void RatioClassifier::backward(const Tensor& grad_logits, Tensor* grad_theta) {
  const char* who = "RatioClassifier.backward";
  Impl& m = *impl_;
  CUSBI_CHECK(m.batch >= 0, who << ": no forward to differentiate; call forward first (after "
                                   "to(), call it again)");
  const int64_t B = m.batch, D = m.D;
  CUSBI_CHECK(grad_logits.defined() && grad_logits.shape() == Shape({B}),
              who << ": grad_logits has shape "
                  << (grad_logits.defined() ? shape_str(grad_logits.shape()) : "undefined")
                  << " but the last forward had batch " << B << "; pass (" << B << ",)");
  nn::check_device(grad_logits, m.device, who, "grad_logits");
  if (B == 0) {
    if (grad_theta) *grad_theta = Tensor::zeros({0, D}, m.device);
    return;
  }
  float* front = m.runner->front(Phase::kTraining);
  float* gt = grad_theta ? front : nullptr;
  const float* mean = m.mean.data();
  const float* std = m.std.data();
  const float* p = m.params.values().data();
  const float* dl = grad_logits.data();
  m.runner->backward(m.params.grads().data(), m.params.numel(),
                     [&](auto& program, auto& ex, const exec::Part& part, float* grads) {
                       program.bind(p, grads, mean, std, part.ws, part.rows,
                                    {nullptr, gt ? gt + part.first * D : nullptr});
                       if (part.rows > 0) program.backward(ex, dl + part.first);
                     });
  if (grad_theta) *grad_theta = m.runner->workspace(Phase::kTraining).view(gt, B, D);
}

Tensor RatioClassifier::parameters() const { return impl_->params.values(); }
Tensor RatioClassifier::gradients() const { return impl_->params.grads(); }
void RatioClassifier::zero_grad() { impl_->params.zero_grad(); }
ParameterSet& RatioClassifier::parameter_set() { return impl_->params; }
const ParameterSet& RatioClassifier::parameter_set() const { return impl_->params; }
int64_t RatioClassifier::theta_features() const { return impl_->D; }
int64_t RatioClassifier::x_features() const { return impl_->C; }
Device RatioClassifier::device() const { return impl_->device; }
const std::string& RatioClassifier::kind() const { return impl_->kind; }
const ClassifierOptions& RatioClassifier::options() const { return impl_->options; }
const Standardize& RatioClassifier::theta_zscore() const { return impl_->theta_z; }
const Standardize& RatioClassifier::x_zscore() const { return impl_->x_z; }

void RatioClassifier::to(Device device) {
  check_device_usable(device);
  Impl& m = *impl_;
  m.params.to(device);
  if (m.theta_z.mean().defined()) m.theta_z.to(device);
  if (m.x_z.mean().defined()) m.x_z.to(device);
  m.mean = m.mean.to(device);
  m.std = m.std.to(device);
  m.device = device;
  m.runner->reset();
  m.batch = -1;
}

RatioClassifier RatioClassifier::clone() const {
  const Impl& m = *impl_;
  // A private generator: the copy's initial weights are overwritten at once, and drawing them
  // must not move the default generator's stream.
  Generator scratch(0);
  auto copy = classifiers::make_classifier(m.kind, m.D, m.C, m.options, m.theta_z, m.x_z, m.device,
                                           scratch);
  copy->params.values().copy_(m.params.values());
  copy->params.grads().copy_(m.params.grads());
  return RatioClassifier(copy);
}

}  // namespace cusbi
