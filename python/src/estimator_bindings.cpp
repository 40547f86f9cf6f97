// (to be written: see bindings.hpp)
#include "bindings.hpp"

namespace cusbi::python {

void bind_estimators(nb::module_& m) { (void)m; }

}  // namespace cusbi::python
