// cusbi's ratio classifiers against sbi's own build_{resnet,mlp,linear}_classifier (PyTorch,
// float32): built from the same data, cusbi's z-scoring must match sbi's buffers, its parameter
// names, shapes and order sbi's named_parameters(), and with sbi's (perturbed) weights loaded by
// name: logits, every parameter gradient of sum(weights * logits) and d/d theta.
// Fixtures: tools/make_classifier_fixtures.py, classifier_*.safetensors.
#include "golden/golden_support.hpp"

namespace cusbi::golden {
namespace {

// Relative to each compared tensor's largest magnitude. Logits and gradients are chains of
// float32 dot products of at most 57 terms through at most 5 layers; torch's float32 results
// differ from a float64 rerun by <= 1.5e-6 of scale (fixture metadata f32_vs_f64_*_max_rel, the
// worst being a 16-wide bias gradient). cusbi sums in another order and its z-score statistics
// are rounded from double rather than summed in float32 (a relative change ~1e-7 of each
// input), so the two can differ by a few times that. 2e-5 leaves room and still fails any real
// defect (a wrong transpose, a missing LayerNorm term or std factor moves elements by O(1)).
constexpr double kRel = 2e-5;
// z-score statistics: torch's float32 mean / unbiased std of 200 rows vs cusbi's double sums
// rounded once; both are within ~1e-6 relative of the exact value.
constexpr double kStatsRel = 1e-5;

ClassifierOptions options_of(const Fixture& f) {
  ClassifierOptions o;
  o.hidden_features = f.integer("hidden_features");
  o.num_blocks = f.integer("num_blocks");
  o.z_score_theta = f.raw("z_score_theta");
  o.z_score_x = f.raw("z_score_x");
  return o;
}

RatioClassifier build_like(const Fixture& f, Device device) {
  const std::string kind = f.raw("kind");
  const Tensor bt = f.at("batch_theta").to(device), bx = f.at("batch_x").to(device);
  Generator gen(1);
  if (kind == "resnet") return build_resnet_classifier(bt, bx, options_of(f), &gen);
  if (kind == "mlp") return build_mlp_classifier(bt, bx, options_of(f), &gen);
  return build_linear_classifier(bt, bx, options_of(f), &gen);
}

// sbi's statistics buffer broadcast to `features` (structured z-scoring stores 0-dim ones).
Tensor broadcast_stat(const Tensor& t, int64_t features) {
  return t.numel() == 1 ? Tensor::full({features}, t.to_vector()[0], Device::cpu()) : t;
}

class ClassifierGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { fixture_ = load_fixture(GetParam()); }
  Fixture fixture_;
};

TEST_P(ClassifierGolden, ParameterNamesShapesAndOrderMatchSbi) {
  const RatioClassifier clf = build_like(fixture_, Device::cpu());
  EXPECT_EQ(clf.kind(), fixture_.raw("kind"));
  EXPECT_EQ(clf.theta_features(), fixture_.integer("theta_features"));
  EXPECT_EQ(clf.x_features(), fixture_.integer("x_features"));
  std::vector<std::string> names;
  int64_t offset = 0;
  for (const auto& e : clf.parameter_set().entries()) {
    names.push_back(e.name);
    ASSERT_TRUE(fixture_.has(e.name)) << "sbi has no parameter " << e.name;
    EXPECT_EQ(e.slot.shape, fixture_.at(e.name).shape()) << e.name;
    EXPECT_EQ(e.slot.offset, offset) << e.name << " is not contiguous after its predecessor";
    offset += e.slot.numel();
  }
  // Same order => the flat buffer is torch.cat of named_parameters().
  EXPECT_EQ(names, fixture_.strings("param_names"));
  EXPECT_EQ(offset, clf.parameters().numel());
}

TEST_P(ClassifierGolden, ZScoreStatisticsMatchSbiBuffers) {
  const RatioClassifier clf = build_like(fixture_, Device::cpu());
  const struct {
    const Standardize& z;
    std::string prefix;
    int64_t features;
  } sides[] = {{clf.theta_zscore(), "embedding_net_theta.0.", clf.theta_features()},
               {clf.x_zscore(), "embedding_net_x.0.", clf.x_features()}};
  for (const auto& s : sides) {
    const bool sbi_has = fixture_.has(s.prefix + "_mean");
    ASSERT_EQ(s.z.mean().defined(), sbi_has) << s.prefix;
    if (!sbi_has) continue;
    EXPECT_TRUE(close_in_scale(
        s.z.mean(), broadcast_stat(fixture_.at(s.prefix + "_mean"), s.features), kStatsRel))
        << s.prefix << "_mean";
    EXPECT_TRUE(close_in_scale(
        s.z.std(), broadcast_stat(fixture_.at(s.prefix + "_std"), s.features), kStatsRel))
        << s.prefix << "_std";
  }
}

// The output bias's gradient is sum(weights): its rounding error scales with sum |weights|, not
// with its own (cancelled) value, so it is compared against that scale.
bool is_output_bias(const std::string& name) {
  return name == "net.bias" || name == "net.final_layer.bias" || name == "net.6.bias";
}

::testing::AssertionResult close_to_sum_scale(const Tensor& actual, const Tensor& expected,
                                              const Tensor& weights, double rel) {
  double scale = 0.0;
  for (float w : weights.to_vector()) scale += std::fabs(double(w));
  const double diff = std::fabs(double(actual.to_vector()[0]) - double(expected.to_vector()[0]));
  if (diff <= rel * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << actual.to_vector()[0] << " vs torch " << expected.to_vector()[0] << "; |diff| " << diff
         << " > " << rel << " x sum|weights| " << scale;
}

void expect_matches_sbi(const Fixture& f, Device device) {
  RatioClassifier clf = build_like(f, device);
  load_by_name(f, clf.parameter_set());
  clf.zero_grad();
  const Tensor logits = clf.forward(f.at("theta").to(device), f.at("x").to(device));
  EXPECT_EQ(logits.device(), device);
  EXPECT_TRUE(close_in_scale(logits, f.at("logits"), kRel)) << "logits";
  Tensor grad_theta;
  clf.backward(f.at("weights").to(device), &grad_theta);
  EXPECT_TRUE(close_in_scale(grad_theta, f.at("grad_theta"), kRel)) << "grad theta";
  for (const auto& e : clf.parameter_set().entries()) {
    const Tensor g = clf.parameter_set().grad(e.slot), expected = f.at("grad." + e.name);
    if (is_output_bias(e.name))
      EXPECT_TRUE(close_to_sum_scale(g, expected, f.at("weights"), kRel)) << "grad of " << e.name;
    else
      EXPECT_TRUE(close_in_scale(g, expected, kRel)) << "grad of " << e.name;
  }
}

TEST_P(ClassifierGolden, LogitsAndGradientsMatchSbi) {
  expect_matches_sbi(fixture_, Device::cpu());
}

// Same comparison on the GPU (cuBLAS in IEEE float32, no TF32): the rounding argument above does
// not depend on the summation order.
TEST_P(ClassifierGolden, LogitsAndGradientsOnTheGpuMatchSbi) {
  CUSBI_REQUIRE_GPU();
  expect_matches_sbi(fixture_, Device::cuda());
}

INSTANTIATE_TEST_SUITE_P(Sbi, ClassifierGolden,
                         ::testing::Values("classifier_resnet_d3_c4",
                                           "classifier_resnet_d2_c5_b150", "classifier_mlp_d3_c4",
                                           "classifier_mlp_d1_c8_b150", "classifier_linear_d3_c4",
                                           "classifier_linear_d2_c3"),
                         [](const auto& info) { return info.param.substr(11); });

}  // namespace
}  // namespace cusbi::golden
