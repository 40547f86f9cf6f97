// What every fuzz target shares: the input bytes go to a file (cusbi's readers take paths), and
// a reader may only answer bad bytes with cusbi::Error. Any other exception (a JSON library's
// type error, std::bad_alloc from a size taken on trust, ...) aborts, so libFuzzer reports it.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "cusbi/error.hpp"

namespace cusbi::fuzz {

// One file per process (libFuzzer's -jobs/-workers run several), in /dev/shm when present
// (tmpfs: no disk writes per execution).
inline const std::filesystem::path& input_path() {
  static const std::filesystem::path path = [] {
    const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm")
                                          ? "/dev/shm"
                                          : std::filesystem::temp_directory_path();
    return dir / ("cusbi_fuzz_" + std::to_string(::getpid()) + ".safetensors");
  }();
  return path;
}

inline void write_input(const uint8_t* data, size_t size) {
  std::ofstream out(input_path(), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// Runs `read` on the file; cusbi::Error is the expected answer to bad bytes, anything else is a
// finding.
template <class Read>
void expect_cusbi_error_only(const char* what, Read&& read) {
  try {
    read(input_path());
  } catch (const cusbi::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s threw a non-cusbi exception: %s\n", what, e.what());
    std::abort();
  }
}

}  // namespace cusbi::fuzz
