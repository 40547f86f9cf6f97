// An integer read from a safetensors metadata string (the sbi export readers': flows and
// classifiers), with one error wording: the whole string must be a decimal integer.
#pragma once
#include <cstdint>
#include <exception>
#include <string>

#include "cusbi/error.hpp"

namespace cusbi::io {

inline int64_t parse_metadata_int(const std::string& value, const std::string& key,
                                  const std::string& path) {
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  CUSBI_CHECK(used == value.size() && !value.empty(),
              path << ": metadata '" << key << "' = '" << value << "' is not an integer");
  return n;
}

}  // namespace cusbi::io
