// NLE's construction, data intake and accessors (sbi's NLE_A.__init__ / append_simulations); the
// intake itself is the estimators' shared one (simulation_data.cpp), with NLE's policy.
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/mcmc.hpp"
#include "cusbi/potentials.hpp"
#include "host/inference/nle_state.hpp"

namespace cusbi {

NLE::NLE(const Distribution& prior, Device device) : NLE(prior, NsfOptions{}, device) {}

NLE::NLE(const Distribution& prior, const NsfOptions& nsf_options, Device device) {
  check_device_usable(device);
  impl_ = std::make_unique<detail::NleState>(prior, nsf_options, device);
}

NLE::~NLE() = default;
NLE::NLE(NLE&&) noexcept = default;
NLE& NLE::operator=(NLE&&) noexcept = default;

NLE& NLE::append_simulations(const Tensor& theta, const Tensor& x, bool exclude_invalid_x) {
  impl_->data.append(theta, x, exclude_invalid_x);
  return *this;
}

const TrainingSummary& NLE::summary() const { return impl_->training.summary; }

NeuralSplineFlow& NLE::density_estimator() { return impl_->trained_flow(); }
const NeuralSplineFlow& NLE::density_estimator() const { return impl_->trained_flow(); }

const Distribution& NLE::prior() const { return *impl_->prior; }
Device NLE::device() const { return impl_->device; }
const Tensor& NLE::theta() const { return impl_->data.theta(); }
const Tensor& NLE::x() const { return impl_->data.x(); }
int64_t NLE::num_simulations() const { return impl_->data.num_simulations(); }
const std::vector<int64_t>& NLE::train_indices() const { return impl_->training.train_indices; }
const std::vector<int64_t>& NLE::validation_indices() const {
  return impl_->training.validation_indices;
}

}  // namespace cusbi

namespace cusbi {

MCMCPosterior NLE::build_posterior(const MCMCOptions& options) const {
  const NeuralSplineFlow& flow = impl_->trained_flow();  // throws before train()
  auto [potential, transform] =
      likelihood_estimator_based_potential(flow, *impl_->prior, Tensor());  // a deep copy
  return MCMCPosterior(std::move(potential), *impl_->prior, std::move(transform), options);
}

}  // namespace cusbi
