// SimulationData::append, sbi's append_simulations for every estimator, with NPE's or NLE's/NRE's
// invalid-row policy (InvalidRowPolicy). Invalid rows are found on the device (x - x is NaN
// exactly where x is NaN or +-inf, and a row sum keeps the NaN), so only one flag per row, and
// the invalid rows themselves for the message, come back to the host.
#include "host/inference/simulation_data.hpp"

#include <string>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/inference/zscore_warnings.hpp"

namespace cusbi::detail {

namespace {

void check_pair(const Tensor& theta, const Tensor& x, const SimulationData& d,
                const std::string& who) {
  CUSBI_CHECK(theta.defined() && theta.dim() == 2,
              who << ": theta has shape "
                  << (theta.defined() ? shape_str(theta.shape()) : "undefined")
                  << "; pass (num_simulations, " << d.dim_theta << ")");
  CUSBI_CHECK(x.defined() && x.dim() == 2,
              who << ": x has shape " << (x.defined() ? shape_str(x.shape()) : "undefined")
                  << "; pass (num_simulations, dim_x) (reshape({N, -1}) a 1-D or "
                     "multi-dimensional x)");
  CUSBI_CHECK(theta.size(1) == d.dim_theta,
              who << ": theta has " << theta.size(1) << " columns but the prior has " << d.dim_theta
                  << " dimensions; pass parameters drawn from the prior the " << d.estimator
                  << " was built with");
  CUSBI_CHECK(theta.size(0) == x.size(0),
              who << ": theta has " << theta.size(0) << " rows but x has " << x.size(0)
                  << "; pass one simulation output per parameter row (as simulate_for_sbi does)");
  CUSBI_CHECK(x.size(1) >= 1, who << ": x has no columns; the simulator must "
                                     "return at least one number per simulation");
}

struct InvalidRows {
  std::vector<int64_t> valid, invalid;
  int64_t nan_x = 0, inf_x = 0, bad_theta = 0;  // rows, counted as sbi counts them
};

// Rows of x or theta with any NaN or +-inf, classified on the host from those rows alone.
InvalidRows find_invalid_rows(const Tensor& theta, const Tensor& x) {
  InvalidRows r;
  const std::vector<float> flags = (sum(x - x, 1) + sum(theta - theta, 1)).to_vector();
  for (size_t i = 0; i < flags.size(); ++i)
    (flags[i] == 0.0f ? r.valid : r.invalid).push_back(static_cast<int64_t>(i));
  const int64_t C = x.size(1), D = theta.size(1);
  const std::vector<float> bad_x = take_rows(x, r.invalid).to_vector();
  const std::vector<float> bad_theta = take_rows(theta, r.invalid).to_vector();
  for (size_t i = 0; i < r.invalid.size(); ++i) {
    bool nan = false, inf = false, theta_bad = false;
    for (int64_t c = 0; c < C; ++c) {
      const float v = bad_x[i * C + c];
      nan |= v != v;
      inf |= v == v && v - v != 0.0f;
    }
    for (int64_t d = 0; d < D; ++d)
      theta_bad |= bad_theta[i * D + d] - bad_theta[i * D + d] != 0.0f;
    r.nan_x += nan;
    r.inf_x += inf;
    r.bad_theta += theta_bad;
  }
  return r;
}

std::string describe_invalid(const InvalidRows& r, int64_t total) {
  std::string s = "found " + std::to_string(r.nan_x) + " simulations with NaN and " +
                  std::to_string(r.inf_x) + " with Inf in x";
  if (r.bad_theta > 0) s += ", and " + std::to_string(r.bad_theta) + " with NaN/Inf in theta";
  return s + " (" + std::to_string(r.invalid.size()) + " of " + std::to_string(total) + " rows)";
}

// The note that dropping invalid rows biases an NLE or NRE (sbi: "systematically wrong results").
std::string biased_warning(const std::string& estimator) {
  return "; dropping invalid simulations gives systematically wrong (biased) results for " +
         estimator + " and is only recommended for expert users";
}

}  // namespace

void SimulationData::append(const Tensor& theta_in, const Tensor& x_in, bool exclude_invalid_x) {
  const std::string who = estimator + ".append_simulations";
  check_pair(theta_in, x_in, *this, who);
  Tensor theta = theta_in.to(device), x = x_in.to(device);
  const int64_t n = theta.size(0);
  CUSBI_CHECK(n > 0, who << ": got 0 simulations; pass at least one pair");
  const bool raises = policy == InvalidRowPolicy::kRaiseOrBiased;
  if (!all_finite(x) || !all_finite(theta)) {
    const InvalidRows r = find_invalid_rows(theta, x);
    CUSBI_CHECK(exclude_invalid_x || !raises,
                who << ": " << describe_invalid(r, n) << "; " << estimator
                    << " does not allow invalid simulations. Replace the invalid values with an "
                       "unreasonably low or high value, or pass exclude_invalid_x = true to drop "
                       "those rows (the results may then be biased)");
    if (exclude_invalid_x) {
      CUSBI_CHECK(!r.valid.empty(),
                  who << ": " << describe_invalid(r, n)
                      << ": no valid simulation is left; check the simulator and the prior");
      warn(who + ": " + describe_invalid(r, n) + "; they are excluded from training" +
           (raises ? biased_warning(estimator) : ""));
      theta = take_rows(theta, r.valid);
      x = take_rows(x, r.valid);
    } else {
      warn(who + ": " + describe_invalid(r, n) +
           " kept because exclude_invalid_x is false; training will fail on them");
      invalid_rows_ += static_cast<int64_t>(r.invalid.size());
    }
  } else if (exclude_invalid_x && raises) {
    // sbi's NLE and NRE warn whenever the flag is set, whether or not a row is dropped.
    warn(who + ": exclude_invalid_x = true" + biased_warning(estimator));
  }
  warn_if_invalid_for_zscoring(x, who);
  if (theta_.defined()) {
    CUSBI_CHECK(x.size(1) == x_.size(1), who << ": x has " << x.size(1)
                                             << " columns but the simulations appended before "
                                                "have "
                                             << x_.size(1)
                                             << "; every simulation must have the same size");
    theta = cat({theta_, theta});
    x = cat({x_, x});
  }
  theta_ = theta;
  x_ = x;
}

}  // namespace cusbi::detail
