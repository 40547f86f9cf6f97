// The pieces of the cusbi extension module, one bind_* per topic (a file each), called by
// module.cpp in dependency order: a class must be bound before a signature names it.
#pragma once
#include <nanobind/nanobind.h>

namespace cusbi::python {

namespace nb = nanobind;

void bind_core(nb::module_& m);           // core_bindings.cpp: Error, devices, seeds, arrays
void bind_distributions(nb::module_& m);  // distribution_bindings.cpp: priors
void bind_simulation(nb::module_& m);     // simulation_bindings.cpp: simulate_for_sbi
void bind_estimators(nb::module_& m);     // estimator_bindings.cpp: build_nsf, Adam, clipping
void bind_npe(nb::module_& m);            // npe_bindings.cpp: NPE, DirectPosterior
void bind_mcmc(nb::module_& m);           // mcmc_bindings.cpp: NLE, potentials, MCMCPosterior
void bind_nre(nb::module_& m);            // nre_bindings.cpp: classifiers, NRE, ratio potential
void bind_tools(nb::module_& m);          // tool_bindings.cpp: pairplot, save/load

}  // namespace cusbi::python
