// The (theta, x) simulations a trainer holds, and their intake (sbi's append_simulations), shared
// by every estimator (NPE, NLE, and NRE next): shape checks, rows with NaN/Inf handled by the
// estimator's policy (dropped with sbi's counts in a warning, kept and counted so that train()
// refuses them, or refused at once), sbi's z-scoring warnings on x, and appending.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "cusbi/tensor.hpp"

namespace cusbi::detail {

// What append does with rows whose x or theta holds NaN or +-inf when exclude_invalid_x is false
// (with it, both drop them). sbi's NPE only warns and leaves train() to fail; NLE and NRE
// (nle_nre_apt_msg_on_invalid_x) raise, since dropping the rows biases a likelihood or ratio
// estimate (Gloeckler et al. 2021), and warn about that bias even when the flag is set.
enum class InvalidRowPolicy {
  kKeepAndCount,   // NPE: keep, count in invalid_rows(), train() refuses
  kRaiseOrBiased,  // NLE, NRE: throw; with exclude_invalid_x, drop and warn of the bias
};

class SimulationData {
 public:
  // `estimator` names the owner in messages ("NPE": "NPE.append_simulations: ...").
  SimulationData(std::string estimator, int64_t dim_theta, Device device,
                 InvalidRowPolicy policy = InvalidRowPolicy::kKeepAndCount)
      : estimator(std::move(estimator)), dim_theta(dim_theta), device(device), policy(policy) {}

  // theta (N, dim_theta), x (N, C), any device (copied to `device` when elsewhere). With
  // exclude_invalid_x, rows whose x or theta holds NaN or +-inf are dropped with a warning;
  // without it `policy` decides (see InvalidRowPolicy).
  void append(const Tensor& theta, const Tensor& x, bool exclude_invalid_x);

  int64_t num_simulations() const { return theta_.defined() ? theta_.size(0) : 0; }
  const Tensor& theta() const { return theta_; }  // (N, D) on device; undefined before append
  const Tensor& x() const { return x_; }          // (N, C) on device; undefined before append
  int64_t invalid_rows() const { return invalid_rows_; }

  std::string estimator;
  int64_t dim_theta;
  Device device;
  InvalidRowPolicy policy;

 private:
  Tensor theta_, x_;
  int64_t invalid_rows_ = 0;  // rows with NaN/Inf kept by exclude_invalid_x = false
};

}  // namespace cusbi::detail
