// The NRE trainers over the shared loop: defaults, sbi's num_atoms clamp, the invalid-row
// policy, the variants' losses going down, determinism, build_posterior and the ratio
// potential's gradient (finite differences).
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::CaptureWarnings;
using testing::error_of;

const Device kCpu = Device::cpu();

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The tutorial's problem: BoxUniform(-3, 3)^2, x = theta + 0.1 noise.
std::pair<Tensor, Tensor> simulations(int64_t n, uint64_t seed) {
  Generator g(seed);
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  Tensor theta = prior.sample({n}, &g);
  Tensor x = theta + 0.1f * randn_like(theta, &g);
  return {theta, x};
}

TrainOptions quick(Generator& g, int64_t epochs) {
  TrainOptions t;
  t.max_num_epochs = epochs;
  t.show_progress = false;
  t.generator = &g;
  return t;
}

TEST(NreTrainer, DefaultsAreSbis) {
  const NreOptions o;
  EXPECT_EQ(o.variant, NreVariant::B);
  EXPECT_EQ(o.num_atoms, 10);
  EXPECT_EQ(o.num_classes, 5);
  EXPECT_EQ(o.gamma, 1.0f);
  EXPECT_EQ(o.regularization_strength, 100.0f);
  EXPECT_EQ(o.classifier, "resnet");
  EXPECT_EQ(o.classifier_options.hidden_features, 50);
}

TEST(NreTrainer, ClampsNumAtomsToTheBatchesAsSbi) {
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  auto [theta, x] = simulations(60, 1);  // 54 training rows, 6 validation rows
  Generator g(2);
  NRE nre(prior, NreOptions{.num_atoms = 10}, kCpu);
  nre.append_simulations(theta, x);
  CaptureWarnings warnings;
  nre.train(quick(g, 1));
  EXPECT_EQ(nre.num_atoms(), 6);  // min(batch 54, validation batch 6)
  ASSERT_FALSE(warnings.messages.empty());
  EXPECT_TRUE(contains(warnings.messages.front(), "num_atoms"));
}

TEST(NreTrainer, InvalidRowsRaiseUnlessExcluded) {
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  Tensor theta, x;
  std::tie(theta, x) = simulations(20, 3);
  std::vector<float> xv = x.to_vector();
  xv[3] = NAN;
  const Tensor bad = Tensor::from(xv, x.shape(), kCpu);
  NRE nre(prior, kCpu);
  EXPECT_TRUE(contains(error_of([&] { nre.append_simulations(theta, bad); }), "invalid"));
  CaptureWarnings warnings;
  nre.append_simulations(theta, bad, /*exclude_invalid_x=*/true);
  EXPECT_EQ(nre.num_simulations(), 19);
}

TEST(NreTrainer, EveryVariantLearnsAndIsDeterministic) {
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  Tensor theta, x;
  std::tie(theta, x) = simulations(400, 4);
  for (const NreVariant variant : {NreVariant::A, NreVariant::B, NreVariant::C, NreVariant::BNRE}) {
    auto run = [&](uint64_t seed) {
      Generator g(seed);
      NRE nre(prior, NreOptions{.variant = variant}, kCpu);
      nre.append_simulations(theta, x);
      nre.train(quick(g, 6));
      return nre.summary();
    };
    const TrainingSummary a = run(5), b = run(5), c = run(6);
    ASSERT_EQ(a.validation_loss.size(), 7u);  // max_num_epochs + 1, as sbi
    // The classifier learns the pairing: the validation loss falls over the epochs.
    EXPECT_LT(a.validation_loss.back(), a.validation_loss.front()) << int(variant);
    EXPECT_EQ(a.validation_loss, b.validation_loss) << int(variant);
    EXPECT_NE(a.validation_loss, c.validation_loss) << int(variant);
  }
}

TEST(NreTrainer, ErrorsNameTheProblem) {
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { NRE(prior, NreOptions{.num_atoms = 1}, kCpu); }), "num_atoms"));
  EXPECT_TRUE(
      contains(error_of([&] { NRE(prior, NreOptions{.classifier = "mlp2"}, kCpu); }), "mlp2"));
  NRE nre(prior, kCpu);
  EXPECT_TRUE(contains(error_of([&] { nre.build_posterior(); }), "train()"));
  EXPECT_TRUE(contains(error_of([&] { nre.classifier(); }), "train()"));
}

// The ratio potential's gradient against central differences of its value (float potential:
// step 1e-2 balances truncation (~h^2 f''') against rounding (~1e-6 |f| / h); tolerance 2e-2).
TEST(NreTrainer, RatioPotentialGradientMatchesDifferences) {
  BoxUniform prior(-3.0f, 3.0f, 2, kCpu);
  auto [theta, x] = simulations(300, 7);
  Generator g(8);
  NRE nre(prior, kCpu);
  nre.append_simulations(theta, x);
  RatioClassifier& net = nre.train(quick(g, 3));
  const Tensor x_o = Tensor::from({0.5f, -1.0f, 0.4f, -0.9f}, {2, 2}, kCpu);  // 2 iid trials
  auto [potential, tf] = ratio_estimator_based_potential(net, prior, x_o);
  const Tensor at = Tensor::from({0.3f, -0.7f, 1.2f, 0.1f, -2.0f, 2.5f}, {3, 2}, kCpu);
  Tensor value = Tensor::empty({3}, kCpu), grad = Tensor::empty({3, 2}, kCpu);
  potential->evaluate_with_gradient(at, value, grad);
  const std::vector<float> g_an = grad.to_vector(), base = at.to_vector();
  const float h = 1e-2f;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t d = 0; d < 2; ++d) {
      std::vector<float> up = base, down = base;
      up[i * 2 + d] += h;
      down[i * 2 + d] -= h;
      const float fu = (*potential)(Tensor::from(up, {3, 2}, kCpu)).to_vector()[i];
      const float fd = (*potential)(Tensor::from(down, {3, 2}, kCpu)).to_vector()[i];
      EXPECT_NEAR(g_an[i * 2 + d], (fu - fd) / (2 * h), 2e-2f) << i << "," << d;
    }
  // And the value: sum over trials of the logits plus log prior.
  const Tensor logits = net.forward(Tensor::from({0.3f, -0.7f, 0.3f, -0.7f}, {2, 2}, kCpu), x_o);
  const float expected = logits.to_vector()[0] + logits.to_vector()[1] - 2 * std::log(6.0f);
  EXPECT_NEAR(value.to_vector()[0], expected, 1e-4f);
}

}  // namespace
}  // namespace cusbi
