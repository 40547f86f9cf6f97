// NPE.train: sbi's NeuralInference._run_training_loop for the first round (v0.27.0 semantics).
// Everything per step stays on the NPE's device and allocates nothing: each epoch's shuffled
// rows are gathered once into preallocated buffers, batches are row views of them, the loss
// goes into a preallocated vector whose sum is written into a per-batch slot on the device, and
// the host reads those slots back once per epoch. Best weights are kept by copying the flat
// parameter buffer into a preallocated one (sbi deep-copies the state_dict).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/inference/npe_state.hpp"
#include "kernels/cuda_api.h"
#include "kernels/reduce.h"

namespace cusbi {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kInf = std::numeric_limits<double>::infinity();

void check_options(const TrainOptions& o) {
  CUSBI_CHECK(o.training_batch_size >= 1, "NPE.train: training_batch_size is "
                                              << o.training_batch_size
                                              << "; pass >= 1 (sbi's default is 200)");
  CUSBI_CHECK(std::isfinite(o.learning_rate) && o.learning_rate > 0,
              "NPE.train: learning_rate is " << o.learning_rate
                                             << "; pass a finite value > 0 (default 5e-4)");
  CUSBI_CHECK(o.validation_fraction > 0 && o.validation_fraction < 1,
              "NPE.train: validation_fraction is "
                  << o.validation_fraction
                  << "; pass a value in (0, 1) (default 0.1): early stopping needs a validation "
                     "set");
  CUSBI_CHECK(o.stop_after_epochs >= 1, "NPE.train: stop_after_epochs is "
                                            << o.stop_after_epochs << "; pass >= 1 (default 20)");
  CUSBI_CHECK(o.max_num_epochs >= 0,
              "NPE.train: max_num_epochs is " << o.max_num_epochs << "; pass >= 0");
  CUSBI_CHECK(!std::isnan(o.clip_max_norm),
              "NPE.train: clip_max_norm is NaN; pass a value > 0, or <= 0 for no clipping");
  CUSBI_CHECK(!(o.resume_training && o.retrain_from_scratch),
              "NPE.train: resume_training and retrain_from_scratch exclude each other; pass one");
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
void make_split(detail::NpeState& m, double validation_fraction, Generator& g) {
  const int64_t n = m.theta.size(0);
  const int64_t n_train = train_size(validation_fraction, n);
  CUSBI_CHECK(n_train >= 1 && n - n_train >= 1,
              "NPE.train: " << n << " simulations leave " << n_train << " for training and "
                            << n - n_train << " for validation (validation_fraction "
                            << validation_fraction << "); append at least "
                            << min_simulations(validation_fraction) << " simulations");
  const std::vector<int64_t> perm = random_permutation(n, &g);
  m.train_indices.assign(perm.begin(), perm.begin() + n_train);
  m.validation_indices.assign(perm.begin() + n_train, perm.end());
}

// One of sbi's loaders (drop_last = True): `count` batches of `size` rows from a pool of rows,
// gathered each epoch into theta/x, with the batches as row views made once.
struct Loader {
  const std::vector<int64_t>* pool = nullptr;
  int64_t size = 0, count = 0;
  Tensor theta, x;  // (count * size, D), (count * size, C)
  std::vector<Tensor> theta_batches, x_batches;
  Tensor losses;              // (size,)
  std::vector<int64_t> rows;  // this epoch's gathered rows

  Loader(const std::vector<int64_t>& p, int64_t batch_option, int64_t D, int64_t C, Device device)
      : pool(&p), size(std::min<int64_t>(batch_option, static_cast<int64_t>(p.size()))) {
    count = static_cast<int64_t>(p.size()) / size;
    theta = Tensor::empty({count * size, D}, device);
    x = Tensor::empty({count * size, C}, device);
    for (int64_t k = 0; k < count; ++k) {
      theta_batches.push_back(theta.slice_rows(k * size, (k + 1) * size));
      x_batches.push_back(x.slice_rows(k * size, (k + 1) * size));
    }
    losses = Tensor::empty({size}, device);
    rows.resize(static_cast<size_t>(count * size));
  }

  // A new random order of the pool (sbi's SubsetRandomSampler), the leftover rows dropped.
  void gather(const Tensor& all_theta, const Tensor& all_x, Generator& g) {
    const std::vector<int64_t> perm = random_permutation(static_cast<int64_t>(pool->size()), &g);
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = (*pool)[static_cast<size_t>(perm[i])];
    take_rows(all_theta, rows, theta);
    take_rows(all_x, rows, x);
  }
};

// *dst = sum of losses, computed where the losses live: no host round trip.
void sum_into(const Tensor& losses, float* dst) {
  const int64_t n = losses.numel();
  switch (losses.device().type()) {
    case DeviceType::CPU:
      *dst = kern::reduce_strided(kern::ReduceOp::Sum, losses.data(), n, 1);
      break;
    case DeviceType::CUDA:
      cuda::set_device(losses.device().index());
      cuda::reduce_dim(kern::ReduceOp::Sum, losses.data(), 1, n, 1, dst);
      break;
  }
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One train() call: the loaders and step buffers, sized once, and the loop over epochs.
class TrainingRun {
 public:
  TrainingRun(detail::NpeState& m, const TrainOptions& o, Generator& g)
      : m_(m),
        o_(o),
        g_(g),
        train_(m.train_indices, o.training_batch_size, m.theta.size(1), m.x.size(1), m.device),
        val_(m.validation_indices, o.training_batch_size, m.theta.size(1), m.x.size(1), m.device),
        // d mean(losses) / d losses_i = 1 / B, as the backward of sbi's torch.mean.
        grad_(Tensor::full({train_.size}, 1.0f / static_cast<float>(train_.size), m.device)),
        sums_(Tensor::zeros({train_.count + val_.count}, m.device)) {}

  void run() {
    ProgressLine progress("Training neural network. Epochs trained", 0, o_.show_progress);
    try {
      while (m_.epoch <= o_.max_num_epochs && !converged()) {
        run_epoch();
        ++m_.epoch;
        char detail[64];
        std::snprintf(detail, sizeof detail, "val loss %.4f", m_.validation_loss);
        progress.update(m_.epoch, detail);
      }
    } catch (...) {
      restore_best();  // leave a usable network behind (a NaN step poisons the parameters)
      m_.flow->zero_grad();
      throw;
    }
    progress.finish();
  }

  // sbi's handling of a loop that ran out of epochs (v0.27.0): the last epoch, which
  // converged() never saw, is scored once more.
  void finish_max_epochs() {
    if (m_.validation_loss < m_.best_validation_loss) {
      m_.best_validation_loss = m_.validation_loss;
      save_best();
    } else {
      restore_best();
    }
  }

 private:
  // sbi's _converged: epoch 0 or a strict improvement stores the weights (at epoch 0 the
  // untrained ones, with best = +inf); stop_after_epochs epochs without one restore them.
  bool converged() {
    if (m_.epoch == 0 || m_.validation_loss < m_.best_validation_loss) {
      m_.best_validation_loss = m_.validation_loss;
      m_.epochs_since_improvement = 0;
      save_best();
    } else {
      ++m_.epochs_since_improvement;
    }
    if (m_.epochs_since_improvement > o_.stop_after_epochs - 1) {
      restore_best();
      return true;
    }
    return false;
  }

  void run_epoch() {
    const Clock::time_point start = Clock::now();
    train_.gather(m_.theta, m_.x, g_);
    run_batches(train_, sums_.data(), true);
    val_.gather(m_.theta, m_.x, g_);
    run_batches(val_, sums_.data() + train_.count, false);
    const std::vector<float> sums = sums_.to_vector();  // the epoch's one host round trip
    const double train_loss = mean_loss(sums, 0, train_);
    const double val_loss = mean_loss(sums, train_.count, val_);
    CUSBI_CHECK(std::isfinite(train_loss) && std::isfinite(val_loss),
                "NPE.train: epoch " << m_.epoch + 1 << " gave a non-finite loss (training "
                                    << train_loss << ", validation " << val_loss
                                    << "); the best weights so far are restored. Lower "
                                       "learning_rate, keep clip_max_norm > 0, or check the "
                                       "simulations for extreme values");
    m_.validation_loss = val_loss;
    m_.summary.training_loss.push_back(train_loss);
    m_.summary.validation_loss.push_back(val_loss);
    m_.summary.epoch_durations_sec.push_back(seconds_since(start));
  }

  void run_batches(Loader& loader, float* sums, bool training) {
    NeuralSplineFlow& flow = *m_.flow;
    for (int64_t k = 0; k < loader.count; ++k) {
      if (training) m_.optimizer->zero_grad();
      flow.loss(loader.theta_batches[static_cast<size_t>(k)],
                loader.x_batches[static_cast<size_t>(k)], loader.losses);
      sum_into(loader.losses, sums + k);
      if (!training) continue;
      flow.backward(grad_);
      if (o_.clip_max_norm > 0) clip_grad_norm_on_device(flow.gradients(), o_.clip_max_norm);
      m_.optimizer->step();
    }
  }

  // sbi's epoch loss: the sum over all batches / (number of batches * batch size).
  static double mean_loss(const std::vector<float>& sums, int64_t first, const Loader& loader) {
    double total = 0.0;
    for (int64_t k = 0; k < loader.count; ++k) total += sums[static_cast<size_t>(first + k)];
    return total / static_cast<double>(loader.count * loader.size);
  }

  void save_best() {
    m_.best_parameters.copy_(m_.flow->parameters());
    m_.has_best = true;
  }
  void restore_best() {
    if (m_.has_best) m_.flow->parameters().copy_(m_.best_parameters);
  }

  detail::NpeState& m_;
  const TrainOptions& o_;
  Generator& g_;
  Loader train_, val_;
  Tensor grad_, sums_;
};

// sbi's _initialize_neural_network: the flow from the training rows only (their z-scoring).
void build_network(detail::NpeState& m, Generator& g) {
  const Tensor theta = take_rows(m.theta, m.train_indices);
  const Tensor x = take_rows(m.x, m.train_indices);
  m.flow = std::make_unique<NeuralSplineFlow>(build_nsf(theta, x, m.nsf_options, &g));
  // Intake dropped (or train() refuses) NaN/Inf rows, so the per-step check, which would
  // synchronise with the GPU every step, has nothing left to find.
  m.flow->set_check_training_inputs(false);
  m.best_parameters = Tensor::empty({m.flow->parameters().numel()}, m.device);
  m.has_best = false;
  m.optimizer.reset();
}

void check_ready(const detail::NpeState& m, const TrainOptions& o) {
  CUSBI_CHECK(m.theta.defined(),
              "NPE.train: no simulations; call append_simulations(theta, x) "
              "first (simulate_for_sbi makes them)");
  CUSBI_CHECK(m.invalid_rows == 0,
              "NPE.train: " << m.invalid_rows
                            << " simulations hold NaN or Inf (appended with exclude_invalid_x = "
                               "false), which makes the loss NaN; append them with "
                               "exclude_invalid_x = true (the default) or remove them");
  CUSBI_CHECK(!o.resume_training || (m.flow && m.optimizer && !m.train_indices.empty()),
              "NPE.train: resume_training needs a previous train() on this NPE; call train() "
              "without it first");
}

}  // namespace

NeuralSplineFlow& NPE::train(const TrainOptions& options) {
  detail::NpeState& m = *impl_;
  check_options(options);
  check_ready(m, options);
  Generator& g = options.generator ? *options.generator : default_generator();

  if (!options.resume_training) make_split(m, options.validation_fraction, g);
  if (!m.flow || options.retrain_from_scratch) build_network(m, g);
  if (!options.resume_training) {
    m.optimizer.emplace(m.flow->parameters(), m.flow->gradients(), options.learning_rate);
    m.epoch = 0;
    m.validation_loss = kInf;
  }

  TrainingRun run(m, options, g);
  run.run();
  if (m.epoch > options.max_num_epochs) {
    run.finish_max_epochs();
    warn("NPE.train: maximum number of epochs max_num_epochs=" +
         std::to_string(options.max_num_epochs) +
         " reached, but the network has not yet fully converged. Consider increasing it.");
  } else if (options.show_progress && progress_enabled()) {
    std::fprintf(stderr, "Neural network successfully converged after %lld epochs.\n",
                 static_cast<long long>(m.epoch));
  }
  m.summary.epochs_trained.push_back(m.epoch);
  m.summary.best_validation_loss.push_back(m.best_validation_loss);
  if (options.show_train_summary) {
    const std::string text =
        describe_round(m.summary, static_cast<int64_t>(m.summary.epochs_trained.size()) - 1);
    std::printf("%s", text.c_str());
    std::fflush(stdout);
  }
  m.flow->zero_grad();  // sbi sets the gradients to None so they do not linger
  return *m.flow;
}

}  // namespace cusbi
