// RatioClassifier (include/cusbi/classifiers.hpp): shapes and names of the three trunks, the
// z-scoring rules (modes, NaN rows, a single row), theta-first concatenation, error messages,
// gradient accumulation, clone independence, device moves, and allocation-free forward and
// backward at a fixed batch.
#include <cmath>
#include <vector>

#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::error_of;
using testing::random_tensor;
const Device kCpu = Device::cpu();

RatioClassifier build(const std::string& kind, const Tensor& bt, const Tensor& bx,
                      const ClassifierOptions& o = {}, uint64_t seed = 1) {
  Generator gen(seed);
  if (kind == "resnet") return build_resnet_classifier(bt, bx, o, &gen);
  if (kind == "mlp") return build_mlp_classifier(bt, bx, o, &gen);
  return build_linear_classifier(bt, bx, o, &gen);
}

struct Data {
  Tensor bt = random_tensor({50, 3}, -2.0f, 4.0f, 1);
  Tensor bx = random_tensor({50, 4}, 1.0f, 9.0f, 2);
  Tensor theta = random_tensor({9, 3}, -2.0f, 4.0f, 3);
  Tensor x = random_tensor({9, 4}, 1.0f, 9.0f, 4);
};

class Kinds : public ::testing::TestWithParam<std::string> {};

TEST_P(Kinds, ShapesNamesAndOutputs) {
  Data d;
  RatioClassifier clf = build(GetParam(), d.bt, d.bx);
  EXPECT_EQ(clf.kind(), GetParam());
  EXPECT_EQ(clf.theta_features(), 3);
  EXPECT_EQ(clf.x_features(), 4);
  EXPECT_EQ(clf.device(), kCpu);
  // Parameter counts of sbi's builders for D + C = 7, hidden 50.
  const int64_t expected = GetParam() == "resnet" ? 7 * 50 + 50 + 4 * (50 * 50 + 50) + 50 + 1
                           : GetParam() == "mlp" ? 7 * 50 + 50 + 2 * 50 + 50 * 50 + 50 + 2 * 50 + 51
                                                 : 7 + 1;
  EXPECT_EQ(clf.parameters().numel(), expected);
  EXPECT_EQ(clf.gradients().numel(), expected);
  for (const auto& e : clf.parameter_set().entries())
    EXPECT_EQ(e.name.rfind("net", 0), 0u) << e.name << ": sbi's names start with net";
  const Tensor logits = clf.forward(d.theta, d.x);
  EXPECT_EQ(logits.shape(), Shape({9}));
  Tensor grad_theta;
  clf.backward(Tensor::ones({9}, kCpu), &grad_theta);
  EXPECT_EQ(grad_theta.shape(), Shape({9, 3}));
  for (float v : logits.to_vector()) EXPECT_TRUE(std::isfinite(v));
  for (float v : grad_theta.to_vector()) EXPECT_TRUE(std::isfinite(v));
  // A zero-row batch.
  const Tensor none = clf.forward(Tensor::empty({0, 3}, kCpu), Tensor::empty({0, 4}, kCpu));
  EXPECT_EQ(none.shape(), Shape({0}));
  clf.backward(Tensor::empty({0}, kCpu), &grad_theta);
  EXPECT_EQ(grad_theta.shape(), Shape({0, 3}));
}

TEST_P(Kinds, OutForwardEqualsAllocatingAndGradientsAccumulate) {
  Data d;
  RatioClassifier clf = build(GetParam(), d.bt, d.bx);
  const Tensor a = clf.forward(d.theta, d.x);
  Tensor out = Tensor::empty({9}, kCpu);
  clf.forward(d.theta, d.x, out);
  EXPECT_EQ(a.to_vector(), out.to_vector());
  const Tensor w = random_tensor({9}, -1.0f, 1.0f, 5);
  clf.zero_grad();
  clf.backward(w);
  const std::vector<float> once = clf.gradients().to_vector();
  clf.forward(d.theta, d.x, out);
  clf.backward(w);
  const std::vector<float> twice = clf.gradients().to_vector();
  for (size_t i = 0; i < once.size(); ++i)
    EXPECT_NEAR(twice[i], 2 * once[i], 1e-6f * (1 + std::fabs(once[i]))) << i;
}

TEST_P(Kinds, SameSeedSameParametersAndCloneIsIndependent) {
  Data d;
  RatioClassifier a = build(GetParam(), d.bt, d.bx, {}, 7);
  RatioClassifier b = build(GetParam(), d.bt, d.bx, {}, 7);
  EXPECT_EQ(a.parameters().to_vector(), b.parameters().to_vector());
  RatioClassifier c = a.clone();
  const std::vector<float> before = a.forward(d.theta, d.x).to_vector();
  EXPECT_EQ(c.forward(d.theta, d.x).to_vector(), before);
  a.parameters().fill_(0.25f);  // the clone keeps its own copy
  EXPECT_EQ(c.forward(d.theta, d.x).to_vector(), before);
  c.zero_grad();
  a.forward(d.theta, d.x);
  a.backward(Tensor::ones({9}, kCpu));
  for (float g : c.gradients().to_vector()) EXPECT_EQ(g, 0.0f);
  // Copies of the handle share everything.
  RatioClassifier shared = a;
  EXPECT_TRUE(shared.parameters().shares_memory_with(a.parameters()));
}

TEST_P(Kinds, ForwardAndBackwardAtAFixedBatchAllocateNothing) {
  // 200 rows run as two CPU row parts (gradient partials) and exercise every workspace.
  const Tensor bt = random_tensor({200, 3}, -1.0f, 1.0f, 8), bx = random_tensor({200, 4}, 0, 1, 9);
  RatioClassifier clf = build(GetParam(), bt, bx);
  Tensor logits = Tensor::empty({200}, kCpu);
  const Tensor w = Tensor::ones({200}, kCpu);
  Tensor grad_theta;
  auto step = [&] {
    const int64_t before = detail::allocation_count();
    clf.forward(bt, bx, logits);
    clf.backward(w, &grad_theta);
    return detail::allocation_count() - before;
  };
  step();  // sizes the workspaces
  EXPECT_EQ(step(), 0);
  EXPECT_EQ(step(), 0);
}

INSTANTIATE_TEST_SUITE_P(Classifiers, Kinds, ::testing::Values("resnet", "mlp", "linear"));

// With z-scoring off and the linear trunk, a logit is w . [theta, x] + b: theta comes first.
TEST(Classifiers, ConcatenatesThetaFirst) {
  Data d;
  ClassifierOptions o;
  o.z_score_theta = o.z_score_x = "none";
  RatioClassifier clf = build("linear", d.bt, d.bx, o);
  EXPECT_FALSE(clf.theta_zscore().mean().defined());
  const std::vector<float> w =
      clf.parameter_set().value(clf.parameter_set().entry("net.weight").slot).to_vector();
  const float b =
      clf.parameter_set().value(clf.parameter_set().entry("net.bias").slot).to_vector()[0];
  const std::vector<float> t = d.theta.to_vector(), x = d.x.to_vector();
  const std::vector<float> logits = clf.forward(d.theta, d.x).to_vector();
  for (int64_t i = 0; i < 9; ++i) {
    double expect = b;
    for (int64_t j = 0; j < 3; ++j) expect += double(w[j]) * t[i * 3 + j];
    for (int64_t j = 0; j < 4; ++j) expect += double(w[3 + j]) * x[i * 4 + j];
    EXPECT_NEAR(logits[i], expect, 1e-5 * (1 + std::fabs(expect))) << i;  // float rounding
  }
  // d logit / d theta = w[:3] (no z-scoring).
  Tensor g;
  clf.backward(Tensor::ones({9}, kCpu), &g);
  const std::vector<float> gv = g.to_vector();
  for (int64_t i = 0; i < 9; ++i)
    for (int64_t j = 0; j < 3; ++j) EXPECT_FLOAT_EQ(gv[i * 3 + j], w[j]);
}

TEST(Classifiers, ZScoringFollowsSbi) {
  Data d;
  RatioClassifier ind = build("mlp", d.bt, d.bx);
  const Standardize ref = Standardize::fit(d.bt, 1e-7f);
  EXPECT_EQ(ind.theta_zscore().mean().to_vector(), ref.mean().to_vector());
  EXPECT_EQ(ind.theta_zscore().std().to_vector(), ref.std().to_vector());
  // Structured: one mean and one std for every feature.
  ClassifierOptions o;
  o.z_score_x = "structured";
  RatioClassifier st = build("mlp", d.bt, d.bx, o);
  const std::vector<float> m = st.x_zscore().mean().to_vector();
  for (float v : m) EXPECT_EQ(v, m[0]);
  // Rows with NaN or inf take no part (sbi's handle_invalid_x).
  std::vector<float> with_nan = d.bt.to_vector();
  with_nan.insert(with_nan.end(), {NAN, 1.0f, 2.0f});
  const Tensor bt_nan = Tensor::from(with_nan, {51, 3}, kCpu);
  const Tensor bx51 = random_tensor({51, 4}, 1.0f, 9.0f, 2);
  RatioClassifier skip = build("linear", bt_nan, bx51);
  EXPECT_EQ(skip.theta_zscore().mean().to_vector(), ref.mean().to_vector());
  // A single row keeps std 1 (and says so), as sbi's standardizing_net.
  testing::CaptureWarnings warnings;
  RatioClassifier one = build("linear", d.bt.slice_rows(0, 1), d.bx.slice_rows(0, 1));
  EXPECT_EQ(one.theta_zscore().std().to_vector(), std::vector<float>(3, 1.0f));
  EXPECT_EQ(one.theta_zscore().mean().to_vector(), d.bt.slice_rows(0, 1).to_vector());
  EXPECT_EQ(warnings.messages.size(), 2u);
}

TEST(Classifiers, ErrorsNameTheProblem) {
  Data d;
  ClassifierOptions bad;
  bad.z_score_theta = "indepndent";
  EXPECT_NE(error_of([&] { build("resnet", d.bt, d.bx, bad); }).find("unknown z_score_theta"),
            std::string::npos);
  bad.z_score_theta = "transform_to_unconstrained";
  EXPECT_NE(error_of([&] { build("mlp", d.bt, d.bx, bad); }).find("not supported"),
            std::string::npos);
  ClassifierOptions drop;
  drop.dropout_probability = 0.1f;
  EXPECT_NE(error_of([&] { build("resnet", d.bt, d.bx, drop); }).find("dropout"),
            std::string::npos);
  ClassifierOptions bn;
  bn.use_batch_norm = true;
  EXPECT_NE(error_of([&] { build("resnet", d.bt, d.bx, bn); }).find("use_batch_norm"),
            std::string::npos);
  ClassifierOptions st;
  st.z_score_theta = "structured";
  EXPECT_NE(error_of([&] {
              build("linear", d.bt.slice_rows(0, 50).reshape({150, 1}),
                    random_tensor({150, 4}, 0, 1, 1), st);
            }).find("at least 2 features"),
            std::string::npos);
  // Every row non-finite: no statistics.
  const Tensor all_nan = Tensor::full({5, 3}, NAN, kCpu);
  EXPECT_NE(error_of([&] { build("mlp", all_nan, d.bx.slice_rows(0, 5)); }).find("z-score theta"),
            std::string::npos);
  ClassifierOptions none;
  none.z_score_theta = "none";
  EXPECT_NO_THROW(build("mlp", all_nan, d.bx.slice_rows(0, 5), none));  // nothing to fit
  EXPECT_NE(error_of([&] {
              build("linear", Tensor::empty({0, 3}, kCpu), d.bx);
            }).find("N >= 1"),
            std::string::npos);

  RatioClassifier clf = build("mlp", d.bt, d.bx);
  EXPECT_NE(error_of([&] { clf.backward(Tensor::ones({9}, kCpu)); }).find("call forward first"),
            std::string::npos);
  EXPECT_NE(error_of([&] { clf.forward(d.x, d.x); }).find("theta has shape"), std::string::npos);
  EXPECT_NE(error_of([&] { clf.forward(d.theta, d.theta); }).find("x has shape"),
            std::string::npos);
  EXPECT_NE(error_of([&] { clf.forward(d.theta, d.x.slice_rows(0, 4)); }).find("one x row"),
            std::string::npos);
  Tensor wrong = Tensor::empty({8}, kCpu);
  EXPECT_NE(error_of([&] { clf.forward(d.theta, d.x, wrong); }).find("logits has shape"),
            std::string::npos);
  clf.forward(d.theta, d.x);
  EXPECT_NE(error_of([&] { clf.backward(Tensor::ones({8}, kCpu)); }).find("grad_logits"),
            std::string::npos);
  clf.to(kCpu);  // a move drops what backward needs
  EXPECT_NE(error_of([&] { clf.backward(Tensor::ones({9}, kCpu)); }).find("call forward first"),
            std::string::npos);
}

// NaN in a forward's inputs propagates to that row's logit only (no check on the hot path).
TEST(Classifiers, NanInputRowGivesNanLogitOnlyThere) {
  Data d;
  RatioClassifier clf = build("resnet", d.bt, d.bx);
  std::vector<float> t = d.theta.to_vector();
  t[3] = NAN;  // row 1
  const std::vector<float> logits = clf.forward(Tensor::from(t, {9, 3}, kCpu), d.x).to_vector();
  for (int64_t i = 0; i < 9; ++i) EXPECT_EQ(std::isnan(logits[i]), i == 1) << i;
}

}  // namespace
}  // namespace cusbi
