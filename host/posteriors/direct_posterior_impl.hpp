// DirectPosterior's state and the observation handling its methods share (private to
// host/posteriors/). The caches (leakage factor, MAP) belong to the default x and are dropped
// whenever it changes.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "cusbi/posteriors.hpp"
#include "cusbi/potentials.hpp"

namespace cusbi {

struct DirectPosterior::Impl {
  std::shared_ptr<NeuralSplineFlow> estimator;
  std::unique_ptr<Distribution> prior;  // on the estimator's device
  ThetaTransform transform;
  // sbi's posterior_estimator_based_potential of the estimator and prior; its x is the default x
  // once one is set (map() and potential() use it).
  std::shared_ptr<Potential> potential;
  Tensor default_x;              // (1, C) or undefined
  std::optional<float> leakage;  // Z at the default x
  Tensor map;                    // (1, D) MAP at the default x, or undefined
  std::vector<float> last_rates;

  Device device() const { return estimator->device(); }
  int64_t theta_dim() const { return estimator->input_features(); }
  int64_t x_dim() const { return estimator->condition_features(); }

  // xs (B, C), or (C,) as one row: checked (width, finite) and copied to the device.
  Tensor observations(const Tensor& xs, const char* who) const;
  // x (C,) or (1, C), or the default x when x is undefined: (1, C) on the device. `who` names
  // the method in messages ("sample", "log_prob", ...); batch > 1 points to `batched`.
  Tensor single_observation(const Tensor& x, const char* who, const char* batched) const;
  // sbi's posterior potential: log q(theta | x) for theta (N, D), x (1, C), -inf outside the
  // prior's support, no leakage correction; returns (N,).
  Tensor masked_log_prob(const Tensor& theta, const Tensor& x) const;
  // Whether x (1, C) holds the default x's values.
  bool is_default_x(const Tensor& x) const;
};

}  // namespace cusbi
