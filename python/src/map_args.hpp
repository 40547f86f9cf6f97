// sbi's map() keyword arguments, shared by DirectPosterior.map and MCMCPosterior.map: one list,
// one set of defaults (sbi's: 1000 iterations, the best 100 of 1000 initial draws, lr 0.01).
#pragma once
#include <nanobind/nanobind.h>

#include <cstdint>

#include "cusbi/posteriors.hpp"

namespace cusbi::python {

namespace nb = nanobind;

// MapOptions from the keywords other than x and init_method (which each posterior reads itself:
// their starting points differ).
inline MapOptions map_options(int64_t num_iter, int64_t num_to_optimize, float learning_rate,
                              int64_t num_init_samples, int64_t save_best_every,
                              bool show_progress_bars, bool force_update) {
  MapOptions o;
  o.num_iter = num_iter;
  o.num_to_optimize = num_to_optimize;
  o.learning_rate = learning_rate;
  o.num_init_samples = num_init_samples;
  o.save_best_every = save_best_every;
  o.show_progress = show_progress_bars;
  o.force_update = force_update;
  return o;
}

}  // namespace cusbi::python
