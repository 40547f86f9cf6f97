// sbi's train() keyword arguments for every trainer binding (NPE, NLE, NRE): one list, one set
// of defaults (sbi 0.27's, as cusbi::TrainOptions has them), and sbi's `summary` dict.
#pragma once
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>

#include <cstdint>
#include <optional>

#include "arrays.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/random.hpp"

namespace cusbi::python {

namespace nb = nanobind;

// sbi's `inference.summary`: epochs_trained, best_validation_loss (per round), training_loss,
// validation_loss, epoch_durations_sec (per epoch), as lists of Python numbers.
nb::dict summary_dict(const TrainingSummary& summary);

// Binds cls.train(training_batch_size=200, learning_rate=5e-4, validation_fraction=0.1,
// stop_after_epochs=20, max_num_epochs=2**31-1, clip_max_norm=5.0 (None: no clipping),
// resume_training=False, retrain_from_scratch=False, show_train_summary=False, seed=None) -> the
// trained network, owned by the trainer (kept alive by it). `train(self, options)` runs without
// the GIL and returns a reference to the network.
template <class Class, class Train>
void def_train(Class& cls, Train train, const char* doc) {
  using Self = typename Class::Type;
  cls.def(
      "train",
      [train](Self& self, int64_t training_batch_size, double learning_rate,
              double validation_fraction, int64_t stop_after_epochs, int64_t max_num_epochs,
              std::optional<double> clip_max_norm, bool resume_training, bool retrain_from_scratch,
              bool show_train_summary, std::optional<uint64_t> seed) -> decltype(auto) {
        TrainOptions options;
        options.training_batch_size = training_batch_size;
        options.learning_rate = learning_rate;
        options.validation_fraction = validation_fraction;
        options.stop_after_epochs = stop_after_epochs;
        options.max_num_epochs = max_num_epochs;
        options.clip_max_norm = clip_max_norm.value_or(0.0);
        options.resume_training = resume_training;
        options.retrain_from_scratch = retrain_from_scratch;
        options.show_train_summary = show_train_summary;
        Generator generator(seed.value_or(0));
        if (seed) options.generator = &generator;
        nb::gil_scoped_release release;
        return train(self, options);
      },
      nb::arg("training_batch_size") = 200, nb::arg("learning_rate") = 5e-4,
      nb::arg("validation_fraction") = 0.1, nb::arg("stop_after_epochs") = 20,
      nb::arg("max_num_epochs") = 2147483647, nb::arg("clip_max_norm") = 5.0,
      nb::arg("resume_training") = false, nb::arg("retrain_from_scratch") = false,
      nb::arg("show_train_summary") = false, nb::arg("seed") = nb::none(),
      nb::rv_policy::reference_internal, doc);
}

// Binds cls.append_simulations(theta, x, exclude_invalid_x=<default>) -> the trainer itself (so
// that `trainer.append_simulations(theta, x).train()` chains), for trainers whose C++
// append_simulations(theta, x, exclude_invalid_x) has no further arguments (NLE, the NREs).
template <class Class>
void def_append_simulations(Class& cls, bool exclude_invalid_default) {
  using Self = typename Class::Type;
  cls.def(
      "append_simulations",
      [](nb::object self, nb::handle theta, nb::handle x, bool exclude_invalid_x) {
        Self& trainer = nb::cast<Self&>(self);
        const Tensor t = to_tensor(theta, "theta"), xt = to_tensor(x, "x");
        nb::gil_scoped_release release;
        trainer.append_simulations(t, xt, exclude_invalid_x);
        return self;
      },
      nb::arg("theta"), nb::arg("x"), nb::arg("exclude_invalid_x") = exclude_invalid_default,
      "theta (N, D), x (N, C); returns the trainer (NaN/inf rows raise unless excluded).");
}

}  // namespace cusbi::python
