// pairplot(): checks the inputs, copies each tensor to the host once (dropping non-finite sample
// rows, as sbi's handle_nan_infs does), infers limits like sbi's infer_limits, and lays out the
// grid like matplotlib's subplots under sbi's settings (top = 0.9, wspace = hspace = 0.2,
// square panels centred in their slots). Panel contents come from layers.cpp.
#include <algorithm>
#include <cmath>
#include <set>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/plot/colors.hpp"
#include "host/plot/layers.hpp"

namespace cusbi {

namespace {

using plot::Columns;
using plot::Range;

// Columns of a (rows, D) host array; rows with a NaN or inf are dropped and counted.
Columns to_columns(const std::vector<float>& values, int64_t rows, int64_t dim, int64_t* dropped) {
  Columns out;
  out.columns.assign(static_cast<size_t>(dim), {});
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = values.data() + r * dim;
    if (!std::all_of(row, row + dim, [](float v) { return std::isfinite(v); })) {
      ++*dropped;
      continue;
    }
    for (int64_t d = 0; d < dim; ++d) out.columns[d].push_back(row[d]);
  }
  return out;
}

Columns sample_set(const Tensor& t, size_t index, size_t count, int64_t dim) {
  const std::string name = count == 1 ? "samples" : "samples[" + std::to_string(index) + "]";
  CUSBI_CHECK(t.defined(), "pairplot: " << name << " is an undefined tensor");
  CUSBI_CHECK(t.dim() == 2 && t.size(0) > 0 && t.size(1) > 0,
              "pairplot: " << name << " has shape " << shape_str(t.shape())
                           << "; pass samples as a 2-D tensor (N, D) with N, D >= 1");
  CUSBI_CHECK(t.size(1) == dim, "pairplot: " << name << " has " << t.size(1) << " dimensions, "
                                             << "samples[0] has " << dim
                                             << "; all sample sets must have the same D");
  int64_t dropped = 0;
  Columns out = to_columns(t.to_vector(), t.size(0), dim, &dropped);
  CUSBI_CHECK(out.rows() > 0, "pairplot: every row of " << name << " holds NaN or inf; "
                                                        << "there is nothing to plot");
  if (dropped > 0)
    warn("pairplot: skipped " + std::to_string(dropped) + " of " + std::to_string(t.size(0)) +
         " rows of " + name + " that hold NaN or inf");
  return out;
}

Columns point_set(const Tensor& t, size_t index, int64_t dim) {
  const std::string name = "points[" + std::to_string(index) + "]";
  CUSBI_CHECK(t.defined(), "pairplot: " << name << " is an undefined tensor");
  const bool ok = (t.dim() == 1 && t.size(0) == dim) || (t.dim() == 2 && t.size(1) == dim);
  CUSBI_CHECK(ok, "pairplot: " << name << " has shape " << shape_str(t.shape()) << "; reference "
                               << "points must be (" << dim << ",) or (P, " << dim
                               << ") to match the samples");
  int64_t dropped = 0;
  Columns out = to_columns(t.to_vector(), t.numel() / dim, dim, &dropped);
  CUSBI_CHECK(dropped == 0, "pairplot: " << name << " holds NaN or inf; pass finite points");
  return out;
}

// sbi's infer_limits: min/max over samples and points, widened by 10% of the range each side.
std::vector<Range> inferred_limits(const plot::PlotData& data, int64_t dim) {
  std::vector<Range> limits;
  for (int64_t d = 0; d < dim; ++d) {
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (const auto* group : {&data.samples, &data.points})
      for (const Columns& c : *group) {
        const auto [a, b] = std::minmax_element(c.columns[d].begin(), c.columns[d].end());
        if (a == c.columns[d].end()) continue;
        lo = std::min(lo, *a);
        hi = std::max(hi, *b);
      }
    // A constant dimension has no range to widen: show +-10% of its value (+-1 around 0).
    const double margin = hi > lo ? 0.1 * (hi - lo) : (lo != 0 ? 0.1 * std::fabs(lo) : 1.0);
    limits.push_back({lo - margin, hi + margin});
  }
  return limits;
}

std::vector<Range> checked_limits(const PairplotOptions& o, int64_t dim) {
  const auto& given = o.limits;
  CUSBI_CHECK(given.size() == 1 || static_cast<int64_t>(given.size()) == dim,
              "pairplot: limits has " << given.size() << " entries for " << dim
                                      << "-dimensional samples; give one (low, high) per "
                                         "dimension, one for all, or none to infer them");
  std::vector<Range> limits;
  for (int64_t d = 0; d < dim; ++d) {
    const auto [lo, hi] = given.size() == 1 ? given[0] : given[d];
    CUSBI_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi,
                "pairplot: limits[" << (given.size() == 1 ? 0 : d) << "] = (" << lo << ", " << hi
                                    << "); each must be finite with low < high");
    limits.push_back({lo, hi});
  }
  return limits;
}

void check_options(const PairplotOptions& o, int64_t dim, size_t sets) {
  static const std::set<std::string> kUpper = {"hist",    "hist2d", "scatter",
                                               "contour", "kde",    "none"};
  CUSBI_CHECK(kUpper.count(o.upper), "pairplot: unknown upper style '"
                                         << o.upper
                                         << "'; use "
                                            "hist, hist2d, scatter, contour, kde or none");
  CUSBI_CHECK(o.diag == "hist" || o.diag == "kde" || o.diag == "none",
              "pairplot: unknown diag style '" << o.diag << "'; use hist, kde or none");
  CUSBI_CHECK(o.upper != "none" || o.diag != "none",
              "pairplot: upper and diag are both \"none\"; there is nothing to draw");
  CUSBI_CHECK(o.labels.empty() || static_cast<int64_t>(o.labels.size()) == dim,
              "pairplot: " << o.labels.size() << " labels for " << dim
                           << " dimensions; give one per dimension or none");
  std::set<int64_t> seen;
  for (int64_t d : o.subset)
    CUSBI_CHECK(d >= 0 && d < dim && seen.insert(d).second,
                "pairplot: subset entry " << d << " is out of range [0, " << dim
                                          << ") or repeated; list distinct dimensions to plot");
  const auto [w, h] = o.figsize;
  CUSBI_CHECK(std::isfinite(w) && std::isfinite(h) && w > 0 && h > 0 && w * h <= 1e4,
              "pairplot: figsize (" << w << ", " << h << ") must be positive inches (at most "
                                    << "1e4 square inches)");
  CUSBI_CHECK(std::isfinite(o.dpi) && o.dpi > 0 && w * h * o.dpi * o.dpi <= 1e9,
              "pairplot: dpi " << o.dpi << " must be positive, and figsize x dpi at most 1e9 "
                               << "pixels");
  CUSBI_CHECK(o.diag_bins >= 0 && o.diag_bins <= 100000,
              "pairplot: diag_bins " << o.diag_bins << " must be in [0, 100000] (0: automatic)");
  CUSBI_CHECK(o.upper_bins >= 2 && o.upper_bins <= 2000,
              "pairplot: upper_bins " << o.upper_bins << " must be in [2, 2000]");
  for (double level : o.levels)
    CUSBI_CHECK(level > 0 && level < 1,
                "pairplot: contour level " << level << " must be a mass fraction in (0, 1)");
  CUSBI_CHECK(o.samples_labels.empty() || o.samples_labels.size() == sets,
              "pairplot: " << o.samples_labels.size() << " samples_labels for " << sets
                           << " sample sets; give one per set or none");
  CUSBI_CHECK(o.points_labels.empty() || o.points_labels.size() == o.points.size(),
              "pairplot: " << o.points_labels.size() << " points_labels for " << o.points.size()
                           << " points tensors; give one per tensor or none");
}

// Square panels centred in matplotlib's subplot slots (left .125, right .9, bottom .11, top .9).
plot::Rect slot_box(const Figure::Scene& scene, int64_t rows, int64_t cols, int64_t r, int64_t c) {
  constexpr double kSpace = 0.2;
  const double left = 0.125 * scene.width_pt, right = 0.9 * scene.width_pt;
  const double top = 0.1 * scene.height_pt, bottom = 0.89 * scene.height_pt;
  const double slot_w = (right - left) / (cols + kSpace * (cols - 1));
  const double slot_h = (bottom - top) / (rows + kSpace * (rows - 1));
  const double side = std::min(slot_w, slot_h);
  return {left + c * slot_w * (1 + kSpace) + (slot_w - side) / 2,
          top + r * slot_h * (1 + kSpace) + (slot_h - side) / 2, side, side};
}

void add_legend(Figure::Scene& scene, const PairplotOptions& o, size_t sets) {
  for (size_t s = 0; s < o.samples_labels.size(); ++s)
    scene.legend.push_back(
        {o.samples_labels[s], plot::sample_color(static_cast<int64_t>(s)), false});
  for (size_t p = 0; p < o.points_labels.size(); ++p)
    scene.legend.push_back({o.points_labels[p], plot::point_color(static_cast<int64_t>(p)), true});
}

}  // namespace

Figure pairplot(const Tensor& samples, const PairplotOptions& options) {
  return pairplot(std::vector<Tensor>{samples}, options);
}

Figure pairplot(const std::vector<Tensor>& samples, const PairplotOptions& options) {
  CUSBI_CHECK(!samples.empty(), "pairplot: no sample sets given; pass at least one (N, D) tensor");
  CUSBI_CHECK(samples[0].defined() && samples[0].dim() == 2,
              "pairplot: samples" << (samples.size() > 1 ? "[0]" : "") << " has shape "
                                  << shape_str(samples[0].shape())
                                  << "; pass samples as a 2-D tensor (N, D)");
  const int64_t dim = samples[0].size(1);
  check_options(options, dim, samples.size());
  plot::PlotData data;
  for (size_t s = 0; s < samples.size(); ++s)
    data.samples.push_back(sample_set(samples[s], s, samples.size(), dim));
  for (size_t p = 0; p < options.points.size(); ++p)
    data.points.push_back(point_set(options.points[p], p, dim));
  data.limits = options.limits.empty() ? inferred_limits(data, dim) : checked_limits(options, dim);

  std::vector<int64_t> dims = options.subset;
  if (dims.empty())
    for (int64_t d = 0; d < dim; ++d) dims.push_back(d);
  const auto k = static_cast<int64_t>(dims.size());
  const bool flat = options.upper == "none";  // sbi: one row of marginals

  auto scene = std::make_shared<Figure::Scene>();
  scene->width_pt = options.figsize.first * 72.0;
  scene->height_pt = options.figsize.second * 72.0;
  scene->dpi = options.dpi;
  scene->grid = k;
  scene->title = options.title;
  const int64_t rows = flat ? 1 : k;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = flat ? 0 : r; c < k; ++c) {
      plot::Panel panel;
      panel.row = r;
      panel.col = c;
      panel.diagonal = flat || r == c;
      panel.box = slot_box(*scene, rows, k, r, c);
      if (panel.diagonal) {
        plot::fill_diagonal(panel, data, options, dims[c]);
        panel.x_axis = options.diag != "none";
        panel.x_label =
            options.labels.empty() ? "dim " + std::to_string(dims[c] + 1) : options.labels[dims[c]];
        if (options.diag == "none") panel.layers.clear();  // sbi turns the axes off
      } else {
        plot::fill_upper(panel, data, options, dims[c], dims[r]);
      }
      scene->panels.push_back(std::move(panel));
    }
  add_legend(*scene, options, samples.size());
  // sbi puts the legend in the empty bottom-left cell, or on the first panel when there is none.
  scene->legend_box = (!flat && k > 1) ? slot_box(*scene, rows, k, k - 1, 0) : scene->panels[0].box;
  return Figure(std::move(scene));
}

}  // namespace cusbi
