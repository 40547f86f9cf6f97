// sbibm's two_moons: prior U([-1, 1]^2), a crescent-shaped simulator, and its closed-form
// reference posterior (sbibm's _sample_reference_posterior: invert the simulator's map for
// freshly simulated crescent points, with a random sign for the |.| branch, keep those inside
// the prior).
#include <cmath>
#include <numbers>

#include "cusbi/error.hpp"
#include "cusbi/tensor_ops.hpp"
#include "host/tasks/task_internal.hpp"

namespace cusbi::tasks {
namespace {

constexpr float kBaseOffset = 0.25f, kRadiusLoc = 0.1f, kRadiusScale = 0.01f;
const float kInvSqrt2 = static_cast<float>(1.0 / std::numbers::sqrt2);

// The crescent point p = (r cos a + 0.25, r sin a), (N, 2), for a and r (N, 1).
Tensor crescent(const Tensor& a, const Tensor& r) {
  return cat({cos(a) * r + kBaseOffset, sin(a) * r}, 1);
}

// a ~ U(-pi/2, pi/2) and r ~ N(0.1, 0.01^2), each (n, 1) on `device`.
void draw_noise(int64_t n, Device device, Generator* generator, Tensor& a, Tensor& r) {
  const float half_pi = static_cast<float>(std::numbers::pi / 2);
  a = uniform({n, 1}, -half_pi, half_pi, device, generator);
  r = Tensor::empty({n, 1}, device);
  normal_(r, kRadiusLoc, kRadiusScale, generator);
}

class TwoMoons final : public Task {
 public:
  TwoMoons(std::map<std::string, Tensor> data, Device device)
      : Task(data.at("observations"), data.at("true_parameters"), device),
        prior_(-1.0f, 1.0f, 2, device) {}
  std::string name() const override { return "two_moons"; }
  int64_t dim_parameters() const override { return 2; }
  int64_t dim_data() const override { return 2; }
  const Distribution& prior() const override { return prior_; }

  Tensor simulate(const Tensor& theta, Generator* generator) const override {
    check_theta(theta);
    Tensor a, r;
    draw_noise(theta.size(0), theta.device(), generator, a, r);
    return detail::two_moons_from_noise(theta, a, r);
  }

  // Rejection in batches: candidates are made on the device; only the inside-the-prior mask comes
  // back to the host to pick the accepted rows (sbibm's duplicate check is dropped: duplicates
  // have probability zero for continuous draws).
  Tensor reference_posterior_samples(int num_observation, int64_t num_samples,
                                     Generator* generator) const override {
    check_observation_number(num_observation);
    CUSBI_CHECK(num_samples >= 1, "two_moons.reference_posterior_samples: num_samples is "
                                      << num_samples << "; ask for at least 1");
    const Tensor x = observation(num_observation);  // (1, 2)
    const Tensor x0 = narrow(x, 1, 0, 1), x1 = narrow(x, 1, 1, 1);
    std::vector<Tensor> accepted;
    int64_t have = 0;
    for (int round = 0; have < num_samples; ++round) {
      CUSBI_CHECK(round < 1000, "two_moons.reference_posterior_samples: rejection accepted "
                                    << have << " of " << num_samples << " samples in 1000 rounds");
      const int64_t batch = 2 * (num_samples - have) + 256;
      Tensor a, r;
      draw_noise(batch, device(), generator, a, r);
      const Tensor p = crescent(a, r);
      // q = (p0 - x0, x1 - p1), q0 negated with probability 1/2, then rotated by +pi/4.
      const Tensor flip = lt(rand({batch, 1}, device(), generator), 0.5f);
      Tensor q0 = narrow(p, 1, 0, 1) - x0;
      q0 = where(flip, -q0, q0);
      const Tensor q1 = x1 - narrow(p, 1, 1, 1);
      const Tensor theta = cat({(q0 - q1) * kInvSqrt2, (q0 + q1) * kInvSqrt2}, 1);
      // Inside the prior's half-open box [-1, 1)^2 (sbibm: finite prior log_prob).
      const std::vector<float> inside = sum(ge(theta, -1.0f) * lt(theta, 1.0f), 1).to_vector();
      std::vector<int64_t> rows;
      for (int64_t i = 0; i < batch && have + static_cast<int64_t>(rows.size()) < num_samples; ++i)
        if (inside[static_cast<size_t>(i)] == 2.0f) rows.push_back(i);
      if (rows.empty()) continue;
      accepted.push_back(take_rows(theta, rows));
      have += static_cast<int64_t>(rows.size());
    }
    return accepted.size() == 1 ? accepted[0] : cat(accepted, 0);
  }

 private:
  BoxUniform prior_;
};

}  // namespace

namespace detail {

Tensor two_moons_from_noise(const Tensor& theta, const Tensor& a, const Tensor& r) {
  // z = theta rotated by -pi/4: z0 = (theta0 + theta1)/sqrt 2, z1 = (theta1 - theta0)/sqrt 2.
  const Tensor t0 = narrow(theta, 1, 0, 1), t1 = narrow(theta, 1, 1, 1);
  const Tensor z0 = (t0 + t1) * kInvSqrt2, z1 = (t1 - t0) * kInvSqrt2;
  const Tensor p = crescent(a, r);
  return cat({narrow(p, 1, 0, 1) - abs(z0), narrow(p, 1, 1, 1) + z1}, 1);
}

std::unique_ptr<Task> make_two_moons(Device device) {
  return std::make_unique<TwoMoons>(
      load_task_data("two_moons", device,
                     {{"observations", {10, 2}}, {"true_parameters", {10, 2}}}),
      device);
}

}  // namespace detail
}  // namespace cusbi::tasks
