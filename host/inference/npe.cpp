// NPE's construction, data intake and accessors (sbi's NPE_C.__init__ / append_simulations);
// the intake itself is the estimators' shared one (simulation_data.cpp).
#include <cstdio>
#include <string>
#include <vector>

#include "cusbi/error.hpp"
#include "host/inference/npe_state.hpp"

namespace cusbi {

NPE::NPE(const Distribution& prior, Device device) : NPE(prior, NsfOptions{}, device) {}

NPE::NPE(const Distribution& prior, const NsfOptions& nsf_options, Device device) {
  check_device_usable(device);
  impl_ = std::make_unique<detail::NpeState>(prior, nsf_options, device);
}

NPE::~NPE() = default;
NPE::NPE(NPE&&) noexcept = default;
NPE& NPE::operator=(NPE&&) noexcept = default;

NPE& NPE::append_simulations(const Tensor& theta, const Tensor& x, bool exclude_invalid_x) {
  impl_->data.append(theta, x, exclude_invalid_x);
  return *this;
}

const TrainingSummary& NPE::summary() const { return impl_->training.summary; }

NeuralSplineFlow& NPE::density_estimator() { return impl_->trained_flow(); }
const NeuralSplineFlow& NPE::density_estimator() const { return impl_->trained_flow(); }

const Distribution& NPE::prior() const { return *impl_->prior; }
Device NPE::device() const { return impl_->device; }
const Tensor& NPE::theta() const { return impl_->data.theta(); }
const Tensor& NPE::x() const { return impl_->data.x(); }
int64_t NPE::num_simulations() const { return impl_->data.num_simulations(); }
const std::vector<int64_t>& NPE::train_indices() const { return impl_->training.train_indices; }
const std::vector<int64_t>& NPE::validation_indices() const {
  return impl_->training.validation_indices;
}

std::string describe_round(const TrainingSummary& summary, int64_t round) {
  CUSBI_CHECK(round >= 0 && round < static_cast<int64_t>(summary.epochs_trained.size()),
              "describe_round: round " << round << " is not in the summary, which has "
                                       << summary.epochs_trained.size() << " rounds");
  char best[64];
  std::snprintf(best, sizeof best, "%.4f",
                summary.best_validation_loss[static_cast<size_t>(round)]);
  return "-------------------------\n||||| ROUND " + std::to_string(round + 1) +
         " STATS |||||:\n-------------------------\nEpochs trained: " +
         std::to_string(summary.epochs_trained[static_cast<size_t>(round)]) +
         "\nBest validation performance: " + best + "\n-------------------------\n";
}

}  // namespace cusbi
