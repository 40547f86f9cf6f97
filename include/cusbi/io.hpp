// Reading and writing tensors in the safetensors format
// (https://github.com/huggingface/safetensors), so that a Python user can open what cusbi saves
// with `safetensors.torch.load_file` and cusbi can read fixtures and weights written by PyTorch.
// Layout: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets},
// "__metadata__": {str: str}}, then the raw bytes.
#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "cusbi/tensor.hpp"

namespace cusbi {

// Reads every tensor of a safetensors file onto `device`. F32 is read as is; F64, F16, BF16, I64
// and I32 are converted to float32 (integers above 2^24 lose precision). If `metadata` is not
// null it receives the header's "__metadata__" map (empty when the file has none).
// Throws cusbi::Error naming the file and the problem for a file that is missing, truncated, not
// safetensors, has offsets outside the data or overlapping, or holds an unsupported dtype.
std::map<std::string, Tensor> load_safetensors(
    const std::filesystem::path& path, Device device = Device::cpu(),
    std::map<std::string, std::string>* metadata = nullptr);

// Only the "__metadata__" map of a safetensors file (reads the header, not the data).
std::map<std::string, std::string> load_safetensors_metadata(const std::filesystem::path& path);

// Writes `tensors` (any devices) as F32 with optional string metadata. Atomic: the bytes go to a
// temporary file in the same folder, which is flushed to disk and then renamed over `path`, so a
// reader sees either the old file or the complete new one, never a partial write.
void save_safetensors(const std::filesystem::path& path,
                      const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace cusbi
