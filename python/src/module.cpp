// The extension module cusbi._cusbi. The public package (python/cusbi/__init__.py) re-exports
// its names with sbi's spelling; this file only wires the topic bindings together.
#include <nanobind/nanobind.h>

#include "bindings.hpp"

NB_MODULE(_cusbi, m) {
  using namespace cusbi::python;
  m.doc() = "cusbi: GPU-first simulation-based inference with sbi's names (C++/CUDA core)";
  bind_core(m);
  bind_distributions(m);
  bind_simulation(m);
  bind_estimators(m);
  bind_npe(m);
  bind_mcmc(m);
  bind_nre(m);
  bind_tools(m);
}
