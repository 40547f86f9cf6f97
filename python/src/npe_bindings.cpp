// sbi's NPE with the neural spline flow (NPE(prior).append_simulations(theta, x).train(), then
// build_posterior()) and DirectPosterior (sample / sample_batched / log_prob / map, rejection
// outside the prior's support), with sbi's keyword arguments. Outputs have the kind of the
// method's array argument (x for sample and map, theta for log_prob) and, when that is absent
// (x=None: the default x), the default array kind. Computation runs without the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <optional>
#include <string>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/error.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/posteriors.hpp"
#include "map_args.hpp"
#include "nsf_args.hpp"
#include "train_args.hpp"

namespace cusbi::python {

namespace {

// The NPE trainer plus sbi's constructor-level show_progress_bars (TrainOptions has it per call).
struct PyNPE {
  NPE npe;
  bool show_progress_bars;
};

const Distribution& as_prior(nb::handle prior, const char* who) {
  CUSBI_CHECK(!prior.is_none(), who << " needs a prior (cusbi does not infer one from the data): "
                                       "pass e.g. cusbi.BoxUniform(low, high)");
  CUSBI_CHECK(nb::isinstance<Distribution>(prior),
              who << ": prior must be a cusbi.BoxUniform or cusbi.MultivariateNormal");
  return nb::cast<const Distribution&>(prior);
}

void check_density_estimator(nb::handle density_estimator) {
  CUSBI_CHECK(nb::isinstance<nb::str>(density_estimator),
              "NPE: density_estimator must be the string \"nsf\"; give the flow's options as "
              "keyword arguments of NPE (hidden_features=..., num_transforms=..., ...)");
  const std::string name = nb::cast<std::string>(density_estimator);
  CUSBI_CHECK(name == "nsf", "NPE: density_estimator '" << name
                                                        << "' is not available; cusbi has the "
                                                           "neural spline flow, \"nsf\"");
}

nb::object out_kind_of(const Tensor& t, nb::handle input) {
  return to_array(t, input.is_none() ? default_array_kind() : kind_of(input));
}

Tensor optional_tensor(nb::handle array, const char* what, Device device) {
  return array.is_none() ? Tensor() : to_tensor(array, what, device);
}

SampleOptions sample_options(int64_t max_sampling_batch_size, bool show_progress_bars,
                             bool reject_outside_prior, std::optional<double> max_sampling_time,
                             bool return_partial_on_timeout) {
  SampleOptions o;
  o.max_sampling_batch_size = max_sampling_batch_size;
  o.show_progress = show_progress_bars;
  o.reject_outside_prior = reject_outside_prior;
  o.max_sampling_time = max_sampling_time.value_or(0.0);
  o.return_partial_on_timeout = return_partial_on_timeout;
  return o;
}

void check_sample_with(nb::handle sample_with) {
  CUSBI_CHECK(sample_with.is_none() || (nb::isinstance<nb::str>(sample_with) &&
                                        nb::cast<std::string>(sample_with) == "direct"),
              "DirectPosterior samples directly (sample_with=\"direct\"); for MCMC build an "
              "MCMCPosterior from posterior_estimator_based_potential");
}

nb::object sample(DirectPosterior& p, nb::handle sample_shape, nb::handle x,
                  int64_t max_sampling_batch_size, nb::handle sample_with, bool show_progress_bars,
                  bool reject_outside_prior, std::optional<double> max_sampling_time,
                  bool return_partial_on_timeout) {
  check_sample_with(sample_with);
  const Shape shape = parse_shape(sample_shape);
  const Tensor xt = optional_tensor(x, "x", p.device());
  const SampleOptions o =
      sample_options(max_sampling_batch_size, show_progress_bars, reject_outside_prior,
                     max_sampling_time, return_partial_on_timeout);
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = p.sample(shape, xt, o);
  }
  return out_kind_of(out, x);
}

nb::object sample_batched(DirectPosterior& p, nb::handle sample_shape, nb::handle x,
                          int64_t max_sampling_batch_size, bool show_progress_bars,
                          bool reject_outside_prior, std::optional<double> max_sampling_time,
                          bool return_partial_on_timeout) {
  const Shape shape = parse_shape(sample_shape);
  const Tensor xs = to_tensor(x, "x", p.device());
  const SampleOptions o =
      sample_options(max_sampling_batch_size, show_progress_bars, reject_outside_prior,
                     max_sampling_time, return_partial_on_timeout);
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = p.sample_batched(shape, xs, o);
  }
  return to_array(out, kind_of(x));
}

// sbi's leakage_correction_params: {"num_rejection_samples": int, "force_update": bool}.
LogProbOptions log_prob_options(bool norm_posterior, nb::handle params) {
  LogProbOptions o;
  o.norm_posterior = norm_posterior;
  if (params.is_none()) return o;
  CUSBI_CHECK(nb::isinstance<nb::dict>(params), "leakage_correction_params must be a dict or None");
  for (auto [key, value] : nb::cast<nb::dict>(params)) {
    const std::string name = nb::cast<std::string>(key);
    if (name == "num_rejection_samples") {
      o.num_rejection_samples = nb::cast<int64_t>(value);
    } else if (name == "force_update") {
      o.force_update = nb::cast<bool>(value);
    } else {
      CUSBI_FAIL("leakage_correction_params: unknown key '"
                 << name << "'; cusbi takes num_rejection_samples and force_update");
    }
  }
  return o;
}

nb::object log_prob(DirectPosterior& p, nb::handle theta, nb::handle x, bool norm_posterior,
                    bool track_gradients, nb::handle leakage_correction_params) {
  CUSBI_CHECK(!track_gradients, "log_prob: cusbi has no autograd; pass track_gradients=False");
  const Tensor t = to_tensor(theta, "theta", p.device());
  const Tensor xt = optional_tensor(x, "x", p.device());
  const LogProbOptions o = log_prob_options(norm_posterior, leakage_correction_params);
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = p.log_prob(t, xt, o);
  }
  return to_array(out, kind_of(theta));
}

nb::object log_prob_batched(DirectPosterior& p, nb::handle theta, nb::handle x, bool norm_posterior,
                            nb::handle leakage_correction_params) {
  const Tensor t = to_tensor(theta, "theta", p.device());
  const Tensor xs = to_tensor(x, "x", p.device());
  const LogProbOptions o = log_prob_options(norm_posterior, leakage_correction_params);
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = p.log_prob_batched(t, xs, o);
  }
  return to_array(out, kind_of(theta));
}

// sbi's map(): for x given, it becomes the default x first (the MAP is cached per default x).
nb::object map(DirectPosterior& p, nb::handle x, int64_t num_iter, int64_t num_to_optimize,
               float learning_rate, nb::handle init_method, int64_t num_init_samples,
               int64_t save_best_every, bool show_progress_bars, bool force_update) {
  if (!x.is_none()) p.set_default_x(to_tensor(x, "x", p.device()));
  MapOptions o = map_options(num_iter, num_to_optimize, learning_rate, num_init_samples,
                             save_best_every, show_progress_bars, force_update);
  if (nb::isinstance<nb::str>(init_method)) {
    const std::string method = nb::cast<std::string>(init_method);
    if (method == "proposal" || method == "prior") {
      o.init = p.prior().sample({num_init_samples});
    } else {
      CUSBI_CHECK(method == "posterior", "map: init_method '"
                                             << method
                                             << "' is unknown; use \"posterior\", \"proposal\" "
                                                "or an array of starting points (N, D)");
    }
  } else {
    o.init = to_tensor(init_method, "init_method", p.device());
  }
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = p.map(o);
  }
  return out_kind_of(out, x);
}

}  // namespace

void bind_npe(nb::module_& m) {
  nb::class_<DirectPosterior>(
      m, "DirectPosterior",
      "sbi's DirectPosterior: the flow q(theta | x) restricted to the prior's support.")
      .def(
          "__init__",
          [](DirectPosterior* self, const NeuralSplineFlow& posterior_estimator, nb::handle prior,
             nb::handle device) {
            const Distribution& d = as_prior(prior, "DirectPosterior");
            if (device.is_none()) {
              new (self) DirectPosterior(posterior_estimator, d);
            } else {
              new (self) DirectPosterior(posterior_estimator.clone(parse_device(device)), d);
            }
          },
          nb::arg("posterior_estimator"), nb::arg("prior"), nb::arg("device") = nb::none(),
          "Copies posterior_estimator (on `device` when given): training it further does not "
          "change this posterior.")
      .def("sample", &sample, nb::arg("sample_shape") = nb::make_tuple(), nb::arg("x") = nb::none(),
           nb::arg("max_sampling_batch_size") = 10000, nb::arg("sample_with") = nb::none(),
           nb::arg("show_progress_bars") = true, nb::arg("reject_outside_prior") = true,
           nb::arg("max_sampling_time") = nb::none(), nb::arg("return_partial_on_timeout") = false,
           "x (C,) or (1, C) (None: the default x) -> samples (*sample_shape, D).")
      .def("sample_batched", &sample_batched, nb::arg("sample_shape"), nb::arg("x"),
           nb::arg("max_sampling_batch_size") = 10000, nb::arg("show_progress_bars") = true,
           nb::arg("reject_outside_prior") = true, nb::arg("max_sampling_time") = nb::none(),
           nb::arg("return_partial_on_timeout") = false,
           "x (B, C) -> samples (*sample_shape, B, D).")
      .def("log_prob", &log_prob, nb::arg("theta"), nb::arg("x") = nb::none(),
           nb::arg("norm_posterior") = true, nb::arg("track_gradients") = false,
           nb::arg("leakage_correction_params") = nb::none(),
           "theta (N, D) -> (N,): log q(theta | x) - log Z, -inf outside the prior.")
      .def("log_prob_batched", &log_prob_batched, nb::arg("theta"), nb::arg("x"),
           nb::arg("norm_posterior") = true, nb::arg("leakage_correction_params") = nb::none(),
           "theta (S, B, D) or (B, D), x (B, C) -> (S, B).")
      .def(
          "set_default_x",
          [](DirectPosterior& p, nb::handle x) -> DirectPosterior& {
            return p.set_default_x(to_tensor(x, "x", p.device()));
          },
          nb::arg("x"), nb::rv_policy::reference, "x (C,) or (1, C); returns the posterior.")
      .def_prop_ro(
          "default_x",
          [](const DirectPosterior& p) -> nb::object {
            if (!p.default_x().defined()) return nb::none();
            return to_array(p.default_x(), default_array_kind());
          },
          "The default observation (1, C), or None.")
      .def("map", &map, nb::arg("x") = nb::none(), nb::arg("num_iter") = 1000,
           nb::arg("num_to_optimize") = 100, nb::arg("learning_rate") = 0.01f,
           nb::arg("init_method") = "posterior", nb::arg("num_init_samples") = 1000,
           nb::arg("save_best_every") = 10, nb::arg("show_progress_bars") = false,
           nb::arg("force_update") = false,
           "The MAP estimate (1, D) for x (which becomes the default x) or the default x.")
      .def(
          "leakage_correction",
          [](DirectPosterior& p, nb::handle x, int64_t num_rejection_samples, bool force_update) {
            const Tensor xt = to_tensor(x, "x", p.device());
            nb::gil_scoped_release release;
            return p.leakage_correction(xt, num_rejection_samples, force_update);
          },
          nb::arg("x"), nb::arg("num_rejection_samples") = 10000, nb::arg("force_update") = false,
          "Z = P_q(theta in the prior's support | x), estimated by rejection sampling.")
      .def_prop_ro(
          "posterior_estimator",
          [](DirectPosterior& p) -> NeuralSplineFlow& { return p.estimator(); },
          nb::rv_policy::reference_internal, "The flow (shared with this posterior).")
      .def_prop_ro(
          "prior", [](const DirectPosterior& p) -> const Distribution& { return p.prior(); },
          nb::rv_policy::reference_internal)
      .def_prop_ro("device", [](const DirectPosterior& p) { return p.device().str(); })
      .def("__repr__", [](const DirectPosterior& p) {
        return "DirectPosterior(prior=" + p.prior().describe() + ", device='" + p.device().str() +
               "')";
      });

  nb::class_<PyNPE> npe(m, "NPE",
                        "sbi's NPE (NPE_C, first round) with sbi's neural spline flow: "
                        "NPE(prior).append_simulations(theta, x).train(); build_posterior().");
  npe.def(
         "__init__",
         [](PyNPE* self, nb::handle prior, nb::handle density_estimator, nb::handle device,
            bool show_progress_bars, int64_t hidden_features, int64_t num_transforms,
            int64_t num_bins, float tail_bound, int64_t num_blocks,
            int64_t hidden_layers_spline_context, nb::handle z_score_theta, nb::handle z_score_x) {
           const Distribution& d = as_prior(prior, "NPE");
           check_density_estimator(density_estimator);
           NsfOptions o;
           o.hidden_features = hidden_features;
           o.num_transforms = num_transforms;
           o.num_bins = num_bins;
           o.tail_bound = tail_bound;
           o.num_blocks = num_blocks;
           o.hidden_layers_spline_context = hidden_layers_spline_context;
           o.z_score_input = parse_zscore(z_score_theta, "z_score_theta");
           o.z_score_condition = parse_zscore(z_score_x, "z_score_x");
           new (self) PyNPE{NPE(d, o, parse_device(device)), show_progress_bars};
         },
         nb::arg("prior") = nb::none(), nb::arg("density_estimator") = "nsf",
         nb::arg("device") = nb::none(), nb::arg("show_progress_bars") = true,
         nb::arg("hidden_features") = 50, nb::arg("num_transforms") = 5, nb::arg("num_bins") = 10,
         nb::arg("tail_bound") = 3.0f, nb::arg("num_blocks") = 2,
         nb::arg("hidden_layers_spline_context") = 1, nb::arg("z_score_theta") = "independent",
         nb::arg("z_score_x") = "independent",
         "The flow's options (sbi's posterior_nn(\"nsf\", ...)) are keyword arguments here. "
         "device None: the GPU when usable, else the CPU.")
      .def(
          "append_simulations",
          [](PyNPE& self, nb::handle theta, nb::handle x, nb::handle proposal,
             bool exclude_invalid_x) -> PyNPE& {
            // Only the first round (proposal = prior) exists: sbi users pass the prior here.
            CUSBI_CHECK(proposal.is_none() || (nb::isinstance<Distribution>(proposal) &&
                                               nb::cast<const Distribution&>(proposal).describe() ==
                                                   self.npe.prior().describe()),
                        "NPE.append_simulations: cusbi trains the first round only; proposal "
                        "must be None or the prior");
            const Tensor t = to_tensor(theta, "theta", self.npe.device());
            const Tensor xt = to_tensor(x, "x", self.npe.device());
            nb::gil_scoped_release release;
            self.npe.append_simulations(t, xt, exclude_invalid_x);
            return self;
          },
          nb::arg("theta"), nb::arg("x"), nb::arg("proposal") = nb::none(),
          nb::arg("exclude_invalid_x") = true, nb::rv_policy::reference,
          "theta (N, D), x (N, C); returns the NPE (chain .train()).")
      .def(
          "build_posterior",
          [](PyNPE& self, const NeuralSplineFlow* density_estimator, nb::handle prior,
             nb::handle sample_with) {
            check_sample_with(sample_with);
            const Distribution& d =
                prior.is_none() ? self.npe.prior() : as_prior(prior, "build_posterior");
            if (density_estimator != nullptr) return DirectPosterior(*density_estimator, d);
            if (prior.is_none()) return self.npe.build_posterior();
            return DirectPosterior(self.npe.density_estimator(), d);
          },
          nb::arg("density_estimator").none() = nb::none(), nb::arg("prior") = nb::none(),
          nb::arg("sample_with") = "direct",
          "A DirectPosterior over a copy of the trained flow (or of density_estimator).")
      .def_prop_ro(
          "summary", [](const PyNPE& self) { return summary_dict(self.npe.summary()); },
          "sbi's summary dict (epochs_trained, best_validation_loss, training_loss, ...).")
      .def_prop_ro(
          "density_estimator",
          [](PyNPE& self) -> NeuralSplineFlow& { return self.npe.density_estimator(); },
          nb::rv_policy::reference_internal, "The trained flow (sbi's _neural_net).")
      .def_prop_ro(
          "prior", [](const PyNPE& self) -> const Distribution& { return self.npe.prior(); },
          nb::rv_policy::reference_internal)
      .def_prop_ro("device", [](const PyNPE& self) { return self.npe.device().str(); })
      .def_prop_ro("num_simulations", [](const PyNPE& self) { return self.npe.num_simulations(); })
      .def(
          "get_simulations",
          [](const PyNPE& self) {
            const ArrayKind kind = default_array_kind();
            return nb::make_tuple(to_array(self.npe.theta(), kind), to_array(self.npe.x(), kind));
          },
          "(theta (N, D), x (N, C)): the simulations held, invalid rows excluded.");
  def_train(
      npe,
      [](PyNPE& self, const TrainOptions& options) -> NeuralSplineFlow& {
        TrainOptions o = options;
        o.show_progress = self.show_progress_bars;
        return self.npe.train(o);
      },
      "Trains the flow with sbi's train() arguments; returns it (owned by this NPE).");
}

}  // namespace cusbi::python
