// A neural spline flow as a TrainableEstimator, for the estimators that train one by maximum
// likelihood: NPE (q(theta | x)) and NLE (q(x | theta)). They differ only in which of the pair is
// the flow's modelled input and which its condition, so the adapter is written once.
#pragma once
#include <memory>

#include "cusbi/flows.hpp"
#include "host/inference/trainer.hpp"

namespace cusbi::detail {

enum class FlowRole {
  kPosterior,   // NPE: build_nsf(theta, x), loss -log q(theta | x)
  kLikelihood,  // NLE: build_nsf(x, theta), loss -log q(x | theta)
};

class FlowEstimator final : public TrainableEstimator {
 public:
  FlowEstimator(const NsfOptions& options, FlowRole role) : options_(options), role_(role) {}

  bool has_network() const override { return flow != nullptr; }
  // The flow and its z-scoring from the training rows, in this estimator's roles.
  void build_network(const Tensor& theta, const Tensor& x, Generator& g) override;
  Tensor parameters() override { return flow->parameters(); }
  Tensor gradients() override { return flow->gradients(); }
  void zero_grad() override { flow->zero_grad(); }
  // -log q(theta | x) or -log q(x | theta) per sample (sbi's first-round NPE_C and NLE_A losses).
  void batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses, bool training,
                  Generator& g) override;
  void backward(const Tensor& grad_losses) override { flow->backward(grad_losses); }

  // Null before the first train(); shared so that a posterior may hold the trained flow.
  std::shared_ptr<NeuralSplineFlow> flow;

 private:
  NsfOptions options_;
  FlowRole role_;
};

}  // namespace cusbi::detail
