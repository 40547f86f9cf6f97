// sbi's gradient_ascent for MAP estimates, on any Potential with a gradient (host-private).
#pragma once
#include <memory>

#include "cusbi/posteriors.hpp"
#include "cusbi/potentials.hpp"

namespace cusbi::posteriors {

// Throws cusbi::Error naming the first bad field of `options`.
void check_map_options(const MapOptions& options);

// The MAP (1, D) of `potential` (its x already set) from initial points inits (N, D) in theta
// space: Adam in z = transform(theta) on the num_to_optimize best inits, the best point seen
// every save_best_every iterations kept. options.init and num_init_samples are the caller's.
Tensor gradient_ascent(const std::shared_ptr<Potential>& potential, const ThetaTransform& transform,
                       const Tensor& inits, const MapOptions& options);

}  // namespace cusbi::posteriors
