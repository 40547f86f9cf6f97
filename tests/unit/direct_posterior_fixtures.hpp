// Fixtures shared by the DirectPosterior unit tests: an untrained flow whose z-scoring makes
// q(theta | x) roughly N(mean, std^2) whatever x (expected acceptance rates and moments then come
// from the flow's own direct samples, so they hold whatever its random splines do), a small
// trained flow for which x matters, and helpers to capture warnings and check boxes.
#pragma once
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "stats/npe_test_support.hpp"
#include "support/test_support.hpp"

namespace cusbi::direct_posterior_test {

inline const Device kCpu = Device::cpu();

inline NsfOptions tiny_options() {
  NsfOptions o;
  o.hidden_features = 8;
  o.num_transforms = 1;
  o.num_blocks = 1;
  o.num_bins = 4;
  return o;
}

// An untrained flow over D parameters with C condition features, roughly N(mean, std^2) per
// dimension (z-scoring with these statistics around near-identity splines).
inline std::shared_ptr<NeuralSplineFlow> gaussian_flow(int64_t d, int64_t c, float mean, float std,
                                                       uint64_t seed = 1) {
  Generator generator(seed);
  const Standardize zscore(Tensor::full({d}, mean, kCpu), Tensor::full({d}, std, kCpu));
  return std::make_shared<NeuralSplineFlow>(d, c, tiny_options(), zscore, Standardize(), kCpu,
                                            &generator);
}

// A small flow trained on theta ~ U(-1, 1), x = theta + 0.3 noise: q(theta | x) follows x.
inline std::shared_ptr<NeuralSplineFlow> trained_flow_1d() {
  Generator generator(11);
  const Tensor theta = uniform({3000, 1}, -1.0f, 1.0f, kCpu, &generator);
  const Tensor x = theta + 0.3f * randn_like(theta, &generator);
  testing::TrainConfig config;
  config.nsf = tiny_options();
  config.nsf.hidden_features = 16;
  config.max_epochs = 15;
  return std::make_shared<NeuralSplineFlow>(testing::train_flow(theta, x, config, generator));
}

inline Tensor row(const std::vector<float>& values) {
  return Tensor::from(values, {1, static_cast<int64_t>(values.size())}, kCpu);
}

// Statistics of `n` direct flow samples at x (1, C) inside the closed box [low, high].
struct DirectStats {
  double fraction = 0;       // inside / n
  std::vector<double> mean;  // per dimension, of the samples inside
  std::vector<double> var;
};

inline DirectStats direct_stats(NeuralSplineFlow& flow, const Tensor& x,
                                const std::vector<float>& low, const std::vector<float>& high,
                                int64_t n, uint64_t seed) {
  Generator generator(seed);
  const int64_t d = flow.input_features();
  const std::vector<float> s = flow.sample({n}, x, &generator).to_vector();
  std::vector<float> inside;
  for (int64_t i = 0; i < n; ++i) {
    bool in = true;
    for (int64_t j = 0; j < d; ++j) in = in && s[i * d + j] >= low[j] && s[i * d + j] <= high[j];
    if (in) inside.insert(inside.end(), s.begin() + i * d, s.begin() + (i + 1) * d);
  }
  const testing::SampleMoments m = testing::moments(inside, d);
  DirectStats out{static_cast<double>(inside.size() / d) / n, m.mean, {}};
  for (int64_t j = 0; j < d; ++j) out.var.push_back(m.cov[j * d + j]);
  return out;
}

// Collects warnings for the lifetime of the object.
struct WarningCapture {
  std::vector<std::string> messages;
  WarningHandler previous;
  WarningCapture() {
    previous = set_warning_handler([this](const std::string& m) { messages.push_back(m); });
  }
  ~WarningCapture() { set_warning_handler(previous); }
};

inline SampleOptions quiet(Generator* generator = nullptr) {
  SampleOptions o;
  o.show_progress = false;
  o.generator = generator;
  return o;
}

inline bool all_inside(const std::vector<float>& samples, int64_t d, const std::vector<float>& low,
                       const std::vector<float>& high) {
  for (size_t i = 0; i < samples.size(); ++i)
    if (!(samples[i] >= low[i % d] && samples[i] <= high[i % d])) return false;
  return true;
}

}  // namespace cusbi::direct_posterior_test
