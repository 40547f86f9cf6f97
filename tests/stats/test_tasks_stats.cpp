// cusbi::tasks in distribution: each simulator against sbibm 1.1.0's own simulator on the same
// parameters (tests/data/tasks/<task>_simulator.safetensors "draws.*": 10 prior draws, 100
// sbibm simulations each), the closed-form reference posteriors against their analytic moments
// (gaussian_linear) and against sbibm's shipped samples (two_moons, observation 1), and the
// priors' moments. Every comparison is of sample means of a statistic f with tolerance
// kSigmas standard errors, the errors estimated from the samples themselves.
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi::tasks {
namespace {

const Device kCpu = Device::cpu();
// 5 standard errors: two-sided p = 6e-7 per comparison under the normal approximation, so with
// at most ~500 comparisons in this file a correct sampler fails with probability < 1e-3, while a
// wrong noise scale or offset (tens of errors away at these sample sizes) fails.
constexpr double kSigmas = 5.0;

struct Moments {
  double mean = 0, var = 0;
  int64_t n = 0;
};

// Mean and variance of f over the rows [begin, end) of a row-major (rows, dim) host array.
Moments moments(const std::vector<float>& rows, int64_t dim, int64_t begin, int64_t end,
                const std::function<double(const float*)>& f) {
  Moments m;
  m.n = end - begin;
  for (int64_t i = begin; i < end; ++i) m.mean += f(&rows[static_cast<size_t>(i * dim)]);
  m.mean /= static_cast<double>(m.n);
  for (int64_t i = begin; i < end; ++i) {
    const double d = f(&rows[static_cast<size_t>(i * dim)]) - m.mean;
    m.var += d * d;
  }
  m.var /= static_cast<double>(m.n - 1);
  return m;
}

// |mean_a - mean_b| within kSigmas standard errors of the difference (1e-6 absolute for
// statistics that are constant in both samples, e.g. a spike count of 0 at extreme rates).
::testing::AssertionResult same_mean(const Moments& a, const Moments& b, const std::string& what) {
  const double se = std::sqrt(a.var / a.n + b.var / b.n);
  if (std::fabs(a.mean - b.mean) <= kSigmas * se + 1e-6) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": " << a.mean << " vs " << b.mean << " (se " << se << ")";
}

std::map<std::string, Tensor> fixture(const std::string& task) {
  return load_safetensors(cusbi::testing::data_dir() / "tasks" / (task + "_simulator.safetensors"),
                          kCpu);
}

// For each of sbibm's 10 theta: per data dimension d, the mean of x_d and of x_d^2 from 2,000
// cusbi simulations vs sbibm's 100.
void check_simulator_against_sbibm(const std::string& name) {
  auto task = get_task(name, kCpu);
  auto f = fixture(name);
  const Tensor theta = f.at("draws.theta");  // (10, D)
  const int64_t dx = task->dim_data(), reps = 2000, k = theta.size(0);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < k; ++i) rows.insert(rows.end(), reps, i);
  Generator g(11);
  const std::vector<float> ours = task->simulate(take_rows(theta, rows), &g).to_vector();
  const std::vector<float> theirs = f.at("draws.x").to_vector();  // (10, 100, dx)
  const int64_t n_theirs = f.at("draws.x").size(1);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t d = 0; d < dx; ++d)
      for (int power : {1, 2}) {
        auto stat = [d, power](const float* x) { return std::pow(double(x[d]), power); };
        EXPECT_TRUE(same_mean(moments(ours, dx, i * reps, (i + 1) * reps, stat),
                              moments(theirs, dx, i * n_theirs, (i + 1) * n_theirs, stat),
                              name + " theta " + std::to_string(i) + " x_" + std::to_string(d) +
                                  "^" + std::to_string(power)));
      }
}

TEST(TaskSimulatorStats, TwoMoonsMatchesSbibm) { check_simulator_against_sbibm("two_moons"); }
TEST(TaskSimulatorStats, GaussianLinearMatchesSbibm) {
  check_simulator_against_sbibm("gaussian_linear");
}
TEST(TaskSimulatorStats, SlcpMatchesSbibm) { check_simulator_against_sbibm("slcp"); }
TEST(TaskSimulatorStats, BernoulliGlmMatchesSbibm) {
  check_simulator_against_sbibm("bernoulli_glm");
}

// two_moons' noise itself (the sbibm comparison above barely sees r's scale, which a's spread
// dominates): at theta = 0, x - (0.25, 0) = r (cos a, sin a) with r ~ N(0.1, 0.01^2) and
// a ~ U(-pi/2, pi/2). 20,000 draws; the analytic standard errors (var/n for a mean, and
// var sqrt(2/n) for a normal variance; a uniform's variance has the smaller sqrt(0.8/n)).
TEST(TaskSimulatorStats, TwoMoonsNoiseIsSbibms) {
  auto task = get_task("two_moons", kCpu);
  const int64_t n = 20000;
  Generator g(12);
  const std::vector<float> x = task->simulate(Tensor::zeros({n, 2}, kCpu), &g).to_vector();
  std::vector<float> polar;  // (r, a) per row
  for (int64_t i = 0; i < n; ++i) {
    const double u = x[2 * i] - 0.25, v = x[2 * i + 1];
    polar.push_back(static_cast<float>(std::hypot(u, v)));
    polar.push_back(static_cast<float>(std::atan2(v, u)));
  }
  const Moments r = moments(polar, 2, 0, n, [](const float* p) { return double(p[0]); });
  const Moments a = moments(polar, 2, 0, n, [](const float* p) { return double(p[1]); });
  const double pi = 3.14159265358979323846, var_a = pi * pi / 12;
  EXPECT_NEAR(r.mean, 0.1, kSigmas * 0.01 / std::sqrt(double(n)));
  EXPECT_NEAR(r.var, 1e-4, kSigmas * 1e-4 * std::sqrt(2.0 / n));
  EXPECT_NEAR(a.mean, 0.0, kSigmas * std::sqrt(var_a / n));
  EXPECT_NEAR(a.var, var_a, kSigmas * var_a * std::sqrt(0.8 / n));
}

// N(x/2, 0.05 I): means, variances and one covariance of 20,000 draws against the analytic
// values (standard errors of the analytic distribution: var/n, and 2 var^2/n for a variance).
TEST(TaskReferenceStats, GaussianLinearClosedForm) {
  auto task = get_task("gaussian_linear", kCpu);
  Generator g(4);
  const int64_t n = 20000;
  for (int k : {1, 7}) {
    const std::vector<float> s = task->reference_posterior_samples(k, n, &g).to_vector();
    const std::vector<float> x = task->observation(k).to_vector();
    for (int64_t d = 0; d < 10; ++d) {
      const Moments m = moments(s, 10, 0, n, [d](const float* v) { return double(v[d]); });
      EXPECT_NEAR(m.mean, 0.5 * x[d], kSigmas * std::sqrt(0.05 / n)) << "obs " << k << " dim " << d;
      EXPECT_NEAR(m.var, 0.05, kSigmas * 0.05 * std::sqrt(2.0 / n)) << "obs " << k << " dim " << d;
    }
    const Moments c = moments(
        s, 10, 0, n, [&](const float* v) { return (v[0] - 0.5 * x[0]) * (v[3] - 0.5 * x[3]); });
    EXPECT_NEAR(c.mean, 0.0, kSigmas * 0.05 / std::sqrt(double(n)));
  }
}

// Our closed-form sampler vs the first 2,000 of sbibm's 10,000 shipped samples for observation
// 1: first and second moments, and the share of each half-plane (the posterior has two modes).
TEST(TaskReferenceStats, TwoMoonsMatchesSbibmsShippedSamples) {
  auto task = get_task("two_moons", kCpu);
  const Tensor shipped = fixture("two_moons").at("reference_obs1");
  Generator g(5);
  const int64_t n = 20000;
  const std::vector<float> ours = task->reference_posterior_samples(1, n, &g).to_vector();
  const std::vector<float> theirs = shipped.to_vector();
  const std::vector<std::pair<std::string, std::function<double(const float*)>>> stats = {
      {"theta0", [](const float* v) { return double(v[0]); }},
      {"theta1", [](const float* v) { return double(v[1]); }},
      {"theta0^2", [](const float* v) { return double(v[0]) * v[0]; }},
      {"theta1^2", [](const float* v) { return double(v[1]) * v[1]; }},
      {"theta0 theta1", [](const float* v) { return double(v[0]) * v[1]; }},
      {"theta0 > theta1", [](const float* v) { return v[0] > v[1] ? 1.0 : 0.0; }},
      {"theta0 + theta1 > 0", [](const float* v) { return v[0] + v[1] > 0 ? 1.0 : 0.0; }}};
  for (const auto& [what, f] : stats)
    EXPECT_TRUE(
        same_mean(moments(ours, 2, 0, n, f), moments(theirs, 2, 0, shipped.size(0), f), what));
}

// Prior moments from 20,000 draws: box U(l, h) has mean (l + h)/2 and variance (h - l)^2/12;
// the Gaussians their covariance (bernoulli_glm: sbibm's, from the fixture).
TEST(TaskPriorStats, MomentsOfEachPrior) {
  const int64_t n = 20000;
  auto f = fixture("bernoulli_glm");
  const std::vector<float> glm_cov = f.at("prior_covariance").to_vector();
  for (const std::string& name : task_names()) {
    auto task = get_task(name, kCpu);
    const int64_t dim = task->dim_parameters();
    Generator g(6);
    const Tensor draws = task->prior().sample({n}, &g);
    EXPECT_EQ(draws.shape(), Shape({n, dim}));
    const std::vector<float> s = draws.to_vector();
    for (int64_t i = 0; i < dim; ++i)
      for (int64_t j = i; j < dim; ++j) {
        double cov = 0.0;  // the analytic covariance entry
        if (name == "two_moons" && i == j) cov = 4.0 / 12;
        if (name == "slcp" && i == j) cov = 36.0 / 12;
        if (name == "gaussian_linear" && i == j) cov = 0.1;
        if (name == "bernoulli_glm") cov = glm_cov[static_cast<size_t>(i * dim + j)];
        const Moments mean_i = moments(s, dim, 0, n, [i](const float* v) { return double(v[i]); });
        const Moments prod =
            moments(s, dim, 0, n, [i, j](const float* v) { return double(v[i]) * v[j]; });
        EXPECT_NEAR(mean_i.mean, 0.0, kSigmas * std::sqrt(mean_i.var / n)) << name << " dim " << i;
        EXPECT_NEAR(prod.mean, cov, kSigmas * std::sqrt(prod.var / n))
            << name << " " << i << "," << j;
      }
    if (task->prior().bounded())
      EXPECT_EQ(sum_all(task->prior().support_mask(draws)), float(n)) << name;
  }
}

}  // namespace
}  // namespace cusbi::tasks
