// Histograms and binned Gaussian KDEs for pairplot panels (see density.hpp). The KDE first
// spreads each sample over the two nearest nodes of a fine grid per axis (linear binning), then
// sums one Gaussian per occupied node, cut off at 5 bandwidths (density below exp(-12.5) of the
// peak): cost ~ occupied nodes x output nodes within reach, independent of N beyond binning.
#include "host/plot/density.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace cusbi::plot {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kCutoff = 5.0;    // kernel radius in bandwidths
constexpr int kFineBins1d = 1024;  // binning grid of the KDEs: fine next to any bandwidth that
constexpr int kFineBins2d = 512;   // an output grid of a few hundred nodes can show

// numpy's default percentile: linear interpolation between order statistics.
double percentile(const std::vector<double>& sorted, double p) {
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (pos - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

// Index of the bin of width w starting at lo that holds v, or -1 outside [lo, lo + bins * w]
// (the last edge belongs to the last bin, as in numpy).
int bin_of(double v, double lo, double w, int bins) {
  if (!(v >= lo)) return -1;
  const double s = (v - lo) / w;
  if (s > bins) return -1;
  return std::min(static_cast<int>(s), bins - 1);
}

// Linear binning of v onto `nodes` nodes spaced `step` apart from lo: adds weights to two nodes.
// Values outside the nodes' span are dropped (callers span everything that reaches the output).
template <typename Add>
void linear_bin(double v, double lo, double step, int nodes, const Add& add) {
  if (step <= 0) {
    add(0, 1.0);
    return;
  }
  const double s = (v - lo) / step;
  if (!(s >= 0) || s > nodes - 1) return;
  const int i = std::min(static_cast<int>(s), nodes - 2);
  const double f = s - i;
  add(i, 1.0 - f);
  if (nodes > 1) add(i + 1, f);
}

struct Moments {
  double mx = 0, my = 0, vxx = 0, vyy = 0, vxy = 0;
};

// Means and unbiased (co)variances, as numpy.cov.
Moments moments(const std::vector<double>& x, const std::vector<double>& y) {
  Moments m;
  const double n = static_cast<double>(x.size());
  for (size_t k = 0; k < x.size(); ++k) {
    m.mx += x[k];
    m.my += y[k];
  }
  m.mx /= n;
  m.my /= n;
  for (size_t k = 0; k < x.size(); ++k) {
    const double dx = x[k] - m.mx, dy = y[k] - m.my;
    m.vxx += dx * dx;
    m.vyy += dy * dy;
    m.vxy += dx * dy;
  }
  const double dof = std::max(n - 1.0, 1.0);
  m.vxx /= dof;
  m.vyy /= dof;
  m.vxy /= dof;
  return m;
}

// The span the fine binning grid must cover: the output range widened by the kernel's reach,
// cut to the data (so one far outlier does not coarsen the grid).
Range binning_span(const std::vector<double>& v, Range out, double reach) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {std::max(*lo, out.low - reach), std::min(*hi, out.high + reach)};
}

}  // namespace

int freedman_diaconis_bins(const std::vector<double>& x, Range range) {
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  const double iqr = percentile(sorted, 0.75) - percentile(sorted, 0.25);
  if (!(iqr > 0)) return 50;
  const double width = 2.0 * iqr * std::pow(static_cast<double>(x.size()), -1.0 / 3.0);
  const double bins = std::ceil((range.high - range.low) / width);
  return static_cast<int>(std::clamp(bins, 1.0, static_cast<double>(kMaxAutoBins)));
}

std::vector<double> histogram_density(const std::vector<double>& x, Range range, int bins) {
  const double w = (range.high - range.low) / bins;
  std::vector<double> h(static_cast<size_t>(bins), 0.0);
  double inside = 0;
  for (double v : x) {
    const int b = bin_of(v, range.low, w, bins);
    if (b < 0) continue;
    h[b] += 1;
    inside += 1;
  }
  // numpy's density: counts / (in-range count * bin width), so the shown bars integrate to 1.
  if (inside > 0)
    for (double& v : h) v /= inside * w;
  return h;
}

std::vector<double> histogram_2d(const std::vector<double>& x, const std::vector<double>& y,
                                 Range rx, Range ry, int nx, int ny) {
  std::vector<double> counts(static_cast<size_t>(nx) * ny, 0.0);
  const double wx = (rx.high - rx.low) / nx, wy = (ry.high - ry.low) / ny;
  for (size_t k = 0; k < x.size(); ++k) {
    const int i = bin_of(x[k], rx.low, wx, nx), j = bin_of(y[k], ry.low, wy, ny);
    if (i >= 0 && j >= 0) counts[static_cast<size_t>(j) * nx + i] += 1;
  }
  return counts;
}

std::vector<double> kde_1d(const std::vector<double>& x, Range range, int n) {
  const double count = static_cast<double>(x.size());
  const Moments m = moments(x, x);
  const double step_out = (range.high - range.low) / (n - 1);
  // Scott: variance x N^(-2/5). Floored at one output step so a constant sample still shows.
  const double var = std::max(m.vxx * std::pow(count, -2.0 / 5.0), step_out * step_out);
  const double sd = std::sqrt(var);
  const Range span = binning_span(x, range, kCutoff * sd);
  std::vector<double> z(static_cast<size_t>(n), 0.0);
  if (span.low > span.high) return z;  // no sample within reach of the range
  const double step = (span.high - span.low) / (kFineBins1d - 1);
  std::vector<double> w(kFineBins1d, 0.0);
  for (double v : x)
    linear_bin(v, span.low, step, kFineBins1d, [&](int i, double a) { w[i] += a; });
  for (int b = 0; b < kFineBins1d; ++b) {
    if (w[b] == 0) continue;
    const double c = span.low + b * step;
    const int i0 =
        std::max(0, static_cast<int>(std::ceil((c - kCutoff * sd - range.low) / step_out)));
    const int i1 =
        std::min(n - 1, static_cast<int>(std::floor((c + kCutoff * sd - range.low) / step_out)));
    for (int i = i0; i <= i1; ++i) {
      const double d = (range.low + i * step_out - c) / sd;
      z[i] += w[b] * std::exp(-0.5 * d * d);
    }
  }
  const double norm = 1.0 / (count * sd * std::sqrt(2.0 * kPi));
  for (double& v : z) v *= norm;
  return z;
}

std::vector<double> kde_2d(const std::vector<double>& x, const std::vector<double>& y, Range rx,
                           Range ry, int n) {
  const double count = static_cast<double>(x.size());
  Moments m = moments(x, y);
  // Scott in 2-D: covariance x N^(-1/3). Variances floored at one output step, and the
  // correlation kept below 0.995, so constant or collinear samples still give a finite density.
  const double f2 = std::pow(count, -1.0 / 3.0);
  const double sx_out = (rx.high - rx.low) / (n - 1), sy_out = (ry.high - ry.low) / (n - 1);
  const double cxx = std::max(m.vxx * f2, sx_out * sx_out);
  const double cyy = std::max(m.vyy * f2, sy_out * sy_out);
  const double max_cxy = 0.995 * std::sqrt(cxx * cyy);
  const double cxy = std::clamp(m.vxy * f2, -max_cxy, max_cxy);
  const double det = cxx * cyy - cxy * cxy;
  const double ixx = cyy / det, iyy = cxx / det, ixy = -cxy / det;
  const double hx = kCutoff * std::sqrt(cxx), hy = kCutoff * std::sqrt(cyy);

  std::vector<double> z(static_cast<size_t>(n) * n, 0.0);
  const Range bx = binning_span(x, rx, hx), by = binning_span(y, ry, hy);
  if (bx.low > bx.high || by.low > by.high) return z;
  const int fine = kFineBins2d;
  const double step_x = (bx.high - bx.low) / (fine - 1), step_y = (by.high - by.low) / (fine - 1);
  std::vector<double> w(static_cast<size_t>(fine) * fine, 0.0);
  for (size_t k = 0; k < x.size(); ++k)
    linear_bin(x[k], bx.low, step_x, fine, [&](int i, double a) {
      linear_bin(y[k], by.low, step_y, fine,
                 [&](int j, double b) { w[static_cast<size_t>(j) * fine + i] += a * b; });
    });

  for (int bj = 0; bj < fine; ++bj) {
    const double cy = by.low + bj * step_y;
    const int j0 = std::max(0, static_cast<int>(std::ceil((cy - hy - ry.low) / sy_out)));
    const int j1 = std::min(n - 1, static_cast<int>(std::floor((cy + hy - ry.low) / sy_out)));
    for (int bi = 0; bi < fine; ++bi) {
      const double weight = w[static_cast<size_t>(bj) * fine + bi];
      if (weight == 0) continue;
      const double cx = bx.low + bi * step_x;
      const int i0 = std::max(0, static_cast<int>(std::ceil((cx - hx - rx.low) / sx_out)));
      const int i1 = std::min(n - 1, static_cast<int>(std::floor((cx + hx - rx.low) / sx_out)));
      for (int j = j0; j <= j1; ++j) {
        const double dy = ry.low + j * sy_out - cy;
        double* row = &z[static_cast<size_t>(j) * n];
        for (int i = i0; i <= i1; ++i) {
          const double dx = rx.low + i * sx_out - cx;
          const double q = ixx * dx * dx + 2.0 * ixy * dx * dy + iyy * dy * dy;
          if (q < kCutoff * kCutoff) row[i] += weight * std::exp(-0.5 * q);
        }
      }
    }
  }
  const double norm = 1.0 / (count * 2.0 * kPi * std::sqrt(det));
  for (double& v : z) v *= norm;
  return z;
}

std::vector<double> mass_thresholds(const std::vector<double>& z,
                                    const std::vector<double>& levels) {
  std::vector<double> sorted = z;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  std::vector<double> cumulative(sorted.size());
  std::partial_sum(sorted.begin(), sorted.end(), cumulative.begin());
  const double total = cumulative.empty() ? 0.0 : cumulative.back();
  std::vector<double> out;
  for (double level : levels) {
    if (!(total > 0)) {
      out.push_back(HUGE_VAL);  // nothing inside the limits: no line
      continue;
    }
    const auto it = std::lower_bound(cumulative.begin(), cumulative.end(), level * total);
    const size_t k = std::min(static_cast<size_t>(it - cumulative.begin()), sorted.size() - 1);
    out.push_back(sorted[k]);
  }
  return out;
}

}  // namespace cusbi::plot
