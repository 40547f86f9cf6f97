// The shared training loop (host/inference/trainer.hpp) through small TrainableEstimators:
// scripted validation losses pin sbi's stopping rules exactly (strict improvement, patience,
// best weights restored, the max_num_epochs quirk, a non-finite loss); a quadratic shows that
// resume carries the epoch, best loss and Adam state; an NLE-shaped adapter (the flow trained
// as q(x | theta)) shows a new estimator is an adapter, and that a warm epoch allocates nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "host/allocation_counter.hpp"
#include "host/inference/trainer.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::CaptureWarnings;
using testing::contains;
using testing::error_of;
using testing::quiet;

const Device kCpu = Device::cpu();

// n rows of theta ~ U(-2, 2)^1 and x = theta: 20 rows make one training batch of 18 and one
// validation batch of 2, so each epoch is one validation batch_loss call.
detail::SimulationData scalar_data(int64_t n = 20) {
  Generator g(1);
  const Tensor theta = uniform({n, 1}, -2.0f, 2.0f, kCpu, &g);
  detail::SimulationData data("Fake", 1, kCpu);
  data.append(theta, theta, true);
  return data;
}

// One weight; the training batches push it down by about lr per step (gradient 1), and epoch e's
// validation loss is script[e]. The weights each validation scored are recorded.
class ScriptedEstimator : public detail::TrainableEstimator {
 public:
  explicit ScriptedEstimator(std::vector<float> script) : script_(std::move(script)) {}

  bool has_network() const override { return built_; }
  void build_network(const Tensor&, const Tensor&, Generator&) override { built_ = true; }
  Tensor parameters() override { return weight_; }
  Tensor gradients() override { return grad_; }
  void zero_grad() override { grad_.zero_(); }
  void batch_loss(const Tensor&, const Tensor&, Tensor& losses, bool training,
                  Generator&) override {
    if (training) {
      losses.fill_(1.0f);
      return;
    }
    const size_t epoch = scored.size();
    EXPECT_LT(epoch, script_.size()) << "trained past the end of the script";
    scored.push_back(weight_.item());
    losses.fill_(script_[std::min(epoch, script_.size() - 1)]);
  }
  void backward(const Tensor&) override { grad_.fill_(1.0f); }

  std::vector<float> scored;  // the weight at each epoch's validation

 private:
  std::vector<float> script_;
  bool built_ = false;
  Tensor weight_ = Tensor::zeros({1}, kCpu), grad_ = Tensor::zeros({1}, kCpu);
};

struct Trained {
  detail::TrainingState state;
  std::string error;
  std::vector<std::string> warnings;
};

Trained train_scripted(ScriptedEstimator& e, TrainOptions o) {
  const detail::SimulationData data = scalar_data();
  Generator g(2);
  o.generator = &g;
  o.learning_rate = 0.1;
  Trained t;
  CaptureWarnings w;
  t.error = error_of([&] { detail::train_estimator(e, data, t.state, quiet(o)); });
  t.warnings = w.messages;
  return t;
}

TEST(Trainer, StopsAfterStopEpochsWithoutStrictImprovementAndRestoresTheBest) {
  // Epoch 2 ties epoch 1 and epoch 5 ties epoch 3: neither counts as an improvement, so epochs
  // 4, 5 and 6 are the three without one and training stops before the 1.0 of epoch 7.
  ScriptedEstimator e({5.0f, 4.0f, 4.0f, 3.5f, 3.75f, 3.5f, 4.5f, 1.0f});
  const Trained t = train_scripted(e, {.stop_after_epochs = 3});
  ASSERT_EQ(t.error, "");
  EXPECT_TRUE(t.warnings.empty());
  EXPECT_EQ(t.state.summary.epochs_trained, (std::vector<int64_t>{7}));  // best 3 + 1 + stop 3
  EXPECT_EQ(t.state.summary.validation_loss,
            (std::vector<double>{5.0, 4.0, 4.0, 3.5, 3.75, 3.5, 4.5}));
  EXPECT_EQ(t.state.summary.best_validation_loss, (std::vector<double>{3.5}));
  ASSERT_EQ(e.scored.size(), 7u);
  EXPECT_NE(e.scored[3], e.scored[6]);            // the weights moved on after the best
  EXPECT_EQ(e.parameters().item(), e.scored[3]);  // and the best epoch's are back
  EXPECT_EQ(e.gradients().item(), 0.0f);          // gradients cleared at the end
  EXPECT_EQ(t.state.optimizer->step_count(), 7);  // one training batch per epoch
}

TEST(Trainer, MaxNumEpochsScoresTheLastEpochOnceMore) {
  // max_num_epochs = 4 runs 5 epochs (epoch <= max). converged() never sees the last one; sbi
  // v0.27.0 compares it once more: kept when it is the best, else the best weights come back.
  for (const bool last_is_best : {true, false}) {
    ScriptedEstimator e({5.0f, 4.0f, 3.0f, 3.25f, last_is_best ? 2.5f : 3.125f});
    const Trained t = train_scripted(e, {.max_num_epochs = 4});
    ASSERT_EQ(t.error, "");
    EXPECT_EQ(t.state.summary.epochs_trained, (std::vector<int64_t>{5}));
    ASSERT_EQ(t.warnings.size(), 1u);
    EXPECT_TRUE(contains(t.warnings[0], "Fake.train: maximum number of epochs max_num_epochs=4"));
    ASSERT_EQ(e.scored.size(), 5u);
    // Validation follows the epoch's training, so the final weights are the ones scored[4]
    // saw: kept when it is the best, replaced by epoch 2's otherwise.
    if (last_is_best) {
      EXPECT_EQ(t.state.summary.best_validation_loss, (std::vector<double>{2.5}));
      EXPECT_EQ(e.parameters().item(), e.scored[4]);
    } else {
      EXPECT_EQ(t.state.summary.best_validation_loss, (std::vector<double>{3.0}));
      EXPECT_NE(e.scored[2], e.scored[4]);
      EXPECT_EQ(e.parameters().item(), e.scored[2]);
    }
  }
}

TEST(Trainer, NonFiniteEpochLossThrowsAndRestoresTheBestWeights) {
  ScriptedEstimator e({5.0f, 4.0f, std::nanf("")});
  const Trained t = train_scripted(e, {});
  EXPECT_TRUE(contains(t.error, "Fake.train: epoch 3 gave a non-finite loss"));
  EXPECT_TRUE(contains(t.error, "the best weights so far are restored"));
  EXPECT_EQ(e.parameters().item(), e.scored[1]);  // epoch 1 (loss 4) was the best
  EXPECT_EQ(e.gradients().item(), 0.0f);
  EXPECT_TRUE(t.state.summary.epochs_trained.empty());
}

// loss = (w - 1)^2 on every row, with its exact gradient: Adam's moments and step count shape
// every step, so a resumed run matches an uninterrupted one only if they are carried over.
class QuadraticEstimator : public detail::TrainableEstimator {
 public:
  bool has_network() const override { return built_; }
  void build_network(const Tensor&, const Tensor&, Generator&) override {
    built_ = true;
    ++builds;
  }
  Tensor parameters() override { return weight_; }
  Tensor gradients() override { return grad_; }
  void zero_grad() override { grad_.zero_(); }
  void batch_loss(const Tensor&, const Tensor&, Tensor& losses, bool, Generator&) override {
    const float d = weight_.item() - 1.0f;
    losses.fill_(d * d);
  }
  void backward(const Tensor&) override { grad_.fill_(2.0f * (weight_.item() - 1.0f)); }

  int builds = 0;

 private:
  bool built_ = false;
  Tensor weight_ = Tensor::zeros({1}, kCpu), grad_ = Tensor::zeros({1}, kCpu);
};

TEST(Trainer, ResumeCarriesEpochBestLossAndAdamState) {
  const detail::SimulationData data = scalar_data();
  CaptureWarnings warnings;  // every call ends at max_num_epochs
  QuadraticEstimator whole, split;
  detail::TrainingState whole_state, split_state;
  Generator g1(3), g2(3);
  detail::train_estimator(whole, data, whole_state, quiet({.max_num_epochs = 5, .generator = &g1}));
  detail::train_estimator(split, data, split_state, quiet({.max_num_epochs = 2, .generator = &g2}));
  const std::vector<int64_t> indices = split_state.train_indices;
  detail::train_estimator(split, data, split_state,
                          quiet({.max_num_epochs = 5, .resume_training = true, .generator = &g2}));

  EXPECT_EQ(split.builds, 1);                     // the network is not rebuilt
  EXPECT_EQ(split_state.train_indices, indices);  // nor the split redrawn
  EXPECT_EQ(split_state.summary.epochs_trained, (std::vector<int64_t>{3, 6}));
  EXPECT_EQ(split_state.optimizer->step_count(), 6);
  // The loss falls every epoch, so no best-weight reload intervenes: same bits as one run.
  EXPECT_EQ(split_state.summary.validation_loss, whole_state.summary.validation_loss);
  EXPECT_EQ(split.parameters().item(), whole.parameters().item());
  EXPECT_EQ(split_state.best_validation_loss, whole_state.best_validation_loss);
  EXPECT_LT(whole.parameters().item(), 1.0f);  // still moving: Adam's state matters each step
}

// An estimator whose loss is one scalar per batch (as NRE's): the loop sizes the loss vector and
// its gradient from the interface, and logs sbi's NRE epoch loss.
class BatchScalarLossEstimator : public ScriptedEstimator {
 public:
  BatchScalarLossEstimator() : ScriptedEstimator({3.0f}) {}
  int64_t losses_per_batch(int64_t) const override { return 1; }
  void backward(const Tensor& grad_losses) override {
    grads.push_back(grad_losses.to_vector());
    ScriptedEstimator::backward(grad_losses);
  }
  std::vector<std::vector<float>> grads;
};

TEST(Trainer, LossLayoutComesFromTheEstimator) {
  BatchScalarLossEstimator e;
  const Trained t = train_scripted(e, {.max_num_epochs = 0});
  ASSERT_EQ(t.error, "");
  // One training batch (18 rows) with loss 1 and one validation batch (2 rows) with loss 3:
  // sbi's NRE logs the sum of batch means / (batches * batch size), 1 / 18 and 3 / 2, and the
  // gradient of a one-entry mean is 1.
  EXPECT_EQ(e.grads, (std::vector<std::vector<float>>{{1.0f}}));
  ASSERT_EQ(t.state.summary.training_loss.size(), 1u);
  EXPECT_EQ(t.state.summary.training_loss[0], 1.0 / 18.0);
  EXPECT_EQ(t.state.summary.validation_loss[0], 3.0 / 2.0);
}

TEST(Trainer, ChecksNameTheEstimator) {
  ScriptedEstimator e({1.0f});
  detail::SimulationData empty("Fake", 1, kCpu);
  detail::TrainingState state;
  EXPECT_TRUE(contains(error_of([&] { detail::train_estimator(e, empty, state, quiet({})); }),
                       "Fake.train: no simulations"));
  const detail::SimulationData data = scalar_data();
  EXPECT_TRUE(contains(
      error_of([&] { detail::train_estimator(e, data, state, quiet({.resume_training = true})); }),
      "resume_training needs a previous train() on this Fake"));
  EXPECT_TRUE(contains(
      error_of([&] { detail::train_estimator(e, data, state, quiet({.learning_rate = -1})); }),
      "Fake.train: learning_rate is -1"));
}

// ---- NLE as an adapter
// ---------------------------------------------------------------------------

const NsfOptions kSmall{.hidden_features = 16, .num_transforms = 2, .num_bins = 4};

// sbi's NLE_A loss through the same loop: the flow models x given theta, -log q(x | theta). Only
// the network it builds and the argument order of the loss differ from NPE's adapter.
class NleShapedEstimator : public detail::TrainableEstimator {
 public:
  bool has_network() const override { return flow != nullptr; }
  void build_network(const Tensor& theta, const Tensor& x, Generator& g) override {
    flow = std::make_unique<NeuralSplineFlow>(build_nsf(x, theta, kSmall, &g));
    flow->set_check_training_inputs(false);
  }
  Tensor parameters() override { return flow->parameters(); }
  Tensor gradients() override { return flow->gradients(); }
  void zero_grad() override { flow->zero_grad(); }
  void batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses, bool, Generator&) override {
    allocations_at_batch.push_back(detail::allocation_count());
    flow->loss(x, theta, losses);
  }
  void backward(const Tensor& grad_losses) override { flow->backward(grad_losses); }

  std::unique_ptr<NeuralSplineFlow> flow;
  std::vector<int64_t> allocations_at_batch;
};

// theta ~ U(-2, 2)^2 and a 3-D x = (theta_0, theta_1, theta_0 - theta_1) + 0.1 noise.
detail::SimulationData nle_data(int64_t n, uint64_t seed) {
  Generator g(seed);
  const Tensor theta = uniform({n, 2}, -2.0f, 2.0f, kCpu, &g);
  std::vector<float> tv = theta.to_vector(), xv(static_cast<size_t>(3 * n));
  for (int64_t i = 0; i < n; ++i) {
    xv[3 * i] = tv[2 * i];
    xv[3 * i + 1] = tv[2 * i + 1];
    xv[3 * i + 2] = tv[2 * i] - tv[2 * i + 1];
  }
  const Tensor x = Tensor::from(xv, {n, 3}, kCpu);
  detail::SimulationData data("NLE", 2, kCpu);
  data.append(theta, x + 0.1f * randn_like(x, &g), true);
  return data;
}

TEST(Trainer, NleShapedAdapterLearnsTheLikelihood) {
  // -log p(x | theta) of three independent N(., 0.01) is 3 * 0.5 log(2 pi e 0.01) = -2.7 nats;
  // the untrained flow is near +3. A flow of x given theta that learns reaches well below
  // -1.5 in 15 epochs; one that ignored theta stays near the spread of x (about +4 nats).
  const detail::SimulationData data = nle_data(600, 21);
  NleShapedEstimator e;
  detail::TrainingState state;
  Generator g(22);
  CaptureWarnings warnings;
  detail::train_estimator(e, data, state,
                          quiet({.training_batch_size = 50,
                                 .learning_rate = 5e-3,
                                 .max_num_epochs = 14,
                                 .generator = &g}));
  EXPECT_EQ(e.flow->input_features(), 3);  // the modeled variable is x
  EXPECT_EQ(e.flow->condition_features(), 2);
  const std::vector<double>& val = state.summary.validation_loss;
  std::printf("[ measured ] NLE-shaped validation loss: first %.3f, best %.3f\n", val.front(),
              state.summary.best_validation_loss[0]);
  EXPECT_LT(val.back(), val.front() - 1.0);
  EXPECT_LT(state.summary.best_validation_loss[0], -1.5);
}

TEST(Trainer, WarmEpochsAllocateNothing) {
  // 120 rows: 108 training rows in batches of 25 (4 batches, 8 dropped), 12 validation rows.
  // Everything a step uses is sized in the first epoch; later epochs reuse it.
  const detail::SimulationData data = nle_data(120, 23);
  NleShapedEstimator e;
  detail::TrainingState state;
  Generator g(24);
  CaptureWarnings warnings;
  detail::train_estimator(e, data, state,
                          quiet({.training_batch_size = 25, .max_num_epochs = 3, .generator = &g}));
  const std::vector<int64_t>& a = e.allocations_at_batch;
  ASSERT_EQ(a.size(), 4u * 5u);  // 4 epochs of 4 training + 1 validation batches
  for (size_t i = 5; i < a.size(); ++i) EXPECT_EQ(a[i], a[5]) << "batch " << i;
}

// ---- NPE's constructors -------------------------------------------------------------------------

TEST(NpeConstructors, DeviceWithoutEstimatorOptions) {
  const BoxUniform prior(-1.0f, 1.0f, 2, kCpu);
  EXPECT_EQ(NPE(prior).device(), Device::best());
  EXPECT_EQ(NPE(prior, kCpu).device(), kCpu);  // sbi's NPE(prior, device=...)
  EXPECT_EQ(NPE(prior, NsfOptions{}, kCpu).device(), kCpu);
  EXPECT_EQ(NPE(prior, {}).device(), Device::best());  // {} can only be NsfOptions
  EXPECT_EQ(NPE(prior, {.hidden_features = 8}, kCpu).device(), kCpu);
}

}  // namespace
}  // namespace cusbi
