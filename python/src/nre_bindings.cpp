// sbi's NRE pieces from Python: the ratio classifiers (build_resnet/mlp/linear_classifier ->
// cusbi.RatioClassifier with forward / backward and zero-copy parameters() / gradients() for
// cusbi.Adam), the contrastive losses and atoms for custom loops (sbi's tutorial 18) and the
// ratio potential; the trainers are in nre_trainer_bindings.cpp. cusbi has no autograd: a loss
// returns its gradient with respect to the logits, which backward() takes. Computation runs
// without the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/error.hpp"
#include "cusbi/nre.hpp"
#include "cusbi/potentials.hpp"
#include "mcmc_args.hpp"

namespace cusbi::python {

namespace {

// sbi's z_score_x / z_score_y values: a mode string, None (no z-scoring) or sbi's old bool flag.
std::string zscore_mode(nb::handle value) {
  if (value.is_none()) return "none";
  if (nb::isinstance<nb::bool_>(value)) return nb::cast<bool>(value) ? "independent" : "none";
  CUSBI_CHECK(nb::isinstance<nb::str>(value),
              "z_score_x / z_score_y must be \"independent\", \"structured\", \"none\" or None");
  return nb::cast<std::string>(value);
}

// build_{resnet,mlp,linear}_classifier: batch_x holds theta-side samples (sbi's naming inside the
// builders: x is theta, y is the data), batch_y the data.
template <class Builder>
void def_classifier_builder(nb::module_& m, const char* name, Builder builder, bool resnet,
                            bool hidden, const char* doc) {
  m.def(
      name,
      [builder, resnet, hidden](nb::handle batch_x, nb::handle batch_y, nb::handle z_score_x,
                                nb::handle z_score_y, int64_t hidden_features,
                                nb::handle embedding_net_x, nb::handle embedding_net_y,
                                int64_t num_blocks, float dropout_probability, bool use_batch_norm,
                                std::optional<uint64_t> seed) {
        CUSBI_CHECK(embedding_net_x.is_none() && embedding_net_y.is_none(),
                    "cusbi's classifiers have no embedding nets; pass None (the identity)");
        ClassifierOptions o;
        o.z_score_theta = zscore_mode(z_score_x);
        o.z_score_x = zscore_mode(z_score_y);
        CUSBI_CHECK(hidden || hidden_features == 50,
                    "build_linear_classifier has no hidden layer; leave hidden_features out");
        CUSBI_CHECK(resnet || (num_blocks == 2 && dropout_probability == 0.0f && !use_batch_norm),
                    "num_blocks, dropout_probability and use_batch_norm are "
                    "build_resnet_classifier's; leave them out");
        o.hidden_features = hidden_features;
        o.num_blocks = num_blocks;
        o.dropout_probability = dropout_probability;
        o.use_batch_norm = use_batch_norm;
        const Tensor theta = to_tensor(batch_x, "batch_x");
        const Tensor x = to_tensor(batch_y, "batch_y", theta.device());
        Generator generator(seed.value_or(0));
        nb::gil_scoped_release release;
        return builder(theta, x, o, seed ? &generator : nullptr);
      },
      nb::arg("batch_x"), nb::arg("batch_y"), nb::arg("z_score_x").none() = "independent",
      nb::arg("z_score_y").none() = "independent", nb::arg("hidden_features") = 50,
      nb::arg("embedding_net_x") = nb::none(), nb::arg("embedding_net_y") = nb::none(),
      nb::arg("num_blocks") = 2, nb::arg("dropout_probability") = 0.0f,
      nb::arg("use_batch_norm") = false, nb::arg("seed") = nb::none(), doc);
}

nb::object forward(RatioClassifier& net, nb::handle theta, nb::handle x) {
  const Tensor t = to_tensor(theta, "theta", net.device());
  const Tensor xt = to_tensor(x, "x", net.device());
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = net.forward(t, xt);
  }
  return to_array(out, kind_of(theta));
}

// (loss, grad...) of a fused loss as arrays of the logits' kind.
template <class... Tensors>
nb::tuple arrays_of(nb::handle like, const Tensors&... tensors) {
  return nb::make_tuple(to_array(tensors, kind_of(like))...);
}

void bind_classifiers(nb::module_& m) {
  nb::class_<RatioClassifier>(
      m, "RatioClassifier",
      "sbi's ratio estimator f(theta, x) -> logit. Custom loop (no autograd):\n"
      "    opt = cusbi.Adam(net.parameters(), net.gradients(), lr=5e-4)\n"
      "    opt.zero_grad()\n"
      "    logits = cusbi.classifier_logits(net, theta, x, num_atoms)  # (B K,)\n"
      "    loss, grad = cusbi.nre_b_loss(logits.reshape(B, num_atoms))\n"
      "    net.backward(grad); opt.step()")
      .def("forward", &forward, nb::arg("theta"), nb::arg("x"), "theta (B, D), x (B, C) -> (B,).")
      .def("__call__", &forward, nb::arg("theta"), nb::arg("x"), "theta (B, D), x (B, C) -> (B,).")
      .def(
          "backward",
          [](RatioClassifier& net, nb::handle grad_logits) {
            const Tensor g = to_tensor(grad_logits, "grad_logits", net.device()).reshape({-1});
            nb::gil_scoped_release release;
            net.backward(g);
          },
          nb::arg("grad_logits"),
          "grad_logits (B,) (or (B', K) from a loss, flattened) for the last forward: "
          "accumulates into gradients().")
      .def(
          "parameters",
          [](const RatioClassifier& n) { return to_array(n.parameters(), default_array_kind()); },
          "All parameters as one flat array sharing the network's memory (for cusbi.Adam).")
      .def(
          "gradients",
          [](const RatioClassifier& n) { return to_array(n.gradients(), default_array_kind()); },
          "The accumulated gradients, flat, sharing the network's memory.")
      .def("zero_grad", &RatioClassifier::zero_grad, "Sets every gradient to 0.")
      .def_prop_ro("theta_features", &RatioClassifier::theta_features)
      .def_prop_ro("x_features", &RatioClassifier::x_features)
      .def_prop_ro("kind", &RatioClassifier::kind, "\"resnet\", \"mlp\" or \"linear\".")
      .def_prop_ro("device", [](const RatioClassifier& n) { return n.device().str(); })
      .def(
          "to",
          [](RatioClassifier& n, nb::handle device) -> RatioClassifier& {
            n.to(parse_device(device));
            return n;
          },
          nb::arg("device"), nb::rv_policy::reference,
          "Moves the network in place; take parameters()/gradients() again afterwards.")
      .def("clone", &RatioClassifier::clone, "An independent (deep) copy.")
      .def("__repr__", [](const RatioClassifier& n) {
        return "RatioClassifier(kind='" + n.kind() +
               "', theta_features=" + std::to_string(n.theta_features()) +
               ", x_features=" + std::to_string(n.x_features()) +
               ", num_parameters=" + std::to_string(n.parameters().numel()) + ", device='" +
               n.device().str() + "')";
      });

  def_classifier_builder(
      m, "build_resnet_classifier",
      [](const Tensor& t, const Tensor& x, const ClassifierOptions& o, Generator* g) {
        return build_resnet_classifier(t, x, o, g);
      },
      true, true,
      "sbi's build_resnet_classifier: batch_x (N, D) theta-side samples, batch_y (N, C) data "
      "(z-scoring statistics); hidden_features, num_blocks. seed: the initialisation's.");
  def_classifier_builder(
      m, "build_mlp_classifier",
      [](const Tensor& t, const Tensor& x, const ClassifierOptions& o, Generator* g) {
        return build_mlp_classifier(t, x, o, g);
      },
      false, true, "sbi's build_mlp_classifier (LayerNorm as sbi >= 0.26); as the resnet's.");
  def_classifier_builder(
      m, "build_linear_classifier",
      [](const Tensor& t, const Tensor& x, const ClassifierOptions& o, Generator* g) {
        return build_linear_classifier(t, x, o, g);
      },
      false, false, "sbi's build_linear_classifier: one Linear on the z-scored inputs.");
}

void bind_losses(nb::module_& m) {
  m.def(
      "nre_b_loss",
      [](nb::handle logits) {
        const Tensor l = to_tensor(logits, "logits");
        std::pair<Tensor, Tensor> r;
        {
          nb::gil_scoped_release release;
          r = nre_b_loss(l);
        }
        return arrays_of(logits, r.first, r.second);
      },
      nb::arg("logits"),
      "NRE_B: logits (B, K), true pair in column 0 -> (loss (), d loss / d logits (B, K)).");
  m.def(
      "nre_a_loss",
      [](nb::handle logits) {
        const Tensor l = to_tensor(logits, "logits");
        std::pair<Tensor, Tensor> r;
        {
          nb::gil_scoped_release release;
          r = nre_a_loss(l);
        }
        return arrays_of(logits, r.first, r.second);
      },
      nb::arg("logits"),
      "NRE_A: logits (B, 2) [joint, marginal] (or (2B,) interleaved) -> (loss (), grad).");
  m.def(
      "bnre_loss",
      [](nb::handle logits, float regularization_strength) {
        const Tensor l = to_tensor(logits, "logits");
        std::pair<Tensor, Tensor> r;
        {
          nb::gil_scoped_release release;
          r = bnre_loss(l, regularization_strength);
        }
        return arrays_of(logits, r.first, r.second);
      },
      nb::arg("logits"), nb::arg("regularization_strength") = 100.0f,
      "BNRE: NRE_A's layout -> (loss (), grad).");
  m.def(
      "nre_c_loss",
      [](nb::handle marginal_logits, nb::handle joint_logits, float gamma) {
        const Tensor ml = to_tensor(marginal_logits, "marginal_logits");
        const Tensor jl = to_tensor(joint_logits, "joint_logits", ml.device());
        NreCLoss r;
        {
          nb::gil_scoped_release release;
          r = nre_c_loss(ml, jl, gamma);
        }
        return arrays_of(marginal_logits, r.loss, r.grad_marginal, r.grad_joint);
      },
      nb::arg("marginal_logits"), nb::arg("joint_logits"), nb::arg("gamma") = 1.0f,
      "NRE_C: marginal_logits (B, K + 1) (column 0 ignored), joint_logits (B, K) -> (loss (), "
      "grad_marginal, grad_joint).");
  m.def(
      "contrasting_indices",
      [](int64_t batch_size, int64_t num_atoms, nb::handle device, std::optional<uint64_t> seed) {
        Generator generator(seed.value_or(0));
        const Device where = parse_device(device);
        Tensor out;
        {
          nb::gil_scoped_release release;
          out = contrasting_indices(batch_size, num_atoms, where, seed ? &generator : nullptr);
        }
        return to_array(out, default_array_kind());
      },
      nb::arg("batch_size"), nb::arg("num_atoms"), nb::arg("device") = nb::none(),
      nb::arg("seed") = nb::none(),
      "int64 (B, K): row i = [i, K - 1 distinct other rows], as sbi's contrasting choice.");
  m.def(
      "classifier_logits",
      [](RatioClassifier& net, nb::handle theta, nb::handle x, int64_t num_atoms,
         std::optional<uint64_t> seed) {
        const Tensor t = to_tensor(theta, "theta", net.device());
        const Tensor xt = to_tensor(x, "x", net.device());
        Generator generator(seed.value_or(0));
        Tensor out;
        {
          nb::gil_scoped_release release;
          out = classifier_logits(net, t, xt, num_atoms, seed ? &generator : nullptr);
        }
        return to_array(out, kind_of(theta));
      },
      nb::arg("net"), nb::arg("theta"), nb::arg("x"), nb::arg("num_atoms"),
      nb::arg("seed") = nb::none(),
      "The tutorial's classifier_logits: theta (B, D), x (B, C) -> logits (B K,), row i K + k "
      "pairing x_i with atom k's theta (k = 0: its own). Reshape to (B, K) for nre_b_loss.");
  m.def(
      "ratio_estimator_based_potential",
      [](const RatioClassifier& net, const Distribution& prior, nb::handle x_o,
         bool enable_transform) {
        const Tensor x = x_tensor(x_o, "x_o");
        nb::gil_scoped_release release;
        return ratio_estimator_based_potential(net, prior, x, enable_transform);
      },
      nb::arg("ratio_estimator"), nb::arg("prior"), nb::arg("x_o") = nb::none(),
      nb::arg("enable_transform") = true,
      "NRE: (potential_fn, theta_transform); potential sum_j f(theta, x_j) + log prior. x_o "
      "(C,) or (n, C) iid trials; the network is copied.");
}

}  // namespace

void bind_nre(nb::module_& m) {
  bind_classifiers(m);
  bind_losses(m);
  bind_nre_trainers(m);  // nre_trainer_bindings.cpp
}

}  // namespace cusbi::python
