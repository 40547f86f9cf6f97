// simulate_for_sbi (sbi.inference.simulate_for_sbi): theta from the prior, then the user's
// simulator on consecutive row batches, each output copied into one preallocated x so the
// outputs are never concatenated (no second copy of all simulations). sbi's num_workers has no
// counterpart: a cusbi simulator is vectorised over its batch (and may run on the GPU) instead.
#include <algorithm>
#include <string>

#include "cusbi/error.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/progress.hpp"

namespace cusbi {

namespace {

Shape row_shape(const Tensor& t) { return Shape(t.shape().begin() + 1, t.shape().end()); }

void check_output(const Tensor& out, int64_t begin, int64_t end, const Tensor& x) {
  CUSBI_CHECK(out.defined(),
              "simulate_for_sbi: the simulator returned an undefined tensor for "
              "rows ["
                  << begin << ", " << end << ") of theta; return x with one row per row of theta");
  CUSBI_CHECK(out.dim() >= 1 && out.size(0) == end - begin,
              "simulate_for_sbi: the simulator returned shape "
                  << shape_str(out.shape()) << " for a batch of " << end - begin
                  << " parameter rows; return (" << end - begin << ", ...) with one row each");
  CUSBI_CHECK(!x.defined() || row_shape(out) == row_shape(x),
              "simulate_for_sbi: the simulator returned rows of shape "
                  << shape_str(row_shape(out)) << " for rows [" << begin << ", " << end << "), but "
                  << shape_str(row_shape(x))
                  << " for the first batch; every simulation must have the same shape");
}

}  // namespace

std::pair<Tensor, Tensor> simulate_for_sbi(const Simulator& simulator, const Distribution& prior,
                                           int64_t num_simulations,
                                           const SimulateOptions& options) {
  CUSBI_CHECK(static_cast<bool>(simulator),
              "simulate_for_sbi: the simulator is empty; pass a "
              "callable Tensor(const Tensor& theta)");
  CUSBI_CHECK(num_simulations >= 0,
              "simulate_for_sbi: num_simulations is " << num_simulations << "; pass a count >= 0");
  CUSBI_CHECK(options.simulation_batch_size >= 0,
              "simulate_for_sbi: simulation_batch_size is "
                  << options.simulation_batch_size
                  << "; pass a batch size >= 1, or 0 to simulate everything in one call");
  const Device device = prior.device();
  const Tensor theta = prior.sample({num_simulations}, options.generator);
  if (num_simulations == 0) return {theta, Tensor::empty({0, 0}, device)};

  const int64_t batch = options.simulation_batch_size == 0
                            ? num_simulations
                            : std::min(options.simulation_batch_size, num_simulations);
  ProgressLine progress("Running " + std::to_string(num_simulations) + " simulations",
                        num_simulations, options.show_progress);
  Tensor x;
  for (int64_t begin = 0; begin < num_simulations; begin += batch) {
    const int64_t end = std::min(num_simulations, begin + batch);
    const Tensor out = simulator(theta.slice_rows(begin, end));
    check_output(out, begin, end, x);
    if (!x.defined()) {
      Shape shape = out.shape();
      shape[0] = num_simulations;
      x = Tensor::empty(shape, device);
    }
    x.slice_rows(begin, end).copy_(out);  // copy_ moves it from whatever device it is on
    progress.update(end);
  }
  progress.finish();
  return {theta, x};
}

}  // namespace cusbi
