// sbibm's gaussian_linear (10-D): prior N(0, 0.1 I), simulator N(theta, 0.1 I), and its analytic
// Gaussian posterior N(Sigma (P_x x), Sigma) with Sigma = (P_prior + P_x)^-1 = 0.05 I, i.e. mean
// x/2.
#include <cmath>

#include "cusbi/error.hpp"
#include "cusbi/tensor_ops.hpp"
#include "host/tasks/task_internal.hpp"

namespace cusbi::tasks {
namespace {

constexpr int64_t kDim = 10;
constexpr double kPriorVariance = 0.1, kNoiseVariance = 0.1;
// Posterior variance and the factor on x of the posterior mean, in double (both isotropic).
constexpr double kPosteriorVariance = 1.0 / (1.0 / kPriorVariance + 1.0 / kNoiseVariance);
constexpr double kPosteriorMeanFactor = kPosteriorVariance / kNoiseVariance;

class GaussianLinear final : public Task {
 public:
  GaussianLinear(std::map<std::string, Tensor> data, Device device)
      : Task(data.at("observations"), data.at("true_parameters"), device),
        prior_(MultivariateNormal::diagonal(
            Tensor::zeros({kDim}, device),
            Tensor::full({kDim}, static_cast<float>(kPriorVariance), device))) {}
  std::string name() const override { return "gaussian_linear"; }
  int64_t dim_parameters() const override { return kDim; }
  int64_t dim_data() const override { return kDim; }
  const Distribution& prior() const override { return prior_; }

  Tensor simulate(const Tensor& theta, Generator* generator) const override {
    check_theta(theta);
    return detail::gaussian_linear_from_noise(theta,
                                              randn(theta.shape(), theta.device(), generator));
  }

  Tensor reference_posterior_samples(int num_observation, int64_t num_samples,
                                     Generator* generator) const override {
    check_observation_number(num_observation);
    CUSBI_CHECK(num_samples >= 1, "gaussian_linear.reference_posterior_samples: num_samples is "
                                      << num_samples << "; ask for at least 1");
    const Tensor mean =
        observation(num_observation).reshape({kDim}) * static_cast<float>(kPosteriorMeanFactor);
    const Tensor variance = Tensor::full({kDim}, static_cast<float>(kPosteriorVariance), device());
    return MultivariateNormal::diagonal(mean, variance).sample({num_samples}, generator);
  }

 private:
  MultivariateNormal prior_;
};

}  // namespace

namespace detail {

Tensor gaussian_linear_from_noise(const Tensor& theta, const Tensor& z) {
  return theta + z * static_cast<float>(std::sqrt(kNoiseVariance));
}

std::unique_ptr<Task> make_gaussian_linear(Device device) {
  return std::make_unique<GaussianLinear>(
      load_task_data("gaussian_linear", device,
                     {{"observations", {10, kDim}}, {"true_parameters", {10, kDim}}}),
      device);
}

}  // namespace detail
}  // namespace cusbi::tasks
