// The allocating forms of Distribution's per-row methods: each sizes its result and calls the
// out= form, so the checks, the math and the device dispatch live in one place per prior.
#include "cusbi/distributions.hpp"

namespace cusbi {

namespace {

// theta's batch shape (without the last dimension); the out= form reports a malformed theta.
Shape batch_of(const Tensor& theta) {
  if (!theta.defined() || theta.dim() == 0) return {};
  return Shape(theta.shape().begin(), theta.shape().end() - 1);
}

}  // namespace

Tensor Distribution::log_prob(const Tensor& theta) const {
  Tensor out = Tensor::empty(batch_of(theta), device());
  log_prob(theta, out);
  return out;
}

Tensor Distribution::support_mask(const Tensor& theta) const {
  Tensor out = Tensor::empty(batch_of(theta), device());
  support_mask(theta, out);
  return out;
}

}  // namespace cusbi
