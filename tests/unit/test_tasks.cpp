// cusbi::tasks on the CPU: each simulator's arithmetic against sbibm 1.1.0's on the same noise
// (tests/data/tasks/<task>_simulator.safetensors "exact.*", made by tools/extract_sbibm_tasks.py),
// observations and true parameters against sbibm's csv values, priors against sbibm's
// parameters, reference-sample shapes, and the errors (observation numbers, names, theta shape,
// a missing data file).
#include <cstdlib>
#include <map>
#include <string>

#include "host/tasks/task_internal.hpp"
#include "support/test_support.hpp"

namespace cusbi::tasks {
namespace {

using cusbi::testing::all_close;
using cusbi::testing::contains;
using cusbi::testing::error_of;
const Device kCpu = Device::cpu();

std::map<std::string, Tensor> fixture(const std::string& task) {
  return load_safetensors(cusbi::testing::data_dir() / "tasks" / (task + "_simulator.safetensors"),
                          kCpu);
}

// ------------------------------------------------------------ simulators on sbibm's noise

// Values O(1); a handful of float ops each (sbibm rotates with cos(-pi/4) in float32, we with
// 1/sqrt 2): a few ulp, so 1e-6 absolute.
TEST(TaskSimulators, TwoMoonsMatchesSbibmOnTheSameNoise) {
  auto f = fixture("two_moons");
  const Tensor x =
      detail::two_moons_from_noise(f.at("exact.theta"), f.at("exact.a"), f.at("exact.r"));
  EXPECT_TRUE(all_close(x, f.at("exact.x"), 1e-6, 1e-6));
}

// x = theta + 0.1^0.5 z; sbibm's scale comes from the inverse of its precision matrix, a few ulp
// off sqrt(0.1): relative 1e-6 plus 1e-6 absolute for x near 0.
TEST(TaskSimulators, GaussianLinearMatchesSbibmOnTheSameNoise) {
  auto f = fixture("gaussian_linear");
  const Tensor x = detail::gaussian_linear_from_noise(f.at("exact.theta"), f.at("exact.z"));
  EXPECT_TRUE(all_close(x, f.at("exact.x"), 1e-6, 1e-6));
}

// Closed-form 2x2 Cholesky vs torch's LAPACK one, x up to ~250 in size (s^2 up to 81 times z):
// a few ulp of the row's scale, so relative 1e-5 of the largest |x| (close_scaled).
TEST(TaskSimulators, SlcpMatchesSbibmOnTheSameNoise) {
  auto f = fixture("slcp");
  const Tensor x = detail::slcp_from_noise(f.at("exact.theta"), f.at("exact.z"));
  EXPECT_TRUE(cusbi::testing::close_scaled(x, f.at("exact.x"), 1e-5));
}

// Same spikes (u < sigmoid(psi) flips only if u falls within an ulp of the rate: 6,400 draws,
// probability ~1e-3), so the count is exact and the stimulus sums (|x| <= ~40) differ only in
// summation order (conv1d vs GEMM): 1e-4 absolute.
TEST(TaskSimulators, BernoulliGlmMatchesSbibmsConvSummaryOnTheSameNoise) {
  auto f = fixture("bernoulli_glm");
  auto task = get_task("bernoulli_glm", kCpu);
  const auto data = load_safetensors(task_data_folder() / "sbibm_bernoulli_glm.safetensors", kCpu);
  const Tensor x = detail::bernoulli_glm_from_noise(f.at("exact.theta"), f.at("exact.u"),
                                                    data.at("design_matrix"));
  EXPECT_TRUE(all_close(x, f.at("exact.x"), 1e-4, 0));
}

// Every simulator returns (N, dim_data) on theta's device, finite, for prior draws.
TEST(TaskSimulators, ShapesAndFiniteness) {
  for (const std::string& name : task_names()) {
    auto task = get_task(name, kCpu);
    Generator g(3);
    const Tensor theta = task->prior().sample({50}, &g);
    const Tensor x = task->simulate(theta, &g);
    EXPECT_EQ(x.shape(), Shape({50, task->dim_data()})) << name;
    EXPECT_TRUE(all_finite(x)) << name;
    EXPECT_EQ(x.device(), kCpu);
  }
}

// A seed fixes the draw; the generator advances, so a second call differs.
TEST(TaskSimulators, SeededAndAdvancing) {
  auto task = get_task("slcp", kCpu);
  const Tensor theta = task->true_parameters(1);
  Generator g1(7), g2(7);
  const Tensor a = task->simulate(theta, &g1), b = task->simulate(theta, &g2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(task->simulate(theta, &g1).to_vector(), a.to_vector());
}

// ------------------------------------------------------------ observations and parameters

// Values from sbibm's csv files (num_observation_1 and _10), parsed to float32 exactly as the
// extractor does, so equality.
TEST(TaskData, ObservationsAndTrueParametersAreSbibms) {
  auto two_moons = get_task("two_moons", kCpu);
  EXPECT_EQ(two_moons->observation(1).to_vector(), std::vector<float>({-0.6396706f, 0.16234657f}));
  auto glm = get_task("bernoulli_glm", kCpu);
  EXPECT_EQ(glm->observation(1).shape(), Shape({1, 10}));
  EXPECT_EQ(glm->observation(1).to_vector()[0], 56.0f);  // spike count
  EXPECT_EQ(glm->true_parameters(1).to_vector()[0], 1.215716f);
  auto slcp = get_task("slcp", kCpu);
  EXPECT_EQ(slcp->observation(1).to_vector()[0], 2.3718784f);
  EXPECT_EQ(slcp->true_parameters(10).to_vector(),
            std::vector<float>({2.1795692f, -2.984069f, 0.9612086f, -0.9602599f, -2.1850324f}));
}

TEST(TaskData, DimensionsAndNames) {
  const std::map<std::string, std::pair<int64_t, int64_t>> dims = {{"two_moons", {2, 2}},
                                                                   {"gaussian_linear", {10, 10}},
                                                                   {"slcp", {5, 8}},
                                                                   {"bernoulli_glm", {10, 10}}};
  for (const std::string& name : task_names()) {
    auto task = get_task(name, kCpu);
    EXPECT_EQ(task->name(), name);
    EXPECT_EQ(task->dim_parameters(), dims.at(name).first);
    EXPECT_EQ(task->dim_data(), dims.at(name).second);
    EXPECT_EQ(task->num_observations(), 10);
    EXPECT_EQ(task->device(), kCpu);
    for (int k : {1, 10}) {
      EXPECT_EQ(task->observation(k).shape(), Shape({1, task->dim_data()}));
      EXPECT_TRUE(all_finite(task->observation(k)));
    }
  }
}

// ------------------------------------------------------------ priors

TEST(TaskPriors, BoxesAndGaussians) {
  auto two_moons = get_task("two_moons", kCpu);
  EXPECT_TRUE(two_moons->prior().bounded());
  EXPECT_EQ(two_moons->prior().support_low().to_vector(), std::vector<float>(2, -1.0f));
  EXPECT_EQ(two_moons->prior().support_high().to_vector(), std::vector<float>(2, 1.0f));
  auto slcp = get_task("slcp", kCpu);
  EXPECT_EQ(slcp->prior().support_low().to_vector(), std::vector<float>(5, -3.0f));
  EXPECT_EQ(slcp->prior().support_high().to_vector(), std::vector<float>(5, 3.0f));
  auto gl = get_task("gaussian_linear", kCpu);
  EXPECT_FALSE(gl->prior().bounded());
  EXPECT_EQ(gl->prior().mean().to_vector(), std::vector<float>(10, 0.0f));
  // sqrt(0.1) in float: 1 ulp.
  EXPECT_TRUE(
      all_close(gl->prior().stddev().to_vector(), std::vector<float>(10, 0.31622777f), 0, 1e-7));
}

// torch.inverse of sbibm's float32 precision matrix vs ours inverted in double: entries up to
// ~60 with a condition number ~1e4, so relative 1e-4 of the largest entry.
TEST(TaskPriors, BernoulliGlmCovarianceIsTheInverseOfSbibmsPrecision) {
  auto f = fixture("bernoulli_glm");
  auto task = get_task("bernoulli_glm", kCpu);
  const auto& prior = dynamic_cast<const MultivariateNormal&>(task->prior());
  EXPECT_TRUE(cusbi::testing::close_scaled(prior.covariance(), f.at("prior_covariance"), 1e-4));
  EXPECT_EQ(prior.loc().to_vector(), std::vector<float>(10, 0.0f));
}

// ------------------------------------------------------------ reference samples

TEST(TaskReference, ShapesAndShippedRows) {
  Generator g(1);
  for (const std::string& name : task_names()) {
    auto task = get_task(name, kCpu);
    const Tensor s = task->reference_posterior_samples(3, 500, &g);
    EXPECT_EQ(s.shape(), Shape({500, task->dim_parameters()})) << name;
    EXPECT_TRUE(all_finite(s)) << name;
  }
  // Shipped samples: the first rows of the file, the same on every call.
  auto slcp = get_task("slcp", kCpu);
  const auto data = load_safetensors(task_data_folder() / "sbibm_slcp.safetensors", kCpu);
  EXPECT_EQ(slcp->reference_posterior_samples(2, 4).to_vector(),
            data.at("reference_posterior_samples")[1].slice_rows(0, 4).to_vector());
  EXPECT_EQ(slcp->reference_posterior_samples(2).size(0), 10000);
}

// two_moons' closed form stays inside the prior box [-1, 1)^2.
TEST(TaskReference, TwoMoonsSamplesLieInThePrior) {
  auto task = get_task("two_moons", kCpu);
  Generator g(2);
  const Tensor s = task->reference_posterior_samples(5, 3000, &g);
  for (float v : s.to_vector()) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LT(v, 1.0f);
  }
}

// ------------------------------------------------------------ errors

TEST(TaskErrors, ObservationNumbersOutsideOneToTen) {
  auto task = get_task("two_moons", kCpu);
  for (int k : {0, 11}) {
    EXPECT_TRUE(contains(error_of([&] { task->observation(k); }), "1 to 10"));
    EXPECT_TRUE(contains(error_of([&] { task->true_parameters(k); }), "1 to 10"));
    EXPECT_TRUE(contains(error_of([&] { task->reference_posterior_samples(k, 10); }), "1 to 10"));
  }
  auto slcp = get_task("slcp", kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { slcp->reference_posterior_samples(1, 10001); }), "1 to 10000"));
  EXPECT_TRUE(contains(error_of([&] { task->reference_posterior_samples(1, 0); }), "at least 1"));
}

TEST(TaskErrors, UnknownNameListsTheKnownOnes) {
  const std::string e = error_of([] { get_task("gaussian_mixture", Device::cpu()); });
  EXPECT_TRUE(contains(e, "gaussian_mixture"));
  EXPECT_TRUE(contains(e, "two_moons, gaussian_linear, slcp, bernoulli_glm"));
}

TEST(TaskErrors, ThetaOfTheWrongShape) {
  auto task = get_task("slcp", kCpu);
  EXPECT_TRUE(contains(error_of([&] {
                         task->simulate(Tensor::zeros({3, 4}, kCpu));
                       }),
                       "theta must be float32 (N, 5)"));
  EXPECT_TRUE(
      contains(error_of([&] { task->simulate(Tensor::zeros({5}, kCpu)); }), "got float32 (5,)"));
}

TEST(TaskErrors, MissingDataFileNamesItAndTheVariable) {
  const char* previous = std::getenv("CUSBI_TASK_DATA");
  const std::string saved = previous ? previous : "";
  setenv("CUSBI_TASK_DATA", "/nonexistent/cusbi_tasks", 1);
  const std::string e = error_of([] { get_task("two_moons", Device::cpu()); });
  if (previous)
    setenv("CUSBI_TASK_DATA", saved.c_str(), 1);
  else
    unsetenv("CUSBI_TASK_DATA");
  EXPECT_TRUE(contains(e, "/nonexistent/cusbi_tasks/sbibm_two_moons.safetensors"));
  EXPECT_TRUE(contains(e, "CUSBI_TASK_DATA"));
}

}  // namespace
}  // namespace cusbi::tasks
