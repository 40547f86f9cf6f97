// NRE's losses and atoms (include/cusbi/nre.hpp): shapes, the tutorial's loss expression, the
// allocation-free out= forms, every misuse error, and atom_rows' layout (sbi's repeat_rows and
// theta[choices]).
#include <cmath>
#include <vector>

#include "cusbi/nre.hpp"
#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

const Device kCpu = Device::cpu();
using testing::contains;
using testing::error_of;
using testing::random_tensor;

TEST(NreLoss, ShapesAndGradientSums) {
  const Tensor f = random_tensor({7, 4}, -3.0f, 3.0f, 1);
  const auto [loss, grad] = nre_b_loss(f);
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_EQ(grad.shape(), (Shape{7, 4}));
  EXPECT_GT(loss.item(), 0.0f);  // a cross-entropy against a proper distribution
  // softmax - onehot sums to 0 per row; each row's column 0 is negative, the others positive.
  const std::vector<float> g = grad.to_vector();
  for (int i = 0; i < 7; ++i) {
    EXPECT_NEAR(g[i * 4] + g[i * 4 + 1] + g[i * 4 + 2] + g[i * 4 + 3], 0.0f, 1e-7f);
    EXPECT_LT(g[i * 4], 0.0f);
  }
  const NreCLoss c = nre_c_loss(random_tensor({3, 6}, -2, 2, 2), random_tensor({3, 5}, -2, 2, 3));
  EXPECT_EQ(c.loss.shape(), Shape{});
  EXPECT_EQ(c.grad_marginal.shape(), (Shape{3, 6}));
  EXPECT_EQ(c.grad_joint.shape(), (Shape{3, 5}));
  EXPECT_EQ(nre_a_loss(random_tensor({10}, -2, 2, 4)).second.shape(), (Shape{10}));
  EXPECT_EQ(bnre_loss(random_tensor({5, 2}, -2, 2, 4)).second.shape(), (Shape{5, 2}));
}

// The tutorial (18_training_interface): loss = -mean(logits[:, 0] - logsumexp(logits, -1)),
// written with cusbi's tensor ops. Both are float32 with double sums: 1e-6 relative.
TEST(NreLoss, TutorialExpressionEqualsNreB) {
  const int64_t b = 50, k = 10;
  const Tensor logits = random_tensor({b, k}, -5.0f, 5.0f, 9);
  const std::vector<float> v = logits.to_vector();
  std::vector<float> first(b);
  for (int64_t i = 0; i < b; ++i) first[i] = v[i * k];
  const Tensor col0 = Tensor::from(first, {b}, kCpu);
  const float tutorial = -mean(col0 - logsumexp(logits, -1), 0).item();
  const float fused = nre_b_loss(logits).first.item();
  EXPECT_NEAR(fused, tutorial, 1e-6 * std::fabs(tutorial));
}

// NRE_A at known logits: all zeros gives log 2, and BNRE's balance term is then 0.
TEST(NreLoss, KnownValues) {
  const Tensor zeros = Tensor::zeros({4, 2}, kCpu);
  EXPECT_NEAR(nre_a_loss(zeros).first.item(), std::log(2.0f), 1e-7f);
  EXPECT_NEAR(bnre_loss(zeros).first.item(), std::log(2.0f), 1e-7f);
  // Joint logits +a and marginal -a: balance sigmoid(a) + sigmoid(-a) - 1 = 0, so BNRE = NRE_A.
  const Tensor sym = Tensor::from({3.0f, -3.0f, 1.0f, -1.0f}, {4}, kCpu);
  EXPECT_NEAR(bnre_loss(sym, 100.0f).first.item(), nre_a_loss(sym).first.item(), 1e-6f);
  // Both logits +2: balance 2 sigmoid(2) - 1 per pair, so BNRE adds lambda times its square.
  const Tensor up = Tensor::full({3, 2}, 2.0f, kCpu);
  const double r = 2.0 / (1.0 + std::exp(-2.0)) - 1.0;
  EXPECT_NEAR(bnre_loss(up, 7.0f).first.item() - nre_a_loss(up).first.item(), 7.0 * r * r, 1e-5);
  // NRE_B with equal logits: log K. Large logits do not overflow.
  EXPECT_NEAR(nre_b_loss(Tensor::full({2, 5}, 80.0f, kCpu)).first.item(), std::log(5.0f), 1e-5f);
  const auto big = nre_a_loss(Tensor::from({100.0f, 100.0f}, {2}, kCpu));
  EXPECT_NEAR(big.first.item(), 50.0f, 1e-4f);  // the marginal pair costs ~100, halved by the mean
  EXPECT_TRUE(std::isfinite(big.second.to_vector()[0]));
}

TEST(NreLoss, OutFormsAllocateNothing) {
  const Tensor f = random_tensor({16, 10}, -3, 3, 5), pairs = random_tensor({16, 2}, -3, 3, 6);
  const Tensor g = random_tensor({16, 11}, -3, 3, 7);
  Tensor loss = Tensor::empty({}, kCpu), grad = Tensor::empty({16, 10}, kCpu);
  Tensor grad_pairs = Tensor::empty({16, 2}, kCpu), grad_m = Tensor::empty({16, 11}, kCpu);
  Tensor idx = Tensor::empty({16, 10}, DType::Int64, kCpu);
  const Tensor theta = random_tensor({16, 3}, -1, 1, 8), x = random_tensor({16, 2}, -1, 1, 9);
  Tensor theta_out = Tensor::empty({160, 3}, kCpu), x_out = Tensor::empty({160, 2}, kCpu);
  Generator gen(1);
  nre_b_loss(f, loss, grad);  // warm-up: nothing is cached, but keep the pattern of the others
  const int64_t before = detail::allocation_count();
  nre_b_loss(f, loss, grad);
  const int64_t mid = detail::allocation_count();
  nre_a_loss(pairs, loss, grad_pairs);
  bnre_loss(pairs, 100.0f, loss, grad_pairs);
  nre_c_loss(g, f, 2.0f, loss, grad_m, grad);
  contrasting_indices(idx, &gen);
  atom_rows(theta, x, idx, theta_out, x_out);
  EXPECT_EQ(before, mid);
  EXPECT_EQ(detail::allocation_count(), mid);
  const auto fresh = nre_c_loss(g, f, 2.0f);  // the out= form computed the same numbers
  EXPECT_EQ(loss.item(), fresh.loss.item());
  EXPECT_EQ(grad.to_vector(), fresh.grad_joint.to_vector());
}

TEST(NreLoss, ErrorsNameTheProblem) {
  const Tensor f = random_tensor({4, 3}, -1, 1, 1);
  EXPECT_TRUE(contains(error_of([] { nre_b_loss(Tensor::zeros({4, 1}, kCpu)); }), "K >= 2"));
  EXPECT_TRUE(contains(error_of([] { nre_b_loss(Tensor::zeros({4}, kCpu)); }), "(B, K)"));
  EXPECT_TRUE(contains(error_of([] { nre_b_loss(Tensor::zeros({0, 3}, kCpu)); }), "empty"));
  EXPECT_TRUE(contains(error_of([] {
                         nre_b_loss(Tensor::zeros({2, 2}, DType::Int64, kCpu));
                       }),
                       "float32"));
  EXPECT_TRUE(contains(error_of([] { nre_a_loss(Tensor::zeros({4, 3}, kCpu)); }), "(B, 2)"));
  EXPECT_TRUE(contains(error_of([] { nre_a_loss(Tensor::zeros({5}, kCpu)); }), "(2B,)"));
  EXPECT_TRUE(contains(error_of([] {
                         bnre_loss(Tensor::zeros({4, 2}, kCpu), -1.0f);
                       }),
                       "regularization_strength"));
  const Tensor m = random_tensor({4, 4}, -1, 1, 2);
  EXPECT_TRUE(contains(error_of([&] { nre_c_loss(m, f, 0.0f); }), "gamma"));
  EXPECT_TRUE(contains(error_of([&] { nre_c_loss(f, f); }), "(B, K + 1)"));
  EXPECT_TRUE(contains(error_of([] {
                         nre_c_loss(Tensor::zeros({4, 2}, kCpu), Tensor::zeros({4, 1}, kCpu));
                       }),
                       "num_classes >= 2"));
  Tensor loss = Tensor::empty({}, kCpu), wrong = Tensor::empty({4, 4}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { nre_b_loss(f, loss, wrong); }), "out has shape"));
  Tensor same = f;
  EXPECT_TRUE(contains(error_of([&] { nre_b_loss(f, loss, same); }), "overlaps"));
  EXPECT_TRUE(contains(error_of([] { contrasting_indices(5, 1, kCpu); }), "num_atoms"));
  EXPECT_TRUE(contains(error_of([] { contrasting_indices(5, 6, kCpu); }), "num_atoms"));
  Tensor float_idx = Tensor::empty({5, 2}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { contrasting_indices(float_idx); }), "int64"));
  const Tensor theta = Tensor::zeros({5, 2}, kCpu), x = Tensor::zeros({5, 3}, kCpu);
  const Tensor idx = contrasting_indices(5, 3, kCpu);
  Tensor to = Tensor::empty({15, 2}, kCpu), xo = Tensor::empty({15, 3}, kCpu);
  EXPECT_TRUE(contains(error_of([&] {
                         atom_rows(theta, Tensor::zeros({4, 3}, kCpu), idx, to, xo);
                       }),
                       "same B"));
  EXPECT_TRUE(
      contains(error_of([&] { atom_rows(theta, x, idx.reshape({15}), to, xo); }), "int64 (5, K)"));
  EXPECT_TRUE(contains(error_of([&] { atom_rows(theta, x, idx, xo, to); }), "out has shape"));
}

TEST(NreAtoms, RowsFollowSbisLayout) {
  const int64_t b = 6, k = 4;
  const Tensor theta = random_tensor({b, 2}, -1, 1, 11), x = random_tensor({b, 3}, -1, 1, 12);
  Generator gen(5);
  const Tensor idx = contrasting_indices(b, k, kCpu, &gen);
  EXPECT_EQ(gen.offset(), uint64_t(k - 1));  // K - 1 counters per draw
  EXPECT_EQ(idx.dtype(), DType::Int64);
  Tensor theta_out = Tensor::empty({b * k, 2}, kCpu), x_out = Tensor::empty({b * k, 3}, kCpu);
  atom_rows(theta, x, idx, theta_out, x_out);
  const auto iv = idx.to_vector_as<int64_t>();
  const auto tv = theta.to_vector(), xv = x.to_vector();
  const auto to = theta_out.to_vector(), xo = x_out.to_vector();
  for (int64_t i = 0; i < b; ++i)
    for (int64_t c = 0; c < k; ++c) {
      const int64_t r = i * k + c;
      for (int d = 0; d < 2; ++d) EXPECT_EQ(to[r * 2 + d], tv[iv[r] * 2 + d]);
      for (int d = 0; d < 3; ++d) EXPECT_EQ(xo[r * 3 + d], xv[i * 3 + d]);
    }
  // The same generator state gives the same draw; the next draw differs.
  Generator again(5);
  EXPECT_EQ(contrasting_indices(b, k, kCpu, &again).to_vector_as<int64_t>(), iv);
  EXPECT_NE(contrasting_indices(b, k, kCpu, &again).to_vector_as<int64_t>(), iv);
}

}  // namespace
}  // namespace cusbi
