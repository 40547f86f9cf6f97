// A neural spline flow as a TrainableEstimator, and the state of an estimator that trains one by
// maximum likelihood: NPE (q(theta | x)) and NLE (q(x | theta)). They differ only in which of the
// pair is the flow's modelled input and which its condition, so both are written once.
#pragma once
#include <memory>
#include <string>

#include "cusbi/distributions.hpp"
#include "cusbi/flows.hpp"
#include "host/inference/simulation_data.hpp"
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

// What NPE and NLE hold: the prior on the device, the simulations (the shared intake), the flow
// as the shared loop's adapter, and the loop's state between train() calls (split, Adam, early
// stopping, summary: what resume_training carries).
struct FlowInferenceState {
  std::unique_ptr<Distribution> prior;  // on `device`
  Device device;
  SimulationData data;
  FlowEstimator estimator;
  TrainingState training;

  // `name` ("NPE", "NLE") starts the messages.
  FlowInferenceState(const std::string& name, const Distribution& p, const NsfOptions& options,
                     Device d, FlowRole role, InvalidRowPolicy policy)
      : prior(p.to(d)),
        device(d),
        data(name, prior->event_size(), d, policy),
        estimator(options, role) {}

  // train_estimator on this state; returns the trained flow.
  NeuralSplineFlow& train(const TrainOptions& options) {
    train_estimator(estimator, data, training, options);
    return *estimator.flow;
  }

  // The trained flow; throws when train() has not run.
  NeuralSplineFlow& trained_flow() const;
};

}  // namespace cusbi::detail
