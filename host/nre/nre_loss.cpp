// NRE's contrastive losses (include/cusbi/nre.hpp): argument checks, then the fused pass on the
// logits' device, the CUDA kernel (kernels/nre_loss.cu) or its CPU twin (host/cpu/nre_loss.cpp).
#include "host/cpu/nre_loss.hpp"

#include <cmath>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/nre.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

void check_logits(const Tensor& logits, const char* op) {
  ops::check_float(logits, op);
  CUSBI_CHECK(logits.numel() > 0, op << ": got empty logits " << shape_str(logits.shape())
                                     << "; the loss is a mean over at least one row");
}

// loss () and grad (grad_shape) on the logits' device, neither overlapping the logits or each
// other: every logit is read after some gradient has been written.
void check_outputs(const Tensor& logits, const Shape& grad_shape, const Tensor& loss,
                   const Tensor& grad, const char* op) {
  ops::check_out(loss, Shape{}, logits.device(), op);
  ops::check_out(grad, grad_shape, logits.device(), op);
  ops::check_overlap(loss, logits, false, op);
  ops::check_overlap(grad, logits, false, op);
  ops::check_overlap(grad, loss, false, op);
}

// NRE_A / BNRE: (B, 2) or (2B,) -> B.
int64_t pair_batch(const Tensor& logits, const char* op) {
  check_logits(logits, op);
  const bool pairs = logits.dim() == 2 && logits.size(1) == 2;
  const bool flat = logits.dim() == 1 && logits.size(0) % 2 == 0;
  CUSBI_CHECK(pairs || flat, op << ": logits have shape " << shape_str(logits.shape())
                                << "; expected (B, 2) or (2B,) interleaved [joint_0, marginal_0, "
                                   "joint_1, ...] (the atoms of atom_rows with num_atoms = 2)");
  return logits.numel() / 2;
}

void run_bnre(const Tensor& logits, int64_t batch, float lambda, Tensor& loss, Tensor& grad) {
  if (ops::runs_on_cpu(logits.device()))
    cpu::bnre_loss(logits.data(), batch, lambda, loss.data(), grad.data());
  else
    cuda::bnre_loss(logits.data(), batch, lambda, loss.data(), grad.data());
}

}  // namespace

void nre_b_loss(const Tensor& logits, Tensor& loss, Tensor& grad) {
  constexpr const char* op = "nre_b_loss";
  check_logits(logits, op);
  CUSBI_CHECK(logits.dim() == 2 && logits.size(1) >= 2,
              op << ": logits have shape " << shape_str(logits.shape())
                 << "; expected (B, K) with K >= 2 atoms, the true pair at column 0 (reshape the "
                    "classifier's (B K,) logits to (B, K))");
  check_outputs(logits, logits.shape(), loss, grad, op);
  const int64_t batch = logits.size(0), atoms = logits.size(1);
  if (ops::runs_on_cpu(logits.device()))
    cpu::nre_b_loss(logits.data(), batch, atoms, loss.data(), grad.data());
  else
    cuda::nre_b_loss(logits.data(), batch, atoms, loss.data(), grad.data());
}

std::pair<Tensor, Tensor> nre_b_loss(const Tensor& logits) {
  ops::check_defined(logits, "nre_b_loss");
  Tensor loss = Tensor::empty({}, logits.device()),
         grad = Tensor::empty(logits.shape(), logits.device());
  nre_b_loss(logits, loss, grad);
  return {loss, grad};
}

void bnre_loss(const Tensor& logits, float regularization_strength, Tensor& loss, Tensor& grad) {
  constexpr const char* op = "bnre_loss";
  const int64_t batch = pair_batch(logits, op);
  CUSBI_CHECK(std::isfinite(regularization_strength) && regularization_strength >= 0.0f,
              op << ": regularization_strength = " << regularization_strength
                 << "; it must be finite and >= 0 (sbi's default is 100; 0 gives NRE_A)");
  check_outputs(logits, logits.shape(), loss, grad, op);
  run_bnre(logits, batch, regularization_strength, loss, grad);
}

std::pair<Tensor, Tensor> bnre_loss(const Tensor& logits, float regularization_strength) {
  ops::check_defined(logits, "bnre_loss");
  Tensor loss = Tensor::empty({}, logits.device()),
         grad = Tensor::empty(logits.shape(), logits.device());
  bnre_loss(logits, regularization_strength, loss, grad);
  return {loss, grad};
}

// NRE_A is BNRE without the balance term: lambda = 0 adds exactly 0 to the loss and gradients.
void nre_a_loss(const Tensor& logits, Tensor& loss, Tensor& grad) {
  constexpr const char* op = "nre_a_loss";
  const int64_t batch = pair_batch(logits, op);
  check_outputs(logits, logits.shape(), loss, grad, op);
  run_bnre(logits, batch, 0.0f, loss, grad);
}

std::pair<Tensor, Tensor> nre_a_loss(const Tensor& logits) {
  ops::check_defined(logits, "nre_a_loss");
  Tensor loss = Tensor::empty({}, logits.device()),
         grad = Tensor::empty(logits.shape(), logits.device());
  nre_a_loss(logits, loss, grad);
  return {loss, grad};
}

void nre_c_loss(const Tensor& marginal_logits, const Tensor& joint_logits, float gamma,
                Tensor& loss, Tensor& grad_marginal, Tensor& grad_joint) {
  constexpr const char* op = "nre_c_loss";
  check_logits(marginal_logits, op);
  check_logits(joint_logits, op);
  ops::common_device(marginal_logits, joint_logits, op);
  CUSBI_CHECK(
      joint_logits.dim() == 2 && joint_logits.size(1) >= 2,
      op << ": joint_logits have shape " << shape_str(joint_logits.shape())
         << "; expected (B, K) from the K-atom draw, K = num_classes >= 2 (sbi's K-atom draw "
            "needs a contrasting theta)");
  const int64_t batch = joint_logits.size(0), classes = joint_logits.size(1);
  CUSBI_CHECK(marginal_logits.shape() == (Shape{batch, classes + 1}),
              op << ": marginal_logits have shape " << shape_str(marginal_logits.shape())
                 << " and joint_logits " << shape_str(joint_logits.shape())
                 << "; expected (B, K + 1) from the (K+1)-atom draw and (B, K) from the K-atom "
                    "draw, with the same B");
  CUSBI_CHECK(std::isfinite(gamma) && gamma > 0.0f,
              op << ": gamma = " << gamma << "; it must be finite and > 0 (sbi's default is 1)");
  check_outputs(marginal_logits, marginal_logits.shape(), loss, grad_marginal, op);
  check_outputs(joint_logits, joint_logits.shape(), loss, grad_joint, op);
  ops::check_overlap(grad_marginal, joint_logits, false, op);
  ops::check_overlap(grad_joint, marginal_logits, false, op);
  ops::check_overlap(grad_joint, grad_marginal, false, op);
  if (ops::runs_on_cpu(joint_logits.device()))
    cpu::nre_c_loss(marginal_logits.data(), joint_logits.data(), batch, classes, gamma, loss.data(),
                    grad_marginal.data(), grad_joint.data());
  else
    cuda::nre_c_loss(marginal_logits.data(), joint_logits.data(), batch, classes, gamma,
                     loss.data(), grad_marginal.data(), grad_joint.data());
}

NreCLoss nre_c_loss(const Tensor& marginal_logits, const Tensor& joint_logits, float gamma) {
  ops::check_defined(marginal_logits, "nre_c_loss");
  ops::check_defined(joint_logits, "nre_c_loss");
  const Device device = marginal_logits.device();
  NreCLoss r{Tensor::empty({}, device), Tensor::empty(marginal_logits.shape(), device),
             Tensor::empty(joint_logits.shape(), device)};
  nre_c_loss(marginal_logits, joint_logits, gamma, r.loss, r.grad_marginal, r.grad_joint);
  return r;
}

}  // namespace cusbi
