// The density estimator for custom training loops (sbi's tutorial 18): build_nsf ->
// cusbi.NeuralSplineFlow with loss / backward / log_prob / sample and zero-copy parameters() /
// gradients(), plus cusbi.Adam and clip_grad_norm over those flat views. cusbi has no autograd:
// the loop hands d(mean loss)/d(losses) to backward() itself. Computation runs without the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <optional>
#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/error.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/optim.hpp"
#include "nsf_args.hpp"

namespace cusbi::python {

namespace {

using Flow = NeuralSplineFlow;

// The address of an array's first element as Python sees it (0 when the type is unknown).
uintptr_t python_data_ptr(nb::handle array) {
  if (nb::hasattr(array, "data_ptr")) return nb::cast<uintptr_t>(array.attr("data_ptr")());
  if (nb::hasattr(array, "__array_interface__")) {
    nb::object data = array.attr("__array_interface__")["data"];
    return nb::cast<uintptr_t>(nb::cast<nb::tuple>(data)[0]);
  }
  return 0;
}

// A tensor sharing `array`'s memory, for buffers updated in place (parameters, gradients): a
// converted copy would silently lose the updates, so it is refused.
Tensor in_place_tensor(nb::handle array, const char* what) {
  Tensor t = to_tensor(array, what);
  CUSBI_CHECK(t.numel() == 0 || python_data_ptr(array) == reinterpret_cast<uintptr_t>(t.data()),
              what << " must be a float32 contiguous array that can be updated in place (as "
                      "est.parameters() and est.gradients() return); this one would be converted "
                      "to a copy and the updates lost");
  return t;
}

// A flat buffer of the model as an array sharing its memory: the default kind on the CPU, a
// torch tensor on a GPU (a NumPy array there would be a host copy that Adam updates in vain).
nb::object view_of(const Tensor& buffer) {
  return to_array(buffer, buffer.device().is_cuda() ? ArrayKind::Torch : default_array_kind());
}

Flow build(nb::handle batch_x, nb::handle batch_y, nb::handle z_score_x, nb::handle z_score_y,
           int64_t hidden_features, int64_t num_transforms, int64_t num_bins,
           nb::handle embedding_net, float tail_bound, int64_t hidden_layers_spline_context,
           int64_t num_blocks, double dropout_probability, bool use_batch_norm,
           std::optional<uint64_t> seed) {
  CUSBI_CHECK(embedding_net.is_none(),
              "build_nsf: cusbi has no embedding nets; pass embedding_net=None (the identity)");
  CUSBI_CHECK(dropout_probability == 0.0,
              "build_nsf: cusbi's flow has no dropout; pass dropout_probability=0.0");
  CUSBI_CHECK(!use_batch_norm,
              "build_nsf: cusbi's flow has no batch norm; pass use_batch_norm=False");
  NsfOptions options;
  options.hidden_features = hidden_features;
  options.num_transforms = num_transforms;
  options.num_bins = num_bins;
  options.tail_bound = tail_bound;
  options.num_blocks = num_blocks;
  options.hidden_layers_spline_context = hidden_layers_spline_context;
  options.z_score_input = parse_zscore(z_score_x, "z_score_x");
  options.z_score_condition = parse_zscore(z_score_y, "z_score_y");
  const Tensor input = to_tensor(batch_x, "batch_x");
  const Tensor condition = to_tensor(batch_y, "batch_y", input.device());
  Generator generator(seed.value_or(0));
  nb::gil_scoped_release release;
  return build_nsf(input, condition, options, seed ? &generator : nullptr);
}

nb::object loss(Flow& flow, nb::handle input, nb::handle condition) {
  const Tensor in = to_tensor(input, "input", flow.device());
  const Tensor cond = to_tensor(condition, "condition", flow.device());
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = flow.loss(in, cond);
  }
  return to_array(out, kind_of(input));
}

void backward(Flow& flow, nb::handle grad_losses) {
  const Tensor grad = to_tensor(grad_losses, "grad_losses", flow.device());
  nb::gil_scoped_release release;
  flow.backward(grad);
}

// loss, then backward of the mean: the tutorial's `loss = losses.mean(); loss.backward()`.
float loss_and_backward(Flow& flow, nb::handle input, nb::handle condition) {
  const Tensor in = to_tensor(input, "input", flow.device());
  const Tensor cond = to_tensor(condition, "condition", flow.device());
  nb::gil_scoped_release release;
  const Tensor losses = flow.loss(in, cond);
  const auto n = static_cast<float>(losses.numel());
  flow.backward(Tensor::full(losses.shape(), 1.0f / n, flow.device()));
  return sum_all(losses) / n;
}

nb::object log_prob(Flow& flow, nb::handle input, nb::handle condition) {
  const Tensor in = to_tensor(input, "input", flow.device());
  const Tensor cond = to_tensor(condition, "condition", flow.device());
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = flow.log_prob(in, cond);
  }
  // (B, D) input: (B,), as sbi users expect of a batch; the C++ contract's (1, B) otherwise.
  if (in.dim() == 2) out = out.reshape({out.numel()});
  return to_array(out, kind_of(input));
}

nb::object sample(Flow& flow, nb::handle sample_shape, nb::handle condition) {
  const Shape shape = parse_shape(sample_shape);
  const Tensor cond = to_tensor(condition, "condition", flow.device());
  Tensor out;
  {
    nb::gil_scoped_release release;
    out = flow.sample(shape, cond);
  }
  return to_array(out, kind_of(condition));
}

AdamOptions adam_options(double lr, std::pair<double, double> betas, double eps,
                         double weight_decay) {
  AdamOptions options;
  options.lr = lr;
  options.beta1 = betas.first;
  options.beta2 = betas.second;
  options.eps = eps;
  options.weight_decay = weight_decay;
  return options;
}

}  // namespace

void bind_estimators(nb::module_& m) {
  nb::class_<Flow>(
      m, "NeuralSplineFlow",
      "sbi's NSF density estimator q(input | condition) (NPE: input theta, condition x). Custom "
      "training loop (no autograd: backward takes d(mean)/d(losses)):\n"
      "    opt = cusbi.Adam(est.parameters(), est.gradients(), lr=5e-4)\n"
      "    for _ in range(100):\n"
      "        opt.zero_grad()\n"
      "        losses = est.loss(theta, x)                          # (B,)\n"
      "        est.backward(torch.full_like(losses, 1 / len(losses)))  # mean(losses).backward()\n"
      "        opt.step()\n"
      "est.loss_and_backward(theta, x) does the two middle lines in one call (returns the mean).\n"
      "Not thread-safe: one flow must not be used from several threads at once.")
      .def("loss", &loss, nb::arg("input"), nb::arg("condition"),
           "input (B, D), condition (B, C) or (1, C) -> (B,): -log q(input | condition).")
      .def("backward", &backward, nb::arg("grad_losses"),
           "grad_losses (B,): d(loss)/d(losses) of the last loss(); accumulates into "
           "gradients().")
      .def("loss_and_backward", &loss_and_backward, nb::arg("input"), nb::arg("condition"),
           "loss() then backward() of the mean in one call; returns the mean loss (a float).")
      .def("log_prob", &log_prob, nb::arg("input"), nb::arg("condition"),
           "input (S, B, D) -> (S, B), or (B, D) -> (B,); condition (B, C): log q.")
      .def("sample", &sample, nb::arg("sample_shape"), nb::arg("condition"),
           "condition (B, C) -> samples (*sample_shape, B, D) from the default generator.")
      .def(
          "parameters", [](const Flow& f) { return view_of(f.parameters()); },
          "All parameters as one flat array that shares the flow's memory (for cusbi.Adam).")
      .def(
          "gradients", [](const Flow& f) { return view_of(f.gradients()); },
          "The accumulated gradients, flat, sharing the flow's memory (as parameters()).")
      .def("zero_grad", &Flow::zero_grad, "Sets every gradient to 0.")
      .def_prop_ro("input_features", &Flow::input_features, "D, the size of input.")
      .def_prop_ro("condition_features", &Flow::condition_features, "C, the size of condition.")
      .def_prop_ro("device", [](const Flow& f) { return f.device().str(); })
      .def(
          "to",
          [](Flow& f, nb::handle device) -> Flow& {
            f.to(parse_device(device));
            return f;
          },
          nb::arg("device"), nb::rv_policy::reference,
          "Moves the flow in place and returns it; parameters()/gradients() taken before (and "
          "an Adam over them) still view the old memory: take them again.")
      .def(
          "clone",
          [](const Flow& f, nb::handle device) {
            return f.clone(device.is_none() ? std::nullopt
                                            : std::optional<Device>(parse_device(device)));
          },
          nb::arg("device") = nb::none(), "An independent copy, on `device` or on this flow's.")
      .def("__repr__", [](const Flow& f) {
        return "NeuralSplineFlow(input_features=" + std::to_string(f.input_features()) +
               ", condition_features=" + std::to_string(f.condition_features()) +
               ", num_parameters=" + std::to_string(f.parameters().numel()) + ", device='" +
               f.device().str() + "')";
      });

  m.def("build_nsf", &build, nb::arg("batch_x"), nb::arg("batch_y"),
        nb::arg("z_score_x") = "independent", nb::arg("z_score_y") = "independent",
        nb::arg("hidden_features") = 50, nb::arg("num_transforms") = 5, nb::arg("num_bins") = 10,
        nb::arg("embedding_net") = nb::none(), nb::arg("tail_bound") = 3.0f,
        nb::arg("hidden_layers_spline_context") = 1, nb::arg("num_blocks") = 2,
        nb::arg("dropout_probability") = 0.0, nb::arg("use_batch_norm") = false,
        nb::arg("seed") = nb::none(),
        "sbi's build_nsf: batch_x (N, D) is the modelled input (theta for NPE), batch_y (N, C) "
        "the condition; z-scoring statistics from them. seed: the initialisation's generator.");

  nb::class_<Adam>(m, "Adam", "torch.optim.Adam over a flat parameter and gradient array.")
      .def(
          "__init__",
          [](Adam* self, nb::handle params, nb::handle grads, double lr,
             std::pair<double, double> betas, double eps, double weight_decay) {
            const AdamOptions options = adam_options(lr, betas, eps, weight_decay);
            if (grads.is_none() && nb::isinstance<Flow>(params)) {  // Adam(flow, lr=...)
              const Flow& flow = nb::cast<const Flow&>(params);
              new (self) Adam(flow.parameters(), flow.gradients(), options);
              return;
            }
            nb::object p = nb::borrow(params), g = nb::borrow(grads);
            if (g.is_none()) {  // Adam(estimator, lr=...): its parameters() and gradients()
              CUSBI_CHECK(nb::hasattr(params, "gradients"),
                          "Adam(params, grads, lr=...): pass est.parameters() and "
                          "est.gradients() (or the estimator itself)");
              g = params.attr("gradients")();
              p = params.attr("parameters")();
            }
            new (self) Adam(in_place_tensor(p, "params"), in_place_tensor(g, "grads"), options);
          },
          nb::arg("params"), nb::arg("grads") = nb::none(), nb::arg("lr") = 1e-3,
          nb::arg("betas") = std::make_pair(0.9, 0.999), nb::arg("eps") = 1e-8,
          nb::arg("weight_decay") = 0.0,
          "params, grads: est.parameters(), est.gradients() (or Adam(est, lr=...)); params are "
          "updated in place.")
      .def("zero_grad", &Adam::zero_grad, "Sets the gradients to 0.")
      .def(
          "step",
          [](Adam& a) {
            nb::gil_scoped_release release;
            a.step();
          },
          "One Adam update of the parameters, in place.")
      .def_prop_rw(
          "lr", [](const Adam& a) { return a.options().lr; },
          [](Adam& a, double lr) { a.set_lr(lr); }, "The learning rate.")
      .def_prop_ro("step_count", &Adam::step_count);

  m.def(
      "clip_grad_norm",
      [](nb::handle grads, double max_norm) {
        const Tensor g = in_place_tensor(grads, "grads");
        nb::gil_scoped_release release;
        return clip_grad_norm(g, max_norm);
      },
      nb::arg("grads"), nb::arg("max_norm"),
      "torch.nn.utils.clip_grad_norm_ on a flat gradient array, in place; returns the total "
      "norm before clipping.");
}

}  // namespace cusbi::python
