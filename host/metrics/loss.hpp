// The C2ST classifier's loss terms on a tensor's device: the fused sigmoid/log-loss and its
// gradient, and sklearn's L2 penalty on one weight matrix. Each adds its share of the epoch loss
// to a device double, so an epoch needs one read-back (kernels/c2st.h holds the math).
#pragma once
#include "cusbi/tensor.hpp"

namespace cusbi::metrics {

// logits, labels: (B, 1) float32; grad (B, 1) = grad_scale (sigmoid(z) - y);
// acc (1,) float64: += loss_scale * sum_i BCE(sigmoid(z_i), y_i). All on one device.
void bce_loss(const Tensor& logits, const Tensor& labels, float grad_scale, double loss_scale,
              Tensor& grad, Tensor& acc);
// weights, grad: flat views of one weight matrix; grad += grad_coef * w and
// acc += loss_scale * ||w||^2.
void l2_penalty(const Tensor& weights, float grad_coef, double loss_scale, Tensor& grad,
                Tensor& acc);

}  // namespace cusbi::metrics
