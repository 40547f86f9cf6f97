// Input checks, z-scoring and fold sizes of C2ST (see the header).
#include "host/metrics/c2st_data.hpp"

#include <cmath>

#include "cusbi/error.hpp"

namespace cusbi::metrics {

void check_c2st_inputs(const Tensor& x, const Tensor& y, const C2stOptions& o) {
  CUSBI_CHECK(x.defined() && y.defined(), "c2st: X or Y is an undefined tensor");
  CUSBI_CHECK(x.dtype() == DType::Float32 && y.dtype() == DType::Float32,
              "c2st: X is " << dtype_name(x.dtype()) << " and Y " << dtype_name(y.dtype())
                            << "; pass float32 samples");
  CUSBI_CHECK(x.dim() == 2 && y.dim() == 2,
              "c2st: X has shape " << shape_str(x.shape()) << " and Y " << shape_str(y.shape())
                                   << "; pass (num_samples, dim) matrices");
  CUSBI_CHECK(x.size(1) == y.size(1) && x.size(1) >= 1,
              "c2st: X has " << x.size(1) << " columns and Y " << y.size(1)
                             << "; both sets need the same dimension >= 1");
  CUSBI_CHECK(x.device() == y.device(), "c2st: X is on " << x.device().str() << " and Y on "
                                                         << y.device().str()
                                                         << "; move both to one device");
  CUSBI_CHECK(o.folds >= 2, "c2st: folds is " << o.folds << "; pass folds >= 2");
  CUSBI_CHECK(x.size(0) + y.size(0) >= o.folds,
              "c2st: " << x.size(0) + y.size(0) << " samples in all cannot fill " << o.folds
                       << " folds; pass more samples or fewer folds");
  CUSBI_CHECK(!o.z_score || x.size(0) >= 2,
              "c2st: z-scoring needs at least 2 rows of X to estimate its std, got "
                  << x.size(0) << "; pass more samples or set z_score = false");
  CUSBI_CHECK(
      o.hidden_multiplier >= 1 && o.max_epochs >= 1 && o.batch_size >= 1 && o.n_iter_no_change >= 0,
      "c2st: hidden_multiplier, max_epochs and batch_size must be >= 1 and "
      "n_iter_no_change >= 0");
  CUSBI_CHECK(o.learning_rate > 0.0f && std::isfinite(o.learning_rate) && o.l2 >= 0.0f &&
                  std::isfinite(o.l2) && o.tol >= 0.0f && std::isfinite(o.tol),
              "c2st: learning_rate must be > 0 and l2, tol >= 0 (all finite); got learning_rate "
                  << o.learning_rate << ", l2 " << o.l2 << ", tol " << o.tol);
  check_finite(x, "c2st: X");
  check_finite(y, "c2st: Y");
}

void z_score(const Tensor& x, const Tensor& y, Tensor& x_out, Tensor& y_out) {
  const int64_t n = x.size(0), d = x.size(1);
  const std::vector<float> v = x.to_vector();
  std::vector<float> mean(static_cast<size_t>(d)), std(static_cast<size_t>(d));
  for (int64_t j = 0; j < d; ++j) {
    double m = 0.0, s = 0.0;
    for (int64_t i = 0; i < n; ++i) m += v[static_cast<size_t>(i * d + j)];
    m /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) {
      const double e = v[static_cast<size_t>(i * d + j)] - m;
      s += e * e;
    }
    s = std::sqrt(s / static_cast<double>(n - 1));
    CUSBI_CHECK(s > 0.0 && std::isfinite(s),
                "c2st: column " << j << " of X has zero variance, so z-scoring with X's std "
                                << "is undefined; drop the column or set z_score = false");
    mean[static_cast<size_t>(j)] = static_cast<float>(m);
    std[static_cast<size_t>(j)] = static_cast<float>(s);
  }
  const Tensor mu = Tensor::from(mean, {d}, x.device()), sd = Tensor::from(std, {d}, x.device());
  x_out = (x - mu) / sd;
  y_out = (y - mu) / sd;
}

std::vector<int64_t> kfold_sizes(int64_t n, int64_t folds) {
  std::vector<int64_t> sizes(static_cast<size_t>(folds), n / folds);
  for (int64_t k = 0; k < n % folds; ++k) ++sizes[static_cast<size_t>(k)];
  return sizes;
}

}  // namespace cusbi::metrics
