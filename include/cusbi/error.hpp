// cusbi::Error is the one exception type the library throws. Every message says what was wrong
// and what to do about it ("observation has 3 elements, the estimator was trained on 2").
// CUSBI_CHECK(cond, message) takes a stream expression: CUSBI_CHECK(n > 0, "n is " << n).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace cusbi {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
[[noreturn]] void throw_error(const std::string& message, const char* file, int line);
}  // namespace detail

}  // namespace cusbi

#define CUSBI_FAIL(message_stream)                                          \
  do {                                                                      \
    std::ostringstream cusbi_fail_os_;                                      \
    cusbi_fail_os_ << message_stream;                                       \
    ::cusbi::detail::throw_error(cusbi_fail_os_.str(), __FILE__, __LINE__); \
  } while (0)

#define CUSBI_CHECK(condition, message_stream) \
  do {                                         \
    if (!(condition)) CUSBI_FAIL(message_stream); \
  } while (0)
