// DirectPosterior::map: sbi's gradient ascent (host/posteriors/gradient_ascent.cpp) on the
// posterior potential (masked, unnormalised log q at the default x), started from
// num_init_samples posterior samples (sbi's init_method = "posterior").
#include "cusbi/error.hpp"
#include "cusbi/potentials.hpp"
#include "host/posteriors/direct_posterior_impl.hpp"
#include "host/posteriors/gradient_ascent.hpp"

namespace cusbi {

Tensor DirectPosterior::map(const MapOptions& options) {
  Impl& s = *impl_;
  CUSBI_CHECK(s.default_x.defined(),
              "map: no default x set; call set_default_x(x) first (the "
              "MAP is computed and cached for the default x)");
  if (s.map.defined() && !options.force_update) return s.map;
  posteriors::check_map_options(options);
  const int64_t d = s.theta_dim();
  const Tensor& x = s.default_x;

  Tensor inits;
  if (options.init.defined()) {
    CUSBI_CHECK(options.init.dim() == 2 && options.init.size(1) == d && options.init.size(0) >= 1,
                "map: init has shape " << shape_str(options.init.shape()) << "; pass (N, " << d
                                       << ") starting points, N >= 1");
    inits = options.init.to(s.device());
  } else {
    inits = sample({options.num_init_samples}, x);  // sbi's init_method = "posterior"
  }
  s.potential->set_x(x);
  s.map = posteriors::gradient_ascent(s.potential, s.transform, inits, options);
  return s.map;
}

}  // namespace cusbi
