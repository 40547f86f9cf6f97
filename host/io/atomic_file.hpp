// Internal: a file written all-or-nothing. Bytes go to a temporary file in the target's folder
// (same file system, so rename is atomic); commit() flushes it to disk and renames it over the
// target. Destroying an uncommitted AtomicFile removes the temporary and leaves the target as it
// was.
#pragma once
#include <cstddef>
#include <filesystem>

namespace cusbi::io {

class AtomicFile {
 public:
  explicit AtomicFile(const std::filesystem::path& target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t bytes);
  void commit();
  const std::filesystem::path& temporary_path() const { return temp_; }

 private:
  std::filesystem::path target_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace cusbi::io
