// Locating and reading the task data files (bench/validation/data/sbibm_<task>.safetensors,
// copied next to the executables by CMake), with errors that say where cusbi looked and how to
// point it elsewhere.
#include <cstdlib>
#include <system_error>

#include "cusbi/error.hpp"
#include "cusbi/io.hpp"
#include "host/tasks/task_internal.hpp"

namespace cusbi::tasks {

std::filesystem::path task_data_folder() {
  if (const char* env = std::getenv("CUSBI_TASK_DATA"); env && *env) return env;
  std::error_code ec;
  const auto exe = std::filesystem::canonical("/proc/self/exe", ec);
  CUSBI_CHECK(!ec, "task data: cannot locate the running executable ("
                       << ec.message()
                       << "); set CUSBI_TASK_DATA to the folder holding sbibm_<task>.safetensors");
  return exe.parent_path() / "data" / "tasks";
}

namespace detail {

std::map<std::string, Tensor> load_task_data(const std::string& name, Device device,
                                             const std::map<std::string, Shape>& expected) {
  const std::filesystem::path path = task_data_folder() / ("sbibm_" + name + ".safetensors");
  CUSBI_CHECK(std::filesystem::is_regular_file(path),
              "task " << name << ": data file " << path.string()
                      << " not found; set CUSBI_TASK_DATA to the folder holding it (it is "
                         "bench/validation/data/ in the source tree)");
  std::map<std::string, Tensor> tensors = load_safetensors(path, device);
  for (const auto& [key, shape] : expected) {
    const auto it = tensors.find(key);
    CUSBI_CHECK(it != tensors.end(),
                "task " << name << ": " << path.string() << " has no tensor \"" << key
                        << "\"; regenerate it with "
                           "tools/extract_sbibm_tasks.py or fix CUSBI_TASK_DATA");
    CUSBI_CHECK(it->second.shape() == shape,
                "task " << name << ": " << path.string() << " holds " << key << " of shape "
                        << shape_str(it->second.shape()) << ", expected " << shape_str(shape)
                        << "; regenerate it with tools/extract_sbibm_tasks.py");
  }
  return tensors;
}

}  // namespace detail
}  // namespace cusbi::tasks
