// NRE: construction, intake, sbi's num_atoms clamping, training through the shared loop, and the
// MCMC posterior over the ratio potential.
#include <algorithm>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/potentials.hpp"
#include "cusbi/progress.hpp"
#include "host/inference/nre_state.hpp"

namespace cusbi {

namespace {

void check_nre_options(const NreOptions& o) {
  CUSBI_CHECK(o.num_atoms >= 2, "NRE: num_atoms must be >= 2, got " << o.num_atoms);
  CUSBI_CHECK(o.num_classes >= 2, "NRE_C: num_classes must be >= 2, got " << o.num_classes);
  CUSBI_CHECK(o.gamma > 0.0f, "NRE_C: gamma must be > 0, got " << o.gamma);
  CUSBI_CHECK(o.regularization_strength >= 0.0f,
              "BNRE: regularization_strength must be >= 0, got " << o.regularization_strength);
  CUSBI_CHECK(o.classifier == "resnet" || o.classifier == "mlp" || o.classifier == "linear",
              "NRE: unknown classifier '" << o.classifier
                                          << "'; use \"resnet\" (sbi's default), \"mlp\" or "
                                             "\"linear\"");
}

// sbi's clamp of num_atoms to [2, min(training batch, validation batch)], with its warning.
int64_t clamped_atoms(const NreOptions& o, int64_t simulations, const TrainOptions& t) {
  const int64_t wanted = o.variant == NreVariant::B   ? o.num_atoms
                         : o.variant == NreVariant::C ? o.num_classes + 1
                                                      : 2;
  const int64_t n_train = static_cast<int64_t>((1.0 - t.validation_fraction) * simulations);
  const int64_t n_val = simulations - n_train;
  const int64_t most =
      std::min(std::min(t.training_batch_size, n_train), std::min(t.training_batch_size, n_val));
  const int64_t atoms = std::clamp<int64_t>(wanted, 2, std::max<int64_t>(2, most));
  if (atoms != wanted)
    warn("NRE: num_atoms = " + std::to_string(wanted) + " is more than the batches hold; using " +
         std::to_string(atoms) + " (sbi clamps it to the training and validation batch sizes)");
  return o.variant == NreVariant::C ? atoms - 1 : atoms;  // NRE_C counts classes
}

}  // namespace

NRE::NRE(const Distribution& prior, Device device) : NRE(prior, NreOptions{}, device) {}

NRE::NRE(const Distribution& prior, const NreOptions& options, Device device) {
  check_device_usable(device);
  check_nre_options(options);
  impl_ = std::make_unique<detail::NreState>(prior, options, device);
}

NRE::~NRE() = default;
NRE::NRE(NRE&&) noexcept = default;
NRE& NRE::operator=(NRE&&) noexcept = default;

NRE& NRE::append_simulations(const Tensor& theta, const Tensor& x, bool exclude_invalid_x) {
  impl_->data.append(theta, x, exclude_invalid_x);
  return *this;
}

RatioClassifier& NRE::train(const TrainOptions& options) {
  detail::NreState& s = *impl_;
  s.estimator.set_num_atoms(
      clamped_atoms(s.estimator.options(), s.data.num_simulations(), options));
  detail::train_estimator(s.estimator, s.data, s.training, options);
  return *s.estimator.classifier;
}

MCMCPosterior NRE::build_posterior(const MCMCOptions& options) const {
  CUSBI_CHECK(impl_->estimator.classifier != nullptr,
              "NRE.build_posterior: no classifier yet; call append_simulations(theta, x) and "
              "train() first");
  auto [potential, transform] =  // a deep copy: later training does not change the posterior
      ratio_estimator_based_potential(*impl_->estimator.classifier, *impl_->prior, Tensor());
  return MCMCPosterior(std::move(potential), *impl_->prior, std::move(transform), options);
}

const TrainingSummary& NRE::summary() const { return impl_->training.summary; }
RatioClassifier& NRE::classifier() {
  CUSBI_CHECK(impl_->estimator.classifier != nullptr,
              "NRE: no classifier yet; call append_simulations(theta, x) and train() first");
  return *impl_->estimator.classifier;
}
const Distribution& NRE::prior() const { return *impl_->prior; }
Device NRE::device() const { return impl_->device; }
const NreOptions& NRE::options() const { return impl_->estimator.options(); }
const Tensor& NRE::theta() const { return impl_->data.theta(); }
const Tensor& NRE::x() const { return impl_->data.x(); }
int64_t NRE::num_simulations() const { return impl_->data.num_simulations(); }
int64_t NRE::num_atoms() const { return impl_->estimator.num_atoms(); }

NRE NRE_A(const Distribution& prior, Device device) {
  return NRE(prior, NreOptions{.variant = NreVariant::A}, device);
}
NRE NRE_C(const Distribution& prior, int64_t num_classes, float gamma, Device device) {
  return NRE(prior,
             NreOptions{.variant = NreVariant::C, .num_classes = num_classes, .gamma = gamma},
             device);
}
NRE BNRE(const Distribution& prior, float regularization_strength, Device device) {
  return NRE(
      prior,
      NreOptions{.variant = NreVariant::BNRE, .regularization_strength = regularization_strength},
      device);
}

}  // namespace cusbi
