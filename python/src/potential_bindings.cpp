// sbi's potentials from Python: likelihood_/posterior_estimator_based_potential (NLE, NPE) and
// any Python function of theta, as cusbi.Potential (call, gradient, set_x), with their theta
// transforms (cusbi.ThetaTransform, sbi.utils.mcmc_transform). Evaluations run without the GIL;
// a Python potential (MCMCPosterior's callable potential_fn) takes it back for each batched call.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
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
#include "mcmc_args.hpp"
#include "train_args.hpp"

namespace cusbi::python {

namespace {

using PotentialPtr = std::shared_ptr<Potential>;

// A Python function theta (M, D) -> (M,) as a Potential: each batched call takes the GIL.
// `held` keeps the function (the posterior shows it to Python's garbage collector).
PotentialPtr python_potential(std::shared_ptr<nb::object> held, int64_t dim, Device device) {
  const ArrayKind kind = default_array_kind();
  PotentialFunction call = [held, kind, device](const Tensor& theta) -> Tensor {
    nb::gil_scoped_acquire gil;
    CUSBI_CHECK(held->is_valid(), "the potential function was released by garbage collection");
    nb::object out = (*held)(to_array(theta, kind));
    return to_tensor(out, "the potential function's output", device).reshape({-1});
  };
  return potential_from_function(std::move(call), dim, device);
}

nb::object evaluate(Potential& p, nb::handle theta, bool track_gradients) {
  (void)track_gradients;  // sbi's flag for autograd; cusbi has potential.gradient(theta)
  const Tensor t = to_tensor(theta, "theta", p.device());
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = p(t);
  }
  return to_array(out, kind_of(theta));
}

nb::tuple gradient(Potential& p, nb::handle theta) {
  const Tensor t = to_tensor(theta, "theta", p.device()).reshape({-1, p.dim()});
  Tensor out = Tensor::empty({t.size(0)}, p.device()), grad = Tensor::empty(t.shape(), p.device());
  {
    nb::gil_scoped_release release;
    p.evaluate_with_gradient(t, out, grad);
  }
  return nb::make_tuple(to_array(out, kind_of(theta)), to_array(grad, kind_of(theta)));
}

nb::object transform_call(const ThetaTransform& tf, nb::handle in, bool inverse) {
  const Tensor t = to_tensor(in, inverse ? "z" : "theta");
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = inverse ? tf.inverse(t) : tf.forward(t);
  }
  return to_array(out, kind_of(in));
}

nb::object inverse_ladj(const ThetaTransform& tf, nb::handle z, bool negate) {
  const Tensor t = to_tensor(z, "z");
  Tensor out = tf.inverse_log_abs_det_jacobian(t);
  if (negate) out = out * -1.0f;
  return to_array(out, kind_of(z));
}

// The builders, as sbi returns them: (potential_fn, theta_transform). x_o None: set it later
// (potential_fn.set_x or the posterior's x / set_default_x).
template <class Estimator, class Builder>
void def_builder(nb::module_& m, const char* name, const char* estimator, Builder builder,
                 const char* doc) {
  m.def(
      name,
      [builder](const Estimator& est, const Distribution& prior, nb::handle x_o,
                bool enable_transform) {
        const Tensor x = x_tensor(x_o, "x_o");
        nb::gil_scoped_release release;
        return builder(est, prior, x, enable_transform);
      },
      nb::arg(estimator), nb::arg("prior"), nb::arg("x_o") = nb::none(),
      nb::arg("enable_transform") = true, doc);
}
}  // namespace

std::shared_ptr<Potential> as_potential(nb::handle potential_fn, const Distribution& proposal,
                                        std::shared_ptr<nb::object>& held) {
  PotentialPtr potential;
  if (nb::try_cast(potential_fn, potential)) return potential;
  CUSBI_CHECK(PyCallable_Check(potential_fn.ptr()),
              "potential_fn must be a cusbi potential (from likelihood_estimator_based_potential "
              "and the like) or a callable theta (M, D) -> (M,)");
  held = hold(nb::borrow(potential_fn));
  return python_potential(held, proposal.event_size(), proposal.device());
}

void bind_potentials(nb::module_& m) {
  nb::class_<ThetaTransform>(
      m, "ThetaTransform",
      "sbi's theta_transform: theta -> z unconstrained (sigmoid-logit for a box prior).")
      .def(nb::init<>(), "The identity.")
      .def(
          "__call__",
          [](const ThetaTransform& t, nb::handle a) { return transform_call(t, a, false); },
          nb::arg("theta"), "theta (..., D) -> z (..., D).")
      .def(
          "inv", [](const ThetaTransform& t, nb::handle a) { return transform_call(t, a, true); },
          nb::arg("z"), "z (..., D) -> theta (..., D), as sbi's tf.inv(z).")
      .def(
          "log_abs_det_jacobian",
          [](const ThetaTransform& t, nb::handle theta, nb::handle z) {
            (void)theta;
            return inverse_ladj(t, z, true);
          },
          nb::arg("theta"), nb::arg("z"), "log|det dz/dtheta| (...,), as torch's transforms.")
      .def(
          "inverse_log_abs_det_jacobian",
          [](const ThetaTransform& t, nb::handle z) { return inverse_ladj(t, z, false); },
          nb::arg("z"), "log|det dtheta/dz| at z (..., D) -> (...).")
      .def_prop_ro("is_identity", &ThetaTransform::is_identity);
  m.def("mcmc_transform", &ThetaTransform::for_prior, nb::arg("prior"),
        nb::arg("enable_transform") = true,
        "sbi.utils.mcmc_transform: the prior's theta -> z transform (identity when disabled).");

  nb::class_<Potential>(m, "Potential",
                        "sbi's potential_fn: theta (M, D) -> log p~(theta | x_o) (M,).")
      .def("__call__", &evaluate, nb::arg("theta"), nb::arg("track_gradients") = false,
           "theta (M, D) or (D,) -> (M,) (or (1,)); -inf outside the prior's support.")
      .def("gradient", &gradient, nb::arg("theta"),
           "theta (M, D) -> (potential (M,), d potential / d theta (M, D)).")
      .def(
          "set_x",
          [](Potential& p, nb::handle x_o, bool x_is_iid) {
            const Tensor x = to_tensor(x_o, "x_o");
            nb::gil_scoped_release release;
            x_is_iid ? p.set_x(x) : p.set_x_paired(x);
          },
          nb::arg("x_o"), nb::arg("x_is_iid") = true,
          "x_o (C,) or (n, C): n iid trials (x_is_iid=False: row i pairs with theta row i).")
      .def_prop_ro("x_o",
                   [](const Potential& p) -> nb::object {
                     if (!p.x().defined()) return nb::none();
                     return to_array(p.x(), default_array_kind());
                   })
      .def_prop_ro("dim", &Potential::dim)
      .def_prop_ro("has_gradient", &Potential::has_gradient)
      .def_prop_ro("device", [](const Potential& p) { return p.device().str(); });

  using Flow = NeuralSplineFlow;
  using Pair = std::pair<PotentialPtr, ThetaTransform>;
  def_builder<Flow>(
      m, "likelihood_estimator_based_potential", "likelihood_estimator",
      [](const Flow& f, const Distribution& p, const Tensor& x, bool e) -> Pair {
        return likelihood_estimator_based_potential(f, p, x, e);
      },
      "NLE: (potential_fn, theta_transform); potential sum_j log q(x_j | theta) + log prior. "
      "x_o (C,) or (n, C) iid trials; the flow is copied.");
  def_builder<Flow>(
      m, "posterior_estimator_based_potential", "posterior_estimator",
      [](const Flow& f, const Distribution& p, const Tensor& x, bool e) -> Pair {
        return posterior_estimator_based_potential(f, p, x, e);
      },
      "NPE: (potential_fn, theta_transform); potential log q(theta | x_o) inside the prior's "
      "support. x_o (C,) or (1, C); the flow is copied.");
}

}  // namespace cusbi::python
