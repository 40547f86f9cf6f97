// pairplot: PNGs read back with cairo and checked pixel by pixel where the content must be (and
// must not be), SVG structure, the statistics behind the panels (KDE vs a direct sum, contour
// radii of a Gaussian vs closed forms), tick labels, argument errors and atomic saving.
// Set CUSBI_PAIRPLOT_DEMO=1 to also write /tmp/cusbi_pairplot_demo.{png,svg}, a tutorial-like
// figure to look at.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>

#include "host/plot/contour.hpp"
#include "host/plot/density.hpp"
#include "host/plot/png_image.hpp"
#include "host/plot/ticks.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

namespace fs = std::filesystem;
using testing::contains;
using testing::error_of;

struct Color {
  int r, g, b;
};
constexpr Color kWhite{255, 255, 255}, kBlue{31, 119, 180}, kOrange{255, 127, 14},
    kGreen{44, 160, 44}, kViridisLow{68, 1, 84};

Color color_of(uint32_t argb) {
  return {static_cast<int>(argb >> 16 & 255), static_cast<int>(argb >> 8 & 255),
          static_cast<int>(argb & 255)};
}
int distance(Color a, Color b) {
  return std::max({std::abs(a.r - b.r), std::abs(a.g - b.g), std::abs(a.b - b.b)});
}
// Antialiased edges blend with the background; 40/255 accepts a pixel mostly covered by the
// colour while no other colour used in these figures comes that close to the one asked for.
constexpr int kColorTolerance = 40;

Tensor column_samples(const std::vector<std::vector<float>>& columns) {
  const int64_t n = static_cast<int64_t>(columns[0].size()),
                d = static_cast<int64_t>(columns.size());
  std::vector<float> v(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) v[i * d + j] = columns[j][i];
  return Tensor::from(v, {n, d}, Device::cpu());
}

std::vector<float> evenly(float lo, float hi, int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = lo + (hi - lo) * i / (n - 1);
  return v;
}

class PairplotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!plot_available()) GTEST_SKIP() << "built without cairo (CUSBI_PLOT): nothing to draw";
    dir_ = fs::temp_directory_path() /
           ("cusbi_pairplot_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  plot::PngImage save_and_read(const Figure& figure) const {
    const fs::path path = dir_ / "figure.png";
    figure.save(path);
    return plot::read_png(path.string());
  }
  Color at(const plot::PngImage& image, std::array<double, 2> px) const {
    return color_of(image.at(static_cast<int>(px[0]), static_cast<int>(px[1])));
  }
  // Pixels whose colour is within kColorTolerance of `c`, over data x in [x0, x1] of a diagonal
  // panel, from its top down to `above_base` pixels over its baseline.
  int count_in_diagonal(const plot::PngImage& img, const Figure& f, int64_t d, double x0, double x1,
                        double top, Color c, int above_base = 4) const {
    const auto a = f.pixel_of(d, d, x0, top), b = f.pixel_of(d, d, x1, 0);
    int count = 0;
    for (int y = static_cast<int>(a[1]); y < static_cast<int>(b[1]) - above_base; ++y)
      for (int x = static_cast<int>(a[0]); x <= static_cast<int>(b[0]); ++x)
        count += distance(color_of(img.at(x, y)), c) <= kColorTolerance;
    return count;
  }
  fs::path dir_;
};

TEST_F(PairplotTest, PngSizeIsFigsizeTimesDpi) {
  const Tensor s = column_samples({evenly(0, 1, 50), evenly(1, 0, 50)});
  const Figure f = pairplot(s, {.figsize = {3.5, 2.0}, .dpi = 80});
  const plot::PngImage img = save_and_read(f);
  EXPECT_EQ(img.width, 280);
  EXPECT_EQ(img.height, 160);
  EXPECT_EQ(f.width_px(), 280);
  EXPECT_EQ(f.height_px(), 160);
}

// All samples in one corner of the limits: histogram outline only over that corner of each
// diagonal panel, the 2-D histogram bright there and viridis' lowest colour elsewhere.
TEST_F(PairplotTest, HistogramsAppearWhereTheSamplesAre) {
  const Tensor s = column_samples({evenly(2.5f, 2.9f, 200), evenly(-2.9f, -2.5f, 200)});
  // 30 bins of 0.2 over [-3, 3]: counts 50, 100, 50 in the last three bins of dimension 1, so
  // the peak density is 100 / (200 * 0.2) = 2.5 and the panel shows [0, 2.5 * 1.05]. 200 dpi:
  // the 1 pt outline is 2.8 pixels wide, so one row of pixels is fully covered.
  const Figure f =
      pairplot(s, {.limits = {{-3, 3}}, .figsize = {4, 4}, .dpi = 200, .diag_bins = 30});
  const plot::PngImage img = save_and_read(f);
  const double top = 2.5 * 1.05;
  EXPECT_LE(distance(at(img, f.pixel_of(0, 0, 2.7, 2.5)), kBlue), kColorTolerance);
  EXPECT_EQ(count_in_diagonal(img, f, 0, -3, 2.3, top, kBlue), 0);
  EXPECT_GT(count_in_diagonal(img, f, 0, 2.4, 3, top, kBlue), 100);
  EXPECT_EQ(count_in_diagonal(img, f, 1, -2.3, 3, top, kBlue), 0);
  EXPECT_GT(count_in_diagonal(img, f, 1, -3, -2.4, top, kBlue), 100);
  // Panel (0, 1) shows dimension 2 across and dimension 1 up: the samples sit top-left.
  EXPECT_GT(distance(at(img, f.pixel_of(0, 1, -2.7, 2.7)), kViridisLow), 100);
  EXPECT_LE(distance(at(img, f.pixel_of(0, 1, 1.0, -1.0)), kViridisLow), 1);
  EXPECT_LE(distance(at(img, f.pixel_of(0, 1, 2.7, -2.7)), kViridisLow), 1);
  EXPECT_TRUE(contains(error_of([&] { f.pixel_of(1, 0, 0, 0); }), "no panel at row 1"));
}

// A reference point: a marker at its (x, y) above the diagonal (not at the swapped position)
// and vertical lines at its coordinates on the diagonal.
TEST_F(PairplotTest, ReferencePointIsDrawnAtItsPosition) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.1f);
  std::vector<float> a(300), b(300);
  for (int i = 0; i < 300; ++i) a[i] = -2 + noise(rng), b[i] = 2 + noise(rng);
  const Tensor theta = Tensor::from({1.5f, -1.0f}, {2}, Device::cpu());
  const Figure f =
      pairplot(column_samples({a, b}),
               {.limits = {{-3, 3}}, .upper = "scatter", .points = {theta}, .figsize = {4, 4}});
  const plot::PngImage img = save_and_read(f);
  EXPECT_LE(distance(at(img, f.pixel_of(0, 1, -1.0, 1.5)), kOrange), 2);
  EXPECT_EQ(distance(at(img, f.pixel_of(0, 1, 1.5, -1.0)), kWhite), 0);
  for (int64_t d = 0; d < 2; ++d) {
    const double x = d == 0 ? 1.5 : -1.0;
    auto px = f.pixel_of(d, d, x, 0);
    px[1] -= 20;  // inside the panel, above the histogram's baseline
    EXPECT_LE(distance(at(img, px), kOrange), 2) << "dimension " << d;
    px[0] += 6;  // beside the 2-pixel-wide line
    EXPECT_EQ(distance(at(img, px), kWhite), 0) << "dimension " << d;
  }
}

TEST_F(PairplotTest, SampleSetsAreOverlaidInTheirOwnColours) {
  const Tensor left = column_samples({evenly(-2.9f, -2.5f, 100), evenly(-1, 1, 100)});
  const Tensor right = column_samples({evenly(2.5f, 2.9f, 400), evenly(-1, 1, 400)});
  // 200 dpi: the 1 pt outline is 2.8 pixels wide, so one row of pixels is fully covered.
  const Figure f = pairplot(
      {left, right},
      {.limits = {{-3, 3}}, .upper = "contour", .figsize = {4, 4}, .dpi = 200, .diag_bins = 30});
  const plot::PngImage img = save_and_read(f);
  // Both normalised to unit area: equal peaks (2.5) although the sets differ in size.
  const double top = 2.5 * 1.05;
  EXPECT_GT(count_in_diagonal(img, f, 0, -3, -2.4, top, kBlue), 20);
  EXPECT_EQ(count_in_diagonal(img, f, 0, -2.3, 3, top, kBlue), 0);
  EXPECT_GT(count_in_diagonal(img, f, 0, 2.4, 3, top, kGreen), 20);
  EXPECT_EQ(count_in_diagonal(img, f, 0, -3, 2.3, top, kGreen), 0);
  EXPECT_LE(distance(at(img, f.pixel_of(0, 0, -2.7, 2.5)), kBlue), kColorTolerance);
  EXPECT_LE(distance(at(img, f.pixel_of(0, 0, 2.7, 2.5)), kGreen), kColorTolerance);
}

// Minimal XML check: every opened element is closed in order; declarations and comments skipped.
bool balanced_xml(const std::string& xml, std::string* why) {
  std::vector<std::string> open;
  for (size_t i = xml.find('<'); i != std::string::npos; i = xml.find('<', i + 1)) {
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return *why = "unterminated tag", false;
    const std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag[0] == '?' || tag[0] == '!') continue;
    const std::string name =
        tag.substr(tag[0] == '/', tag.find_first_of(" \t\n/", 1) - (tag[0] == '/'));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name) return *why = "unexpected </" + name + ">", false;
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
  }
  if (!open.empty()) *why = "unclosed <" + open.back() + ">";
  return open.empty();
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t i = text.find(part); i != std::string::npos; i = text.find(part, i + 1)) ++n;
  return n;
}

TEST_F(PairplotTest, SvgIsWellFormedWithOnePathOrImagePerPanel) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> v(3 * 500);
  for (float& x : v) x = normal(rng);
  const Tensor s = Tensor::from(v, {500, 3}, Device::cpu());
  // cairo writes a stroke colour as percentages; this is tab10's first colour (sample set 0).
  const std::string blue_stroke = "stroke:rgb(12.156863%,46.666667%,70.588235%)";
  struct Case {
    std::string upper;
    std::vector<int64_t> subset;
    size_t blue_paths, images;
  };
  // hist: 3 step outlines + 3 images; contour: 3 outlines + one path of lines per upper panel;
  // none: a single row of 3 outlines; subset {0, 2}: a 2 x 2 grid.
  for (const Case& c : {Case{"hist", {}, 3, 3}, Case{"contour", {}, 6, 0}, Case{"none", {}, 3, 0},
                        Case{"hist", {0, 2}, 2, 1}}) {
    const std::string name = c.upper + "_" + std::to_string(c.subset.size());
    const fs::path path = dir_ / ("figure_" + name + ".svg");
    pairplot(s, {.upper = c.upper, .subset = c.subset, .figsize = {4, 4}}).save(path);
    std::ifstream in(path);
    const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string why;
    EXPECT_TRUE(balanced_xml(svg, &why)) << name << ": " << why;
    EXPECT_EQ(svg.rfind("<?xml", 0), 0u) << name;
    EXPECT_TRUE(contains(svg, "width=\"288pt\" height=\"288pt\"")) << name;
    EXPECT_EQ(count(svg, blue_stroke), c.blue_paths) << name;
    EXPECT_EQ(count(svg, "<image"), c.images) << name;
  }
}

// The binned KDE against scipy's definition evaluated directly (Scott: covariance x N^(-1/3)).
TEST(PairplotDensity, BinnedKdeMatchesDirectSum) {
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  const int n = 300, grid = 40;
  std::vector<double> x(n), y(n);
  for (int i = 0; i < n; ++i) {
    x[i] = normal(rng);
    y[i] = 0.8 * x[i] + 0.6 * normal(rng);
  }
  const plot::Range r{-3, 3};
  const std::vector<double> z = plot::kde_2d(x, y, r, r, grid);
  double mx = 0, my = 0, cxx = 0, cyy = 0, cxy = 0;
  for (int i = 0; i < n; ++i) mx += x[i] / n, my += y[i] / n;
  for (int i = 0; i < n; ++i) {
    cxx += (x[i] - mx) * (x[i] - mx) / (n - 1);
    cyy += (y[i] - my) * (y[i] - my) / (n - 1);
    cxy += (x[i] - mx) * (y[i] - my) / (n - 1);
  }
  const double f = std::pow(n, -1.0 / 3.0), det = cxx * cyy * f * f - cxy * cxy * f * f;
  double worst = 0, peak = 0;
  for (int j = 0; j < grid; ++j)
    for (int i = 0; i < grid; ++i) {
      const double gx = -3 + 6.0 * i / (grid - 1), gy = -3 + 6.0 * j / (grid - 1);
      double sum = 0;
      for (int k = 0; k < n; ++k) {
        const double dx = gx - x[k], dy = gy - y[k];
        const double q = (cyy * dx * dx - 2 * cxy * dx * dy + cxx * dy * dy) * f / det;
        sum += std::exp(-0.5 * q);
      }
      const double exact = sum / (n * 2 * M_PI * std::sqrt(det));
      worst = std::max(worst, std::fabs(z[j * grid + i] - exact));
      peak = std::max(peak, exact);
    }
  // Linear binning on a 512-node grid moves mass by < 1/40 of a bandwidth here: its error is of
  // order (step / bandwidth)^2 ~ 1e-3 of the peak. 1% of the peak fails a wrong bandwidth or
  // covariance (those change the peak by tens of percent).
  EXPECT_LT(worst, 0.01 * peak);
}

// Contours of a standard 2-D Gaussian: the line holding mass m is the circle of radius
// sqrt(-2 ln(1 - m)), widened by the KDE's bandwidth to sqrt(1 + N^(-1/3)) times that.
TEST(PairplotDensity, ContoursEncloseTheRequestedMass) {
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  const int n = 20000, grid = 100;
  std::vector<double> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = normal(rng), y[i] = normal(rng);
  const plot::Range r{-4, 4};
  const std::vector<double> z = plot::kde_2d(x, y, r, r, grid);
  const std::vector<double> levels = {0.68, 0.95, 0.99};
  const std::vector<double> t = plot::mass_thresholds(z, levels);
  for (size_t l = 0; l < levels.size(); ++l) {
    const auto lines = plot::iso_lines(z, grid, grid, r, r, t[l]);
    ASSERT_EQ(lines.size(), 1u) << "level " << levels[l];
    ASSERT_GT(lines[0].size(), 20u);
    EXPECT_EQ(lines[0].front(), lines[0].back()) << "level " << levels[l] << " is not closed";
    double mean_radius = 0;
    for (const auto& p : lines[0]) mean_radius += std::hypot(p[0], p[1]) / lines[0].size();
    const double expected = std::sqrt(-2 * std::log(1 - levels[l]) * (1 + std::pow(n, -1.0 / 3)));
    // Monte Carlo error of these radii at N = 20000 is < 1% (the 99% line: ~200 samples beyond
    // it); the grid and the mass lost outside +-4 add < 0.5%. Mistaking the level for a density
    // fraction would give 0.88 instead of 1.54 for 68%.
    EXPECT_NEAR(mean_radius, expected, 0.02 * expected) << "level " << levels[l];
  }
}

TEST(PairplotDensity, HistogramAndBinRules) {
  std::vector<double> x(100);
  for (int i = 0; i < 100; ++i) x[i] = i;
  // numpy: IQR of 0..99 is 74.25 - 24.75 = 49.5; width 2 * 49.5 / 100^(1/3) = 21.33; 99 / 21.33
  // rounds up to 5 bins.
  EXPECT_EQ(plot::freedman_diaconis_bins(x, {0, 99}), 5);
  EXPECT_EQ(plot::freedman_diaconis_bins(std::vector<double>(10, 1.0), {0, 2}), 50);
  const std::vector<double> h = plot::histogram_density(x, {0, 99}, 5);
  double area = 0;
  for (double v : h) area += v * 99.0 / 5;
  EXPECT_NEAR(area, 1.0, 1e-12);                 // rounding only
  EXPECT_EQ(h.back(), 20.0 / (100 * 99.0 / 5));  // 79.2 .. 99 with the last edge included
}

TEST(PairplotTicks, NiceStepsAndLabels) {
  EXPECT_EQ(plot::nice_ticks({-3, 3}, 7), (std::vector<double>{-3, -2, -1, 0, 1, 2, 3}));
  EXPECT_EQ(plot::nice_ticks({-2, 2}, 3), (std::vector<double>{-2, 0, 2}));
  EXPECT_EQ(plot::nice_ticks({0.05, 0.95}, 3), (std::vector<double>{0.25, 0.5, 0.75}));
  EXPECT_EQ(plot::nice_ticks({-60, 300}, 3), (std::vector<double>{0, 200}));
  EXPECT_EQ(plot::nice_ticks({-0.0048, 0.0048}, 3), (std::vector<double>{-0.0025, 0, 0.0025}));
  EXPECT_EQ(plot::next_nice_step(0.0025), 0.004);  // next when "-0.0025" labels would touch
  EXPECT_EQ(plot::next_nice_step(5), 10);
  EXPECT_EQ(plot::nice_ticks({0.05, 0.95}, 1), (std::vector<double>{0.5}));
  EXPECT_EQ(plot::tick_label(0.1 + 0.2, 0.1), "0.3");
  EXPECT_EQ(plot::tick_label(-1e-17, 0.5), "0");
  EXPECT_EQ(plot::tick_label(-2, 1), "\u22122");
  EXPECT_EQ(plot::tick_label(1000, 250), "1000");
}

TEST_F(PairplotTest, RowsWithNanOrInfAreSkippedWithAWarning) {
  std::vector<std::string> warnings;
  const WarningHandler previous =
      set_warning_handler([&](const std::string& m) { warnings.push_back(m); });
  const float nan = std::nanf(""), inf = INFINITY;
  const Tensor s = Tensor::from({0, 1, nan, 2, 3, inf, 4, 5, 6, 7}, {5, 2}, Device::cpu());
  const Figure f = pairplot(s, {.figsize = {2, 2}});
  set_warning_handler(previous);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], "skipped 2 of 5 rows"));
  EXPECT_NO_THROW(f.save(dir_ / "ok.png"));
  const Tensor all_bad = Tensor::from({nan, 1, 2, inf}, {2, 2}, Device::cpu());
  EXPECT_TRUE(contains(error_of([&] { pairplot(all_bad); }), "every row"));
}

TEST_F(PairplotTest, ArgumentErrorsSayWhatToDo) {
  const Tensor s = column_samples({evenly(0, 1, 20), evenly(0, 1, 20)});
  EXPECT_TRUE(contains(error_of([&] {
                         pairplot(s, {.limits = {{0, 1}, {0, 1}, {0, 1}}});
                       }),
                       "limits has 3 entries for 2-dimensional"));
  EXPECT_TRUE(contains(error_of([&] {
                         pairplot(s, {.limits = {{0, 1}, {2, 2}}});
                       }),
                       "limits[1] = (2, 2)"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(s, {.limits = {{3, -3}}}); }), "low < high"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(s).save(dir_ / "figure.jpg"); }), "*.svg or *.png"));
  EXPECT_FALSE(fs::exists(dir_ / "figure.jpg"));
  EXPECT_TRUE(contains(error_of([&] {
                         pairplot(Tensor::from({1, 2, 3}, {3}, Device::cpu()));
                       }),
                       "2-D tensor (N, D)"));
  const Tensor three = Tensor::zeros({4, 3}, Device::cpu());
  EXPECT_TRUE(contains(error_of([&] {
                         pairplot({s, three});
                       }),
                       "samples[1] has 3 dimensions, samples[0] has 2"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(s, {.upper = "contours"}); }), "unknown upper"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(s, {.labels = {"a"}}); }), "1 labels for 2"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(s, {.points = {Tensor::zeros({3})}}); }),
                       "points[0] has shape (3,)"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(s, {.levels = {0.5, 1.0}}); }), "contour level 1"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(s, {.subset = {2}}); }), "subset entry 2"));
}

TEST_F(PairplotTest, SaveIsAtomicAndChoosesTheFormatByExtension) {
  const Figure f =
      pairplot(column_samples({evenly(0, 1, 20), evenly(0, 1, 20)}), {.figsize = {2, 2}});
  f.save(dir_ / "a.PNG");
  f.save(dir_ / "a.PNG");  // replaces the file
  f.save(dir_ / "b.svg");
  EXPECT_EQ(plot::read_png((dir_ / "a.PNG").string()).width, 200);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.PNG", "b.svg"}));  // no temporary left behind
  EXPECT_TRUE(contains(error_of([&] { f.save(dir_ / "missing" / "c.png"); }), "does not exist"));
}

// Writes a figure like the tutorial's (3 parameters, posterior samples around the true theta,
// limits [-2, 2]) when CUSBI_PAIRPLOT_DEMO is set, for a person to open.
// A build without cairo still lays figures out and checks arguments, and says how to draw.
TEST(PairplotWithoutCairo, DrawingSaysHowToGetADrawingBuild) {
  if (plot_available()) GTEST_SKIP() << "this build draws with cairo";
  const Tensor samples = Tensor::zeros({10, 2}, Device::cpu());
  const Figure f = pairplot(samples);
  EXPECT_GT(f.width_px(), 0);
  EXPECT_TRUE(contains(error_of([&] { f.save("/tmp/never_written.png"); }), "libcairo2-dev"));
  EXPECT_TRUE(contains(error_of([&] { pairplot(Tensor::zeros({10}, Device::cpu())); }), "2-D"));
}

TEST(PairplotDemo, WritesTutorialLikeFigureOnRequest) {
  if (!std::getenv("CUSBI_PAIRPLOT_DEMO")) GTEST_SKIP() << "set CUSBI_PAIRPLOT_DEMO=1 to write it";
  if (!plot_available()) GTEST_SKIP() << "built without cairo (CUSBI_PLOT)";
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  std::vector<float> post(3 * 5000), prior(3 * 5000);
  std::uniform_real_distribution<float> uniform(-2, 2);
  for (int i = 0; i < 5000; ++i) {
    const float a = normal(rng), b = normal(rng), c = normal(rng);
    post[3 * i] = 0.5f + 0.2f * a;
    post[3 * i + 1] = -0.4f + 0.2f * (0.7f * a + 0.71f * b);
    post[3 * i + 2] = 0.1f + 0.15f * c;
    for (int d = 0; d < 3; ++d) prior[3 * i + d] = uniform(rng);
  }
  const Tensor theta = Tensor::from({0.45f, -0.35f, 0.1f}, {3}, Device::cpu());
  const PairplotOptions options{.limits = {{-2, 2}},
                                .upper = "contour",
                                .labels = {"theta 1", "theta 2", "theta 3"},
                                .points = {theta},
                                .figsize = {6, 6},
                                .samples_labels = {"posterior", "prior"},
                                .points_labels = {"true theta"},
                                .title = "NPE posterior"};
  const Figure f = pairplot(
      {Tensor::from(post, {5000, 3}, Device::cpu()), Tensor::from(prior, {5000, 3}, Device::cpu())},
      options);
  f.save("/tmp/cusbi_pairplot_demo.png");
  f.save("/tmp/cusbi_pairplot_demo.svg");
  std::printf("wrote /tmp/cusbi_pairplot_demo.png and .svg\n");
}

}  // namespace
}  // namespace cusbi
