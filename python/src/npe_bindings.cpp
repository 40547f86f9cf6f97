// (to be written: see bindings.hpp)
#include "bindings.hpp"

namespace cusbi::python {

void bind_npe(nb::module_& m) { (void)m; }

}  // namespace cusbi::python
