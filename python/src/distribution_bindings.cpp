// Priors with sbi's / torch's names: BoxUniform(low, high) and MultivariateNormal(loc,
// covariance_matrix | scale_tril), behind cusbi.Distribution (what NPE, NLE, NRE and the
// posteriors take as prior or proposal). Computation runs without the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>

#include <memory>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/distributions.hpp"
#include "cusbi/error.hpp"
#include "cusbi/tensor_ops.hpp"

namespace cusbi::python {

namespace {

// theta's device is the distribution's: a theta elsewhere is copied there.
nb::object log_prob(const Distribution& d, nb::handle theta) {
  const Tensor t = to_tensor(theta, "theta", d.device());
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = d.log_prob(t);
  }
  return to_array(out, kind_of(theta));
}

nb::object sample(const Distribution& d, nb::handle sample_shape) {
  const Shape shape = parse_shape(sample_shape);
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = d.sample(shape);
  }
  return to_array(out, default_array_kind());
}

std::unique_ptr<Distribution> moved_to(const Distribution& d, nb::handle device) {
  return d.to(parse_device(device));
}

}  // namespace

void bind_distributions(nb::module_& m) {
  nb::class_<Distribution>(m, "Distribution",
                           "A prior or proposal: BoxUniform or MultivariateNormal.")
      .def("sample", &sample, nb::arg("sample_shape") = nb::make_tuple(),
           "Draws (*sample_shape, D) from cusbi's default generator.")
      .def("log_prob", &log_prob, nb::arg("theta"),
           "theta (..., D) -> (...): log-density, -inf outside the support.")
      .def(
          "support_mask",
          [](const Distribution& d, nb::handle theta) {
            return to_array(d.support_mask(to_tensor(theta, "theta", d.device())), kind_of(theta));
          },
          nb::arg("theta"), "theta (..., D) -> (...): 1 inside the (closed) support, else 0.")
      .def("to", &moved_to, nb::arg("device"), "A copy on `device`.")
      .def_prop_ro("event_shape",
                   [](const Distribution& d) { return nb::make_tuple(d.event_size()); })
      .def_prop_ro("device", [](const Distribution& d) { return d.device().str(); })
      .def_prop_ro("mean",
                   [](const Distribution& d) { return to_array(d.mean(), default_array_kind()); })
      .def_prop_ro("stddev",
                   [](const Distribution& d) { return to_array(d.stddev(), default_array_kind()); })
      .def("__repr__", &Distribution::describe);

  nb::class_<BoxUniform, Distribution>(
      m, "BoxUniform",
      "sbi.utils.BoxUniform: independent uniforms on [low, high) (support check closed).")
      .def(
          "__init__",
          [](BoxUniform* self, nb::handle low, nb::handle high, nb::handle device) {
            const Device where = parse_device(device);
            new (self) BoxUniform(to_tensor(low, "low", where).reshape({-1}).clone(),
                                  to_tensor(high, "high", where).reshape({-1}).clone());
          },
          nb::arg("low"), nb::arg("high"), nb::arg("device") = nb::none())
      .def_prop_ro("low",
                   [](const BoxUniform& b) { return to_array(b.low(), default_array_kind()); })
      .def_prop_ro("high",
                   [](const BoxUniform& b) { return to_array(b.high(), default_array_kind()); });

  nb::class_<MultivariateNormal, Distribution>(
      m, "MultivariateNormal",
      "torch.distributions.MultivariateNormal: give covariance_matrix or scale_tril (D, D).")
      .def(
          "__init__",
          [](MultivariateNormal* self, nb::handle loc, nb::handle covariance_matrix,
             nb::handle scale_tril, nb::handle device) {
            const Device where = parse_device(device);
            CUSBI_CHECK(covariance_matrix.is_none() != scale_tril.is_none(),
                        "MultivariateNormal needs exactly one of covariance_matrix and "
                        "scale_tril");
            const Tensor mean = to_tensor(loc, "loc", where).reshape({-1}).clone();
            Tensor covariance;
            if (!covariance_matrix.is_none()) {
              covariance = to_tensor(covariance_matrix, "covariance_matrix", where).clone();
            } else {
              const Tensor l = to_tensor(scale_tril, "scale_tril", where);
              CUSBI_CHECK(l.dim() == 2, "scale_tril must be (D, D), got " << shape_str(l.shape()));
              covariance = matmul(l, transpose(l));
            }
            new (self) MultivariateNormal(mean, covariance);
          },
          nb::arg("loc"), nb::arg("covariance_matrix") = nb::none(),
          nb::arg("scale_tril") = nb::none(), nb::arg("device") = nb::none())
      .def_prop_ro(
          "loc",
          [](const MultivariateNormal& d) { return to_array(d.loc(), default_array_kind()); })
      .def_prop_ro("covariance_matrix", [](const MultivariateNormal& d) {
        return to_array(d.covariance(), default_array_kind());
      });
}

}  // namespace cusbi::python
