// Central differences in double for the nn gradient checks: the loss is always
// L = sum(R * output) for a fixed random R, so its analytic gradient is backward(R).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace cusbi::testing {

struct AllEntries {
  bool operator()(size_t) const { return true; }
};

// dL/dv by central differences for the entries `select(i)` picks (the others come back NaN:
// not checked); v is perturbed in place and restored.
template <class Loss, class Select = AllEntries>
std::vector<double> central_differences(std::vector<double>& v, Loss&& loss, Select select = {},
                                        double eps = 1e-6) {
  std::vector<double> grad(v.size(), std::numeric_limits<double>::quiet_NaN());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!select(i)) continue;
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
                                              const std::string& what, double tol = 1e-6) {
  if (analytic.size() != numeric.size())
    return ::testing::AssertionFailure() << what << ": sizes differ";
  size_t checked = 0;
  for (size_t i = 0; i < analytic.size(); ++i) {
    if (std::isnan(numeric[i])) continue;  // not selected
    ++checked;
    if (!(std::fabs(analytic[i] - numeric[i]) <= tol * (1.0 + std::fabs(numeric[i]))))
      return ::testing::AssertionFailure() << what << "[" << i << "]: analytic " << analytic[i]
                                           << " vs numeric " << numeric[i];
  }
  if (checked == 0) return ::testing::AssertionFailure() << what << ": nothing was checked";
  return ::testing::AssertionSuccess();
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace cusbi::testing
