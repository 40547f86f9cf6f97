// The device an example runs on: Device::best() (the first usable GPU, else the CPU), or the one
// named by $CUSBI_DEVICE = cpu | cuda | cuda:N. Shared by the examples so that they all read the
// variable the same way; the library itself never reads it.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cusbi/cusbi.hpp"

namespace cusbi_examples {

// The device named by $CUSBI_DEVICE, or the best one available when it is unset. Throws
// cusbi::Error for an unknown name or a device this build or machine cannot use.
inline cusbi::Device choose_device() {
  const char* env = std::getenv("CUSBI_DEVICE");
  cusbi::Device device = cusbi::Device::best();
  if (env != nullptr && *env != '\0') {
    const std::string name = env;
    if (name == "cpu") {
      device = cusbi::Device::cpu();
    } else if (name == "cuda") {
      device = cusbi::Device::cuda(0);
    } else if (name.rfind("cuda:", 0) == 0 && name.size() > 5 && name.size() <= 9 &&
               name.find_first_not_of("0123456789", 5) == std::string::npos) {
      device = cusbi::Device::cuda(std::stoi(name.substr(5)));
    } else {
      CUSBI_FAIL("CUSBI_DEVICE is '" << name << "'; use cpu, cuda or cuda:N (or leave it unset)");
    }
  }
  cusbi::check_device_usable(device);  // clear message if e.g. cuda was asked for without a GPU
  return device;
}

// Runs an example's body and turns a cusbi::Error into a message and exit status 1.
inline int run_reporting_errors(int (*body)()) {
  try {
    return body();
  } catch (const cusbi::Error& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}

}  // namespace cusbi_examples
