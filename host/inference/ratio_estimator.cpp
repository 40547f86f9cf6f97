// RatioEstimator: NRE's network and losses for the shared training loop (trainer.cpp).
#include "host/inference/ratio_estimator.hpp"

#include "cusbi/error.hpp"

namespace cusbi::detail {

namespace {

// A view of `shape` at the start of `buffer`, reallocated (flat) only when too small.
Tensor grow(Tensor& buffer, const Shape& shape, DType dtype, Device device) {
  const int64_t n = shape_numel(shape);
  if (!buffer.defined() || buffer.numel() < n || buffer.device() != device)
    buffer = Tensor::empty({n}, dtype, device);
  return buffer.slice_rows(0, n).reshape(shape);
}

}  // namespace

void RatioEstimator::build_network(const Tensor& theta, const Tensor& x, Generator& g) {
  const std::string& kind = options_.classifier;
  RatioClassifier net =
      kind == "resnet" ? build_resnet_classifier(theta, x, options_.classifier_options, &g)
      : kind == "mlp"  ? build_mlp_classifier(theta, x, options_.classifier_options, &g)
                       : build_linear_classifier(theta, x, options_.classifier_options, &g);
  classifier = std::make_shared<RatioClassifier>(std::move(net));
}

void RatioEstimator::draw_atoms(const Tensor& theta, const Tensor& x, int64_t k, int64_t first,
                                Generator& g) {
  const int64_t b = theta.size(0);
  Tensor indices = grow(indices_, {b, k}, DType::Int64, theta.device());
  contrasting_indices(indices, &g);
  Tensor theta_out = theta_rows_.slice_rows(first, first + b * k);
  Tensor x_out = x_rows_.slice_rows(first, first + b * k);
  atom_rows(theta, x, indices, theta_out, x_out);
}

void RatioEstimator::batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses,
                                bool /*training*/, Generator& g) {
  const int64_t b = theta.size(0), k = atoms_;
  const Device device = theta.device();
  const bool contrastive = options_.variant == NreVariant::C;
  // NRE_C: a (K + 1)-atom draw (marginal classes) then a K-atom draw (joint class).
  rows_ = contrastive ? b * (2 * k + 1) : b * k;
  const int64_t rows = rows_;
  if (!theta_rows_.defined() || theta_rows_.size(0) < rows || theta_rows_.device() != device) {
    theta_rows_ = Tensor::empty({rows, theta.size(1)}, device);
    x_rows_ = Tensor::empty({rows, x.size(1)}, device);
  }
  Tensor logits = grow(logits_, {rows}, DType::Float32, device);
  Tensor grad = grow(grad_, {rows}, DType::Float32, device);
  Tensor loss = grow(loss_, {}, DType::Float32, device);
  if (contrastive) {
    draw_atoms(theta, x, k + 1, 0, g);
    draw_atoms(theta, x, k, b * (k + 1), g);
  } else {
    draw_atoms(theta, x, k, 0, g);
  }
  classifier->forward(theta_rows_.slice_rows(0, rows), x_rows_.slice_rows(0, rows), logits);
  switch (options_.variant) {
    case NreVariant::B: {
      Tensor grad_bk = grad.reshape({b, k});
      nre_b_loss(logits.reshape({b, k}), loss, grad_bk);
      break;
    }
    case NreVariant::A: {
      Tensor grad_b2 = grad.reshape({b, 2});
      nre_a_loss(logits.reshape({b, 2}), loss, grad_b2);
      break;
    }
    case NreVariant::BNRE: {
      Tensor grad_b2 = grad.reshape({b, 2});
      bnre_loss(logits.reshape({b, 2}), options_.regularization_strength, loss, grad_b2);
      break;
    }
    case NreVariant::C: {
      const int64_t split = b * (k + 1);
      Tensor grad_marginal = grad.slice_rows(0, split).reshape({b, k + 1});
      Tensor grad_joint = grad.slice_rows(split, rows).reshape({b, k});
      nre_c_loss(logits.slice_rows(0, split).reshape({b, k + 1}),
                 logits.slice_rows(split, rows).reshape({b, k}), options_.gamma, loss,
                 grad_marginal, grad_joint);
      break;
    }
  }
  losses.copy_(loss.reshape({1}));
}

void RatioEstimator::backward(const Tensor& grad_losses) {
  // d mean / d loss (one entry) scales d loss / d logits.
  Tensor grad = grad_.slice_rows(0, rows_);
  mul(grad, grad_losses, grad);
  classifier->backward(grad);
}

}  // namespace cusbi::detail
