// sbi's summary dict from cusbi::TrainingSummary (see train_args.hpp).
#include "train_args.hpp"

#include <nanobind/stl/vector.h>

namespace cusbi::python {

nb::dict summary_dict(const TrainingSummary& summary) {
  nb::dict out;
  out["epochs_trained"] = nb::cast(summary.epochs_trained);
  out["best_validation_loss"] = nb::cast(summary.best_validation_loss);
  out["training_loss"] = nb::cast(summary.training_loss);
  out["validation_loss"] = nb::cast(summary.validation_loss);
  out["epoch_durations_sec"] = nb::cast(summary.epoch_durations_sec);
  return out;
}

}  // namespace cusbi::python
