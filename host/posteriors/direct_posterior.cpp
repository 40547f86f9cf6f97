// DirectPosterior construction, default x and accessors, and the observation checks every
// method shares (sbi's DirectPosterior.__init__, set_default_x, _x_else_default_x and
// reshape_to_batch_event with check_finite_x).
#include <utility>

#include "cusbi/error.hpp"
#include "host/posteriors/direct_posterior_impl.hpp"

namespace cusbi {

Tensor DirectPosterior::Impl::observations(const Tensor& xs, const char* who) const {
  CUSBI_CHECK(xs.defined(),
              who << ": no observations given; pass xs of shape (B, " << x_dim() << ")");
  const int64_t width = xs.dim() == 0 ? 1 : xs.size(-1);
  CUSBI_CHECK(xs.dim() >= 1 && xs.dim() <= 2 && width == x_dim(),
              who << ": observation has " << width << " elements, the estimator was trained on "
                  << x_dim() << " (x has shape " << shape_str(xs.shape()) << "); pass x of shape ("
                  << x_dim() << ",) or (B, " << x_dim() << ")");
  const Tensor rows = xs.reshape({-1, x_dim()}).to(device());
  CUSBI_CHECK(rows.size(0) >= 1, who << ": got an empty batch of observations (shape "
                                     << shape_str(xs.shape()) << "); pass at least one");
  CUSBI_CHECK(all_finite(rows),
              who << ": the observation holds NaN or +-inf; the posterior is "
                     "defined only for finite x (remove or impute those entries)");
  return rows;
}

Tensor DirectPosterior::Impl::single_observation(const Tensor& x, const char* who,
                                                 const char* batched) const {
  if (!x.defined()) {
    CUSBI_CHECK(default_x.defined(), who << ": no observation given and no default x set; pass "
                                            "x or call set_default_x(x) first");
    return default_x;
  }
  const Tensor rows = observations(x, who);
  CUSBI_CHECK(rows.size(0) == 1, who << " takes one observation, got a batch of " << rows.size(0)
                                     << " (shape " << shape_str(x.shape()) << "); use " << batched
                                     << " for several observations");
  return rows;
}

Tensor DirectPosterior::Impl::masked_log_prob(const Tensor& theta, const Tensor& x) const {
  const int64_t n = theta.size(0);
  const Tensor lp = estimator->log_prob(theta, x).reshape({n});  // (1, N) -> (N,)
  return lp + log(prior->support_mask(theta));                   // log 0 = -inf outside
}

bool DirectPosterior::Impl::is_default_x(const Tensor& x) const {
  if (!default_x.defined()) return false;
  if (x.shares_memory_with(default_x)) return true;  // sbi's identity check, then the values
  return x.to_vector() == default_x.to_vector();
}

DirectPosterior::DirectPosterior(std::shared_ptr<NeuralSplineFlow> estimator,
                                 const Distribution& prior)
    : impl_(std::make_unique<Impl>()) {
  CUSBI_CHECK(estimator != nullptr, "DirectPosterior: the estimator is null; pass a trained flow");
  CUSBI_CHECK(prior.event_size() == estimator->input_features(),
              "DirectPosterior: the prior has " << prior.event_size()
                                                << " dimensions, the estimator models "
                                                << estimator->input_features()
                                                << "; pass the prior the estimator was trained "
                                                   "with");
  impl_->estimator = std::move(estimator);
  impl_->prior = prior.to(impl_->device());
  auto [potential, transform] =
      posterior_estimator_based_potential(impl_->estimator, *impl_->prior, Tensor());
  impl_->potential = std::move(potential);
  impl_->transform = std::move(transform);
}

DirectPosterior::DirectPosterior(const NeuralSplineFlow& estimator, const Distribution& prior)
    : DirectPosterior(std::make_shared<NeuralSplineFlow>(estimator.clone()), prior) {}

DirectPosterior::~DirectPosterior() = default;
DirectPosterior::DirectPosterior(DirectPosterior&&) noexcept = default;
DirectPosterior& DirectPosterior::operator=(DirectPosterior&&) noexcept = default;

DirectPosterior& DirectPosterior::set_default_x(const Tensor& x) {
  const Tensor rows = impl_->observations(x, "set_default_x");
  CUSBI_CHECK(rows.size(0) == 1, "set_default_x takes one observation, got a batch of "
                                     << rows.size(0) << " (shape " << shape_str(x.shape())
                                     << "); pass one row");
  // A private copy: later writes to the caller's tensor must not change the cached results.
  impl_->default_x = rows.clone();
  impl_->potential->set_x(impl_->default_x);
  impl_->leakage.reset();
  impl_->map = Tensor();
  return *this;
}

const Tensor& DirectPosterior::default_x() const { return impl_->default_x; }

const std::vector<float>& DirectPosterior::last_acceptance_rates() const {
  return impl_->last_rates;
}

NeuralSplineFlow& DirectPosterior::estimator() { return *impl_->estimator; }
const NeuralSplineFlow& DirectPosterior::estimator() const { return *impl_->estimator; }
std::shared_ptr<NeuralSplineFlow> DirectPosterior::shared_estimator() const {
  return impl_->estimator;
}
const Distribution& DirectPosterior::prior() const { return *impl_->prior; }
const ThetaTransform& DirectPosterior::theta_transform() const { return impl_->transform; }
Device DirectPosterior::device() const { return impl_->device(); }
std::shared_ptr<Potential> DirectPosterior::potential() const { return impl_->potential; }

}  // namespace cusbi
