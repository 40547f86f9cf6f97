// The (theta, x) simulations a trainer holds, and their intake (sbi's append_simulations), shared
// by every estimator (NPE today, NLE and NRE next): shape checks, rows with NaN/Inf dropped with
// sbi's counts in the warning (or kept and counted, so that train() refuses them), sbi's
// z-scoring warnings on x, and appending to what was held before.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "cusbi/tensor.hpp"

namespace cusbi::detail {

class SimulationData {
 public:
  // `estimator` names the owner in messages ("NPE": "NPE.append_simulations: ...").
  SimulationData(std::string estimator, int64_t dim_theta, Device device)
      : estimator(std::move(estimator)), dim_theta(dim_theta), device(device) {}

  // theta (N, dim_theta), x (N, C), any device (copied to `device` when elsewhere). With
  // exclude_invalid_x, rows whose x or theta holds NaN or +-inf are dropped with a warning;
  // without it they are kept, counted in invalid_rows, and train() refuses to run on them.
  void append(const Tensor& theta, const Tensor& x, bool exclude_invalid_x);

  int64_t num_simulations() const { return theta_.defined() ? theta_.size(0) : 0; }
  const Tensor& theta() const { return theta_; }  // (N, D) on device; undefined before append
  const Tensor& x() const { return x_; }          // (N, C) on device; undefined before append
  int64_t invalid_rows() const { return invalid_rows_; }

  std::string estimator;
  int64_t dim_theta;
  Device device;

 private:
  Tensor theta_, x_;
  int64_t invalid_rows_ = 0;  // rows with NaN/Inf kept by exclude_invalid_x = false
};

}  // namespace cusbi::detail
