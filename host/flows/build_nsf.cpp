// build_nsf: sbi's builder (sbi/neural_nets/net_builders/flow.py) — z-score statistics from the
// training data as sbi computes them (rows with NaN/Inf left out, unbiased std, floors 1e-14 for
// the input and 1e-7 for the condition, "structured" = one scalar mean and std), then the flow
// on the input's device.
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "host/flows/nsf_checks.hpp"

namespace cusbi {

namespace {

// sbi's standardizing_net keeps std = 1 when the batch has a single row (and logs a warning);
// the mean is that row (its average over features when structured).
Standardize single_row_zscore(const Tensor& data, bool structured) {
  std::vector<float> row = data.to_vector();
  const int64_t D = data.size(1);
  if (structured) {
    double s = 0.0;
    for (float v : row) s += v;
    row.assign(D, static_cast<float>(s / double(D)));
  }
  return Standardize(Tensor::from(row, {D}, data.device()), Tensor::ones({D}, data.device()));
}

Standardize fit_zscore(const Tensor& data, ZScore mode, float min_std, bool single_row_ones,
                       const char* side) {
  if (mode == ZScore::None) return Standardize();
  const bool structured = mode == ZScore::Structured;
  CUSBI_CHECK(!structured || data.size(1) >= 2, "build_nsf: structured z-scoring of the "
                                                    << side
                                                    << " needs at least 2 features "
                                                       "(a per-sample std), got "
                                                    << data.size(1) << "; use ZScore::Independent");
  if (single_row_ones && data.size(0) == 1) {
    check_finite(data, std::string("build_nsf: the single ") + side + " row");
    return single_row_zscore(data, structured);
  }
  return Standardize::fit(data, min_std, structured);
}

}  // namespace

NeuralSplineFlow build_nsf(const Tensor& input, const Tensor& condition, const NsfOptions& options,
                           Generator* generator) {
  CUSBI_CHECK(input.defined() && input.dim() == 2,
              "build_nsf: input has shape "
                  << (input.defined() ? shape_str(input.shape()) : "undefined")
                  << "; pass the training inputs as (N, D) (theta for NPE, x for NLE)");
  CUSBI_CHECK(condition.defined() && condition.dim() == 2,
              "build_nsf: condition has shape "
                  << (condition.defined() ? shape_str(condition.shape()) : "undefined")
                  << "; pass the training conditions as (N, C) (x for NPE, theta for NLE)");
  CUSBI_CHECK(input.size(0) == condition.size(0),
              "build_nsf: input has " << input.size(0) << " rows but condition has "
                                      << condition.size(0) << "; pass matching pairs");
  CUSBI_CHECK(input.device() == condition.device(),
              "build_nsf: input is on " << input.device().str() << " but condition on "
                                        << condition.device().str() << "; put both on one device");
  flows::check_nsf_options(input.size(1), condition.size(1), options);
  const Standardize in = fit_zscore(input, options.z_score_input, 1e-14f, false, "input");
  const Standardize cond =
      fit_zscore(condition, options.z_score_condition, 1e-7f, true, "condition");
  return NeuralSplineFlow(input.size(1), condition.size(1), options, in, cond, input.device(),
                          generator);
}

}  // namespace cusbi
