// Standardize.fit against hand computations of sbi's rules (spec npe.md §1.3): invalid rows
// excluded, unbiased std, min_std floor, structured mode; and the forward/inverse/backward maps.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

TEST(Standardize, FitExcludesInvalidRowsAndUsesUnbiasedStd) {
  // Rows 1 (NaN) and 3 (inf) must not count; the others are (1, 10), (2, 10), (6, 10).
  const Tensor data = Tensor::from({1, 10, kNaN, 0, 2, 10, 5, -kInf, 6, 10}, {5, 2}, Device::cpu());
  const Standardize z = Standardize::fit(data, 1e-7f);
  // mean_0 = 3, std_0 = sqrt(((1-3)^2 + (2-3)^2 + (6-3)^2) / 2) = sqrt(7); column 1 is
  // constant, so its std 0 is raised to min_std.
  const std::vector<float> mean = z.mean().to_vector(), std = z.std().to_vector();
  EXPECT_FLOAT_EQ(mean[0], 3.0f);
  EXPECT_FLOAT_EQ(mean[1], 10.0f);
  EXPECT_FLOAT_EQ(std[0], std::sqrt(7.0f));
  EXPECT_FLOAT_EQ(std[1], 1e-7f);
  EXPECT_FLOAT_EQ(z.log_abs_det(), -(std::log(std::sqrt(7.0)) + std::log(1e-7)));
}

TEST(Standardize, StructuredUsesOneMeanAndTheAverageRowStd) {
  const Tensor data = Tensor::from({0, 2, 4, 1, 1, 1, 3, 3, 9}, {3, 3}, Device::cpu());
  const float min_std = 0.5f;
  const Standardize z = Standardize::fit(data, min_std, /*structured=*/true);
  // mean over all 9 entries = 24 / 9. Row stds (unbiased over 3 entries): 2, 0 -> floored to
  // 0.5, sqrt(12) = 3.4641; their mean is the single std.
  const double row_std = (2.0 + 0.5 + std::sqrt(12.0)) / 3.0;
  for (float m : z.mean().to_vector()) EXPECT_FLOAT_EQ(m, 24.0f / 9.0f);
  for (float s : z.std().to_vector()) EXPECT_FLOAT_EQ(s, float(row_std));
  EXPECT_EQ(z.features(), 3);
}

TEST(Standardize, ForwardInverseBackward) {
  const Standardize z(Tensor::from({1, -2}, {2}, Device::cpu()),
                      Tensor::from({2, 0.5f}, {2}, Device::cpu()));
  const Tensor x = Tensor::from({3, -2, 0, 1}, {2, 2}, Device::cpu());
  Tensor y = Tensor::empty({2, 2}, Device::cpu()), back = Tensor::empty({2, 2}, Device::cpu());
  z.forward(x, y);
  EXPECT_EQ(y.to_vector(), std::vector<float>({1, 0, -0.5f, 6}));
  z.inverse(y, back);
  EXPECT_EQ(back.to_vector(), x.to_vector());
  z.backward(Tensor::ones({2, 2}, Device::cpu()), back);
  EXPECT_EQ(back.to_vector(), std::vector<float>({0.5f, 2, 0.5f, 2}));
  z.forward(y, y);  // in place is allowed
  EXPECT_EQ(y.to_vector(), std::vector<float>({0, 4, -0.75f, 16}));
  EXPECT_FLOAT_EQ(z.log_abs_det(), -(std::log(2.0f) + std::log(0.5f)));
}

TEST(Standardize, ErrorsSayWhatToFix) {
  auto message = [](auto f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  };
  const Tensor one_valid = Tensor::from({1, 2, kNaN, 0}, {2, 2}, Device::cpu());
  EXPECT_NE(message([&] { Standardize::fit(one_valid, 1e-7f); }).find("1 of 2 rows are finite"),
            std::string::npos);
  const Standardize z = Standardize::fit(Tensor::from({1, 2, 3, 5}, {2, 2}, Device::cpu()), 1e-7f);
  Tensor y = Tensor::empty({2, 3}, Device::cpu());
  EXPECT_NE(message([&] {
              z.forward(Tensor::zeros({2, 3}, Device::cpu()), y);
            }).find("input has shape (2, 3), expected (batch, 2)"),
            std::string::npos);
  EXPECT_NE(message([&] {
              Standardize(Tensor::zeros({2}, Device::cpu()), Tensor::zeros({2}, Device::cpu()));
            }).find("std must be finite and > 0"),
            std::string::npos);
}

}  // namespace
}  // namespace cusbi
