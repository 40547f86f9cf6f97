// take_rows: the row gather (torch's index_select along dim 0) that trainers use to lay out each
// epoch's shuffled rows contiguously, so that every batch is then a plain row slice. Indices are
// checked on the host, then one CPU loop or one CUDA kernel over kernels/gather.h.
#include "cusbi/tensor.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"
#include "kernels/gather.h"

namespace cusbi {

namespace {

Shape gathered_shape(const Tensor& src, int64_t num_rows) {
  Shape shape = src.shape();
  shape[0] = num_rows;
  return shape;
}

void check_take_rows(const Tensor& src, const std::vector<int64_t>& rows) {
  ops::check_defined(src, "take_rows");
  CUSBI_CHECK(src.dim() >= 1,
              "take_rows: src is a scalar (shape ()); it needs a first "
              "dimension to take rows from");
  const int64_t n = src.size(0);
  for (size_t i = 0; i < rows.size(); ++i)
    CUSBI_CHECK(0 <= rows[i] && rows[i] < n,
                "take_rows: index " << rows[i] << " (position " << i << ") is not a row of src "
                                    << shape_str(src.shape()) << "; indices must lie in [0, " << n
                                    << ")");
}

void take_rows_cpu(const float* src, int64_t width, const std::vector<int64_t>& rows, float* out) {
  const int64_t n = static_cast<int64_t>(rows.size()) * width;
#pragma omp parallel for if (n >= ops::kParallelMin)
  for (int64_t e = 0; e < n; ++e) out[e] = kern::gather_row_element(src, width, rows.data(), e);
}

}  // namespace

void take_rows(const Tensor& src, const std::vector<int64_t>& rows, Tensor& out) {
  check_take_rows(src, rows);
  const int64_t num_rows = static_cast<int64_t>(rows.size());
  const Shape expected = gathered_shape(src, num_rows);
  CUSBI_CHECK(out.defined() && out.shape() == expected,
              "take_rows: out has shape " << (out.defined() ? shape_str(out.shape()) : "undefined")
                                          << ", expected " << shape_str(expected)
                                          << " (one row per index); allocate it with "
                                             "Tensor::empty");
  ops::common_device(src, out, "take_rows");
  CUSBI_CHECK(!out.shares_memory_with(src),
              "take_rows: out overlaps src; gather into a separate buffer");
  const int64_t width = src.size(0) == 0 ? 0 : src.numel() / src.size(0);
  if (num_rows == 0 || width == 0) return;
  switch (src.device().type()) {
    case DeviceType::CPU:
      take_rows_cpu(src.data(), width, rows, out.data());
      break;
    case DeviceType::CUDA:
      cuda::set_device(src.device().index());
      cuda::take_rows(src.data(), width, rows.data(), num_rows, out.data());
      break;
  }
}

Tensor take_rows(const Tensor& src, const std::vector<int64_t>& rows) {
  check_take_rows(src, rows);
  Tensor out = Tensor::empty(gathered_shape(src, static_cast<int64_t>(rows.size())), src.device());
  take_rows(src, rows, out);
  return out;
}

}  // namespace cusbi
