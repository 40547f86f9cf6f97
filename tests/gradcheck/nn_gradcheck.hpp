// Central differences in double for the nn gradient checks: the loss is always
// L = sum(R * output) for a fixed random R, so its analytic gradient is backward(R).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cusbi::testing {

// dL/dv by central differences; v is perturbed in place and restored. Only the first `limit`
// entries (all when negative) are differentiated, the rest are reported as 0.
template <class Loss>
std::vector<double> central_differences(std::vector<double>& v, Loss&& loss, double eps = 1e-6,
                                        int64_t limit = -1) {
  std::vector<double> grad(v.size(), 0.0);
  const size_t n = limit < 0 ? v.size() : std::min(v.size(), static_cast<size_t>(limit));
  for (size_t i = 0; i < n; ++i) {
    const double keep = v[i];
    v[i] = keep + eps;
    const double up = loss();
    v[i] = keep - eps;
    const double down = loss();
    v[i] = keep;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}

// Central differences of smooth O(1) losses in double with eps = 1e-6 are accurate to about
// eps^2 |L'''| + 1e-16 |L| / eps ~ 1e-9; 1e-6 absolute plus relative leaves a wide margin while
// any wrong term in a backward (errors of order 1e-2 and up) still fails.
inline ::testing::AssertionResult grads_agree(const std::vector<double>& analytic,
                                              const std::vector<double>& numeric,
                                              const std::string& what, int64_t limit = -1,
                                              double tol = 1e-6) {
  if (analytic.size() != numeric.size())
    return ::testing::AssertionFailure() << what << ": sizes differ";
  const size_t n = limit < 0 ? analytic.size() : std::min(analytic.size(), size_t(limit));
  for (size_t i = 0; i < n; ++i)
    if (!(std::fabs(analytic[i] - numeric[i]) <= tol * (1.0 + std::fabs(numeric[i]))))
      return ::testing::AssertionFailure()
             << what << "[" << i << "]: analytic " << analytic[i] << " vs numeric " << numeric[i];
  return ::testing::AssertionSuccess();
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace cusbi::testing
