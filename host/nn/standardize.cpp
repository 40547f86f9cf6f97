// Standardize: sbi's z-scoring y = (x - mean) / std per column. The statistics are computed on
// the CPU in double (sbi computes them once, on the training split, before training), the
// per-element maps run on the data's device through kernels/nn.h.
#include <cmath>
#include <vector>

#include "cusbi/nn.hpp"
#include "host/nn/checks.hpp"

namespace cusbi {

Standardize::Standardize(Tensor mean, Tensor std) : mean_(std::move(mean)), std_(std::move(std)) {
  CUSBI_CHECK(mean_.defined() && std_.defined() && mean_.dim() == 1 && std_.dim() == 1 &&
                  mean_.numel() == std_.numel(),
              "Standardize needs mean and std of equal shape (D,), got "
                  << (mean_.defined() ? shape_str(mean_.shape()) : "undefined") << " and "
                  << (std_.defined() ? shape_str(std_.shape()) : "undefined"));
  CUSBI_CHECK(mean_.device() == std_.device(),
              "Standardize: mean is on " << mean_.device().str() << " but std on "
                                         << std_.device().str() << "; put both on one device");
  double log_det = 0.0;
  const std::vector<float> s = std_.to_vector(), m = mean_.to_vector();
  for (size_t j = 0; j < s.size(); ++j) {
    CUSBI_CHECK(s[j] > 0.0f && std::isfinite(s[j]) && std::isfinite(m[j]),
                "Standardize: feature " << j << " has mean " << m[j] << " and std " << s[j]
                                        << "; std must be finite and > 0, mean finite");
    log_det -= std::log(static_cast<double>(s[j]));
  }
  log_abs_det_ = static_cast<float>(log_det);
}

Standardize Standardize::fit(const Tensor& data, float min_std, bool structured) {
  CUSBI_CHECK(data.defined() && data.dim() == 2,
              "Standardize.fit needs data of shape (N, D), got "
                  << (data.defined() ? shape_str(data.shape()) : "undefined"));
  const int64_t N = data.size(0), D = data.size(1);
  const std::vector<float> x = data.to_vector();
  // sbi's handle_invalid_x: rows holding any NaN or +-inf take no part in the statistics.
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < N; ++i) {
    bool valid = true;
    for (int64_t j = 0; j < D; ++j) valid = valid && std::isfinite(x[i * D + j]);
    if (valid) rows.push_back(i);
  }
  const int64_t n = static_cast<int64_t>(rows.size());
  CUSBI_CHECK(n >= 2, "Standardize.fit: " << n << " of " << N
                                          << " rows are finite; an unbiased std needs at least "
                                             "2 (remove NaN/inf rows or add data)");
  CUSBI_CHECK(D >= 1,
              "Standardize.fit: data has no features (shape " << shape_str(data.shape()) << ")");
  std::vector<float> mean(D), std(D);
  if (!structured) {
    for (int64_t j = 0; j < D; ++j) {
      double sum = 0.0, sq = 0.0;
      for (int64_t i : rows) sum += x[i * D + j];
      const double mu = sum / n;
      for (int64_t i : rows) sq += (x[i * D + j] - mu) * (x[i * D + j] - mu);
      const double sd = std::sqrt(sq / (n - 1));
      mean[j] = static_cast<float>(mu);
      std[j] = static_cast<float>(sd < min_std ? min_std : sd);
    }
  } else {
    // One scalar mean over all entries; std = average over rows of each row's own std (dim 1),
    // each floored at min_std first (sbi's structured_dims).
    CUSBI_CHECK(D >= 2,
                "Standardize.fit(structured): a per-row std needs at least 2 features, "
                "got "
                    << D << "; use structured = false");
    double total = 0.0, std_sum = 0.0;
    for (int64_t i : rows)
      for (int64_t j = 0; j < D; ++j) total += x[i * D + j];
    for (int64_t i : rows) {
      double s = 0.0, sq = 0.0;
      for (int64_t j = 0; j < D; ++j) s += x[i * D + j];
      const double mu = s / D;
      for (int64_t j = 0; j < D; ++j) sq += (x[i * D + j] - mu) * (x[i * D + j] - mu);
      const double sd = std::sqrt(sq / (D - 1));
      std_sum += sd < min_std ? min_std : sd;
    }
    for (int64_t j = 0; j < D; ++j) {
      mean[j] = static_cast<float>(total / (static_cast<double>(n) * D));
      std[j] = static_cast<float>(std_sum / n);
    }
  }
  return Standardize(Tensor::from(mean, {D}, data.device()), Tensor::from(std, {D}, data.device()));
}

void Standardize::to(Device device) {
  mean_ = mean_.to(device);
  std_ = std_.to(device);
}

void Standardize::apply(int mode, const Tensor& in, Tensor& out, const char* who) const {
  CUSBI_CHECK(mean_.defined(), who << ": the Standardize is empty; construct it from mean and std "
                                      "or with Standardize::fit");
  const int64_t D = features();
  nn::check_matrix(in, who, "input", -1, D);
  nn::check_matrix(out, who, "output", in.size(0), D);
  nn::check_device(in, mean_.device(), who, "input");
  nn::check_device(out, mean_.device(), who, "output");
  const auto m = static_cast<kern::StandardizeMode>(mode);
  const int64_t rows = in.size(0);
  if (rows == 0) return;
  nn::dispatch(mean_.device(), [&](auto& ex) {
    ex.standardize(m, rows, D, in.data(), mean_.data(), std_.data(), out.data());
  });
}

void Standardize::forward(const Tensor& x, Tensor& y) const {
  apply(static_cast<int>(kern::StandardizeMode::kForward), x, y, "Standardize.forward");
}
void Standardize::inverse(const Tensor& y, Tensor& x) const {
  apply(static_cast<int>(kern::StandardizeMode::kInverse), y, x, "Standardize.inverse");
}
void Standardize::backward(const Tensor& dy, Tensor& dx) const {
  apply(static_cast<int>(kern::StandardizeMode::kBackward), dy, dx, "Standardize.backward");
}

}  // namespace cusbi
