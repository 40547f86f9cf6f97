// libFuzzer target: the safetensors reader (header length, JSON header, tensor table, dtypes,
// offsets, metadata) over arbitrary bytes: host/io/safetensors.cpp.
#include "cusbi/io.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cusbi::fuzz::write_input(data, size);
  cusbi::fuzz::expect_cusbi_error_only("load_safetensors", [](const auto& path) {
    std::map<std::string, std::string> metadata;
    cusbi::load_safetensors(path, cusbi::Device::cpu(), &metadata);
  });
  cusbi::fuzz::expect_cusbi_error_only("load_safetensors_metadata", [](const auto& path) {
    cusbi::load_safetensors_metadata(path);
  });
  return 0;
}
