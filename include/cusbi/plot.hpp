// pairplot: the grid of 1-D and 2-D marginals that sbi's `pairplot` draws, written as SVG or PNG
// (drawn with cairo, no Python needed). Histograms on the diagonal; a 2-D histogram, scatter,
// density contours or a density image above it; the lower triangle left empty, as sbi does.
//   cusbi::pairplot(samples, {.limits = {{-3, 3}, {-3, 3}}, .upper = "contour"}).save("npe.svg");
//   cusbi::pairplot({posterior_samples, prior_samples}, {.points = {theta_true}}).save("a.png");
// Defaults follow sbi 0.27 (figsize 10x10 inches, upper "hist", Freedman-Diaconis bins, "dim i"
// labels, matplotlib's colour cycle); see PairplotOptions for where they differ.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cusbi/tensor.hpp"

namespace cusbi {

// Fields are in the order designated initializers must follow.
struct PairplotOptions {
  // (low, high) of each plotted dimension; one pair applies to all. Empty: each dimension's
  // min/max over all sample sets and points, widened by 10% of the range on each side (sbi).
  std::vector<std::pair<double, double>> limits;
  // Above the diagonal: "hist" (alias "hist2d": a 2-D histogram as a viridis image), "scatter",
  // "contour" (iso-lines of a Gaussian KDE enclosing `levels` of its mass), "kde" (the KDE as a
  // viridis image) or "none".
  std::string upper = "hist";
  // On the diagonal: "hist" (step histogram, normalised to unit area so sample sets of different
  // sizes compare), "kde" (Gaussian KDE line, Scott's bandwidth) or "none".
  std::string diag = "hist";
  // Axis label of each dimension (D entries; empty: "dim 1", "dim 2", ...).
  std::vector<std::string> labels;
  // Reference points, e.g. the true theta: each tensor (P, D) or (D,), any device. Drawn as
  // markers above the diagonal and vertical lines on it, one colour per tensor.
  std::vector<Tensor> points;
  // Which dimensions to plot, in order (empty: all). Limits and labels stay indexed by the full
  // dimension, as in sbi.
  std::vector<int64_t> subset;
  std::pair<double, double> figsize = {10.0, 10.0};  // (width, height) in inches
  double dpi = 100.0;                                // PNG pixels per inch (matplotlib's default)
  // Diagonal histogram bins per dimension; 0: the Freedman-Diaconis width (sbi's default).
  int diag_bins = 0;
  // Bins per axis of the upper "hist", and the grid of the KDE behind "contour" and "kde" (sbi:
  // 50).
  int upper_bins = 50;
  // Probability mass inside each contour line (sbi: 0.68, 0.95, 0.99), each in (0, 1).
  std::vector<double> levels = {0.68, 0.95, 0.99};
  // Legend entries, one per sample set / per points tensor; a legend is drawn when either is set.
  std::vector<std::string> samples_labels;
  std::vector<std::string> points_labels;
  std::string title;  // drawn above the grid when not empty
};

// A drawn pairplot, ready to be written. Cheap to copy (shares the prepared drawing).
class Figure {
 public:
  // Writes SVG (".svg") or PNG (".png", figsize x dpi pixels), chosen by the extension (any case).
  // Atomic: the bytes go to a temporary file in the same folder that is then renamed over `path`.
  void save(const std::filesystem::path& path) const;
  std::string svg() const;                 // the SVG document
  std::vector<unsigned char> png() const;  // the PNG file's bytes

  int width_px() const;  // size of the PNG
  int height_px() const;
  // Where the data point (x, y) of the panel at grid position (row, col) lands in the PNG, in
  // pixels from its top-left corner (for annotating or checking a figure). On a diagonal panel y
  // is in the units of its density axis. Grid positions count plotted dimensions (see subset).
  std::array<double, 2> pixel_of(int64_t row, int64_t col, double x, double y) const;

  struct Scene;  // the prepared drawing (host/plot/scene.hpp)
  explicit Figure(std::shared_ptr<const Scene> scene);

 private:
  std::shared_ptr<const Scene> scene_;
};

// Whether this build can draw: cusbi is built with cairo when it is found (CUSBI_PLOT=AUTO, the
// default) or required (ON). Without it pairplot still checks its arguments and lays out the
// figure, but svg(), png() and save() throw a cusbi::Error saying how to get a drawing build.
bool plot_available();

// samples: (N, D) on any device (copied to the host once). Rows holding NaN or +-inf are skipped,
// with a cusbi::warn saying how many. Throws cusbi::Error for samples that are not 2-D, options
// that do not fit D (limits, labels, subset, points), low >= high, or an unknown style.
Figure pairplot(const Tensor& samples, const PairplotOptions& options = {});
// Several sample sets overlaid, each in its own colour; all must have the same D.
Figure pairplot(const std::vector<Tensor>& samples, const PairplotOptions& options = {});

}  // namespace cusbi
