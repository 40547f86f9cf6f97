// sbibm's published C2ST results (Lueckmann et al., AISTATS 2021; sbi-benchmark/results
// main_paper.csv, aggregated as in ../shared/spec/validation.md §2e): mean and sd over the 10
// observations of one run each, and the median runtime of a run in minutes on a single CPU core.
// The yardstick the validation program prints beside cusbi's numbers.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace cusbi_validation {

struct PublishedCell {
  double c2st_mean = 0.0;
  double c2st_sd = 0.0;
  std::optional<double> runtime_minutes;  // median per run; absent where the paper gives none
};

// task: sbibm's name; algorithm: "npe", "nle" or "nre"; num_simulations: 1000, 10000 or 100000.
// Empty for a cell the paper does not report.
std::optional<PublishedCell> published_cell(const std::string& task, const std::string& algorithm,
                                            int64_t num_simulations);

}  // namespace cusbi_validation
