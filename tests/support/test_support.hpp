// Helpers shared by every test binary: GPU skipping, locating test data without absolute paths
// of the build machine, and closeness checks with a stated tolerance.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"

// Skips (reported as skipped, never a silent pass) when no GPU is visible or CUDA is not built.
#define CUSBI_REQUIRE_GPU()                                                \
  do {                                                                     \
    if (!::cusbi::cuda_available()) GTEST_SKIP() << "no CUDA GPU visible"; \
  } while (0)

namespace cusbi::testing {

// The message of the cusbi::Error that f() throws, or "" when it throws none (so a search for
// the expected words in it fails).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Collects cusbi's warnings while in scope, then restores the previous handler.
class CaptureWarnings {
 public:
  CaptureWarnings()
      : previous_(set_warning_handler([this](const std::string& m) { messages.push_back(m); })) {}
  ~CaptureWarnings() { set_warning_handler(previous_); }
  std::vector<std::string> messages;

 private:
  WarningHandler previous_;
};

// A CPU tensor of `shape` with entries uniform in [lo, hi) from std::mt19937(seed): the same
// values on every machine, independent of cusbi's own generator.
inline Tensor random_tensor(const Shape& shape, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (float& x : v) x = u(rng);
  return Tensor::from(v, shape, Device::cpu());
}

// A small CPU flow (D = 3, C = 2, 2 transforms of width 16, 4 bins) fitted to fixed random data:
// enough layers to exercise every program path while tests stay fast.
inline NeuralSplineFlow small_flow() {
  NsfOptions o;
  o.hidden_features = 16;
  o.num_transforms = 2;
  o.num_bins = 4;
  Generator g(5);
  return build_nsf(randn({64, 3}, Device::cpu(), &g), randn({64, 2}, Device::cpu(), &g), o, &g);
}

// Trainer options without the progress line (tests print nothing on a terminal).
inline TrainOptions quiet(TrainOptions o) {
  o.show_progress = false;
  return o;
}

inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// Test data folder: $CUSBI_TEST_DATA if set, else data/ next to the test executable
// (tests/CMakeLists.txt copies tests/data there), so a carried build folder still works.
inline std::filesystem::path data_dir() {
  if (const char* env = std::getenv("CUSBI_TEST_DATA")) return env;
  return std::filesystem::canonical("/proc/self/exe").parent_path() / "data";
}

// Max |a - b| / (atol + rtol |b|) over all elements must be <= 1.
inline ::testing::AssertionResult all_close(const std::vector<float>& actual,
                                            const std::vector<float>& expected, double atol,
                                            double rtol) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure()
           << "sizes differ: " << actual.size() << " vs " << expected.size();
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], b = expected[i];
    const bool both_nan = std::isnan(a) && std::isnan(b);
    const bool same_inf = std::isinf(a) && std::isinf(b) && (a > 0) == (b > 0);
    if (both_nan || same_inf) continue;
    if (!(std::fabs(a - b) <= atol + rtol * std::fabs(b)))
      return ::testing::AssertionFailure() << "element " << i << ": " << a << " vs expected " << b
                                           << " (atol " << atol << ", rtol " << rtol << ")";
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected,
                                            double atol, double rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  return all_close(actual.to_vector(), expected.to_vector(), atol, rtol);
}

// |actual - expected| <= rel * max|expected| for every element: for results that sum the same
// terms in another order on another device (cuBLAS vs Eigen tiling, chunked vs sequential
// reductions), which moves them by a few ulp of the largest terms, not of each element.
inline ::testing::AssertionResult close_scaled(const Tensor& actual, const Tensor& expected,
                                               double rel) {
  const std::vector<float> a = actual.to_vector(), b = expected.to_vector();
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ";
  double scale = 0.0;
  for (float v : b) scale = std::max(scale, double(std::fabs(v)));
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::fabs(double(a[i]) - b[i]) <= rel * scale + 1e-30))
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs expected "
                                           << b[i] << " (scale " << scale << ")";
  return ::testing::AssertionSuccess();
}

// Kolmogorov-Smirnov distance between the sample v and the CDF `cdf` (sqrt(n) D > 1.95 with
// probability 0.001 for a correct sampler).
template <typename T, typename Cdf>
double ks_distance(std::vector<T> v, Cdf cdf) {
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double d = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double f = cdf(v[i]);
    d = std::max({d, f - i / n, (i + 1) / n - f});
  }
  return d;
}

}  // namespace cusbi::testing
