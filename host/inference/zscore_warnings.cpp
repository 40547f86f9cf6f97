// sbi's warn_if_invalid_for_zscoring, run on the x of every append_simulations: constant
// columns (std < 1e-14) carry no information and z-score to 0; values more than 10 IQR beyond
// the quartiles make z-scoring squeeze the bulk of the data into a few float steps. Both are
// warnings, as in sbi, since training still runs. Computed on the host once per append.
#include "host/inference/zscore_warnings.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "cusbi/progress.hpp"

namespace cusbi::detail {

namespace {

constexpr double kConstantStd = 1e-14;   // sbi's threshold for a constant column
constexpr double kOutlierIqrFactor = 10.0;  // sbi's default outlier_iqr_factor

// torch.quantile's default ("linear") interpolation on sorted values.
double quantile(const std::vector<float>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (double(sorted[hi]) - sorted[lo]);
}

std::string list(const std::vector<int64_t>& dims) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << "]";
  return os.str();
}

}  // namespace

void warn_if_invalid_for_zscoring(const Tensor& x, const std::string& who) {
  const int64_t n = x.size(0), c = x.numel() / std::max<int64_t>(1, n);
  if (n <= 1) {
    warn(who + ": only one simulation; z-scoring needs several to estimate statistics. "
               "Append more simulations.");
    return;
  }
  // Rows kept with NaN/Inf (exclude_invalid_x = false) already got their own warning, and
  // training refuses them; statistics over them would be meaningless.
  if (!all_finite(x)) return;
  const std::vector<float> v = x.to_vector();
  std::vector<int64_t> constant, outliers;
  std::vector<float> column(static_cast<size_t>(n));
  for (int64_t j = 0; j < c; ++j) {
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < n; ++i) sum += v[i * c + j];
    const double mean = sum / n;
    for (int64_t i = 0; i < n; ++i) sum_sq += (v[i * c + j] - mean) * (v[i * c + j] - mean);
    if (std::sqrt(sum_sq / (n - 1)) < kConstantStd) constant.push_back(j);
  }
  if (!constant.empty()) {  // as sbi: the outlier check is skipped then
    warn(who + ": x has constant values in dimension(s) " + list(constant) +
         ". These dimensions carry no information and are mapped to zero by z-scoring; "
         "consider removing constant features from the data.");
    return;
  }
  for (int64_t j = 0; j < c; ++j) {
    for (int64_t i = 0; i < n; ++i) column[size_t(i)] = v[i * c + j];
    std::sort(column.begin(), column.end());
    const double q1 = quantile(column, 0.25), q3 = quantile(column, 0.75), iqr = q3 - q1;
    if (!(iqr > kConstantStd)) continue;  // discrete-looking column: no outlier check
    if (column.front() < q1 - kOutlierIqrFactor * iqr ||
        column.back() > q3 + kOutlierIqrFactor * iqr)
      outliers.push_back(j);
  }
  if (!outliers.empty())
    warn(who + ": x has extreme outliers in dimension(s) " + list(outliers) +
         " (beyond 10x the interquartile range from the quartiles). Z-scoring may make "
         "distinct values indistinguishable; consider removing the outliers or "
         "NsfOptions.z_score_condition = ZScore::None (which may affect training).");
}

}  // namespace cusbi::detail
