// Internal: the statistics behind a pairplot's panels, on the host in double. Histograms follow
// numpy (values outside the range dropped, the last bin closed); KDEs follow
// scipy.stats.gaussian_kde with Scott's bandwidth (full covariance in 2-D), evaluated from the
// samples binned on a fine grid so that the cost does not grow with N times the output grid.
#pragma once
#include <vector>

#include "host/plot/scene.hpp"

namespace cusbi::plot {

// Bins of the Freedman-Diaconis width 2 IQR N^(-1/3) across `range` (sbi's default), at least 1
// and at most kMaxAutoBins; 50 when the IQR is 0 (sbi would fail there).
int freedman_diaconis_bins(const std::vector<double>& x, Range range);
constexpr int kMaxAutoBins = 1000;

// Histogram with `bins` equal bins over `range`, normalised to unit area (density=True).
// Returns heights; edges are range.low + i * width.
std::vector<double> histogram_density(const std::vector<double>& x, Range range, int bins);

// Counts of a (nx x ny) histogram over rx x ry, row-major with y outer: counts[j * nx + i].
std::vector<double> histogram_2d(const std::vector<double>& x, const std::vector<double>& y,
                                 Range rx, Range ry, int nx, int ny);

// Gaussian KDE of x at n points spaced evenly over `range` (ends included).
std::vector<double> kde_1d(const std::vector<double>& x, Range range, int n);

// Gaussian KDE of (x, y) at the n x n nodes of an even grid over rx x ry (ends included),
// row-major with y outer: z[j * n + i] at (x_i, y_j).
std::vector<double> kde_2d(const std::vector<double>& x, const std::vector<double>& y, Range rx,
                           Range ry, int n);

// For each mass level m in (0, 1): the density value t such that the grid nodes with z >= t
// hold a fraction m of the grid's total (sbi's probs2contours, as thresholds for iso-lines).
std::vector<double> mass_thresholds(const std::vector<double>& z,
                                    const std::vector<double>& levels);

}  // namespace cusbi::plot
