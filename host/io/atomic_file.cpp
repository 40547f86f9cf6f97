// Atomic file replacement with POSIX calls: open(O_EXCL) a unique temporary next to the target,
// write, fsync, rename, then fsync the folder so the rename itself survives a crash.
#include "host/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "cusbi/error.hpp"

namespace cusbi::io {

namespace {
std::atomic<uint64_t> g_counter{0};

void close_quietly(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}
}  // namespace

AtomicFile::AtomicFile(const std::filesystem::path& target) : target_(target) {
  CUSBI_CHECK(!target.filename().empty(), "cannot write to " << target << ": it names no file");
  const std::filesystem::path folder =
      target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::error_code ec;
  CUSBI_CHECK(std::filesystem::is_directory(folder, ec),
              "cannot write " << target << ": folder " << folder << " does not exist");
  // pid + per-process counter: unique among concurrent writers, and O_EXCL catches the rest.
  // (Built with += : GCC 12 warns falsely (-Wrestrict) on "." + std::string.)
  std::string name = ".";
  name += target.filename().string();
  name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(g_counter++);
  temp_ = folder / name;
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  CUSBI_CHECK(fd_ >= 0, "cannot create temporary file " << temp_ << " to write " << target << ": "
                                                        << std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  close_quietly(fd_);
  ::unlink(temp_.c_str());
}

void AtomicFile::write(const void* data, std::size_t bytes) {
  CUSBI_CHECK(fd_ >= 0 && !committed_, "AtomicFile::write after commit");
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd_, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    CUSBI_CHECK(n > 0, "writing " << temp_ << " failed: " << std::strerror(errno)
                                  << " (disk full?); " << target_ << " was left unchanged");
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit() {
  CUSBI_CHECK(fd_ >= 0 && !committed_, "AtomicFile::commit called twice");
  CUSBI_CHECK(::fsync(fd_) == 0, "flushing " << temp_ << " to disk failed: " << std::strerror(errno)
                                             << "; " << target_ << " was left unchanged");
  const int rc = ::close(fd_);
  fd_ = -1;
  CUSBI_CHECK(rc == 0, "closing " << temp_ << " failed: " << std::strerror(errno));
  CUSBI_CHECK(::rename(temp_.c_str(), target_.c_str()) == 0,
              "renaming " << temp_ << " to " << target_ << " failed: " << std::strerror(errno));
  committed_ = true;
  // Best effort: some file systems refuse fsync on a folder; the data itself is already safe.
  const std::filesystem::path folder = temp_.parent_path();
  int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    close_quietly(dir_fd);
  }
}

}  // namespace cusbi::io
