// MCMCPosterior: construction, observation handling, log_prob, MAP, diagnostics and accessors.
// Sampling itself is in mcmc_sampling.cpp.
#include <utility>

#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "host/mcmc/mcmc_posterior_impl.hpp"
#include "host/posteriors/gradient_ascent.hpp"

namespace cusbi {

void check_mcmc_options(const MCMCOptions& o) {
  CUSBI_CHECK(o.num_chains >= 1, "MCMC: num_chains must be >= 1, got " << o.num_chains);
  CUSBI_CHECK(o.thin >= 1 || o.thin == -1,
              "MCMC: thin must be >= 1 (or sbi's -1, meaning 1), got " << o.thin);
  CUSBI_CHECK(o.warmup_steps >= 0, "MCMC: warmup_steps must be >= 0, got " << o.warmup_steps);
  CUSBI_CHECK(o.method == "slice_np_vectorized",
              "MCMC: method '" << o.method
                               << "' is not available; cusbi implements sbi's default "
                                  "\"slice_np_vectorized\" (many chains in lockstep)");
}

void MCMCPosterior::Impl::use_x(const Tensor& x) {
  if (x.defined()) {
    potential->set_x(x);
  } else if (default_x.defined()) {
    potential->set_x(default_x);
  } else {
    CUSBI_CHECK(!paired,
                "MCMC: no x given and no default x set (the potential still holds "
                "sample_batched's observations); pass x or call set_default_x(x)");
    return;
  }
  paired = false;
}

MCMCPosterior::MCMCPosterior(std::shared_ptr<Potential> potential, const Distribution& proposal,
                             ThetaTransform theta_transform, MCMCOptions options)
    : impl_(std::make_unique<Impl>()) {
  CUSBI_CHECK(potential != nullptr, "MCMCPosterior: the potential is null");
  CUSBI_CHECK(proposal.event_size() == potential->dim(),
              "MCMCPosterior: the proposal has " << proposal.event_size()
                                                 << " dimensions but the potential takes "
                                                 << potential->dim() << " parameters");
  check_mcmc_options(options);
  Impl& s = *impl_;
  s.potential = std::move(potential);
  s.proposal = proposal.to(s.device());
  s.transform = std::move(theta_transform);
  s.transform.to(s.device());
  s.z_potential = std::make_shared<TransformedPotential>(s.potential, s.transform);
  s.options = std::move(options);
}

MCMCPosterior::~MCMCPosterior() = default;
MCMCPosterior::MCMCPosterior(MCMCPosterior&&) noexcept = default;
MCMCPosterior& MCMCPosterior::operator=(MCMCPosterior&&) noexcept = default;

MCMCPosterior& MCMCPosterior::set_default_x(const Tensor& x) {
  CUSBI_CHECK(x.defined(), "MCMCPosterior::set_default_x: x is undefined");
  impl_->potential->set_x(x);  // checks the width and finiteness once, here
  impl_->default_x = impl_->potential->x();
  impl_->paired = false;
  impl_->map = Tensor();
  return *this;
}

const Tensor& MCMCPosterior::default_x() const { return impl_->default_x; }

Tensor MCMCPosterior::log_prob(const Tensor& theta, const Tensor& x) {
  Impl& s = *impl_;
  if (!s.warned_log_prob) {
    warn(
        "MCMCPosterior::log_prob returns the potential, an unnormalised log posterior "
        "(as sbi, which warns the same)");
    s.warned_log_prob = true;
  }
  s.use_x(x);
  return (*s.potential)(theta.to(s.device()));
}

Tensor MCMCPosterior::map(const MapOptions& options) {
  Impl& s = *impl_;
  CUSBI_CHECK(s.default_x.defined() || !s.potential->x().defined(),
              "map: no default x set; call set_default_x(x) first (the MAP is computed and "
              "cached for the default x)");
  CUSBI_CHECK(s.potential->has_gradient(),
              "map: the potential has no gradient (a potential_from_function); MAP search "
              "climbs the gradient");
  if (s.map.defined() && !options.force_update) return s.map;
  posteriors::check_map_options(options);
  s.use_x(Tensor());
  Generator& generator = s.options.generator ? *s.options.generator : default_generator();
  Tensor inits = options.init.defined()
                     ? options.init.to(s.device())
                     : s.proposal->sample({options.num_init_samples}, &generator);  // "proposal"
  CUSBI_CHECK(inits.dim() == 2 && inits.size(1) == s.dim() && inits.size(0) >= 1,
              "map: init has shape " << shape_str(inits.shape()) << "; pass (N, " << s.dim()
                                     << ") starting points, N >= 1");
  s.map = posteriors::gradient_ascent(s.potential, s.transform, inits, options);
  return s.map;
}

const Tensor& MCMCPosterior::chains() const {
  CUSBI_CHECK(impl_->chains.defined(), "MCMCPosterior: no samples yet; call sample() first");
  return impl_->chains;
}

Diagnostics MCMCPosterior::diagnostics() const {
  CUSBI_CHECK(!impl_->batched,
              "MCMCPosterior::diagnostics: the last run was sample_batched, whose chains belong "
              "to different observations; pass one observation's chains (rows b C .. (b + 1) C "
              "of chains()) to mcmc_diagnostics");
  return mcmc_diagnostics(chains());
}

const MCMCRunInfo& MCMCPosterior::last_run() const { return impl_->info; }
const MCMCOptions& MCMCPosterior::options() const { return impl_->options; }
void MCMCPosterior::set_options(const MCMCOptions& options) {
  check_mcmc_options(options);
  impl_->options = options;
}
std::shared_ptr<Potential> MCMCPosterior::potential() const { return impl_->potential; }
const Distribution& MCMCPosterior::proposal() const { return *impl_->proposal; }
const ThetaTransform& MCMCPosterior::theta_transform() const { return impl_->transform; }
Device MCMCPosterior::device() const { return impl_->device(); }

}  // namespace cusbi
