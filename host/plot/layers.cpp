// Panel contents of a pairplot (see layers.hpp), with sbi's defaults: step histograms with
// Freedman-Diaconis bins on the diagonal; above it a 50 x 50 2-D histogram, scatter (6 pt
// markers, alpha 0.5, white edges), KDE image or KDE contours at 68/95/99% of the mass; each
// sample set in its colour, reference points on top.
#include "host/plot/layers.hpp"

#include <algorithm>

#include "host/plot/colors.hpp"
#include "host/plot/contour.hpp"
#include "host/plot/density.hpp"

namespace cusbi::plot {

namespace {

constexpr int kKdeLinePoints = 200;      // a smooth 1-D KDE curve at any figure size
constexpr double kMarkerRadiusPt = 3.0;  // sbi: scatter s = 36 pt^2, points markersize ~6 pt
constexpr double kScatterAlpha = 0.5;    // sbi's scatter default
constexpr double kHeadroom = 1.05;       // matplotlib's 5% margin above the highest bar

// Values in [min, max] mapped to viridis, one RGB triple per cell.
Image colour_image(const std::vector<double>& values, int nx, int ny) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  const double span = *hi - *lo;
  Image image{nx, ny, {}};
  image.rgb.reserve(values.size() * 3);
  for (double v : values) {
    const auto c = viridis(span > 0 ? (v - *lo) / span : 0.0);
    image.rgb.insert(image.rgb.end(), c.begin(), c.end());
  }
  return image;
}

std::vector<double> node_positions(Range r, int n) {
  std::vector<double> xs(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) xs[i] = r.low + (r.high - r.low) * i / (n - 1);
  return xs;
}

}  // namespace

void fill_diagonal(Panel& panel, const PlotData& data, const PairplotOptions& options, int64_t d) {
  const Range lim = data.limits[d];
  panel.x = lim;
  double top = 0;
  for (size_t s = 0; s < data.samples.size(); ++s) {
    const std::vector<double>& x = data.samples[s].columns[d];
    if (options.diag == "hist") {
      const int bins = options.diag_bins > 0 ? options.diag_bins : freedman_diaconis_bins(x, lim);
      Steps steps{node_positions(lim, bins + 1), histogram_density(x, lim, bins),
                  sample_color(static_cast<int64_t>(s))};
      top = std::max(top, *std::max_element(steps.heights.begin(), steps.heights.end()));
      panel.layers.push_back(std::move(steps));
    } else if (options.diag == "kde") {
      Curve curve{node_positions(lim, kKdeLinePoints), kde_1d(x, lim, kKdeLinePoints),
                  sample_color(static_cast<int64_t>(s))};
      top = std::max(top, *std::max_element(curve.ys.begin(), curve.ys.end()));
      panel.layers.push_back(std::move(curve));
    }
  }
  panel.y = {0.0, top > 0 ? top * kHeadroom : 1.0};
  for (size_t p = 0; p < data.points.size(); ++p)
    panel.layers.push_back(VLines{data.points[p].columns[d], point_color(static_cast<int64_t>(p))});
}

void fill_upper(Panel& panel, const PlotData& data, const PairplotOptions& options, int64_t dx,
                int64_t dy) {
  const Range rx = data.limits[dx], ry = data.limits[dy];
  panel.x = rx;
  panel.y = ry;
  const int n = options.upper_bins;
  for (size_t s = 0; s < data.samples.size(); ++s) {
    const std::vector<double>& x = data.samples[s].columns[dx];
    const std::vector<double>& y = data.samples[s].columns[dy];
    const Rgb color = sample_color(static_cast<int64_t>(s));
    if (options.upper == "hist" || options.upper == "hist2d") {
      panel.layers.push_back(colour_image(histogram_2d(x, y, rx, ry, n, n), n, n));
    } else if (options.upper == "kde") {
      panel.layers.push_back(colour_image(kde_2d(x, y, rx, ry, n), n, n));
    } else if (options.upper == "contour") {
      const std::vector<double> z = kde_2d(x, y, rx, ry, n);
      Contours contours{{}, color};
      for (double level : mass_thresholds(z, options.levels))
        for (Polyline& line : iso_lines(z, n, n, rx, ry, level))
          contours.lines.push_back(std::move(line));
      panel.layers.push_back(std::move(contours));
    } else if (options.upper == "scatter") {
      panel.layers.push_back(Markers{x, y, color, kMarkerRadiusPt, kScatterAlpha, true});
    }
  }
  for (size_t p = 0; p < data.points.size(); ++p)
    panel.layers.push_back(Markers{data.points[p].columns[dx], data.points[p].columns[dy],
                                   point_color(static_cast<int64_t>(p)), kMarkerRadiusPt, 1.0,
                                   true});
}

}  // namespace cusbi::plot
