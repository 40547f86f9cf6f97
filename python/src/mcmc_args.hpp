// What the MCMC, potential and NRE bindings share: the Python MCMCPosterior (the C++ posterior
// plus the array kind its outputs take when no x is passed), the parsing of sbi's MCMC keyword
// arguments (constructor, sample(), build_posterior's mcmc_parameters dict) and the potentials.
#pragma once
#include <nanobind/nanobind.h>

#include <memory>
#include <utility>

#include "arrays.hpp"
#include "cusbi/distributions.hpp"
#include "cusbi/mcmc.hpp"
#include "cusbi/potentials.hpp"

namespace cusbi::python {

namespace nb = nanobind;

// cusbi.MCMCPosterior. Outputs of sample() without x take the kind of the array given to
// set_default_x (default_array_kind() until then).
struct PyMCMCPosterior {
  MCMCPosterior posterior;
  ArrayKind x_kind;
  // A Python potential_fn, held by the C++ potential: visited by Python's garbage collector
  // (a module-level function sees the posterior through its globals: a cycle).
  std::shared_ptr<nb::object> callable;
  // `kind`: default_array_kind(), read with the GIL held (it may import torch).
  PyMCMCPosterior(MCMCPosterior p, ArrayKind kind) : posterior(std::move(p)), x_kind(kind) {}
};

// An optional observation argument: None -> undefined (the default x / the potential's own).
inline Tensor x_tensor(nb::handle x, const char* what = "x") {
  return x.is_none() ? Tensor() : to_tensor(x, what);
}

// Sets options from sbi's MCMC keywords in `parameters` (a dict, None values skipped): method,
// thin, warmup_steps, num_chains, init_strategy, init_strategy_parameters (dict:
// num_candidate_samples, num_batches, shared_candidates), num_workers, mp_context,
// show_progress_bars. Unknown keys and bad values raise cusbi.Error naming them.
void apply_mcmc_parameters(MCMCOptions& options, nb::handle parameters, const char* where);

// A trainer's build_posterior(sample_with, mcmc_method, mcmc_parameters): sbi's MCMC defaults
// updated by those; sample_with other than "mcmc" raises cusbi.Error naming what exists.
MCMCOptions build_posterior_options(nb::handle sample_with, nb::handle mcmc_method,
                                    nb::handle mcmc_parameters);

// Binds cls.build_posterior(density_estimator=None, prior=None, sample_with="mcmc",
// mcmc_method="slice_np_vectorized", mcmc_parameters=None) -> MCMCPosterior for a trainer whose
// network type is Net (NLE: its flow, the NREs: their classifier): the trainer's own posterior,
// or, when a network or a prior is given, one over `make_potential(network, prior)` (a
// (potential, transform) pair) with `trained(trainer)` standing in for the missing network.
template <class Net, class Class, class Trained, class MakePotential>
void def_mcmc_build_posterior(Class& cls, Trained trained, MakePotential make_potential,
                              const char* doc) {
  using Self = typename Class::Type;
  cls.def(
      "build_posterior",
      [trained, make_potential](Self& trainer, const Net* density_estimator,
                                const Distribution* prior, nb::handle sample_with,
                                nb::handle mcmc_method, nb::handle mcmc_parameters) {
        const MCMCOptions o = build_posterior_options(sample_with, mcmc_method, mcmc_parameters);
        const ArrayKind kind = default_array_kind();
        nb::gil_scoped_release release;
        if (!density_estimator && !prior) return PyMCMCPosterior(trainer.build_posterior(o), kind);
        const Distribution& p = prior ? *prior : trainer.prior();
        auto [potential, transform] =
            make_potential(density_estimator ? *density_estimator : trained(trainer), p);
        return PyMCMCPosterior(MCMCPosterior(potential, p, transform, o), kind);
      },
      nb::arg("density_estimator").none() = nb::none(), nb::arg("prior").none() = nb::none(),
      nb::arg("sample_with") = "mcmc", nb::arg("mcmc_method") = "slice_np_vectorized",
      nb::arg("mcmc_parameters") = nb::none(), doc);
}

// nre_trainer_bindings.cpp: NRE, NRE_A, NRE_C, BNRE (after the classifiers: train() returns one).
void bind_nre_trainers(nb::module_& m);

// potential_bindings.cpp: cusbi.Potential, cusbi.ThetaTransform and the potential builders.
void bind_potentials(nb::module_& m);

// MCMCPosterior's potential_fn: a cusbi.Potential, or a Python callable theta (M, D) -> (M,)
// (on the proposal's device, dimension from the proposal), then kept in `held`.
std::shared_ptr<Potential> as_potential(nb::handle potential_fn, const Distribution& proposal,
                                        std::shared_ptr<nb::object>& held);

}  // namespace cusbi::python
