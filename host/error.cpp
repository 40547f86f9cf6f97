// The single throw site of the library: messages carry the library's own words; the source
// location is appended so bug reports point at the check that fired.
#include <filesystem>

#include "cusbi/error.hpp"

namespace cusbi::detail {

void throw_error(const std::string& message, const char* file, int line) {
  const std::string where = std::filesystem::path(file).filename().string();
  throw Error("cusbi: " + message + " [" + where + ":" + std::to_string(line) + "]");
}

}  // namespace cusbi::detail
