// Dispatch of the C2ST loss terms (host/metrics/loss.hpp): the CUDA kernels (kernels/c2st.cu) or
// their CPU twins (host/cpu/c2st.cpp). Internal callers pass buffers they sized themselves, so
// only the invariants the kernels rely on are checked.
#include "host/metrics/loss.hpp"

#include "cusbi/error.hpp"
#include "host/cpu/c2st.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/api/c2st.h"

namespace cusbi::metrics {

void bce_loss(const Tensor& logits, const Tensor& labels, float grad_scale, double loss_scale,
              Tensor& grad, Tensor& acc) {
  const int64_t batch = logits.numel();
  CUSBI_CHECK(labels.numel() == batch && grad.numel() == batch && acc.numel() == 1,
              "c2st bce_loss: logits, labels and grad need equal sizes and acc one element");
  if (ops::runs_on_cpu(logits.device()))
    cpu::c2st_bce_loss(logits.data(), labels.data(), batch, grad_scale, loss_scale, grad.data(),
                       acc.data_as<double>());
  else
    cuda::c2st_bce_loss(logits.data(), labels.data(), batch, grad_scale, loss_scale, grad.data(),
                        acc.data_as<double>());
}

void l2_penalty(const Tensor& weights, float grad_coef, double loss_scale, Tensor& grad,
                Tensor& acc) {
  const int64_t count = weights.numel();
  CUSBI_CHECK(grad.numel() == count && acc.numel() == 1,
              "c2st l2_penalty: weights and grad need equal sizes and acc one element");
  if (ops::runs_on_cpu(weights.device()))
    cpu::c2st_l2_penalty(weights.data(), count, grad_coef, loss_scale, grad.data(),
                         acc.data_as<double>());
  else
    cuda::c2st_l2_penalty(weights.data(), count, grad_coef, loss_scale, grad.data(),
                          acc.data_as<double>());
}

}  // namespace cusbi::metrics
