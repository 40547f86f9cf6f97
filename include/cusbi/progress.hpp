// What long work tells the user: a progress line on a terminal (like sbi's tqdm bars) and
// warnings (like sbi's logging.warning / warnings.warn). Both go to stderr by default; progress
// lines are drawn only when stderr is a terminal, and either can be silenced or redirected
// (tests capture warnings with set_warning_handler). Per-call `show_progress` options switch a
// single call's line off; set_progress_enabled(false) silences every line of the process.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace cusbi {

// ---- warnings -------------------------------------------------------------------------------
using WarningHandler = std::function<void(const std::string& message)>;
// Replaces the handler (the default prints "cusbi warning: <message>" to stderr); returns the
// previous one. An empty handler drops warnings.
WarningHandler set_warning_handler(WarningHandler handler);
void warn(const std::string& message);

// ---- progress lines -------------------------------------------------------------------------
void set_progress_enabled(bool enabled);  // process-wide switch, on by default
bool progress_enabled();

// One progress line, redrawn in place ("\r") at most every 0.1 s and finished with a newline:
//   "<label>: 4200/10000 (42%) [1.3s, 3.2k/s]"   with a known total
//   "<label>: 12 epochs [4.0s] best val 1.2345"   with total 0 and a detail text
// Inactive (draws nothing) when `show` is false, progress is disabled, or stderr is no terminal.
class ProgressLine {
 public:
  ProgressLine(std::string label, int64_t total, bool show = true);
  ~ProgressLine();  // finishes the line if it was drawn
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void update(int64_t done, const std::string& detail = "");
  void finish(const std::string& detail = "");
  bool active() const { return active_; }

 private:
  void draw(const std::string& detail, bool final);
  std::string label_;
  int64_t total_ = 0, done_ = 0;
  bool active_ = false, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace cusbi
