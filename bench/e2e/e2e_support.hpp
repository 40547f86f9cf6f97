// Shared by the bench/e2e programs: device names as the sbi scripts take them, medians of
// repeats, the machine description every JSON result starts with, and an error-reporting main.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cusbi/cusbi.hpp"

namespace cusbi_e2e {

inline cusbi::Device parse_device(const std::string& name) {
  if (name == "cpu") return cusbi::Device::cpu();
  if (name == "cuda") return cusbi::Device::cuda(0);
  if (name.rfind("cuda:", 0) == 0) return cusbi::Device::cuda(std::atoi(name.c_str() + 5));
  CUSBI_FAIL("--device is '" << name << "'; use cpu, cuda or cuda:N");
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// "library", "device", "threads", "repeats" and the 1-minute load average (other work on the
// machine slows both sides; the compare scripts print it).
inline nlohmann::json machine_json(cusbi::Device device, int repeats) {
  double load[1] = {0.0};
  getloadavg(load, 1);
  const char* omp_threads = std::getenv("OMP_NUM_THREADS");
  return {{"library", "cusbi"},
          {"device", device.str()},
          {"threads", omp_threads ? std::atoi(omp_threads)
                                  : int(std::thread::hardware_concurrency())},
          {"repeats", repeats},
          {"load_average_1min", load[0]}};
}

// main() of an e2e program: run(argc, argv), a cusbi::Error printed as "error: ..." and exit 1.
inline int main_reporting_errors(int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cusbi::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}

}  // namespace cusbi_e2e
