// The C2ST classifier's loss terms (host/cpu/c2st.cpp, the math of kernels/c2st.h) in double:
// gradients against central differences of the accumulated loss, the loss against the direct
// formula, and the lane/tree sum against a plain sum.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/cpu/c2st.hpp"

namespace cusbi {
namespace {

double bce_sum(const std::vector<double>& z, const std::vector<double>& y, double loss_scale) {
  std::vector<double> grad(z.size());
  double acc = 0.0;
  cpu::c2st_bce_loss(z.data(), y.data(), static_cast<int64_t>(z.size()), 1.0, loss_scale,
                     grad.data(), &acc);
  return acc;
}

TEST(C2stLoss, BceValueAndGradient) {
  // 300 rows: more than the 256 lanes, so some lanes add two rows. Logits up to +-30 reach the
  // range where sigmoid saturates in float and the logit form stays finite.
  const int64_t n = 300;
  std::vector<double> z(n), y(n);
  for (int64_t i = 0; i < n; ++i) {
    z[i] = 30.0 * std::sin(0.37 * static_cast<double>(i));
    y[i] = static_cast<double>(i % 3 == 0);
  }
  const double scale = 1.0 / 7.0;
  std::vector<double> grad(n);
  double acc = 0.5;  // accumulates onto what is there
  cpu::c2st_bce_loss(z.data(), y.data(), n, 1.0 / n, scale, grad.data(), &acc);
  double direct = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    // -log sigmoid(z) = log(1 + e^-z) and -log(1 - sigmoid(z)) = log(1 + e^z), written
    // without forming 1 - p (which would lose every digit near p = 1).
    direct += y[i] > 0.5 ? std::log1p(std::exp(-z[i])) : std::log1p(std::exp(z[i]));
  }
  // Relative 1e-12: both sides are accurate to a few double ulp per row; the sum order differs.
  EXPECT_NEAR(acc, 0.5 + scale * direct, 1e-12 * direct);
  const double h = 1e-6;
  for (int64_t i : {0, 1, 5, 150, 299}) {
    std::vector<double> up = z, down = z;
    up[i] += h;
    down[i] -= h;
    const double fd = (bce_sum(up, y, 1.0 / n) - bce_sum(down, y, 1.0 / n)) / (2 * h);
    // Central differences in double: truncation h^2 ~ 1e-12, cancellation ~1e-16 / 1e-6.
    EXPECT_NEAR(grad[i], fd, 1e-8) << "row " << i;
  }
}

TEST(C2stLoss, L2PenaltyAddsToGradientAndLoss) {
  const int64_t n = 1000;
  std::vector<double> w(n), grad(n, 0.25);
  double squares = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    w[i] = std::cos(1.3 * static_cast<double>(i));
    squares += w[i] * w[i];
  }
  double acc = 0.0;
  cpu::c2st_l2_penalty(w.data(), n, 0.01, 0.5, grad.data(), &acc);
  EXPECT_NEAR(acc, 0.5 * squares, 1e-12 * squares);  // sum order only
  for (int64_t i = 0; i < n; ++i) ASSERT_DOUBLE_EQ(grad[i], 0.25 + 0.01 * w[i]);
}

}  // namespace
}  // namespace cusbi
