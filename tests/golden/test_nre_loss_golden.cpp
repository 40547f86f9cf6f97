// cusbi's NRE losses against sbi 0.27.0's own trainer code (NRE_A, BNRE, NRE_B, NRE_C `_loss`
// with a stub classifier returning fixed logits; tools/make_nre_loss_fixtures.py): the loss and
// torch autograd's d loss / d logits, computed by sbi in float64. cusbi computes each row in
// float32 (sums in double), so the comparison tolerances are float rounding of the row terms.
#include <cmath>
#include <string>

#include "cusbi/nre.hpp"
#include "golden/golden_support.hpp"

namespace cusbi::golden {
namespace {

// Loss: each row term is a logsumexp minus a logit, rounded in float32 at the scale of the
// largest logit (|f| <= ~25 in the fixtures, ulp 2e-6), a few operations deep; the mean over
// rows does not grow that. 1e-5 absolute + 2e-6 relative holds them with margin, while a wrong
// constant (log K, a class weight, lambda) or a wrong mean moves the loss by > 1e-3.
constexpr double kLossAtol = 1e-5, kLossRtol = 2e-6;
// Gradients: softmax / sigmoid probabilities in float32 (relative error a few ulp, ~5e-7 of
// the largest probability) times 1/B; checked relative to the largest gradient entry.
constexpr double kGradRel = 5e-6;

std::vector<std::string> cases(const Fixture& f) { return f.strings("cases"); }

TEST(NreLossGolden, MatchesSbiTrainers) {
  const Fixture f = load_fixture("nre_losses");
  int checked = 0;
  for (const std::string& name : cases(f)) {
    SCOPED_TRACE(name);
    const std::string kind = f.raw(name + ".kind");
    const float expected_loss = f.at(name + ".loss").item();
    if (kind == "nre_c") {
      const std::string args = f.raw(name + ".args");  // {"gamma": g}
      const float gamma = std::stof(args.substr(args.find(':') + 1));
      const NreCLoss r =
          nre_c_loss(f.at(name + ".marginal_logits"), f.at(name + ".joint_logits"), gamma);
      EXPECT_NEAR(r.loss.item(), expected_loss, kLossAtol + kLossRtol * std::fabs(expected_loss));
      EXPECT_TRUE(testing::close_scaled(r.grad_marginal, f.at(name + ".grad_marginal"), kGradRel));
      EXPECT_TRUE(testing::close_scaled(r.grad_joint, f.at(name + ".grad_joint"), kGradRel));
    } else {
      const Tensor& logits = f.at(name + ".logits");
      std::pair<Tensor, Tensor> r;
      if (kind == "nre_b") {
        r = nre_b_loss(logits);
      } else if (kind == "nre_a") {
        r = nre_a_loss(logits);
      } else {
        ASSERT_EQ(kind, "bnre");
        const std::string args = f.raw(name + ".args");  // {"regularization_strength": l}
        r = bnre_loss(logits, std::stof(args.substr(args.find(':') + 1)));
      }
      EXPECT_NEAR(r.first.item(), expected_loss, kLossAtol + kLossRtol * std::fabs(expected_loss));
      EXPECT_TRUE(testing::close_scaled(r.second, f.at(name + ".grad"), kGradRel));
      // The flat (2B,) layout of NRE_A/BNRE gives the same numbers as (B, 2).
      if (kind != "nre_b") {
        const Tensor flat = logits.reshape({logits.numel()});
        const auto rf = kind == "nre_a" ? nre_a_loss(flat) : bnre_loss(flat, 0.0f);
        const auto r2 = kind == "nre_a" ? nre_a_loss(logits) : bnre_loss(logits, 0.0f);
        EXPECT_EQ(rf.first.item(), r2.first.item());
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 10);  // every case of the fixture script ran
}

}  // namespace
}  // namespace cusbi::golden
