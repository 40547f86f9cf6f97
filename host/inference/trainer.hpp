// One training loop for every estimator: sbi's NeuralInference._run_training_loop (v0.27.0) for
// the first round, written against TrainableEstimator. NPE, NLE and NRE differ only in the
// network they build and the loss of a batch; the split, loaders, Adam, clipping, early
// stopping, best weights, max_num_epochs quirk, resume, summary and progress line live here once.
// Everything per step stays on the estimator's device and allocates nothing; the host reads the
// per-batch loss sums back once per epoch.
#pragma once
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "cusbi/inference.hpp"
#include "cusbi/optim.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"
#include "host/inference/simulation_data.hpp"

namespace cusbi::detail {

// What the loop needs from an estimator kind. The network may not exist before the first
// train(); the loop asks for it after the split, from the training rows only.
class TrainableEstimator {
 public:
  virtual ~TrainableEstimator() = default;

  virtual bool has_network() const = 0;
  // sbi's _initialize_neural_network: (re)build the network, z-scoring statistics from these
  // training rows (theta (n_train, D), x (n_train, C)); random initialisation from `g`.
  virtual void build_network(const Tensor& theta, const Tensor& x, Generator& g) = 0;

  virtual Tensor parameters() = 0;  // flat, shares memory with the network
  virtual Tensor gradients() = 0;   // flat, shares memory with the network
  virtual void zero_grad() = 0;

  // Entries of the loss vector for a batch of `batch` rows. sbi logs (and stops on) the sum of
  // each batch's losses over all batches / (number of batches * batch size): per-sample losses
  // (NPE, NLE: B entries) give the mean loss per sample; an estimator whose loss is one scalar
  // per batch (NRE's losses are means over atoms and rows) returns 1 entry, the batch's loss, and
  // gets sbi's NRE value, the sum of batch means / (number of batches * batch size).
  virtual int64_t losses_per_batch(int64_t batch) const { return batch; }

  // The batch's losses, whose mean is the loss being minimised, into `losses`
  // (losses_per_batch(B),): theta (B, D) and x (B, C) are views of the epoch's gathered rows.
  // training = true keeps what backward needs. `g` is the training generator, for estimators
  // that draw per batch (NRE's contrasting atoms); others must not draw from it.
  virtual void batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses, bool training,
                          Generator& g) = 0;
  // grad_losses (losses_per_batch(B),) = d mean / d losses for the last training batch_loss:
  // accumulates into gradients().
  virtual void backward(const Tensor& grad_losses) = 0;
};

// sbi's trainer attributes that one train() leaves for the next (resume_training carries them
// over): split, optimiser, epoch counter, validation losses, the best weights, the summary.
struct TrainingState {
  std::vector<int64_t> train_indices, validation_indices;
  std::optional<Adam> optimizer;
  Tensor best_parameters;  // flat copy of the best epoch's parameters, preallocated once
  bool has_best = false;

  int64_t epoch = 0;
  double validation_loss = std::numeric_limits<double>::infinity();
  double best_validation_loss = std::numeric_limits<double>::infinity();
  int64_t epochs_since_improvement = 0;

  TrainingSummary summary;
};

// sbi's train() on `data`: checks the options, splits 90/10 (unless resuming), builds the
// network when there is none (or with retrain_from_scratch), creates Adam (unless resuming),
// runs the epochs with early stopping, and records the summary. Messages start with
// data.estimator + ".train". Throws cusbi::Error for bad options, no or too few or invalid
// simulations, resume without a previous train(), or a non-finite epoch loss (after restoring
// the best weights).
void train_estimator(TrainableEstimator& estimator, const SimulationData& data,
                     TrainingState& state, const TrainOptions& options);

}  // namespace cusbi::detail
