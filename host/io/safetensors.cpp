// safetensors reader (format: include/cusbi/io.hpp; the writer is safetensors_write.cpp). The
// whole header is validated before any data is read, so a damaged file fails with one message
// naming the file and the problem instead of yielding garbage tensors.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/io.hpp"

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; cusbi reads it by plain copies");

namespace cusbi {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Same cap as the reference implementation: a larger "header length" means the file is not
// safetensors (or is corrupt), and we must not try to allocate it.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";

#define CUSBI_FILE_CHECK(cond, path, what) \
  CUSBI_CHECK(cond, "safetensors file " << (path) << ": " << what)

struct Record {
  std::string name;
  std::string dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data section
};

struct Header {
  std::vector<Record> records;
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute file offset of the data section
};

// Bytes per element of the dtypes we can turn into float32; 0 for any other.
int dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1f) {  // inf / nan
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal half: normalise, it is a normal float
    int e = -1;
    do {
      ++e;
      mantissa <<= 1;
    } while ((mantissa & 0x400u) == 0);
    bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((mantissa & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

template <typename T>
void convert(const std::vector<char>& raw, std::vector<float>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

void convert_raw(const std::string& dtype, const std::vector<char>& raw, std::vector<float>& out) {
  if (dtype == "F64") return convert<double>(raw, out);
  if (dtype == "I64") return convert<int64_t>(raw, out);
  if (dtype == "I32") return convert<int32_t>(raw, out);
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, raw.data() + 2 * i, 2);
    // bfloat16 is the top half of a float32.
    out[i] =
        dtype == "BF16" ? std::bit_cast<float>(static_cast<uint32_t>(h) << 16) : half_to_float(h);
  }
}

Record parse_record(const fs::path& path, const std::string& name, const json& entry) {
  CUSBI_FILE_CHECK(entry.is_object(), path, "entry '" << name << "' is not a JSON object");
  Record r;
  r.name = name;
  const auto dtype = entry.find("dtype");
  const auto shape = entry.find("shape");
  const auto offsets = entry.find("data_offsets");
  CUSBI_FILE_CHECK(dtype != entry.end() && dtype->is_string(), path,
                   "tensor '" << name << "' has no string 'dtype'");
  r.dtype = dtype->get<std::string>();
  CUSBI_FILE_CHECK(dtype_size(r.dtype) != 0, path,
                   "tensor '" << name << "' has dtype " << r.dtype
                              << ", which cusbi cannot read (supported: F32, F64, F16, BF16, I64, "
                                 "I32; convert it in Python first)");
  CUSBI_FILE_CHECK(shape != entry.end() && shape->is_array(), path,
                   "tensor '" << name << "' has no 'shape' array");
  uint64_t numel = 1;
  for (const json& d : *shape) {
    CUSBI_FILE_CHECK(d.is_number_unsigned(), path,
                     "tensor '" << name << "' has a shape entry that is not a size: " << d.dump());
    const uint64_t size = d.get<uint64_t>();
    CUSBI_FILE_CHECK(!__builtin_mul_overflow(numel, size, &numel) && size < (1ull << 62), path,
                     "tensor '" << name << "' has an impossibly large shape " << shape->dump());
    r.shape.push_back(static_cast<int64_t>(size));
  }
  CUSBI_FILE_CHECK(offsets != entry.end() && offsets->is_array() && offsets->size() == 2 &&
                       (*offsets)[0].is_number_unsigned() && (*offsets)[1].is_number_unsigned(),
                   path, "tensor '" << name << "' needs 'data_offsets' [begin, end]");
  r.begin = (*offsets)[0].get<uint64_t>();
  r.end = (*offsets)[1].get<uint64_t>();
  uint64_t bytes = 0;
  CUSBI_FILE_CHECK(
      r.begin <= r.end && !__builtin_mul_overflow(numel, dtype_size(r.dtype), &bytes) &&
          r.end - r.begin == bytes,
      path,
      "tensor '" << name << "' has data_offsets [" << r.begin << ", " << r.end << "] but shape "
                 << shape->dump() << " of " << r.dtype << " needs " << bytes << " bytes");
  return r;
}

void parse_metadata(const fs::path& path, const json& meta, Header& header) {
  CUSBI_FILE_CHECK(meta.is_object(), path, "'__metadata__' is not a JSON object");
  for (const auto& [key, value] : meta.items()) {
    CUSBI_FILE_CHECK(value.is_string(), path,
                     "metadata '" << key << "' is not a string (safetensors metadata is str: str)");
    header.metadata[key] = value.get<std::string>();
  }
}

// Ranges must lie inside the data section and must not overlap (a tensor sharing bytes with
// another is how a corrupt or hand-edited header shows).
void check_ranges(const fs::path& path, std::vector<Record> records, uint64_t data_bytes) {
  for (const Record& r : records)
    CUSBI_FILE_CHECK(r.end <= data_bytes, path,
                     "tensor '" << r.name << "' has data_offsets [" << r.begin << ", " << r.end
                                << "] beyond the " << data_bytes
                                << " data bytes in the file (truncated?)");
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < records.size(); ++i)
    CUSBI_FILE_CHECK(records[i - 1].end <= records[i].begin, path,
                     "tensors '" << records[i - 1].name << "' and '" << records[i].name
                                 << "' have overlapping data_offsets");
}

Header read_header(std::ifstream& in, const fs::path& path) {
  CUSBI_FILE_CHECK(in.is_open(), path, "cannot be opened (" << std::strerror(errno) << ")");
  std::error_code ec;
  const uint64_t file_size = fs::file_size(path, ec);
  CUSBI_FILE_CHECK(!ec, path, "cannot read its size (" << ec.message() << ")");
  CUSBI_FILE_CHECK(file_size >= 8, path,
                   "is " << file_size << " bytes, too short for the 8-byte header length");
  unsigned char len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  CUSBI_FILE_CHECK(in.good(), path, "reading the header length failed");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  CUSBI_FILE_CHECK(header_len <= file_size - 8, path,
                   "header length " << header_len << " is beyond the file's " << file_size
                                    << " bytes (truncated, or not a safetensors file)");
  CUSBI_FILE_CHECK(header_len <= kMaxHeaderBytes, path,
                   "header length " << header_len << " is implausibly large (not safetensors?)");
  std::string text(header_len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  CUSBI_FILE_CHECK(in.good(), path, "reading the " << header_len << "-byte header failed");
  CUSBI_FILE_CHECK(header_len > 0 && text[0] == '{', path,
                   "is not a safetensors file (the header does not start with '{')");
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  CUSBI_FILE_CHECK(!doc.is_discarded() && doc.is_object(), path,
                   "is not a safetensors file (the header is not a JSON object)");

  Header header;
  header.data_start = 8 + header_len;
  for (const auto& [name, entry] : doc.items()) {
    if (name == kMetadataKey)
      parse_metadata(path, entry, header);
    else
      header.records.push_back(parse_record(path, name, entry));
  }
  check_ranges(path, header.records, file_size - header.data_start);
  return header;
}

Tensor read_tensor(std::ifstream& in, const fs::path& path, const Header& header, const Record& r,
                   Device device) {
  std::vector<float> values(static_cast<size_t>(shape_numel(r.shape)));
  in.seekg(static_cast<std::streamoff>(header.data_start + r.begin));
  const auto bytes = static_cast<std::streamsize>(r.end - r.begin);
  if (r.dtype == "F32") {
    in.read(reinterpret_cast<char*>(values.data()), bytes);
  } else {
    std::vector<char> raw(static_cast<size_t>(bytes));
    in.read(raw.data(), bytes);
    convert_raw(r.dtype, raw, values);
  }
  CUSBI_FILE_CHECK(in.good(), path, "reading the data of tensor '" << r.name << "' failed");
  return Tensor::from(values, r.shape, device);
}

}  // namespace

std::map<std::string, Tensor> load_safetensors(const fs::path& path, Device device,
                                               std::map<std::string, std::string>* metadata) {
  std::ifstream in(path, std::ios::binary);
  const Header header = read_header(in, path);
  std::map<std::string, Tensor> tensors;
  for (const Record& r : header.records) tensors[r.name] = read_tensor(in, path, header, r, device);
  if (metadata) *metadata = header.metadata;
  return tensors;
}

std::map<std::string, std::string> load_safetensors_metadata(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return read_header(in, path).metadata;
}

}  // namespace cusbi

#undef CUSBI_FILE_CHECK
