// sbi's gradient_ascent (MAP search) on a Potential, shared by DirectPosterior::map and
// MCMCPosterior::map: Adam on z = T(theta) from the num_to_optimize best of the initial points,
// through a TransformedPotential without the Jacobian term (sbi's ascent has none; an argmax
// needs none) and negated, so that it hands Adam the gradient of the loss -potential directly.
// Each iteration allocates nothing.
// One deliberate difference from sbi: sbi keeps the best initial point in constrained space
// and applies T^-1 to it when no iteration beats it, returning a wrong point; here it is kept as
// z = T(theta), so the best initial point itself comes back.
#include "host/posteriors/gradient_ascent.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/optim.hpp"
#include "cusbi/progress.hpp"

namespace cusbi::posteriors {

namespace {

// NaN sorts below everything (it never wins the argmax).
bool less_potential(float a, float b) {
  if (std::isnan(a)) return !std::isnan(b);
  return !std::isnan(b) && a < b;
}

// The num_to_optimize inits of highest potential, ascending as sbi's sorted slice: (K, D).
Tensor best_inits(const Tensor& inits, const std::vector<float>& potential, int64_t keep,
                  Device device) {
  const int64_t n = inits.size(0), d = inits.size(1), k = std::min(keep, n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return less_potential(potential[a], potential[b]);
  });
  const std::vector<float> host = inits.to_vector();
  std::vector<float> out(static_cast<size_t>(k * d));
  for (int64_t r = 0; r < k; ++r)
    std::copy_n(host.data() + order[n - k + r] * d, d, out.data() + r * d);
  return Tensor::from(out, {k, d}, device);
}

int64_t argmax(const std::vector<float>& v) {  // first maximum, as torch.argmax
  int64_t best = 0;
  for (int64_t i = 1; i < static_cast<int64_t>(v.size()); ++i)
    if (less_potential(v[best], v[i])) best = i;
  return best;
}

}  // namespace

void check_map_options(const MapOptions& o) {
  CUSBI_CHECK(o.num_iter >= 0, "map: num_iter must be >= 0, got " << o.num_iter);
  CUSBI_CHECK(o.num_to_optimize >= 1,
              "map: num_to_optimize must be >= 1, got " << o.num_to_optimize);
  CUSBI_CHECK(o.learning_rate > 0.0f && std::isfinite(o.learning_rate),
              "map: learning_rate must be finite and > 0, got " << o.learning_rate);
  CUSBI_CHECK(o.save_best_every >= 1,
              "map: save_best_every must be >= 1, got " << o.save_best_every);
  CUSBI_CHECK(o.init.defined() || o.num_init_samples >= 1,
              "map: num_init_samples must be >= 1, got " << o.num_init_samples);
}

Tensor gradient_ascent(const std::shared_ptr<Potential>& potential, const ThetaTransform& transform,
                       const Tensor& inits, const MapOptions& options) {
  const Device device = potential->device();
  const int64_t d = potential->dim();
  const std::vector<float> init_potential = (*potential)(inits).to_vector();
  const int64_t best_init = argmax(init_potential);
  float best_value = init_potential[best_init];
  Tensor best_z = transform.forward(inits.slice_rows(best_init, best_init + 1)).clone();

  // z: (K, D), the optimised points, owned here; Adam updates it in place from grad, which the
  // objective fills with d(-potential)/dz.
  const Tensor z =
      transform.forward(best_inits(inits, init_potential, options.num_to_optimize, device)).clone();
  const int64_t k = z.size(0);
  Tensor grad = Tensor::zeros({k, d}, device);
  Tensor loss = Tensor::empty({k}, device);
  AdamOptions adam_options;
  adam_options.lr = options.learning_rate;
  Adam adam(z.reshape({k * d}), grad.reshape({k * d}), adam_options);
  TransformedPotential objective(potential, transform, /*include_log_abs_det=*/false,
                                 /*negate=*/true);
  ProgressLine progress("Optimizing MAP estimate", options.num_iter, options.show_progress);
  for (int64_t it = 0; it < options.num_iter; ++it) {
    objective.evaluate_with_gradient(z, loss, grad);
    adam.step();

    if (it % options.save_best_every == 0 || it == options.num_iter - 1) {
      objective.evaluate(z, loss);  // -potential(T^-1(z)) after the step
      const std::vector<float> negated = loss.to_vector();
      int64_t i = 0;  // the first maximum of the potential, as torch.argmax
      for (int64_t j = 1; j < k; ++j)
        if (less_potential(-negated[i], -negated[j])) i = j;
      if (-negated[i] > best_value) {
        best_value = -negated[i];
        best_z.copy_(z.slice_rows(i, i + 1));
      }
      char detail[64];
      std::snprintf(detail, sizeof detail, "best log-prob %.2f", best_value);
      progress.update(it + 1, detail);
    }
  }
  progress.finish();
  return transform.inverse(best_z);
}

}  // namespace cusbi::posteriors
