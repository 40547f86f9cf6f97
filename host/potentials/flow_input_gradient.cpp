// FlowInputGradient: loss, then backward with unit weights, with the flow's parameter gradients
// saved before and restored after (see the header for why).
#include "host/potentials/flow_input_gradient.hpp"

namespace cusbi::potentials {

void FlowInputGradient::operator()(NeuralSplineFlow& flow, const Tensor& input,
                                   const Tensor& condition, Tensor& neg_log_q, Tensor& grad,
                                   Wrt wrt) {
  const int64_t rows = neg_log_q.numel();
  const Device device = flow.device();
  if (!ones_.defined() || ones_.numel() < rows || ones_.device() != device)
    ones_ = Tensor::ones({rows}, device);  // grows only; every entry stays 1
  const Tensor gradients = flow.gradients();
  if (!saved_gradients_.defined() || saved_gradients_.numel() != gradients.numel() ||
      saved_gradients_.device() != device)
    saved_gradients_ = Tensor::empty({gradients.numel()}, device);

  flow.loss(input, condition, neg_log_q);
  saved_gradients_.copy_(gradients);
  Tensor restore = gradients;
  try {
    if (wrt == Wrt::Input) {
      flow.backward(ones_.slice_rows(0, rows), &grad);
    } else {
      flow.backward(ones_.slice_rows(0, rows), nullptr, &grad);
    }
  } catch (...) {
    restore.copy_(saved_gradients_);
    throw;
  }
  restore.copy_(saved_gradients_);
}

}  // namespace cusbi::potentials
