// Benchmark tasks of sbibm (Lueckmann et al., AISTATS 2021; sbibm 1.1.0): prior, simulator,
// the ten observations and the reference posterior of two_moons, gaussian_linear, slcp and
// bernoulli_glm, so that cusbi's NPE/NLE/NRE can be scored with C2ST against sbibm's numbers.
// Simulators are written with cusbi's tensor ops: they run on the device of the parameters they
// are given, with no host round trip, and draw their noise from a cusbi::Generator.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cusbi/distributions.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi::tasks {

// One sbibm task, constructed on a device (get_task's argument): its prior, observations, true
// parameters and reference samples live there. The tasks, as in sbibm's task.py:
//   two_moons        theta in U([-1, 1]^2); a ~ U(-pi/2, pi/2), r ~ N(0.1, 0.01^2),
//                    x = (r cos a + 0.25 - |theta0 + theta1| / sqrt 2,
//                         r sin a + (theta1 - theta0) / sqrt 2).
//   gaussian_linear  theta ~ N(0, 0.1 I_10); x ~ N(theta, 0.1 I_10).
//   slcp             theta in U([-3, 3]^5); four i.i.d. draws of N(m, S), m = (theta0, theta1),
//                    s1 = theta2^2, s2 = theta3^2, rho = tanh theta4,
//                    S = [[s1^2, rho s1 s2], [rho s1 s2, s2^2]] + 1e-6 I;
//                    x (8,) = the four draws one after the other.
//   bernoulli_glm    theta (offset + 9 filter weights) ~ N(0, B^-1) with sbibm's smoothness
//                    precision B; y_t ~ Bernoulli(sigmoid((X theta)_t)) for 100 time bins with
//                    sbibm's design matrix X (100, 10); x = X^T y (spike count and the 9-lag
//                    spike-triggered sums, sbibm's "sufficient" summary, exactly).
class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;  // sbibm's name, e.g. "two_moons"
  virtual int64_t dim_parameters() const = 0;
  virtual int64_t dim_data() const = 0;
  int64_t num_observations() const { return 10; }
  // The prior, on device().
  virtual const Distribution& prior() const = 0;
  // x = simulator(theta): theta (N, dim_parameters) float32 on any device -> x (N, dim_data) on
  // the same device, one independent simulation per row. Noise comes from `generator` (the
  // default generator when null), so a seed gives the same x on the CPU and on a GPU (up to the
  // last bits of sin/exp/GEMM). Throws cusbi::Error for another shape.
  virtual Tensor simulate(const Tensor& theta, Generator* generator = nullptr) const = 0;
  // sbibm's observation num_observation (1..10, sbibm's numbering), (1, dim_data) on device().
  Tensor observation(int num_observation) const;
  // The parameters that observation was simulated from, (1, dim_parameters) on device().
  Tensor true_parameters(int num_observation) const;
  // Samples of sbibm's reference posterior for observation num_observation, (num_samples,
  // dim_parameters) on device(). two_moons and gaussian_linear sample their closed forms (fresh
  // draws from `generator`, any num_samples >= 1); slcp and bernoulli_glm return the first
  // num_samples (1..10000) of the 10,000 samples sbibm ships (`generator` unused).
  virtual Tensor reference_posterior_samples(int num_observation, int64_t num_samples = 10000,
                                             Generator* generator = nullptr) const = 0;
  Device device() const { return device_; }

 protected:
  // observations (10, dim_data) and true_parameters (10, dim_parameters), both on `device`.
  Task(Tensor observations, Tensor true_parameters, Device device);
  // Throws cusbi::Error unless num_observation is in 1..10.
  void check_observation_number(int num_observation) const;
  // Throws cusbi::Error unless theta is float32 (N, dim_parameters()) with N >= 1.
  void check_theta(const Tensor& theta) const;

 private:
  Tensor observations_, true_parameters_;
  Device device_;
};

// The task named `name` (one of task_names()) on `device`. Reads its data file
// task_data_folder() / "sbibm_<name>.safetensors" (written by tools/extract_sbibm_tasks.py).
// Throws cusbi::Error listing the known names for an unknown one, and naming the file and the
// CUSBI_TASK_DATA variable when the file is missing or not what was expected.
std::unique_ptr<Task> get_task(const std::string& name, Device device = Device::best());

// "two_moons", "gaussian_linear", "slcp", "bernoulli_glm".
std::vector<std::string> task_names();

// Where the task data files are read from: $CUSBI_TASK_DATA when set, else data/tasks/ next to
// the running executable (CMake copies bench/validation/data/ there for tests and benchmarks;
// cmake/cusbi_task_data.cmake).
std::filesystem::path task_data_folder();

}  // namespace cusbi::tasks
