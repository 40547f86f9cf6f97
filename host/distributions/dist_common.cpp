// Argument checks and formatting shared by BoxUniform, MultivariateNormal and ThetaTransform:
// one wording for wrong devices and wrong column counts, so every method reports them alike.
#include "host/distributions/dist_common.hpp"

#include <sstream>

#include "cusbi/error.hpp"
#include "host/ops/op_checks.hpp"

namespace cusbi::dist {

using ops::device_code;

Shape check_rows(const Tensor& x, int64_t dim, Device device, const char* where, const char* what,
                 const char* owner) {
  CUSBI_CHECK(x.defined(), where << ": " << what
                                 << " is an undefined (default-constructed) tensor; pass a tensor "
                                    "of shape (..., "
                                 << dim << ")");
  CUSBI_CHECK(x.device() == device, where << ": " << what << " is on " << x.device().str()
                                          << " but " << owner << " is on " << device.str()
                                          << "; move " << what << " with .to("
                                          << device_code(device) << ") (or " << owner
                                          << " with .to(" << device_code(x.device()) << "))");
  CUSBI_CHECK(x.dim() >= 1, where << ": " << what << " is a scalar; pass shape (..., " << dim
                                  << "), e.g. (" << dim << ",) for one point");
  const int64_t columns = x.size(-1);
  CUSBI_CHECK(columns == dim,
              where << ": " << what << " has " << columns << (columns == 1 ? " column" : " columns")
                    << " (shape " << shape_str(x.shape()) << "), " << owner << " has " << dim
                    << " dimensions; pass " << what << " of shape (..., " << dim << ")");
  return Shape(x.shape().begin(), x.shape().end() - 1);
}

void check_out(const Tensor& out, const Shape& shape, Device device, const char* where,
               const char* what) {
  CUSBI_CHECK(out.defined() && out.shape() == shape,
              where << ": " << what << " has shape "
                    << (out.defined() ? shape_str(out.shape()) : "undefined") << ", expected "
                    << shape_str(shape) << "; preallocate it with Tensor::empty("
                    << shape_str(shape) << ", device)");
  CUSBI_CHECK(out.device() == device,
              where << ": " << what << " is on " << out.device().str() << " but the work runs on "
                    << device.str() << "; allocate it with .to(" << device_code(device)
                    << ") or Tensor::empty(shape, " << device_code(device) << ")");
}

std::string format_value(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

std::string format_values(const std::vector<float>& values, size_t max_items) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < values.size() && i < max_items; ++i) os << (i ? ", " : "") << values[i];
  if (values.size() > max_items) os << ", ... (" << values.size() << " values)";
  os << "]";
  return os.str();
}

}  // namespace cusbi::dist
