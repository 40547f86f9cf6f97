// Built only without cairo (CUSBI_PLOT=OFF, or AUTO without libcairo2-dev): the drawing entry
// points throw one message saying how to get pictures; layout and argument checks still work.
#include <string>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/plot.hpp"
#include "host/plot/png_image.hpp"

namespace cusbi {

namespace {

[[noreturn]] void no_cairo(const char* what) {
  CUSBI_FAIL(what << ": cusbi was built without cairo (CUSBI_PLOT=OFF, or libcairo2-dev was "
                     "missing at build time), so it cannot draw; install libcairo2-dev "
                     "(bash scripts/setup.sh) and rebuild");
}

}  // namespace

bool plot_available() { return false; }
std::string Figure::svg() const { no_cairo("Figure::svg"); }
std::vector<unsigned char> Figure::png() const { no_cairo("Figure::png"); }

namespace plot {
PngImage read_png(const std::string& path) { no_cairo(("read_png(" + path + ")").c_str()); }
}  // namespace plot

}  // namespace cusbi
