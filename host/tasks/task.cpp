// cusbi::tasks::Task's shared part (observations, true parameters, argument checks) and the
// registry behind get_task / task_names.
#include <sstream>

#include "cusbi/error.hpp"
#include "host/tasks/task_internal.hpp"

namespace cusbi::tasks {

Task::Task(Tensor observations, Tensor true_parameters, Device device)
    : observations_(std::move(observations)),
      true_parameters_(std::move(true_parameters)),
      device_(device) {}

void Task::check_observation_number(int num_observation) const {
  CUSBI_CHECK(num_observation >= 1 && num_observation <= num_observations(),
              name() << ": num_observation is " << num_observation
                     << "; sbibm numbers the observations 1 to " << num_observations());
}

void Task::check_theta(const Tensor& theta) const {
  CUSBI_CHECK(
      theta.defined() && theta.dtype() == DType::Float32 && theta.dim() == 2 &&
          theta.size(0) >= 1 && theta.size(1) == dim_parameters(),
      name() << ".simulate: theta must be float32 (N, " << dim_parameters() << ") with N >= 1, got "
             << (theta.defined()
                     ? std::string(dtype_name(theta.dtype())) + " " + shape_str(theta.shape())
                     : std::string("an undefined tensor")));
}

Tensor Task::observation(int num_observation) const {
  check_observation_number(num_observation);
  return observations_.slice_rows(num_observation - 1, num_observation).clone();
}

Tensor Task::true_parameters(int num_observation) const {
  check_observation_number(num_observation);
  return true_parameters_.slice_rows(num_observation - 1, num_observation).clone();
}

std::vector<std::string> task_names() {
  return {"two_moons", "gaussian_linear", "slcp", "bernoulli_glm"};
}

std::unique_ptr<Task> get_task(const std::string& name, Device device) {
  check_device_usable(device);
  if (name == "two_moons") return detail::make_two_moons(device);
  if (name == "gaussian_linear") return detail::make_gaussian_linear(device);
  if (name == "slcp") return detail::make_slcp(device);
  if (name == "bernoulli_glm") return detail::make_bernoulli_glm(device);
  std::ostringstream known;
  for (const std::string& n : task_names()) known << (known.tellp() > 0 ? ", " : "") << n;
  CUSBI_FAIL("get_task: unknown task \"" << name << "\"; known tasks: " << known.str());
}

}  // namespace cusbi::tasks
