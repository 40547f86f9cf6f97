// NPE's state, shared by the files of host/inference/npe*.cpp: the simulations (the shared
// intake), the adapter that lets the shared training loop train its flow, and the loop's state
// between train() calls (split, Adam, early stopping, summary: what resume_training carries).
#pragma once
#include <memory>

#include "cusbi/inference.hpp"
#include "host/inference/simulation_data.hpp"
#include "host/inference/trainer.hpp"

namespace cusbi {

namespace detail {

// NPE as a TrainableEstimator: the flow q(theta | x), built from the training rows, with the
// loss -log q(theta | x) per sample (sbi's first-round NPE_C loss).
class NpeEstimator final : public TrainableEstimator {
 public:
  explicit NpeEstimator(const NsfOptions& options) : options_(options) {}

  bool has_network() const override { return flow != nullptr; }
  void build_network(const Tensor& theta, const Tensor& x, Generator& g) override;
  Tensor parameters() override { return flow->parameters(); }
  Tensor gradients() override { return flow->gradients(); }
  void zero_grad() override { flow->zero_grad(); }
  void batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses, bool training,
                  Generator& g) override;
  void backward(const Tensor& grad_losses) override { flow->backward(grad_losses); }

  std::unique_ptr<NeuralSplineFlow> flow;  // null before the first train()

 private:
  NsfOptions options_;
};

struct NpeState {
  std::unique_ptr<Distribution> prior;  // on `device`
  Device device;
  SimulationData data;
  NpeEstimator estimator;
  TrainingState training;

  NpeState(const Distribution& p, const NsfOptions& options, Device d)
      : prior(p.to(d)), device(d), data("NPE", prior->event_size(), d), estimator(options) {}
};

}  // namespace detail
}  // namespace cusbi
