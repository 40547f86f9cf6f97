// train_estimator: sbi's NeuralInference._run_training_loop for the first round (v0.27.0
// semantics), for any TrainableEstimator. Each batch's losses go into a preallocated vector whose
// sum is written into a per-batch slot on the device; the host reads those slots back once per
// epoch. Best weights are kept by copying the flat parameter buffer into a preallocated one (sbi
// deep-copies the state_dict). The generator's draws come in sbi's order: split, network
// initialisation, then per epoch the training shuffle and the validation shuffle.
#include "host/inference/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/inference/batch_loader.hpp"

namespace cusbi::detail {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kInf = std::numeric_limits<double>::infinity();

void check_options(const TrainOptions& o, const std::string& who) {
  CUSBI_CHECK(o.training_batch_size >= 1, who << ": training_batch_size is "
                                              << o.training_batch_size
                                              << "; pass >= 1 (sbi's default is 200)");
  CUSBI_CHECK(std::isfinite(o.learning_rate) && o.learning_rate > 0,
              who << ": learning_rate is " << o.learning_rate
                  << "; pass a finite value > 0 (default 5e-4)");
  CUSBI_CHECK(o.validation_fraction > 0 && o.validation_fraction < 1,
              who << ": validation_fraction is " << o.validation_fraction
                  << "; pass a value in (0, 1) (default 0.1): early stopping needs a validation "
                     "set");
  CUSBI_CHECK(o.stop_after_epochs >= 1, who << ": stop_after_epochs is " << o.stop_after_epochs
                                            << "; pass >= 1 (default 20)");
  CUSBI_CHECK(o.max_num_epochs >= 0,
              who << ": max_num_epochs is " << o.max_num_epochs << "; pass >= 0");
  CUSBI_CHECK(!std::isnan(o.clip_max_norm),
              who << ": clip_max_norm is NaN; pass a value > 0, or <= 0 for no clipping");
  CUSBI_CHECK(!(o.resume_training && o.retrain_from_scratch),
              who << ": resume_training and retrain_from_scratch exclude each other; pass one");
}

void check_ready(const TrainableEstimator& e, const SimulationData& data, const TrainingState& s,
                 const TrainOptions& o, const std::string& who) {
  CUSBI_CHECK(data.theta().defined(), who << ": no simulations; call append_simulations(theta, "
                                             "x) first (simulate_for_sbi makes them)");
  CUSBI_CHECK(data.invalid_rows() == 0,
              who << ": " << data.invalid_rows()
                  << " simulations hold NaN or Inf (appended with exclude_invalid_x = false), "
                     "which makes the loss NaN; append them with exclude_invalid_x = true (the "
                     "default) or remove them");
  CUSBI_CHECK(!o.resume_training || (e.has_network() && s.optimizer && !s.train_indices.empty()),
              who << ": resume_training needs a previous train() on this " << data.estimator
                  << "; call train() without it first");
}

int64_t train_size(double validation_fraction, int64_t n) {
  return static_cast<int64_t>((1.0 - validation_fraction) * static_cast<double>(n));
}

// The fewest simulations that leave both sets non-empty, for the error message.
int64_t min_simulations(double validation_fraction) {
  for (int64_t n = 2; n < (int64_t{1} << 40); n = n < 4096 ? n + 1 : n * 2) {
    const int64_t t = train_size(validation_fraction, n);
    if (t >= 1 && n - t >= 1) return n;
  }
  return -1;
}

// sbi's get_dataloaders split: perm = randperm(N), train = perm[:int((1 - vf) N)].
void make_split(TrainingState& s, int64_t n, double validation_fraction, Generator& g,
                const std::string& who) {
  const int64_t n_train = train_size(validation_fraction, n);
  CUSBI_CHECK(n_train >= 1 && n - n_train >= 1,
              who << ": " << n << " simulations leave " << n_train << " for training and "
                  << n - n_train << " for validation (validation_fraction " << validation_fraction
                  << "); append at least " << min_simulations(validation_fraction)
                  << " simulations");
  const std::vector<int64_t> perm = random_permutation(n, &g);
  s.train_indices.assign(perm.begin(), perm.begin() + n_train);
  s.validation_indices.assign(perm.begin() + n_train, perm.end());
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A loader with its loss vector and its batches' slots in the epoch's sums.
struct Pass {
  BatchLoader loader;
  Tensor losses;              // (losses_per_batch(size),)
  std::vector<Tensor> slots;  // () views of the run's sums, one per batch

  Pass(const std::vector<int64_t>& pool, const TrainOptions& o, const SimulationData& data,
       const TrainableEstimator& e)
      : loader(pool, o.training_batch_size, data.theta().size(1), data.x().size(1), data.device),
        losses(Tensor::empty({e.losses_per_batch(loader.size())}, data.device)) {}

  // sbi's epoch loss: the sum over all batches / (number of batches * batch size).
  double epoch_loss(const std::vector<float>& sums, int64_t first) const {
    double total = 0.0;
    for (int64_t k = 0; k < loader.count(); ++k) total += sums[static_cast<size_t>(first + k)];
    return total / static_cast<double>(loader.count() * loader.size());
  }
};

// One train() call: the loaders and step buffers, sized once, and the loop over epochs.
class TrainingRun {
 public:
  TrainingRun(TrainableEstimator& e, const SimulationData& data, TrainingState& s,
              const TrainOptions& o, Generator& g, const std::string& who)
      : e_(e),
        data_(data),
        s_(s),
        o_(o),
        g_(g),
        who_(who),
        train_(s.train_indices, o, data, e),
        val_(s.validation_indices, o, data, e),
        // d mean(losses) / d losses_i = 1 / L, as the backward of sbi's torch.mean.
        grad_(Tensor::full(train_.losses.shape(), 1.0f / static_cast<float>(train_.losses.numel()),
                           data.device)),
        sums_(Tensor::zeros({train_.loader.count() + val_.loader.count()}, data.device)) {
    for (int64_t k = 0; k < train_.loader.count(); ++k) train_.slots.push_back(sums_[k]);
    for (int64_t k = 0; k < val_.loader.count(); ++k) {
      const int64_t i = train_.loader.count() + k;
      val_.slots.push_back(sums_[i]);
    }
  }

  void run() {
    ProgressLine progress("Training neural network. Epochs trained", 0, o_.show_progress);
    try {
      while (s_.epoch <= o_.max_num_epochs && !converged()) {
        run_epoch();
        ++s_.epoch;
        char detail[64];
        std::snprintf(detail, sizeof detail, "val loss %.4f", s_.validation_loss);
        progress.update(s_.epoch, detail);
      }
    } catch (...) {
      restore_best();  // leave a usable network behind (a NaN step poisons the parameters)
      e_.zero_grad();
      throw;
    }
    progress.finish();
  }

  // sbi's handling of a loop that ran out of epochs (v0.27.0): the last epoch, which
  // converged() never saw, is scored once more.
  void finish_max_epochs() {
    if (s_.validation_loss < s_.best_validation_loss) {
      s_.best_validation_loss = s_.validation_loss;
      save_best();
    } else {
      restore_best();
    }
  }

 private:
  // sbi's _converged: epoch 0 or a strict improvement stores the weights (at epoch 0 the
  // untrained ones, with best = +inf); stop_after_epochs epochs without one restore them.
  bool converged() {
    if (s_.epoch == 0 || s_.validation_loss < s_.best_validation_loss) {
      s_.best_validation_loss = s_.validation_loss;
      s_.epochs_since_improvement = 0;
      save_best();
    } else {
      ++s_.epochs_since_improvement;
    }
    if (s_.epochs_since_improvement > o_.stop_after_epochs - 1) {
      restore_best();
      return true;
    }
    return false;
  }

  void run_epoch() {
    const Clock::time_point start = Clock::now();
    train_.loader.gather(data_.theta(), data_.x(), g_);
    run_batches(train_, true);
    val_.loader.gather(data_.theta(), data_.x(), g_);
    run_batches(val_, false);
    const std::vector<float> sums = sums_.to_vector();  // the epoch's one host round trip
    const double train_loss = train_.epoch_loss(sums, 0);
    const double val_loss = val_.epoch_loss(sums, train_.loader.count());
    CUSBI_CHECK(std::isfinite(train_loss) && std::isfinite(val_loss),
                who_ << ": epoch " << s_.epoch + 1 << " gave a non-finite loss (training "
                     << train_loss << ", validation " << val_loss
                     << "); the best weights so far are restored. Lower learning_rate, keep "
                        "clip_max_norm > 0, or check the simulations for extreme values");
    s_.validation_loss = val_loss;
    s_.summary.training_loss.push_back(train_loss);
    s_.summary.validation_loss.push_back(val_loss);
    s_.summary.epoch_durations_sec.push_back(seconds_since(start));
  }

  void run_batches(Pass& pass, bool training) {
    for (int64_t k = 0; k < pass.loader.count(); ++k) {
      if (training) s_.optimizer->zero_grad();
      e_.batch_loss(pass.loader.theta(k), pass.loader.x(k), pass.losses, training, g_);
      // The batch's loss sum stays on the device, in a fixed-order reduction.
      sum(pass.losses, 0, pass.slots[static_cast<size_t>(k)]);
      if (!training) continue;
      e_.backward(grad_);
      if (o_.clip_max_norm > 0) clip_grad_norm_on_device(e_.gradients(), o_.clip_max_norm);
      s_.optimizer->step();
    }
  }

  void save_best() {
    s_.best_parameters.copy_(e_.parameters());
    s_.has_best = true;
  }
  void restore_best() {
    if (s_.has_best) e_.parameters().copy_(s_.best_parameters);
  }

  TrainableEstimator& e_;
  const SimulationData& data_;
  TrainingState& s_;
  const TrainOptions& o_;
  Generator& g_;
  const std::string& who_;
  Pass train_, val_;
  Tensor grad_, sums_;
};

// sbi's _initialize_neural_network: the network from the training rows only (their z-scoring).
void build_network(TrainableEstimator& e, const SimulationData& data, TrainingState& s,
                   Generator& g) {
  e.build_network(take_rows(data.theta(), s.train_indices), take_rows(data.x(), s.train_indices),
                  g);
  s.best_parameters = Tensor::empty({e.parameters().numel()}, e.parameters().device());
  s.has_best = false;
  s.optimizer.reset();
}

void print_summary(const TrainingSummary& summary) {
  const std::string text =
      describe_round(summary, static_cast<int64_t>(summary.epochs_trained.size()) - 1);
  std::printf("%s", text.c_str());
  std::fflush(stdout);
}

}  // namespace

void train_estimator(TrainableEstimator& e, const SimulationData& data, TrainingState& s,
                     const TrainOptions& options) {
  const std::string who = data.estimator + ".train";
  check_options(options, who);
  check_ready(e, data, s, options, who);
  Generator& g = options.generator ? *options.generator : default_generator();

  if (!options.resume_training)
    make_split(s, data.num_simulations(), options.validation_fraction, g, who);
  if (!e.has_network() || options.retrain_from_scratch) build_network(e, data, s, g);
  if (!options.resume_training) {
    s.optimizer.emplace(e.parameters(), e.gradients(), options.learning_rate);
    s.epoch = 0;
    s.validation_loss = kInf;
  }

  TrainingRun run(e, data, s, options, g, who);
  run.run();
  if (s.epoch > options.max_num_epochs) {
    run.finish_max_epochs();
    warn(who +
         ": maximum number of epochs max_num_epochs=" + std::to_string(options.max_num_epochs) +
         " reached, but the network has not yet fully converged. Consider increasing it.");
  } else if (options.show_progress && progress_enabled()) {
    std::fprintf(stderr, "Neural network successfully converged after %lld epochs.\n",
                 static_cast<long long>(s.epoch));
  }
  s.summary.epochs_trained.push_back(s.epoch);
  s.summary.best_validation_loss.push_back(s.best_validation_loss);
  if (options.show_train_summary) print_summary(s.summary);
  e.zero_grad();  // sbi sets the gradients to None so they do not linger
}

}  // namespace cusbi::detail
