// The flow's gradient with respect to its condition through the public API (NLE's potential
// differentiates log q(x | theta) with respect to theta, the condition). The math is
// gradchecked in double in tests/gradcheck/test_nsf_gradcheck.cpp; here: the CPU row parts give
// every row its own gradient whatever the batch around it, a broadcast condition row gets one
// gradient row per use, and asking for it changes nothing else.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cusbi/flows.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

NeuralSplineFlow make_flow(int64_t D, int64_t C, Generator& g) {
  const Tensor theta = randn({64, D}, Device::cpu(), &g);
  const Tensor x = randn({64, C}, Device::cpu(), &g) * 2.0f + 1.0f;
  NsfOptions o;
  o.hidden_features = 16;
  o.num_transforms = 3;
  NeuralSplineFlow flow = build_nsf(theta, x, o, &g);
  // Move off nflows' near-identity initialisation so every coupling's conditioner matters.
  Tensor p = flow.parameters();
  p.copy_(p + uniform(p.shape(), -0.2f, 0.2f, Device::cpu(), &g));
  return flow;
}

TEST(NsfConditionGrad, EachRowIndependentOfTheBatchAroundIt) {
  Generator g(11);
  NeuralSplineFlow flow = make_flow(3, 4, g);
  const int64_t B = 300;  // several CPU row parts
  const Tensor in = randn({B, 3}, Device::cpu(), &g);
  const Tensor cond = randn({B, 4}, Device::cpu(), &g) * 2.0f + 1.0f;
  const Tensor w = uniform({B}, 0.5f, 1.5f, Device::cpu(), &g);
  flow.loss(in, cond);
  Tensor gc;
  flow.backward(w, nullptr, &gc);
  ASSERT_EQ(gc.shape(), Shape({B, 4}));
  const std::vector<float> all = gc.to_vector();
  for (int64_t r : {int64_t(0), int64_t(77), int64_t(150), B - 1}) {
    flow.loss(in.slice_rows(r, r + 1), cond.slice_rows(r, r + 1));
    Tensor one;
    flow.backward(w.slice_rows(r, r + 1), nullptr, &one);
    const std::vector<float> v = one.to_vector();
    // One row alone runs the same float math as inside a part except for GEMM blocking over
    // the batch, which may move the last bits: 1e-5 relative to the row's largest entry.
    double scale = 0.0;
    for (float e : v) scale = std::max(scale, double(std::fabs(e)));
    for (int64_t c = 0; c < 4; ++c)
      EXPECT_NEAR(all[size_t(r * 4 + c)], v[size_t(c)], 1e-5 * (1.0 + scale))
          << "row " << r << " column " << c;
  }
}

TEST(NsfConditionGrad, BroadcastConditionGivesOneRowPerUse) {
  Generator g(12);
  NeuralSplineFlow flow = make_flow(2, 3, g);
  const int64_t B = 9;
  const Tensor in = randn({B, 2}, Device::cpu(), &g);
  const Tensor row = randn({1, 3}, Device::cpu(), &g);
  const Tensor w = Tensor::ones({B}, Device::cpu());
  flow.loss(in, row);
  Tensor broadcast;
  flow.backward(w, nullptr, &broadcast);
  const std::vector<float> b = broadcast.to_vector();
  std::vector<float> rows;
  for (int64_t i = 0; i < B; ++i) {
    const std::vector<float> r = row.to_vector();
    rows.insert(rows.end(), r.begin(), r.end());
  }
  flow.loss(in, Tensor::from(rows, {B, 3}, Device::cpu()));
  Tensor expanded;
  flow.backward(w, nullptr, &expanded);
  ASSERT_EQ(broadcast.shape(), Shape({B, 3}));
  // The same rows through the same program: only the row gather differs, so the same bits.
  EXPECT_EQ(b, expanded.to_vector());
}

TEST(NsfConditionGrad, AskingForItChangesNoOtherGradient) {
  Generator g(13);
  NeuralSplineFlow flow = make_flow(2, 2, g);
  const Tensor in = randn({40, 2}, Device::cpu(), &g);
  const Tensor cond = randn({40, 2}, Device::cpu(), &g);
  const Tensor w = uniform({40}, 0.5f, 1.5f, Device::cpu(), &g);
  flow.zero_grad();
  flow.loss(in, cond);
  Tensor gi_plain;
  flow.backward(w, &gi_plain);
  const std::vector<float> params_plain = flow.gradients().to_vector();
  const std::vector<float> input_plain = gi_plain.to_vector();
  flow.zero_grad();
  flow.loss(in, cond);
  Tensor gi, gc;
  flow.backward(w, &gi, &gc);
  EXPECT_EQ(flow.gradients().to_vector(), params_plain);
  EXPECT_EQ(gi.to_vector(), input_plain);
  EXPECT_EQ(gc.shape(), Shape({40, 2}));
}

TEST(NsfConditionGrad, LossTakesLogProbsShapes) {
  Generator g(14);
  NeuralSplineFlow flow = make_flow(2, 3, g);
  const Tensor in = randn({4, 1, 2}, Device::cpu(), &g);  // 4 trials, broadcast over the batch
  const Tensor cond = randn({5, 3}, Device::cpu(), &g);   // 5 conditions
  const Tensor loss = flow.loss(in, cond);
  ASSERT_EQ(loss.shape(), Shape({4, 5}));
  const std::vector<float> l = loss.to_vector(), lp = flow.log_prob(in, cond).to_vector();
  // The training and the inference programs run the same float math on the CPU, except that
  // inference works in blocks and may block its GEMMs differently: 1e-6 relative.
  for (size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(l[i], -lp[i], 1e-6 * (1.0 + std::fabs(lp[i])));
  Tensor gc;
  flow.backward(Tensor::ones({4, 5}, Device::cpu()), nullptr, &gc);  // the loss's own shape
  EXPECT_EQ(gc.shape(), Shape({20, 3}));
  flow.loss(in, cond);
  Tensor flat;
  flow.backward(Tensor::ones({20}, Device::cpu()), nullptr, &flat);  // or flattened
  EXPECT_EQ(flat.to_vector(), gc.to_vector());
  EXPECT_TRUE(testing::contains(testing::error_of([&] {
                                  flow.backward(Tensor::ones({5, 4}, Device::cpu()));
                                }),
                                "(4, 5)"));
}

}  // namespace
}  // namespace cusbi
