// NPE's state, shared by the files of host/inference/: the intake (npe.cpp), the training loop
// (npe_train.cpp) and build_posterior (npe_posterior.cpp). The early-stopping fields mirror
// sbi's trainer attributes (epoch, _val_loss, _best_val_loss, _epochs_since_last_improvement,
// _best_model_state_dict) because resume_training carries exactly these over.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "cusbi/inference.hpp"

namespace cusbi {

namespace detail {

struct NpeState {
  std::unique_ptr<Distribution> prior;  // on `device`
  NsfOptions nsf_options;
  Device device;

  Tensor theta, x;           // (N, D), (N, C) on device; undefined before the first append
  int64_t invalid_rows = 0;  // rows with NaN/Inf kept by exclude_invalid_x = false

  std::vector<int64_t> train_indices, validation_indices;
  std::unique_ptr<NeuralSplineFlow> flow;
  std::optional<Adam> optimizer;
  Tensor best_parameters;  // flat copy of the best epoch's parameters, preallocated once

  int64_t epoch = 0;
  double validation_loss = std::numeric_limits<double>::infinity();
  double best_validation_loss = std::numeric_limits<double>::infinity();
  int64_t epochs_since_improvement = 0;
  bool has_best = false;

  TrainingSummary summary;

  NpeState(const Distribution& p, const NsfOptions& options, Device d)
      : prior(p.to(d)), nsf_options(options), device(d) {}
};

}  // namespace detail
}  // namespace cusbi
