// libFuzzer target: importing sbi's weights (load_sbi_nsf from a safetensors file written by
// tools/export_sbi_nsf.py): metadata sizes and build_nsf options, then every state_dict tensor's
// name and shape (host/flows/sbi_interop.cpp, sbi_layout.cpp).
#include "cusbi/flows.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cusbi::fuzz::write_input(data, size);
  cusbi::fuzz::expect_cusbi_error_only("load_sbi_nsf", [](const auto& path) {
    cusbi::load_sbi_nsf(path.string(), cusbi::Device::cpu());
  });
  return 0;
}
