// NeuralSplineFlow as a density: log_prob integrates to 1 over a grid (D = 1 and 2, at init and
// with every parameter perturbed: a wrong log|det| term anywhere — spline, LU, z-scoring —
// breaks the normalisation), and the hot paths allocate nothing once their workspaces exist.
#include <algorithm>
#include <cmath>
#include <vector>

#include "host/allocation_counter.hpp"
#include "host/cpu/flows.hpp"
#include "host/flows/nsf_layout.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

NsfOptions small_options() {
  NsfOptions o;
  o.num_transforms = 3;
  o.num_blocks = 1;
  o.hidden_features = 8;
  o.num_bins = 5;
  o.tail_bound = 2.0f;  // narrower than the data, so both tails and the spline carry mass
  return o;
}

NeuralSplineFlow make_flow(int64_t D, bool perturb, uint64_t seed) {
  Generator gen(seed);
  const Tensor theta = randn({200, D}, Device::cpu(), &gen) * 1.5f + 0.5f;
  const Tensor x = randn({200, 2}, Device::cpu(), &gen);
  NeuralSplineFlow flow = build_nsf(theta, x, small_options(), &gen);
  if (perturb) {
    Tensor p = flow.parameters();
    p.copy_(p + uniform(p.shape(), -0.3f, 0.3f, Device::cpu(), &gen));
  }
  return flow;
}

// Trapezoid rule of exp(log_prob) over [lo, hi]^D with n points per axis, for one condition.
double integrate(NeuralSplineFlow& flow, const Tensor& cond, double lo, double hi, int64_t n) {
  const int64_t D = flow.input_features();
  const double h = (hi - lo) / double(n - 1);
  int64_t total = 1;
  for (int64_t d = 0; d < D; ++d) total *= n;
  std::vector<float> grid(total * D);
  for (int64_t i = 0; i < total; ++i) {
    int64_t rest = i;
    for (int64_t d = D - 1; d >= 0; --d, rest /= n) grid[i * D + d] = float(lo + h * (rest % n));
  }
  const std::vector<float> lp =
      flow.log_prob(Tensor::from(grid, {total, D}, Device::cpu()), cond).to_vector();
  double sum = 0.0;
  for (int64_t i = 0; i < total; ++i) {
    double w = 1.0;
    int64_t rest = i;
    for (int64_t d = 0; d < D; ++d, rest /= n)
      w *= (rest % n == 0 || rest % n == n - 1) ? 0.5 : 1.0;
    sum += w * std::exp(double(lp[i]));
  }
  for (int64_t d = 0; d < D; ++d) sum *= h;
  return sum;
}

TEST(NsfDensity, OneDimensionalIntegratesToOne) {
  for (bool perturb : {false, true}) {
    NeuralSplineFlow flow = make_flow(1, perturb, 3);
    const Tensor cond = Tensor::from({0.3f, -1.0f}, {1, 2}, Device::cpu());
    // The data are ~N(0.5, 1.5^2): [-14, 15] is ~10 standard deviations either side. With 4001
    // points (h = 0.007, against bins no narrower than ~0.01 in these units) the trapezoid error
    // measured 2e-6; 1e-4 leaves room while a missing log|det| term (the z-scoring's factor 1.5,
    // a spline slope) is off by tens of percent.
    EXPECT_NEAR(integrate(flow, cond, -14.0, 15.0, 4001), 1.0, 1e-4) << "perturbed " << perturb;
  }
}

TEST(NsfDensity, TwoDimensionalIntegratesToOne) {
  for (bool perturb : {false, true}) {
    NeuralSplineFlow flow = make_flow(2, perturb, 4);
    const Tensor cond = Tensor::from({-0.5f, 0.8f}, {1, 2}, Device::cpu());
    // 201^2 points over [-11, 12]^2 (h = 0.115; ~7 data standard deviations either side, the
    // perturbed LU maps stretch by at most ~1.5): the trapezoid error measured 1.2e-3 (4e-5 at
    // init); 5e-3 still catches any wrong log|det| (the z-scoring alone is a factor 2.25, a
    // perturbed LU log|det| ~20%).
    EXPECT_NEAR(integrate(flow, cond, -11.0, 12.0, 201), 1.0, 5e-3) << "perturbed " << perturb;
  }
}

TEST(NsfDensity, LogProbAllocatesNothingWhenWarm) {
  NeuralSplineFlow flow = make_flow(3, true, 5);
  Generator gen(6);
  const Tensor in = randn({4, 50, 3}, Device::cpu(), &gen), cond = randn({50, 2}, Device::cpu());
  Tensor out = Tensor::empty({4, 50}, Device::cpu());
  Tensor small = Tensor::empty({1, 50}, Device::cpu());
  flow.log_prob(in, cond, out);
  const std::vector<float> first = out.to_vector();
  const int64_t before = detail::allocation_count();
  for (int i = 0; i < 3; ++i) flow.log_prob(in, cond, out);
  flow.log_prob(in[0], cond, small);  // a smaller batch reuses the workspace too
  EXPECT_EQ(detail::allocation_count(), before);
  EXPECT_EQ(out.to_vector(), first);  // and repeated calls are bit-identical
}

TEST(NsfDensity, TrainingStepAllocatesNothingWhenWarm) {
  NeuralSplineFlow flow = make_flow(2, false, 7);
  Generator gen(8);
  const Tensor in = randn({64, 2}, Device::cpu(), &gen), cond = randn({64, 2}, Device::cpu());
  Tensor loss = Tensor::empty({64}, Device::cpu());
  const Tensor grad = Tensor::full({64}, 1.0f / 64, Device::cpu());
  Tensor grad_input;
  auto step = [&] {
    flow.zero_grad();
    flow.loss(in, cond, loss);
    flow.backward(grad, &grad_input);
  };
  step();
  const std::vector<float> grads = flow.gradients().to_vector();
  const int64_t before = detail::allocation_count();
  step();
  step();
  EXPECT_EQ(detail::allocation_count(), before);
  EXPECT_EQ(flow.gradients().to_vector(), grads);  // deterministic
  EXPECT_EQ(grad_input.shape(), Shape({64, 2}));
}

// log_prob keeps two activation buffers and one conditioner workspace whatever the depth, for
// one block of rows whatever the batch.
TEST(NsfDensity, InferenceWorkspaceDoesNotGrowWithTransformsOrBatch) {
  using Program = flows::NsfProgram<cpu::FlowCpuExec<float>>;
  auto numel = [](int64_t transforms, int64_t rows) {
    ParameterSet ps;
    flows::NsfShape shape{3, 2, 50, 2, 1};
    const flows::NsfLayout l =
        flows::register_nsf(ps, shape, flows::spline_spec(10, 3.0, 50), transforms, true);
    return Program::inference_numel(l, rows);
  };
  EXPECT_EQ(numel(2, 1000), numel(12, 1000));
  EXPECT_EQ(numel(5, 1000000), numel(5, cpu::FlowCpuExec<float>::kInferenceBlockRows));
  EXPECT_LT(numel(5, 100), numel(5, 1000));
}

// Blocks of rows give the same values as one pass: a batch over several blocks against its
// rows evaluated one block at a time.
TEST(NsfDensity, BlocksDoNotChangeResults) {
  NeuralSplineFlow flow = make_flow(2, true, 9);
  const int64_t block = cpu::FlowCpuExec<float>::kInferenceBlockRows, B = 2 * block + 37;
  Generator gen(10);
  const Tensor in = randn({B, 2}, Device::cpu(), &gen), cond = randn({B, 2}, Device::cpu(), &gen);
  const std::vector<float> all = flow.log_prob(in, cond).to_vector();
  for (int64_t r0 : {int64_t(0), block, 2 * block}) {
    const int64_t r1 = std::min(B, r0 + block);
    const std::vector<float> part =
        flow.log_prob(in.slice_rows(r0, r1), cond.slice_rows(r0, r1)).to_vector();
    // The CPU cuts a batch into row parts whose GEMMs Eigen blocks by their size, so a row's
    // value may move by float rounding with the batch around it (seen: 1 ulp); a row mixed up
    // with another across a block or part boundary would be off by O(1).
    for (int64_t r = r0; r < r1; ++r)
      EXPECT_NEAR(all[r], part[r - r0], 4e-6 * std::fabs(all[r]) + 1e-6) << "row " << r;
  }
  // Sampling's transposed noise order crosses block boundaries too.
  const Tensor c = cond.slice_rows(0, 3);
  Generator g1(11), g2(11);
  const Tensor s = flow.sample({block}, c, &g1);
  const std::vector<float> noise = randn({3 * block, 2}, Device::cpu(), &g2).to_vector();
  std::vector<float> t(noise.size());
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t j = 0; j < block; ++j)
      for (int64_t d = 0; d < 2; ++d) t[(j * 3 + b) * 2 + d] = noise[(b * block + j) * 2 + d];
  const Tensor expected = flow.sample_from_noise(Tensor::from(t, {block, 3, 2}, Device::cpu()), c);
  EXPECT_EQ(s.to_vector(), expected.to_vector());
}

}  // namespace
}  // namespace cusbi
