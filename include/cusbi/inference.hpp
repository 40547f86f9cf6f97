// Simulation and training, as sbi does them: simulate_for_sbi draws parameters from a prior and
// runs a user simulator in batches; NPE (sbi's NPE / NPE_C, first round) collects (theta, x)
// pairs, trains a neural spline flow q(theta | x) with sbi's defaults and early stopping, and
// builds the DirectPosterior. The whole training loop runs on the NPE's device: data, network,
// optimiser state and per-batch loss sums stay there, and the host reads the sums back once per
// epoch.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cusbi/distributions.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/optim.hpp"
#include "cusbi/posteriors.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// ---- simulation ---------------------------------------------------------------------------------

// A simulator maps a batch of parameters theta (B, D) to outputs x (B, C): one row per row of
// theta, in the same order. It may return x on any device (it is copied to theta's device). theta
// is a view of the simulations' parameters: read it, do not modify it in place.
using Simulator = std::function<Tensor(const Tensor& theta)>;

struct SimulateOptions {
  // Rows of theta per simulator call; 0 runs all of them in one call (sbi's None). sbi defaults
  // to 1 because its simulators are often scalar Python functions; a cusbi simulator is written
  // with tensor ops, where one call per row would cost a host round trip (and on a GPU a set of
  // kernel launches) per simulation. 1000 keeps those costs amortised while memory stays bounded
  // and the progress line still moves.
  int64_t simulation_batch_size = 1000;
  bool show_progress = true;       // "Running N simulations: i/N" on a terminal
  Generator* generator = nullptr;  // draws theta from the prior; the default generator if null
};

// sbi's simulate_for_sbi: theta = prior.sample({num_simulations}) (on the prior's device), then
// the simulator on consecutive batches of rows. Returns (theta (N, D), x (N, C)) on the prior's
// device. Outputs with NaN/Inf are returned as they are (NPE.append_simulations drops them).
// num_simulations == 0 returns theta (0, D) and x (0, 0) without calling the simulator. Throws
// cusbi::Error when a simulator call returns an undefined tensor, the wrong number of rows, or
// a row shape different from the first call's.
std::pair<Tensor, Tensor> simulate_for_sbi(const Simulator& simulator, const Distribution& prior,
                                           int64_t num_simulations,
                                           const SimulateOptions& options = {});

// ---- training -----------------------------------------------------------------------------------

// sbi's train() arguments and defaults (v0.27.0).
struct TrainOptions {
  int64_t training_batch_size = 200;
  double learning_rate = 5e-4;
  double validation_fraction = 0.1;     // in (0, 1)
  int64_t stop_after_epochs = 20;       // >= 1
  int64_t max_num_epochs = 2147483647;  // 2^31 - 1; >= 0 (the loop may run max + 1 epochs, as sbi)
  double clip_max_norm = 5.0;           // global gradient-norm clip; <= 0 turns it off (sbi's None)
  // Continue the last train(): same train/validation split, same Adam state, the epoch counter
  // and best validation loss carried on (sbi's resume_training). Needs a previous train().
  bool resume_training = false;
  // Build a new network from the current training rows instead of continuing the existing one.
  bool retrain_from_scratch = false;
  bool show_train_summary = false;  // prints sbi's round summary (epochs, best validation loss)
  bool show_progress = true;        // progress line, and the "converged after n epochs" line
  // Split, network initialisation and per-epoch shuffles; the default generator when null.
  Generator* generator = nullptr;
};

// sbi's inference.summary. Per round (one entry per train() call): epochs_trained (the epoch
// counter at exit, cumulative over resumed calls) and best_validation_loss. Per epoch, over all
// calls: training_loss, validation_loss (mean -log q per sample over the full batches used) and
// epoch_durations_sec.
struct TrainingSummary {
  std::vector<int64_t> epochs_trained;
  std::vector<double> best_validation_loss;
  std::vector<double> training_loss;
  std::vector<double> validation_loss;
  std::vector<double> epoch_durations_sec;
};

namespace detail {
struct NpeState;  // host/inference/npe_state.hpp
}

// sbi's NPE (NPE_C) with the neural spline flow, in its first round (proposal = prior, so the
// loss is -log q(theta | x)). The flow is sbi's build_nsf, i.e. sbi's
// NPE(prior, density_estimator="nsf"); sbi's own default estimator is a MAF, which cusbi does
// not have. Usage:
//   NPE npe(prior);  npe.append_simulations(theta, x);  NeuralSplineFlow& q = npe.train();
//   DirectPosterior posterior = npe.build_posterior();
// Not copyable; one NPE must not be used from several threads at once.
class NPE {
 public:
  // The prior is copied onto `device`, where the data, network and training live. As sbi's
  // NPE(prior, device=...): NPE(prior), NPE(prior, Device::cpu()); the flow's options come
  // first when given: NPE(prior, NsfOptions{...}, device), NPE(prior, {}, device). nsf_options
  // has no default (unlike before) so that NPE(prior, {}) means the options, unambiguously.
  explicit NPE(const Distribution& prior, Device device = Device::best());
  NPE(const Distribution& prior, const NsfOptions& nsf_options, Device device = Device::best());
  ~NPE();
  NPE(NPE&&) noexcept;
  NPE& operator=(NPE&&) noexcept;

  // theta (N, D) with D = prior.event_size(), x (N, C), any device (copied to the NPE's device
  // when elsewhere; shared when already there). Appends to the simulations held so far. With
  // exclude_invalid_x, rows whose x or theta holds NaN or +-inf are dropped with a warning naming
  // how many; without it they are kept and train() refuses to run on them. Returns *this.
  NPE& append_simulations(const Tensor& theta, const Tensor& x, bool exclude_invalid_x = true);

  // Trains (see TrainOptions) and returns the trained flow, owned by this NPE: later train()
  // calls change it. The network is built on the first call (or with retrain_from_scratch)
  // from the training rows only, as sbi does. Throws cusbi::Error when there are no or too few
  // simulations, invalid rows, bad options, or a non-finite epoch loss (the best weights so far
  // are restored first).
  NeuralSplineFlow& train(const TrainOptions& options = {});

  // A DirectPosterior over a deep copy of the trained flow and the prior (later training does
  // not change it). Throws when train() has not run.
  DirectPosterior build_posterior() const;

  const TrainingSummary& summary() const;
  // The trained flow; throws when train() has not run.
  NeuralSplineFlow& density_estimator();
  const NeuralSplineFlow& density_estimator() const;
  const Distribution& prior() const;
  Device device() const;

  // The simulations held (after exclusion), on device(): theta (N, D), x (N, C).
  const Tensor& theta() const;
  const Tensor& x() const;
  int64_t num_simulations() const;
  // The last train()'s split, as row indices into theta()/x() (sbi's train_indices and
  // val_indices); empty before train().
  const std::vector<int64_t>& train_indices() const;
  const std::vector<int64_t>& validation_indices() const;

 private:
  std::unique_ptr<detail::NpeState> impl_;
};

// sbi's round summary text ("||||| ROUND 1 STATS |||||", epochs trained, best validation
// performance with 4 decimals) for round `round` (0-based) of `summary`.
std::string describe_round(const TrainingSummary& summary, int64_t round);

// A random permutation of 0..n-1 drawn from `generator` (the default one when null) by
// Fisher-Yates on counter-based Philox draws: the same seed gives the same order on every
// machine. Used for the train/validation split and the per-epoch shuffles.
std::vector<int64_t> random_permutation(int64_t n, Generator* generator = nullptr);

}  // namespace cusbi
