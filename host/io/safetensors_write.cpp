// safetensors writer: F32 tensors in name order, the header padded with spaces to a multiple of
// 8 bytes (as the reference implementation does, so the data section is 8-byte aligned for
// memory-mapping readers), written through AtomicFile so a crash never leaves a half-written file.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/io.hpp"
#include "host/io/atomic_file.hpp"

namespace cusbi {

void save_safetensors(const std::filesystem::path& path,
                      const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    CUSBI_CHECK(!name.empty() && name != "__metadata__",
                "cannot save a tensor named '" << name << "' to " << path
                                               << " (empty and '__metadata__' are reserved)");
    CUSBI_CHECK(t.defined(), "cannot save tensor '" << name << "' to " << path
                                                    << ": it is undefined (default-constructed)");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * sizeof(float);
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  io::AtomicFile file(path);
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(text.size() >> (8 * i));
  file.write(len_bytes, 8);
  file.write(text.data(), text.size());
  for (const auto& [name, t] : tensors) {
    const std::vector<float> values = t.to_vector();  // host copy from any device
    file.write(values.data(), values.size() * sizeof(float));
  }
  file.commit();
}

}  // namespace cusbi
