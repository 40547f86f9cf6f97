// Core of the Python module: cusbi::Error as the Python exception cusbi.Error, cusbi's warnings
// as Python warnings, devices, seeds, the default array kind, and explicit array conversion
// (cusbi.as_tensor: what every binding does to its array arguments, exposed for tests).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <string>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/device.hpp"
#include "cusbi/error.hpp"
#include "cusbi/progress.hpp"
#include "cusbi/random.hpp"

namespace cusbi::python {

void bind_core(nb::module_& m) {
  // A cusbi::Error thrown anywhere below a binding surfaces as cusbi.Error (a RuntimeError)
  // carrying the library's message.
  nb::exception<cusbi::Error>(m, "Error", PyExc_RuntimeError);

  // cusbi::warn (e.g. "dropped 3 simulations with NaN/Inf") goes to Python's warnings module,
  // so that users filter or escalate it as any other warning.
  set_warning_handler([](const std::string& message) {
    nb::gil_scoped_acquire gil;
    PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1);
  });

  m.def("cuda_available", &cuda_available, "True when this build has CUDA and a GPU is visible.");
  m.def("cuda_unavailable_reason", &cuda_unavailable_reason,
        "Why no GPU can be used (empty when one can).");
  m.def(
      "best_device", [] { return Device::best().str(); },
      "\"cuda:0\" when a GPU is usable, else \"cpu\".");
  m.def(
      "manual_seed", [](uint64_t seed) { manual_seed(seed); }, nb::arg("seed"),
      "Seeds cusbi's default generator (counter-based: same seed, same draws on every machine).");
  m.def("set_progress_enabled", &set_progress_enabled, nb::arg("enabled"),
        "Turns every progress line on or off, process-wide.");
  m.def(
      "set_array_kind",
      [](const std::string& kind) { set_default_array_kind(parse_array_kind(kind)); },
      nb::arg("kind"),
      "\"torch\" or \"numpy\": what outputs are when no array argument decides (prior.sample, "
      "simulate_for_sbi, ...). Default: torch when it can be imported, else numpy.");
  m.def(
      "array_kind", [] { return default_array_kind() == ArrayKind::Torch ? "torch" : "numpy"; },
      "The current default array kind.");
  m.def(
      "as_tensor",
      [](nb::handle array, nb::handle device) {
        const Tensor t = to_tensor(
            array, "array",
            device.is_none() ? std::nullopt : std::optional<Device>(parse_device(device)));
        return to_array(t, kind_of(array));
      },
      nb::arg("array"), nb::arg("device") = nb::none(),
      "The array as cusbi reads it (float32, contiguous), back as the same kind: shares memory "
      "with the input when that is already float32 and contiguous on `device`.");
}

}  // namespace cusbi::python
