// sbibm's bernoulli_glm (summary "sufficient"): a Bernoulli GLM over 100 time bins driven by a
// fixed white-noise stimulus, theta = offset + 9-tap filter with a smoothness prior. sbibm's
// summary (spike count, then conv1d of the spikes with the stimulus, last 9 lags) equals
// X^T y for its design matrix X, so the simulator is two GEMMs. Reference posterior = sbibm's
// 10,000 shipped Polya-Gamma Gibbs samples.
#include <cmath>

#include "cusbi/error.hpp"
#include "cusbi/tensor_ops.hpp"
#include "host/tasks/task_internal.hpp"

namespace cusbi::tasks {
namespace {

constexpr int64_t kDim = 10, kBins = 100, kNumReference = 10000;

// inverse of a symmetric positive definite n x n matrix (Gauss-Jordan, double), symmetrised.
std::vector<double> inverse_spd(std::vector<double> a, int n) {
  std::vector<double> inv(static_cast<size_t>(n * n), 0.0);
  for (int i = 0; i < n; ++i) inv[i * n + i] = 1.0;
  for (int c = 0; c < n; ++c) {  // SPD: the diagonal pivots stay positive, no row swaps needed
    const double pivot = a[c * n + c];
    for (int j = 0; j < n; ++j) a[c * n + j] /= pivot, inv[c * n + j] /= pivot;
    for (int r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      for (int j = 0; j < n; ++j)
        a[r * n + j] -= f * a[c * n + j], inv[r * n + j] -= f * inv[c * n + j];
    }
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < i; ++j)
      inv[i * n + j] = inv[j * n + i] = 0.5 * (inv[i * n + j] + inv[j * n + i]);
  return inv;
}

MultivariateNormal make_prior(Device device) {
  const std::vector<double> cov = inverse_spd(detail::bernoulli_glm_prior_precision(), kDim);
  return MultivariateNormal(
      Tensor::zeros({kDim}, device),
      Tensor::from(std::vector<float>(cov.begin(), cov.end()), {kDim, kDim}, device));
}

class BernoulliGlm final : public Task {
 public:
  BernoulliGlm(std::map<std::string, Tensor> data, Device device)
      : Task(data.at("observations"), data.at("true_parameters"), device),
        prior_(make_prior(device)),
        design_(data.at("design_matrix")),
        reference_(data.at("reference_posterior_samples")) {}
  std::string name() const override { return "bernoulli_glm"; }
  int64_t dim_parameters() const override { return kDim; }
  int64_t dim_data() const override { return kDim; }
  const Distribution& prior() const override { return prior_; }

  // The design matrix (4 KB) is copied to theta's device when that is not the task's.
  Tensor simulate(const Tensor& theta, Generator* generator) const override {
    check_theta(theta);
    const Tensor u = rand({theta.size(0), kBins}, theta.device(), generator);
    return detail::bernoulli_glm_from_noise(theta, u, design_.to(theta.device()));
  }

  Tensor reference_posterior_samples(int num_observation, int64_t num_samples,
                                     Generator*) const override {
    check_observation_number(num_observation);
    CUSBI_CHECK(num_samples >= 1 && num_samples <= kNumReference,
                "bernoulli_glm.reference_posterior_samples: num_samples is "
                    << num_samples
                    << "; sbibm ships 10000 samples per observation, ask for 1 to 10000");
    return reference_[num_observation - 1].slice_rows(0, num_samples).clone();
  }

 private:
  MultivariateNormal prior_;
  Tensor design_;     // (100, 10): column 0 ones (offset), column 1 + j the stimulus delayed by j
  Tensor reference_;  // (10, 10000, 10)
};

}  // namespace

namespace detail {

std::vector<double> bernoulli_glm_prior_precision() {
  // sbibm: M = 9 filter taps, D = I - (ones below the diagonal), F = D D + diag(sqrt(i / M)),
  // B = blockdiag(0.5, F^T F): penalises the filter's second differences.
  constexpr int m = static_cast<int>(kDim) - 1;
  auto d = [](int i, int j) { return i == j ? 1.0 : (i == j + 1 ? -1.0 : 0.0); };
  std::vector<double> f(m * m, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) {
      for (int k = 0; k < m; ++k) f[i * m + j] += d(i, k) * d(k, j);
      if (i == j) f[i * m + j] += std::sqrt(static_cast<double>(i) / m);
    }
  std::vector<double> b(kDim * kDim, 0.0);
  b[0] = 0.5;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) {
      double s = 0.0;
      for (int k = 0; k < m; ++k) s += f[k * m + i] * f[k * m + j];
      b[(i + 1) * kDim + (j + 1)] = s;
    }
  return b;
}

Tensor bernoulli_glm_from_noise(const Tensor& theta, const Tensor& u, const Tensor& design) {
  const Tensor rate = sigmoid(matmul(theta, transpose(design)));  // (N, 100)
  const Tensor spikes = lt(u, rate);                              // y_t = 1 with probability rate_t
  return matmul(spikes, design);                                  // (N, 10) = (X^T y)^T per row
}

std::unique_ptr<Task> make_bernoulli_glm(Device device) {
  return std::make_unique<BernoulliGlm>(
      load_task_data("bernoulli_glm", device,
                     {{"observations", {10, kDim}},
                      {"true_parameters", {10, kDim}},
                      {"design_matrix", {kBins, kDim}},
                      {"reference_posterior_samples", {10, kNumReference, kDim}}}),
      device);
}

}  // namespace detail
}  // namespace cusbi::tasks
