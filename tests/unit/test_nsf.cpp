// build_nsf / NeuralSplineFlow: parameter names, shapes and counts against sbi's state_dict
// (printed from sbi 0.27.0's build_nsf, nflows 0.14), the shapes and row orders of loss,
// log_prob (sbi's broadcasting), sample and sample_from_noise, and the error messages.
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::contains;
using testing::error_of;

using Names = std::vector<std::pair<std::string, Shape>>;

Names names_of(const NeuralSplineFlow& flow) {
  Names out;
  for (const ParameterSet::Entry& e : flow.parameter_set().entries())
    out.emplace_back(e.name, e.slot.shape);
  return out;
}

NsfOptions small_options() {
  NsfOptions o;
  o.num_transforms = 2;
  o.num_blocks = 1;
  o.hidden_features = 8;
  o.num_bins = 4;
  return o;
}

// sbi: build_nsf(randn(10, 3), randn(10, 2), num_transforms=2, num_blocks=1,
// hidden_features=8, num_bins=4).named_parameters(), z_score_x "independent" (first index 1)
// and "none" (first index 0).
Names sbi_d3_names(int first) {
  const std::string t = "net._transform._transforms.";
  Names n;
  for (int layer = 0; layer < 2; ++layer) {
    const std::string c = t + std::to_string(first + 2 * layer) + ".transform_net.";
    const int64_t in = layer == 0 ? 3 : 4, out = layer == 0 ? 22 : 11;
    n.push_back({c + "initial_layer.weight", {8, in}});
    n.push_back({c + "initial_layer.bias", {8}});
    n.push_back({c + "blocks.0.context_layer.weight", {8, 2}});
    n.push_back({c + "blocks.0.context_layer.bias", {8}});
    n.push_back({c + "blocks.0.linear_layers.0.weight", {8, 8}});
    n.push_back({c + "blocks.0.linear_layers.0.bias", {8}});
    n.push_back({c + "blocks.0.linear_layers.1.weight", {8, 8}});
    n.push_back({c + "blocks.0.linear_layers.1.bias", {8}});
    n.push_back({c + "final_layer.weight", {out, 8}});
    n.push_back({c + "final_layer.bias", {out}});
    const std::string lu = t + std::to_string(first + 2 * layer + 1) + ".";
    n.push_back({lu + "bias", {3}});
    n.push_back({lu + "lower_entries", {3}});
    n.push_back({lu + "upper_entries", {3}});
    n.push_back({lu + "unconstrained_upper_diag", {3}});
  }
  return n;
}

TEST(Nsf, ParameterNamesMatchSbi) {
  const Tensor theta = randn({10, 3}, Device::cpu()), x = randn({10, 2}, Device::cpu());
  NsfOptions o = small_options();
  NeuralSplineFlow zscored = build_nsf(theta, x, o);
  EXPECT_EQ(names_of(zscored), sbi_d3_names(1));
  EXPECT_EQ(zscored.parameters().numel(), 729);  // sum(p.numel()) in sbi
  o.z_score_input = ZScore::None;
  EXPECT_EQ(names_of(build_nsf(theta, x, o)), sbi_d3_names(0));
}

TEST(Nsf, OneDimensionalNamesMatchSbi) {
  // sbi: build_nsf(randn(10, 1), randn(10, 2), num_transforms=2, hidden_features=8,
  // num_bins=4, hidden_layers_spline_context=2): the repeated Linear is one module, listed
  // once by named_parameters (its second use, spline_predictor.4, shares it).
  const Tensor theta = randn({10, 1}, Device::cpu()), x = randn({10, 2}, Device::cpu());
  NsfOptions o = small_options();
  o.hidden_layers_spline_context = 2;
  Names expected;
  for (int k : {1, 2}) {
    const std::string c =
        "net._transform._transforms." + std::to_string(k) + ".transform_net.spline_predictor.";
    expected.push_back({c + "0.weight", {8, 2}});
    expected.push_back({c + "0.bias", {8}});
    expected.push_back({c + "2.weight", {8, 8}});
    expected.push_back({c + "2.bias", {8}});
    expected.push_back({c + "6.weight", {11, 8}});
    expected.push_back({c + "6.bias", {11}});
  }
  NeuralSplineFlow flow = build_nsf(theta, x, o);
  EXPECT_EQ(names_of(flow), expected);
  EXPECT_EQ(flow.parameters().numel(), 390);
  // build_nsf(randn(10, 1), randn(10, 3), num_transforms=1, hidden_features=8, num_bins=4,
  // hidden_layers_spline_context=0, z_score_x="none").
  o.num_transforms = 1;
  o.hidden_layers_spline_context = 0;
  o.z_score_input = ZScore::None;
  const Names none = {
      {"net._transform._transforms.0.transform_net.spline_predictor.0.weight", {8, 3}},
      {"net._transform._transforms.0.transform_net.spline_predictor.0.bias", {8}},
      {"net._transform._transforms.0.transform_net.spline_predictor.2.weight", {11, 8}},
      {"net._transform._transforms.0.transform_net.spline_predictor.2.bias", {11}}};
  EXPECT_EQ(names_of(build_nsf(theta, randn({10, 3}, Device::cpu()), o)), none);
}

TEST(Nsf, DefaultParameterCountsMatchSbi) {
  // sum(p.numel()) and len(list(parameters())) of sbi's default build_nsf.
  struct Case {
    int64_t D, C, numel, tensors;
  };
  for (const Case& c : {Case{2, 2, 60925, 100}, Case{3, 2, 65492, 100}, Case{1, 2, 20895, 30},
                        Case{5, 8, 77727, 100}}) {
    const NeuralSplineFlow flow =
        build_nsf(randn({10, c.D}, Device::cpu()), randn({10, c.C}, Device::cpu()));
    EXPECT_EQ(flow.parameters().numel(), c.numel) << "D=" << c.D << " C=" << c.C;
    EXPECT_EQ(int64_t(flow.parameter_set().entries().size()), c.tensors);
  }
}

TEST(Nsf, InitIsNflowsInit) {
  NeuralSplineFlow flow =
      build_nsf(randn({10, 3}, Device::cpu()), randn({10, 2}, Device::cpu()), small_options());
  const ParameterSet& ps = flow.parameter_set();
  auto max_abs = [&](const std::string& name) {
    float m = 0.0f;
    for (float v : ps.value(ps.entry(name).slot).to_vector()) m = std::max(m, std::fabs(v));
    return m;
  };
  const std::string c = "net._transform._transforms.1.transform_net.";
  // U(+-1/sqrt(fan_in)); zero_initialization U(+-1e-3) of each block's last Linear; LU identity.
  EXPECT_LE(max_abs(c + "initial_layer.weight"), 1.0f / std::sqrt(3.0f));
  EXPECT_GT(max_abs(c + "initial_layer.weight"), 0.1f);
  EXPECT_LE(max_abs(c + "blocks.0.linear_layers.1.weight"), 1e-3f);
  EXPECT_EQ(max_abs("net._transform._transforms.2.lower_entries"), 0.0f);
  EXPECT_EQ(max_abs("net._transform._transforms.2.bias"), 0.0f);
  for (float v :
       ps.value(ps.entry("net._transform._transforms.2.unconstrained_upper_diag").slot).to_vector())
    EXPECT_NEAR(v, 0.5397424f, 1e-6f);
}

struct Fixture {
  explicit Fixture(int64_t D = 2, int64_t C = 3, uint64_t seed = 1) : gen(seed) {
    theta = randn({50, D}, Device::cpu(), &gen) * 2.0f + 1.0f;
    x = randn({50, C}, Device::cpu(), &gen);
    flow.emplace(build_nsf(theta, x, small_options(), &gen));
  }
  Generator gen;
  Tensor theta, x;
  std::optional<NeuralSplineFlow> flow;
};

TEST(Nsf, LossAndLogProbShapes) {
  Fixture f;
  NeuralSplineFlow& flow = *f.flow;
  const Tensor th = f.theta.slice_rows(0, 7), x = f.x.slice_rows(0, 7);
  const Tensor loss = flow.loss(th, x);
  EXPECT_EQ(loss.shape(), Shape({7}));
  const Tensor lp = flow.log_prob(th, x);
  EXPECT_EQ(lp.shape(), Shape({1, 7}));
  // loss = -log_prob on the same rows (both paths run the same program).
  EXPECT_TRUE(testing::all_close(loss, -lp.reshape({7}), 1e-6, 1e-6));
  const Tensor in3 = randn({3, 7, 2}, Device::cpu(), &f.gen);
  EXPECT_EQ(flow.log_prob(in3, x).shape(), Shape({3, 7}));
  EXPECT_EQ(flow.log_prob(in3, x.slice_rows(0, 1)).shape(), Shape({3, 7}));
  EXPECT_EQ(flow.log_prob(in3.reshape({21, 2}).slice_rows(0, 3).reshape({3, 1, 2}), x).shape(),
            Shape({3, 7}));
  EXPECT_EQ(flow.log_prob(in3, randn({3, 7, 3}, Device::cpu())).shape(), Shape({3, 7}));
  EXPECT_EQ(flow.log_prob(in3, randn({1, 7, 3}, Device::cpu())).shape(), Shape({3, 7}));
}

// Row s * B + b of the broadcast evaluation is exactly the one-row evaluation of its pair.
TEST(Nsf, LogProbBroadcastsAsSbi) {
  Fixture f;
  NeuralSplineFlow& flow = *f.flow;
  const int64_t S = 3, B = 4;
  const Tensor in = randn({S, B, 2}, Device::cpu(), &f.gen);
  const Tensor cond = f.x.slice_rows(0, B);
  const Tensor cond_s = randn({S, B, 3}, Device::cpu(), &f.gen);
  const std::vector<float> lp = flow.log_prob(in, cond).to_vector();
  const std::vector<float> lp_s = flow.log_prob(in, cond_s).to_vector();
  const std::vector<float> lp_b1 = flow.log_prob(in, cond.slice_rows(1, 2)).to_vector();
  const Tensor in_b1 = in.reshape({S * B, 2}).slice_rows(0, 1).reshape({1, 1, 2});
  const std::vector<float> lp_in1 = flow.log_prob(in_b1, cond).to_vector();
  // Different batch sizes change the GEMM blocking, hence the last bits: 1e-5 absolute on
  // log-densities of order 1-10.
  const double tol = 1e-5;
  for (int64_t s = 0; s < S; ++s)
    for (int64_t b = 0; b < B; ++b) {
      const Tensor one = in[s].slice_rows(b, b + 1);
      const size_t r = s * B + b;
      EXPECT_NEAR(lp[r], flow.log_prob(one, cond.slice_rows(b, b + 1)).item(), tol);
      EXPECT_NEAR(lp_s[r], flow.log_prob(one, cond_s[s].slice_rows(b, b + 1)).item(), tol);
      EXPECT_NEAR(lp_b1[r], flow.log_prob(one, cond.slice_rows(1, 2)).item(), tol);
      if (s == 0)
        EXPECT_NEAR(lp_in1[b], flow.log_prob(in_b1[0], cond.slice_rows(b, b + 1)).item(), tol);
    }
}

TEST(Nsf, SampleShapesAndNoiseOrder) {
  Fixture f;
  NeuralSplineFlow& flow = *f.flow;
  const Tensor cond = f.x.slice_rows(0, 5);
  EXPECT_EQ(flow.sample({4, 3}, cond).shape(), Shape({4, 3, 5, 2}));
  EXPECT_EQ(flow.sample({}, cond).shape(), Shape({5, 2}));
  EXPECT_EQ(flow.sample({0}, cond).shape(), Shape({0, 5, 2}));
  // sample draws randn(B n, D) viewed as (B, n, D): sample j of condition b uses row b n + j,
  // i.e. sample_from_noise of that noise transposed to (n, B, D).
  const int64_t n = 6, B = 5, D = 2;
  Generator g1(7), g2(7);
  const Tensor samples = flow.sample({n}, cond, &g1);
  const std::vector<float> noise = randn({B * n, D}, Device::cpu(), &g2).to_vector();
  std::vector<float> transposed(noise.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t d = 0; d < D; ++d) transposed[(j * B + b) * D + d] = noise[(b * n + j) * D + d];
  const Tensor expected =
      flow.sample_from_noise(Tensor::from(transposed, {n, B, D}, Device::cpu()), cond);
  EXPECT_EQ(samples.to_vector(), expected.to_vector());
}

// sample_from_noise inverts the forward: z of each input (inverse_transform, the forward pass
// of log_prob) maps back to the input, for every mask parity, the LU layers and the z-scoring.
TEST(Nsf, SampleFromNoiseInvertsForward) {
  for (int64_t D : {1, 2, 3, 5}) {
    Fixture f(D, 2, 10 + D);
    NeuralSplineFlow& flow = *f.flow;
    // Mostly inside the tails after z-scoring, some far outside (identity tails).
    Tensor theta =
        cat({f.theta.slice_rows(0, 40), f.theta.slice_rows(40, 50) * 8.0f}).reshape({5, 10, D});
    const Tensor cond = f.x.slice_rows(0, 10);
    const Tensor z = flow.inverse_transform(theta, cond);
    EXPECT_EQ(z.shape(), Shape({5, 10, D}));
    // The spline inverse and LU solves lose a few float ulps of values up to ~25: 1e-4
    // absolute plus relative.
    EXPECT_TRUE(testing::all_close(flow.sample_from_noise(z, cond), theta, 1e-4, 1e-4))
        << "D = " << D;
  }
}

TEST(Nsf, ZeroBatches) {
  Fixture f;
  NeuralSplineFlow& flow = *f.flow;
  const Tensor in = Tensor::zeros({0, 2}, Device::cpu()), c = Tensor::zeros({0, 3}, Device::cpu());
  EXPECT_EQ(flow.loss(in, c).shape(), Shape({0}));
  flow.backward(Tensor::zeros({0}, Device::cpu()));
  EXPECT_EQ(flow.log_prob(in, c).shape(), Shape({1, 0}));
}

TEST(Nsf, Errors) {
  Fixture f;
  NeuralSplineFlow& flow = *f.flow;
  const Tensor th = f.theta.slice_rows(0, 4), x = f.x.slice_rows(0, 4);
  auto has = [](auto&& call, const char* part) { return contains(error_of(call), part); };
  EXPECT_TRUE(has([&] { flow.log_prob(th, randn({4, 2}, Device::cpu())); }, "3 condition"));
  EXPECT_TRUE(has([&] { flow.loss(randn({4, 3}, Device::cpu()), x); }, "2 input features"));
  EXPECT_TRUE(has([&] { flow.log_prob(randn({3}, Device::cpu()), x); }, "(samples, batch, D)"));
  EXPECT_TRUE(has([&] { flow.log_prob(th, f.x.slice_rows(0, 3)); }, "do not broadcast"));
  EXPECT_TRUE(has(
      [&] {
        flow.log_prob(randn({2, 4, 2}, Device::cpu()), randn({3, 4, 3}, Device::cpu()));
      },
      "samples"));
  Tensor bad = th.clone();
  bad.data()[3] = std::nanf("");
  EXPECT_TRUE(has([&] { flow.loss(bad, x); }, "non-finite"));
  EXPECT_TRUE(has([&] { flow.backward(Tensor::ones({4}, Device::cpu())); }, "no loss"));
  flow.loss(th, x);
  EXPECT_TRUE(has([&] { flow.backward(Tensor::ones({5}, Device::cpu())); }, "batch 4"));
  auto build = [&](NsfOptions o) { return [&, o] { build_nsf(f.theta, f.x, o); }; };
  NsfOptions o;
  o.num_bins = 0;
  EXPECT_TRUE(has(build(o), "num_bins"));
  o.num_bins = 65;
  EXPECT_TRUE(has(build(o), "num_bins"));
  o = {};
  o.tail_bound = 0.0f;
  EXPECT_TRUE(has(build(o), "tail_bound"));
  o.tail_bound = INFINITY;
  EXPECT_TRUE(has(build(o), "tail_bound"));
  o = {};
  o.hidden_features = 0;
  EXPECT_TRUE(has(build(o), "hidden_features"));
  o = {};
  o.num_transforms = 0;
  EXPECT_TRUE(has(build(o), "num_transforms"));
  o = {};
  o.z_score_input = ZScore::Structured;
  EXPECT_TRUE(has(
      [&] {
        build_nsf(f.theta.slice_rows(0, 10).reshape({20, 1}), f.x.slice_rows(0, 20), o);
      },
      "structured"));
  EXPECT_TRUE(has([&] { build_nsf(f.theta, f.x.slice_rows(0, 10)); }, "rows"));
}

// sbi keeps std = 1 for a single condition row; structured z-scoring shares one mean and std.
TEST(Nsf, ZScoreStatistics) {
  Fixture f;
  NsfOptions o = small_options();
  o.z_score_input = ZScore::None;  // an input std from one row is NaN: fit refuses it
  const NeuralSplineFlow one = build_nsf(f.theta.slice_rows(0, 1), f.x.slice_rows(0, 1), o);
  EXPECT_EQ(one.condition_zscore().std().to_vector(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(one.condition_zscore().mean().to_vector(), f.x.slice_rows(0, 1).to_vector());
  o.z_score_input = ZScore::Structured;
  o.z_score_condition = ZScore::None;
  const NeuralSplineFlow s = build_nsf(f.theta, f.x, o);
  const std::vector<float> std = s.input_zscore().std().to_vector();
  EXPECT_EQ(std[0], std[1]);
  EXPECT_FALSE(s.condition_zscore().mean().defined());
}

}  // namespace
}  // namespace cusbi
