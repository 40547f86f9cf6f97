// sbi's MCMC side from Python: MCMCPosterior (slice sampling with many chains, sbi's keyword
// arguments, R-hat / ESS diagnostics) over the potentials of potential_bindings.cpp, and the NLE
// trainer. Sampling and training run without the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/error.hpp"
#include "cusbi/nle.hpp"
#include "cusbi/progress.hpp"
#include "map_args.hpp"
#include "mcmc_args.hpp"
#include "train_args.hpp"

namespace cusbi::python {

namespace {

using PotentialPtr = std::shared_ptr<Potential>;

int64_t to_int(nb::handle value, const std::string& key) {
  CUSBI_CHECK(nb::isinstance<nb::int_>(value) && !nb::isinstance<nb::bool_>(value),
              key << " must be an int");
  return nb::cast<int64_t>(value);
}

bool to_bool(nb::handle value, const std::string& key) {
  CUSBI_CHECK(nb::isinstance<nb::bool_>(value), key << " must be True or False");
  return nb::cast<bool>(value);
}

std::string to_str(nb::handle value, const std::string& key) {
  CUSBI_CHECK(nb::isinstance<nb::str>(value), key << " must be a str");
  return nb::cast<std::string>(value);
}

void apply_init_parameters(InitStrategyParameters& p, nb::handle parameters) {
  if (parameters.is_none()) return;
  CUSBI_CHECK(nb::isinstance<nb::dict>(parameters),
              "init_strategy_parameters must be a dict (or None)");
  for (auto [k, v] : nb::borrow<nb::dict>(parameters)) {
    const std::string key = to_str(k, "an init_strategy_parameters key");
    if (key == "num_candidate_samples") {
      p.num_candidate_samples = to_int(v, key);
    } else if (key == "num_batches") {
      p.num_batches = to_int(v, key);
    } else if (key == "shared_candidates") {
      p.shared_candidates = to_bool(v, key);
    } else if (key != "device" && key != "show_progress_bars" &&
               key != "max_sampling_batch_size") {  // sbi's sir extras: nothing to set here
      CUSBI_FAIL("init_strategy_parameters: unknown key '"
                 << key << "'; cusbi takes num_candidate_samples, num_batches, shared_candidates");
    }
  }
}

}  // namespace

void apply_mcmc_parameters(MCMCOptions& o, nb::handle parameters, const char* where) {
  if (parameters.is_none()) return;
  CUSBI_CHECK(nb::isinstance<nb::dict>(parameters), where << ": mcmc parameters must be a dict");
  for (auto [k, v] : nb::borrow<nb::dict>(parameters)) {
    const std::string key = to_str(k, "an MCMC parameter name");
    if (v.is_none()) continue;
    if (key == "method") {
      o.method = to_str(v, key);
    } else if (key == "thin") {
      o.thin = to_int(v, key);
    } else if (key == "warmup_steps") {
      o.warmup_steps = to_int(v, key);
    } else if (key == "num_chains") {
      o.num_chains = to_int(v, key);
    } else if (key == "init_strategy") {
      o.init_strategy = to_str(v, key);
      const std::string& s = o.init_strategy;
      CUSBI_CHECK(s == "resample" || s == "proposal" || s == "sir" || s == "latest_sample",
                  where << ": unknown init_strategy '" << s
                        << "'; use \"resample\" (sbi's default), \"proposal\", \"sir\" or "
                           "\"latest_sample\"");
    } else if (key == "init_strategy_parameters") {
      apply_init_parameters(o.init_strategy_parameters, v);
    } else if (key == "num_workers") {
      // sbi parallelises the init strategy over processes; cusbi's init is one batched call.
      if (to_int(v, key) > 1) warn("num_workers > 1 is ignored: cusbi's MCMC init is batched");
    } else if (key == "show_progress_bars") {
      o.show_progress = to_bool(v, key);
    } else if (key != "mp_context") {  // sbi: Pyro / PyMC only
      CUSBI_FAIL(where << ": unknown MCMC parameter '" << key
                       << "'; cusbi takes method, thin, warmup_steps, num_chains, init_strategy, "
                          "init_strategy_parameters, num_workers, mp_context");
    }
  }
  CUSBI_CHECK(o.method == "slice_np_vectorized",
              where << ": method '" << o.method
                    << "' is not available; cusbi implements sbi's default "
                       "\"slice_np_vectorized\"");
}

MCMCOptions build_posterior_options(nb::handle sample_with, nb::handle mcmc_method,
                                    nb::handle mcmc_parameters) {
  const std::string with = to_str(sample_with, "sample_with");
  CUSBI_CHECK(with == "mcmc", "build_posterior: sample_with='"
                                  << with
                                  << "' is not available; cusbi samples NLE and NRE "
                                     "posteriors with \"mcmc\"");
  MCMCOptions options;
  options.method = to_str(mcmc_method, "mcmc_method");
  apply_mcmc_parameters(options, mcmc_parameters, "build_posterior");
  return options;
}

namespace {

PyMCMCPosterior make_posterior(nb::handle potential_fn, const Distribution& proposal,
                               std::optional<ThetaTransform> theta_transform, nb::handle method,
                               nb::handle thin, nb::handle warmup_steps, nb::handle num_chains,
                               nb::handle init_strategy, nb::handle init_strategy_parameters,
                               nb::handle num_workers, nb::handle mp_context, nb::handle device) {
  std::shared_ptr<nb::object> callable;
  PotentialPtr potential = as_potential(potential_fn, proposal, callable);
  CUSBI_CHECK(device.is_none() || parse_device(device) == potential->device(),
              "MCMCPosterior: device " << parse_device(device).str()
                                       << " differs from the potential's, "
                                       << potential->device().str() << "; pass device=None");
  MCMCOptions options;
  nb::dict given;
  given["method"] = method;
  given["thin"] = thin;
  given["warmup_steps"] = warmup_steps;
  given["num_chains"] = num_chains;
  given["init_strategy"] = init_strategy;
  given["init_strategy_parameters"] = init_strategy_parameters;
  given["num_workers"] = num_workers;
  given["mp_context"] = mp_context;
  apply_mcmc_parameters(options, given, "MCMCPosterior");
  PyMCMCPosterior out(MCMCPosterior(std::move(potential), proposal,
                                    theta_transform.value_or(ThetaTransform()), options),
                      default_array_kind());
  out.callable = std::move(callable);
  return out;
}

// Python's garbage collector sees a callable potential_fn through the posterior (nanobind's
// recipe for C++ objects that hold Python references).
int posterior_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  const PyMCMCPosterior* p = nb::inst_ptr<PyMCMCPosterior>(self);
  if (p->callable) Py_VISIT(p->callable->ptr());
  return 0;
}

int posterior_clear(PyObject* self) {
  PyMCMCPosterior* p = nb::inst_ptr<PyMCMCPosterior>(self);
  if (p->callable) *p->callable = nb::object();
  return 0;
}

PyType_Slot posterior_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(posterior_traverse)},
                                 {Py_tp_clear, reinterpret_cast<void*>(posterior_clear)},
                                 {0, nullptr}};

// sample() / sample_batched(): the posterior's options, overridden by the call's keywords.
nb::object run_sampler(PyMCMCPosterior& self, nb::handle sample_shape, nb::handle x, bool batched,
                       nb::kwargs overrides) {
  const Shape shape = parse_shape(sample_shape);
  MCMCOptions options = self.posterior.options();
  apply_mcmc_parameters(options, overrides, batched ? "sample_batched" : "sample");
  const Tensor xt = x_tensor(x);
  const ArrayKind kind = x.is_none() ? self.x_kind : kind_of(x);
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = batched ? self.posterior.sample_batched(shape, xt, options)
                  : self.posterior.sample(shape, xt, options);
  }
  return to_array(out, kind);
}

nb::dict run_info(const MCMCRunInfo& r) {
  nb::dict d;
  d["num_chains"] = r.num_chains;
  d["sweeps_per_chain"] = r.sweeps_per_chain;
  d["iterations"] = r.iterations;
  d["potential_evaluations"] = r.potential_evaluations;
  d["init_evaluations"] = r.init_evaluations;
  d["capped_step_outs"] = r.capped_step_outs;
  d["stalled_shrinks"] = r.stalled_shrinks;
  nb::list failed;
  for (int64_t c : r.failed_chains) failed.append(c);
  d["failed_chains"] = failed;
  d["init_seconds"] = r.init_seconds;
  d["seconds"] = r.seconds;
  return d;
}

void bind_posterior(nb::module_& m) {
  nb::class_<PyMCMCPosterior>(
      m, "MCMCPosterior",
      "sbi's MCMCPosterior: vectorised slice sampling (slice_np_vectorized) of potential_fn in "
      "the transformed space, many chains in lockstep.",
      nb::type_slots(posterior_slots))
      .def(
          "__init__",
          [](PyMCMCPosterior* self, nb::handle potential_fn, const Distribution& proposal,
             std::optional<ThetaTransform> tf, nb::handle method, nb::handle thin,
             nb::handle warmup, nb::handle chains, nb::handle init, nb::handle init_parameters,
             nb::handle workers, nb::handle mp_context, nb::handle device) {
            new (self) PyMCMCPosterior(make_posterior(potential_fn, proposal, std::move(tf), method,
                                                      thin, warmup, chains, init, init_parameters,
                                                      workers, mp_context, device));
          },
          nb::arg("potential_fn"), nb::arg("proposal"),
          nb::arg("theta_transform").none() = nb::none(), nb::arg("method") = "slice_np_vectorized",
          nb::arg("thin") = -1, nb::arg("warmup_steps") = 200, nb::arg("num_chains") = 20,
          nb::arg("init_strategy") = "resample", nb::arg("init_strategy_parameters") = nb::none(),
          nb::arg("num_workers") = 1, nb::arg("mp_context") = "spawn",
          nb::arg("device") = nb::none(),
          "potential_fn: a cusbi potential or a callable theta (M, D) -> (M,); proposal: the "
          "prior (init strategies draw from it).")
      .def(
          "set_default_x",
          [](nb::object self, nb::handle x) {
            PyMCMCPosterior& p = nb::cast<PyMCMCPosterior&>(self);
            const Tensor xt = to_tensor(x, "x");
            {
              nb::gil_scoped_release release;
              p.posterior.set_default_x(xt);
            }
            p.x_kind = kind_of(x);
            return self;
          },
          nb::arg("x"), "x (C,) or (n, C) iid trials; returns the posterior.")
      .def_prop_ro("default_x",
                   [](const PyMCMCPosterior& p) -> nb::object {
                     const Tensor& x = p.posterior.default_x();
                     return x.defined() ? to_array(x, p.x_kind) : nb::none();
                   })
      .def(
          "sample",
          [](PyMCMCPosterior& p, nb::handle shape, nb::handle x, nb::kwargs kw) {
            return run_sampler(p, shape, x, false, kw);
          },
          nb::arg("sample_shape") = nb::make_tuple(), nb::arg("x") = nb::none(), nb::arg("kwargs"),
          "(*sample_shape, D) samples for x (the default x when None). Keywords as sbi: method, "
          "thin, warmup_steps, num_chains, init_strategy, init_strategy_parameters, num_workers, "
          "mp_context, show_progress_bars (override the constructor's for this call).")
      .def(
          "sample_batched",
          [](PyMCMCPosterior& p, nb::handle shape, nb::handle x, nb::kwargs kw) {
            CUSBI_CHECK(!x.is_none(), "sample_batched: pass x (B, C)");
            return run_sampler(p, shape, x, true, kw);
          },
          nb::arg("sample_shape"), nb::arg("x"), nb::arg("kwargs"),
          "x (B, C) -> (*sample_shape, B, D): num_chains chains per observation; sample()'s "
          "keywords.")
      .def(
          "log_prob",
          [](PyMCMCPosterior& p, nb::handle theta, nb::handle x, bool track_gradients) {
            (void)track_gradients;
            const Tensor t = to_tensor(theta, "theta"), xt = x_tensor(x);
            Tensor out;
            {
              nb::gil_scoped_release release;
              out = p.posterior.log_prob(t, xt);
            }
            return to_array(out, kind_of(theta));
          },
          nb::arg("theta"), nb::arg("x") = nb::none(), nb::arg("track_gradients") = false,
          "theta (M, D) -> (M,): the unnormalised log posterior (the potential), as sbi.")
      .def(
          "map",
          [](PyMCMCPosterior& p, nb::handle x, int64_t num_iter, int64_t num_to_optimize,
             float learning_rate, nb::handle init_method, int64_t num_init_samples,
             int64_t save_best_every, bool show_progress_bars, bool force_update) {
            if (!x.is_none()) {  // sbi's deprecated map(x): the default x
              p.posterior.set_default_x(to_tensor(x, "x"));
              p.x_kind = kind_of(x);
            }
            MapOptions o = map_options(num_iter, num_to_optimize, learning_rate, num_init_samples,
                                       save_best_every, show_progress_bars, force_update);
            if (!nb::isinstance<nb::str>(init_method)) {
              o.init = to_tensor(init_method, "init_method");
            } else {
              CUSBI_CHECK(nb::cast<std::string>(init_method) == "proposal",
                          "map: init_method must be \"proposal\" or an array (N, D) of starts");
            }
            Tensor out;
            {
              nb::gil_scoped_release release;
              out = p.posterior.map(o);
            }
            return to_array(out, p.x_kind);
          },
          nb::arg("x") = nb::none(), nb::arg("num_iter") = 1000, nb::arg("num_to_optimize") = 100,
          nb::arg("learning_rate") = 0.01f, nb::arg("init_method") = "proposal",
          nb::arg("num_init_samples") = 1000, nb::arg("save_best_every") = 10,
          nb::arg("show_progress_bars") = false, nb::arg("force_update") = false,
          "The MAP for the default x, (1, D): gradient ascent on the potential.")
      .def(
          "diagnostics",
          [](const PyMCMCPosterior& p) {
            const Diagnostics d = p.posterior.diagnostics();
            nb::dict out;
            out["rhat"] = to_array(d.rhat, ArrayKind::NumPy);
            out["ess_bulk"] = to_array(d.ess_bulk, ArrayKind::NumPy);
            out["ess_tail"] = to_array(d.ess_tail, ArrayKind::NumPy);
            return out;
          },
          "The last sample()'s split R-hat, bulk and tail ESS per dimension, as NumPy (D,) "
          "arrays in a dict (arviz's definitions).")
      .def(
          "get_chains",
          [](const PyMCMCPosterior& p) { return to_array(p.posterior.chains(), p.x_kind); },
          "The last sample()'s chains after warm-up, (num_chains, n, D), in theta space.")
      .def(
          "last_run", [](const PyMCMCPosterior& p) { return run_info(p.posterior.last_run()); },
          "Counts and timings of the last run (iterations, potential evaluations, ...).")
      .def_prop_ro("potential_fn", [](const PyMCMCPosterior& p) { return p.posterior.potential(); })
      .def_prop_ro("theta_transform",
                   [](const PyMCMCPosterior& p) { return p.posterior.theta_transform(); })
      .def_prop_ro("device", [](const PyMCMCPosterior& p) { return p.posterior.device().str(); })
      .def("__repr__", [](const PyMCMCPosterior& p) {
        const MCMCOptions& o = p.posterior.options();
        return "MCMCPosterior(method='" + o.method +
               "', num_chains=" + std::to_string(o.num_chains) +
               ", thin=" + std::to_string(o.thin) +
               ", warmup_steps=" + std::to_string(o.warmup_steps) + ", init_strategy='" +
               o.init_strategy + "', device='" + p.posterior.device().str() + "')";
      });
}

void bind_nle_trainer(nb::module_& m) {
  nb::class_<NLE> nle(
      m, "NLE", "sbi's NLE (NLE_A) with a neural spline flow q(x | theta); posterior by MCMC.");
  def_append_simulations(nle, /*exclude_invalid_default=*/false);
  def_mcmc_build_posterior<NeuralSplineFlow>(
      nle, [](NLE& n) -> const NeuralSplineFlow& { return n.density_estimator(); },
      [](const NeuralSplineFlow& flow, const Distribution& prior) {
        return likelihood_estimator_based_potential(flow, prior, Tensor());
      },
      "An MCMCPosterior over the trained flow (copied) and the prior; set x with set_default_x "
      "or sample(x=...).");
  nle.def(
         "__init__",
         [](NLE* self, const Distribution& prior, const std::string& density_estimator,
            nb::handle device, bool show_progress_bars) {
           (void)show_progress_bars;  // cusbi's training loop prints no progress bar
           CUSBI_CHECK(density_estimator == "nsf", "NLE: density_estimator '"
                                                       << density_estimator
                                                       << "' is not available; cusbi has \"nsf\"");
           new (self) NLE(prior, parse_device(device));
         },
         nb::arg("prior"), nb::arg("density_estimator") = "nsf", nb::arg("device") = nb::none(),
         nb::arg("show_progress_bars") = true)
      .def_prop_ro("summary", [](const NLE& n) { return summary_dict(n.summary()); })
      .def_prop_ro("num_simulations", &NLE::num_simulations)
      .def_prop_ro("device", [](const NLE& n) { return n.device().str(); });
  def_train(
      nle, [](NLE& n, const TrainOptions& o) -> NeuralSplineFlow& { return n.train(o); },
      "Trains q(x | theta) with early stopping; returns the flow (owned by the trainer).");
}

}  // namespace

void bind_mcmc(nb::module_& m) {
  bind_potentials(m);  // potential_bindings.cpp
  bind_posterior(m);
  bind_nle_trainer(m);
}

}  // namespace cusbi::python
