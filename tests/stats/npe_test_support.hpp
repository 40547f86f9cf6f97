// Shared by the posterior tests: the linear-Gaussian problem with its analytic posterior, and a
// small NPE training loop (build_nsf, Adam on minibatches, early stopping on a held-out set,
// best weights restored) that trains in seconds on a CPU. The loop is sbi's NPE loop in
// miniature, with a smaller network, a larger learning rate decayed on plateaus and a short
// patience, so that the tests stay fast and the flow still gets close to the optimum.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "cusbi/cusbi.hpp"

namespace cusbi::testing {

// theta ~ N(0, I_D), x = theta + noise·N(0, I_D). The posterior is N(x / (1 + s^2),
// s^2 / (1 + s^2) I) with s = noise, per dimension independent.
struct LinearGaussian {
  int64_t dim = 2;
  float noise = 0.5f;

  float posterior_shrink() const { return 1.0f / (1.0f + noise * noise); }
  float posterior_var() const { return noise * noise / (1.0f + noise * noise); }
  Tensor simulate(const Tensor& theta, Generator& generator) const {
    return theta + noise * randn_like(theta, &generator);
  }
};

struct TrainConfig {
  NsfOptions nsf;
  int64_t num_simulations = 4000;
  int64_t batch_size = 128;
  double learning_rate = 3e-3;
  int64_t patience = 2;    // epochs without a better held-out loss before a decay or the stop
  int64_t num_decays = 3;  // learning-rate decays before the final plateau stops training
  double decay_factor = 0.3;
  int64_t max_epochs = 60;
  double validation_fraction = 0.1;
};

namespace detail {

// Rows `index[begin, end)` of host data (n, w) as a (end - begin, w) tensor.
inline Tensor gather_rows(const std::vector<float>& data, int64_t w,
                          const std::vector<int64_t>& index, int64_t begin, int64_t end,
                          Device device) {
  std::vector<float> out(static_cast<size_t>((end - begin) * w));
  for (int64_t r = begin; r < end; ++r)
    std::copy_n(data.data() + index[r] * w, w, out.data() + (r - begin) * w);
  return Tensor::from(out, {end - begin, w}, device);
}

}  // namespace detail

// Trains q(theta | x) on (theta, x) (N, D), (N, C); returns the flow with the best held-out
// loss. Deterministic for a given generator state.
inline NeuralSplineFlow train_flow(const Tensor& theta, const Tensor& x, const TrainConfig& config,
                                   Generator& generator) {
  const Device device = theta.device();
  const int64_t n = theta.size(0), d = theta.size(1), c = x.size(1);
  const int64_t n_train = static_cast<int64_t>((1.0 - config.validation_fraction) * n);
  std::mt19937_64 shuffle(generator.seed() * 7919 + 17);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), shuffle);
  const std::vector<float> host_theta = theta.to_vector(), host_x = x.to_vector();
  std::vector<int64_t> train(perm.begin(), perm.begin() + n_train);
  const std::vector<int64_t> val(perm.begin() + n_train, perm.end());
  const Tensor train_theta = detail::gather_rows(host_theta, d, train, 0, n_train, device);
  const Tensor train_x = detail::gather_rows(host_x, c, train, 0, n_train, device);
  const Tensor val_theta = detail::gather_rows(host_theta, d, val, 0, n - n_train, device);
  const Tensor val_x = detail::gather_rows(host_x, c, val, 0, n - n_train, device);

  NeuralSplineFlow flow = build_nsf(train_theta, train_x, config.nsf, &generator);
  Adam adam(flow.parameters(), flow.gradients(), config.learning_rate);
  const int64_t batch = std::min(config.batch_size, n_train);
  const Tensor grad_mean = Tensor::full({batch}, 1.0f / static_cast<float>(batch), device);
  double best = std::numeric_limits<double>::infinity();
  Tensor best_params = flow.parameters().clone();
  int64_t since_best = 0, decays = 0;
  for (int64_t epoch = 0; epoch < config.max_epochs; ++epoch) {
    std::shuffle(train.begin(), train.end(), shuffle);
    for (int64_t b = 0; b + batch <= n_train; b += batch) {  // drop_last, as sbi
      adam.zero_grad();
      flow.loss(detail::gather_rows(host_theta, d, train, b, b + batch, device),
                detail::gather_rows(host_x, c, train, b, b + batch, device));
      flow.backward(grad_mean);
      clip_grad_norm(flow.gradients(), 5.0);
      adam.step();
    }
    const double val_loss = sum_all(flow.loss(val_theta, val_x)) / static_cast<double>(n - n_train);
    if (val_loss < best) {
      best = val_loss;
      best_params.copy_(flow.parameters());
      since_best = 0;
    } else if (++since_best >= config.patience) {
      // Plateau: continue from the best weights with a smaller step, so the last epochs
      // average the minibatch noise out; stop after the last decay's plateau.
      if (decays++ == config.num_decays) break;
      flow.parameters().copy_(best_params);
      adam.set_lr(adam.options().lr * config.decay_factor);
      since_best = 0;
    }
  }
  flow.parameters().copy_(best_params);
  flow.zero_grad();
  return flow;
}

// A flow trained on `num_simulations` draws of the linear-Gaussian problem.
inline NeuralSplineFlow train_linear_gaussian(const LinearGaussian& problem,
                                              const TrainConfig& config, Device device,
                                              Generator& generator) {
  const Tensor theta = randn({config.num_simulations, problem.dim}, device, &generator);
  const Tensor x = problem.simulate(theta, generator);
  return train_flow(theta, x, config, generator);
}

// Sample mean (D,) and covariance (D, D) in double, from host samples (n, D).
struct SampleMoments {
  std::vector<double> mean, cov;  // cov row-major
};

inline SampleMoments moments(const std::vector<float>& samples, int64_t d) {
  const int64_t n = static_cast<int64_t>(samples.size()) / d;
  SampleMoments m{std::vector<double>(d, 0.0), std::vector<double>(d * d, 0.0)};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) m.mean[j] += samples[i * d + j];
  for (double& v : m.mean) v /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t k = 0; k < d; ++k)
        m.cov[j * d + k] += (samples[i * d + j] - m.mean[j]) * (samples[i * d + k] - m.mean[k]);
  for (double& v : m.cov) v /= static_cast<double>(n - 1);
  return m;
}

}  // namespace cusbi::testing
