// simulate_for_sbi with a Python simulator: cusbi draws theta and batches the calls (and shows
// its progress line) without the GIL; each call takes the GIL, hands the simulator a view of the
// batch as the default array kind (torch or NumPy) and reads its output back as an array. An
// exception raised by the simulator propagates out of simulate_for_sbi unchanged, traceback
// included.
#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>

#include <memory>

#include "arrays.hpp"
#include "bindings.hpp"
#include "cusbi/error.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/progress.hpp"
#include "cusbi/random.hpp"

namespace cusbi::python {

namespace {

Simulator python_simulator(nb::handle function, ArrayKind kind) {
  std::shared_ptr<nb::object> held = hold(nb::borrow(function));
  return [held, kind](const Tensor& theta) -> Tensor {
    nb::gil_scoped_acquire gil;
    nb::object x = (*held)(to_array(theta, kind));
    CUSBI_CHECK(!x.is_none(), "the simulator returned None; it must return an array x (B, C)");
    return to_tensor(x, "the simulator's output");
  };
}

nb::tuple simulate(nb::handle simulator, const Distribution& proposal, int64_t num_simulations,
                   int64_t num_workers, int64_t simulation_batch_size, nb::handle seed,
                   bool show_progress_bar) {
  CUSBI_CHECK(PyCallable_Check(simulator.ptr()),
              "simulator must be a callable theta (B, D) -> x (B, C)");
  CUSBI_CHECK(num_simulations >= 0, "num_simulations must be >= 0, got " << num_simulations);
  CUSBI_CHECK(num_workers >= 1, "num_workers must be >= 1, got " << num_workers);
  if (num_workers > 1) {
    // sbi runs a Python simulator in worker processes; cusbi calls it in this process in
    // batches (one call per simulation_batch_size rows), which is faster for vectorised
    // simulators. Saying so beats silently ignoring the argument.
    warn(
        "num_workers > 1 is ignored: cusbi calls the simulator in this process in batches of "
        "simulation_batch_size rows; vectorise the simulator for speed");
  }
  const ArrayKind kind = default_array_kind();
  SimulateOptions options;
  options.simulation_batch_size = simulation_batch_size;
  options.show_progress = show_progress_bar;
  std::unique_ptr<Generator> generator;
  if (!seed.is_none()) {
    generator = std::make_unique<Generator>(nb::cast<uint64_t>(seed));
    options.generator = generator.get();
  }
  const Simulator run = python_simulator(simulator, kind);
  std::pair<Tensor, Tensor> out;
  {
    nb::gil_scoped_release release;
    out = simulate_for_sbi(run, proposal, num_simulations, options);
  }
  return nb::make_tuple(to_array(out.first, kind), to_array(out.second, kind));
}

}  // namespace

void bind_simulation(nb::module_& m) {
  m.def("simulate_for_sbi", &simulate, nb::arg("simulator"), nb::arg("proposal"),
        nb::arg("num_simulations"), nb::arg("num_workers") = 1,
        nb::arg("simulation_batch_size") = 1000, nb::arg("seed") = nb::none(),
        nb::arg("show_progress_bar") = true,
        "sbi's simulate_for_sbi: theta ~ proposal, x = simulator(theta) in batches of "
        "simulation_batch_size rows (sbi's default is 1; cusbi's 1000 suits vectorised "
        "simulators, pass 1 for a scalar one). Returns (theta, x).");
}

}  // namespace cusbi::python
