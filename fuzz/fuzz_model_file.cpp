// libFuzzer target: cusbi model files (persistence.hpp): the metadata checks, the estimator's
// JSON (sizes, NsfOptions), the prior's JSON and tensors and the estimator's weights, through
// inspect_model, load_nsf and load_direct_posterior (host/io/model_io.cpp, prior_io.cpp).
#include "cusbi/persistence.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cusbi::fuzz::write_input(data, size);
  cusbi::fuzz::expect_cusbi_error_only("inspect_model",
                                       [](const auto& path) { cusbi::inspect_model(path); });
  cusbi::fuzz::expect_cusbi_error_only(
      "load_nsf", [](const auto& path) { cusbi::load_nsf(path, cusbi::Device::cpu()); });
  cusbi::fuzz::expect_cusbi_error_only("load_direct_posterior", [](const auto& path) {
    cusbi::load_direct_posterior(path, cusbi::Device::cpu());
  });
  return 0;
}
