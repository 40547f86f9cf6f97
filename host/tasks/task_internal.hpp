// Internal to cusbi::tasks: the factory of each task, the data-file reader, and each simulator's
// deterministic part (noise in, x out), which the tests compare bit-near-exactly with sbibm's
// arithmetic on the same noise (tests/data/tasks/*_simulator.safetensors).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cusbi/tasks.hpp"

namespace cusbi::tasks::detail {

// Every tensor of task_data_folder() / "sbibm_<name>.safetensors" on `device`. Each entry of
// `expected` (tensor name -> shape) must be present with that shape; otherwise cusbi::Error
// naming the file, the problem and CUSBI_TASK_DATA.
std::map<std::string, Tensor> load_task_data(const std::string& name, Device device,
                                             const std::map<std::string, Shape>& expected);

std::unique_ptr<Task> make_two_moons(Device device);
std::unique_ptr<Task> make_gaussian_linear(Device device);
std::unique_ptr<Task> make_slcp(Device device);
std::unique_ptr<Task> make_bernoulli_glm(Device device);

// two_moons: theta (N, 2), angle a (N, 1), radius r (N, 1) -> x (N, 2).
Tensor two_moons_from_noise(const Tensor& theta, const Tensor& a, const Tensor& r);
// gaussian_linear: theta (N, 10), z (N, 10) standard normal -> theta + sqrt(0.1) z.
Tensor gaussian_linear_from_noise(const Tensor& theta, const Tensor& z);
// slcp: theta (N, 5), z (N, 8) standard normal (draw k in columns 2k, 2k+1) -> x (N, 8) =
// m + L z_k per draw, L the lower Cholesky factor of S (as torch's MultivariateNormal.rsample).
Tensor slcp_from_noise(const Tensor& theta, const Tensor& z);
// bernoulli_glm: theta (N, 10), u (N, 100) uniform, design matrix X (100, 10) on their device ->
// y = (u < sigmoid(theta X^T)), x = y X (N, 10).
Tensor bernoulli_glm_from_noise(const Tensor& theta, const Tensor& u, const Tensor& design);
// bernoulli_glm's prior precision B (10, 10), row-major in double (sbibm's Binv).
std::vector<double> bernoulli_glm_prior_precision();

}  // namespace cusbi::tasks::detail
