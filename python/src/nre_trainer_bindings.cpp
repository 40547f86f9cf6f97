// sbi's NRE trainers from Python: NRE (= NRE_B), NRE_A, NRE_C and BNRE with sbi's constructor
// and train() keywords (num_atoms, num_classes, gamma, regularization_strength; cusbi fixes them
// at construction, so train() rebuilds an untrained trainer around its simulations when they
// change), append_simulations and build_posterior -> MCMCPosterior. Training runs without the GIL.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/error.hpp"
#include "cusbi/nre.hpp"
#include "cusbi/potentials.hpp"
#include "mcmc_args.hpp"
#include "train_args.hpp"

namespace cusbi::python {

namespace {

// The Python classes NRE (= NRE_B), NRE_A, NRE_C and BNRE: one C++ trainer, the variant set at
// construction; distinct types so that each has sbi's train() keywords.
struct NreB : NRE {
  using NRE::NRE;
};
struct NreA : NRE {
  using NRE::NRE;
};
struct NreC : NRE {
  using NRE::NRE;
};
struct Bnre : NRE {
  using NRE::NRE;
};

// sbi passes num_atoms / num_classes / gamma / regularization_strength to train(); cusbi's NRE
// fixes them at construction, so a change rebuilds the trainer around the same simulations
// (before the first training, or with retrain_from_scratch=True).
void reconfigure(NRE& nre, const NreOptions& wanted, const nb::kwargs& kwargs) {
  const NreOptions& now = nre.options();
  if (wanted.num_atoms == now.num_atoms && wanted.num_classes == now.num_classes &&
      wanted.gamma == now.gamma && wanted.regularization_strength == now.regularization_strength)
    return;
  const bool scratch =
      kwargs.contains("retrain_from_scratch") && nb::cast<bool>(kwargs["retrain_from_scratch"]);
  CUSBI_CHECK(nre.summary().epochs_trained.empty() || scratch,
              "NRE.train: num_atoms / num_classes / gamma / regularization_strength cannot "
              "change once trained; pass retrain_from_scratch=True to start over with them");
  NRE fresh(nre.prior(), wanted, nre.device());
  if (nre.num_simulations() > 0) fresh.append_simulations(nre.theta(), nre.x());
  nre = std::move(fresh);
}

// train(<variant keywords>, **sbi's train keywords): reconfigure, then the shared train().
nb::object variant_train(nb::object self, const NreOptions& wanted, const nb::kwargs& kwargs) {
  reconfigure(nb::cast<NRE&>(self), wanted, kwargs);
  return nb::type<NRE>().attr("train")(self, **kwargs);
}

const NreOptions& options_of(nb::handle self) { return nb::cast<NRE&>(self).options(); }

// sbi's constructor keywords (prior, classifier="resnet", device, show_progress_bars), then the
// variant's own (set by `extra` on the options).
template <class Trainer, class Extra, class... Args>
void def_init(nb::class_<Trainer, NRE>& cls, NreVariant variant, Extra extra, Args... names) {
  cls.def(
      "__init__",
      [variant, extra](Trainer* self, const Distribution& prior, const std::string& classifier,
                       nb::handle device, bool show_progress_bars, nb::kwargs kwargs) {
        (void)show_progress_bars;  // cusbi's training loop prints no progress bar
        NreOptions o;
        o.variant = variant;
        o.classifier = classifier;
        extra(o, kwargs);
        new (self) Trainer(prior, o, parse_device(device));
      },
      nb::arg("prior"), nb::arg("classifier") = "resnet", nb::arg("device") = nb::none(),
      nb::arg("show_progress_bars") = true, nb::arg("kwargs"), names...);
}

}  // namespace

void bind_nre_trainers(nb::module_& m) {
  nb::class_<NRE> base(m, "RatioEstimatorTrainer",
                       "The NRE trainers' shared methods (NRE / NRE_B, NRE_A, NRE_C, BNRE).");
  def_append_simulations(base, /*exclude_invalid_default=*/false);
  def_mcmc_build_posterior<RatioClassifier>(
      base, [](NRE& n) -> const RatioClassifier& { return n.classifier(); },
      [](const RatioClassifier& net, const Distribution& prior) {
        return ratio_estimator_based_potential(net, prior, Tensor());
      },
      "An MCMCPosterior over the trained classifier (copied) and the prior; set x with "
      "set_default_x or sample(x=...).");
  base.def_prop_ro("summary", [](const NRE& n) { return summary_dict(n.summary()); })
      .def_prop_ro("num_simulations", &NRE::num_simulations)
      .def_prop_ro("num_atoms", &NRE::num_atoms, "Atoms per row of the last train() (clamped).")
      .def_prop_ro("device", [](const NRE& n) { return n.device().str(); });
  // By value: a RatioClassifier is a handle sharing the trainer's network.
  def_train(
      base, [](NRE& n, const TrainOptions& o) { return n.train(o); },
      "Trains the classifier with early stopping; returns it (shares the trainer's network).");

  nb::class_<NreB, NRE> nre_b(m, "NRE", "sbi's NRE (= NRE_B, SRE): softmax over num_atoms atoms.");
  const auto no_extra = [](NreOptions&, const nb::kwargs& kwargs) {
    CUSBI_CHECK(kwargs.size() == 0, "unexpected keyword arguments " << nb::repr(kwargs).c_str());
  };
  def_init(nre_b, NreVariant::B, no_extra);
  nre_b.def(
      "train",
      [](nb::object self, std::optional<int64_t> num_atoms, nb::kwargs kwargs) {
        NreOptions o = options_of(self);
        if (num_atoms) o.num_atoms = *num_atoms;
        return variant_train(self, o, kwargs);
      },
      nb::arg("num_atoms") = nb::none(), nb::arg("kwargs"),
      "sbi's NRE_B.train(num_atoms=10, ...) (None: the trainer's, 10) and the shared train "
      "keywords; returns the classifier.");
  m.attr("NRE_B") = nre_b;

  nb::class_<NreA, NRE> nre_a(m, "NRE_A", "sbi's NRE_A (AALR): binary classification, 2 atoms.");
  def_init(nre_a, NreVariant::A, no_extra);

  nb::class_<NreC, NRE> nre_c(m, "NRE_C",
                              "sbi's NRE_C (contrastive NRE): num_classes marginal classes and "
                              "the joint class with odds gamma.");
  def_init(nre_c, NreVariant::C, [](NreOptions& o, const nb::kwargs& kwargs) {
    for (auto [k, v] : kwargs) {
      const std::string key = nb::cast<std::string>(k);
      if (key == "num_classes") {
        o.num_classes = nb::cast<int64_t>(v);
      } else {
        CUSBI_CHECK(key == "gamma",
                    "NRE_C: unexpected keyword '" << key << "'; it takes num_classes and gamma");
        o.gamma = nb::cast<float>(v);
      }
    }
  });
  nre_c.def(
      "train",
      [](nb::object self, std::optional<int64_t> num_classes, std::optional<float> gamma,
         nb::kwargs kwargs) {
        NreOptions o = options_of(self);
        if (num_classes) o.num_classes = *num_classes;
        if (gamma) o.gamma = *gamma;
        return variant_train(self, o, kwargs);
      },
      nb::arg("num_classes") = nb::none(), nb::arg("gamma") = nb::none(), nb::arg("kwargs"),
      "sbi's NRE_C.train(num_classes=5, gamma=1.0, ...) (None: the trainer's) and the shared "
      "train keywords; returns the classifier.");

  nb::class_<Bnre, NRE> bnre(m, "BNRE", "sbi's BNRE: NRE_A with a balancing regulariser.");
  def_init(bnre, NreVariant::BNRE, [](NreOptions& o, const nb::kwargs& kwargs) {
    for (auto [k, v] : kwargs) {
      const std::string key = nb::cast<std::string>(k);
      CUSBI_CHECK(key == "regularization_strength",
                  "BNRE: unexpected keyword '" << key << "'; it takes regularization_strength");
      o.regularization_strength = nb::cast<float>(v);
    }
  });
  bnre.def(
      "train",
      [](nb::object self, std::optional<float> regularization_strength, nb::kwargs kwargs) {
        NreOptions o = options_of(self);
        if (regularization_strength) o.regularization_strength = *regularization_strength;
        return variant_train(self, o, kwargs);
      },
      nb::arg("regularization_strength") = nb::none(), nb::arg("kwargs"),
      "sbi's BNRE.train(regularization_strength=100.0, ...) (None: the trainer's) and the "
      "shared train keywords; returns the classifier.");
}

}  // namespace cusbi::python
