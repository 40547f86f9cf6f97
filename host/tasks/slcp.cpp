// sbibm's slcp ("simple likelihood, complex posterior"): prior U([-3, 3]^5), four i.i.d. draws
// of a 2-D Gaussian whose mean, scales and correlation are theta's; reference posterior = the
// 10,000 samples sbibm ships (made by SIR + rejection; no closed form).
#include <cmath>
#include <limits>

#include "cusbi/error.hpp"
#include "cusbi/tensor_ops.hpp"
#include "host/tasks/task_internal.hpp"

namespace cusbi::tasks {
namespace {

constexpr int64_t kDim = 5, kDraws = 4, kDataDim = 2 * kDraws, kNumReference = 10000;
constexpr float kJitter = 1e-6f;  // sbibm adds it to S's diagonal "to ensure PSD"

class Slcp final : public Task {
 public:
  Slcp(std::map<std::string, Tensor> data, Device device)
      : Task(data.at("observations"), data.at("true_parameters"), device),
        prior_(-3.0f, 3.0f, kDim, device),
        reference_(data.at("reference_posterior_samples")) {}
  std::string name() const override { return "slcp"; }
  int64_t dim_parameters() const override { return kDim; }
  int64_t dim_data() const override { return kDataDim; }
  const Distribution& prior() const override { return prior_; }

  Tensor simulate(const Tensor& theta, Generator* generator) const override {
    check_theta(theta);
    return detail::slcp_from_noise(theta,
                                   randn({theta.size(0), kDataDim}, theta.device(), generator));
  }

  Tensor reference_posterior_samples(int num_observation, int64_t num_samples,
                                     Generator*) const override {
    check_observation_number(num_observation);
    CUSBI_CHECK(num_samples >= 1 && num_samples <= kNumReference,
                "slcp.reference_posterior_samples: num_samples is "
                    << num_samples
                    << "; sbibm ships 10000 samples per observation, ask for 1 to 10000");
    return reference_[num_observation - 1].slice_rows(0, num_samples).clone();
  }

 private:
  BoxUniform prior_;
  Tensor reference_;  // (10, 10000, 5)
};

}  // namespace

namespace detail {

Tensor slcp_from_noise(const Tensor& theta, const Tensor& z) {
  const Tensor m0 = narrow(theta, 1, 0, 1), m1 = narrow(theta, 1, 1, 1);  // (N, 1) each
  const Tensor s1 = square(narrow(theta, 1, 2, 1)), s2 = square(narrow(theta, 1, 3, 1));
  const Tensor rho = tanh(narrow(theta, 1, 4, 1));
  // Cholesky factor of S = [[s1^2 + eps, rho s1 s2], [rho s1 s2, s2^2 + eps]], in closed form.
  // Clamped at 0: for |rho| near 1 and large s2 the float32 Schur complement can round below 0.
  const Tensor l00 = sqrt(square(s1) + kJitter);
  const Tensor l10 = rho * s1 * s2 / l00;
  const Tensor l11 =
      sqrt(clamp(square(s2) + kJitter - square(l10), 0.0f, std::numeric_limits<float>::infinity()));
  const Tensor z0 = take_columns(z, {0, 2, 4, 6}), z1 = take_columns(z, {1, 3, 5, 7});  // (N, 4)
  const Tensor first = m0 + l00 * z0;              // (N, 4): coordinate 0 of each draw
  const Tensor second = m1 + l10 * z0 + l11 * z1;  // (N, 4): coordinate 1 of each draw
  return take_columns(cat({first, second}, 1), {0, 4, 1, 5, 2, 6, 3, 7});  // draw-major, as sbibm
}

std::unique_ptr<Task> make_slcp(Device device) {
  return std::make_unique<Slcp>(
      load_task_data("slcp", device,
                     {{"observations", {10, kDataDim}},
                      {"true_parameters", {10, kDim}},
                      {"reference_posterior_samples", {10, kNumReference, kDim}}}),
      device);
}

}  // namespace detail
}  // namespace cusbi::tasks
