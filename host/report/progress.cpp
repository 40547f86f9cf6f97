// Warnings and progress lines (include/cusbi/progress.hpp). A progress line writes to stderr
// only when stderr is a terminal, so logs and CI output are not filled with redraws; warnings
// always reach the handler.
#include "cusbi/progress.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <utility>

namespace cusbi {

namespace {

std::mutex& warning_mutex() {
  static std::mutex m;
  return m;
}

WarningHandler& warning_handler() {
  static WarningHandler handler = [](const std::string& message) {
    std::fprintf(stderr, "cusbi warning: %s\n", message.c_str());
  };
  return handler;
}

std::atomic<bool>& progress_switch() {
  static std::atomic<bool> enabled{true};
  return enabled;
}

// "3.2k/s" style rate with one decimal.
std::string human_rate(double per_second) {
  char buffer[32];
  if (per_second >= 1e6) std::snprintf(buffer, sizeof buffer, "%.1fM/s", per_second / 1e6);
  else if (per_second >= 1e3) std::snprintf(buffer, sizeof buffer, "%.1fk/s", per_second / 1e3);
  else std::snprintf(buffer, sizeof buffer, "%.1f/s", per_second);
  return buffer;
}

constexpr double kRedrawSeconds = 0.1;  // at most ten redraws a second: cheap on any terminal

}  // namespace

WarningHandler set_warning_handler(WarningHandler handler) {
  std::lock_guard<std::mutex> lock(warning_mutex());
  return std::exchange(warning_handler(), std::move(handler));
}

void warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(warning_mutex());
  if (warning_handler()) warning_handler()(message);
}

void set_progress_enabled(bool enabled) { progress_switch() = enabled; }
bool progress_enabled() { return progress_switch(); }

ProgressLine::ProgressLine(std::string label, int64_t total, bool show)
    : label_(std::move(label)), total_(total) {
  active_ = show && progress_enabled() && isatty(STDERR_FILENO) == 1;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressLine::~ProgressLine() {
  if (active_ && !finished_) finish();
}

void ProgressLine::update(int64_t done, const std::string& detail) {
  done_ = done;
  if (!active_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_draw_).count() < kRedrawSeconds) return;
  last_draw_ = now;
  draw(detail, false);
}

void ProgressLine::finish(const std::string& detail) {
  if (!active_ || finished_) return;
  finished_ = true;
  draw(detail, true);
}

void ProgressLine::draw(const std::string& detail, bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text = label_ + ": ";
  char buffer[96];
  if (total_ > 0) {
    std::snprintf(buffer, sizeof buffer, "%lld/%lld (%.0f%%) [%.1fs, %s]",
                  static_cast<long long>(done_), static_cast<long long>(total_),
                  100.0 * static_cast<double>(done_) / static_cast<double>(total_), elapsed,
                  human_rate(elapsed > 0 ? done_ / elapsed : 0.0).c_str());
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld [%.1fs]", static_cast<long long>(done_), elapsed);
  }
  text += buffer;
  if (!detail.empty()) text += " " + detail;
  // "\33[K" clears what a longer previous line left behind.
  std::fprintf(stderr, "\r%s\33[K%s", text.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace cusbi
