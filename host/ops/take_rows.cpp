// take_rows: the row gather (torch's index_select along dim 0) that trainers use to lay out each
// epoch's shuffled rows contiguously, so that every batch is then a plain row slice. The core form
// takes int64 indices already on src's device and dispatches once to the CPU twin
// (host/cpu/gather.cpp, which checks indices) or the CUDA kernel; the host-vector forms check the
// indices on the host and upload them into an int64 tensor.
#include "cusbi/tensor.hpp"
#include "host/cpu/gather.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

Shape gathered_shape(const Tensor& src, int64_t num_rows) {
  Shape shape = src.shape();
  shape[0] = num_rows;
  return shape;
}

void check_src(const Tensor& src) {
  ops::check_float(src, "take_rows");
  CUSBI_CHECK(src.dim() >= 1,
              "take_rows: src is a scalar (shape ()); it needs a first "
              "dimension to take rows from");
}

void check_host_rows(const Tensor& src, const std::vector<int64_t>& rows) {
  check_src(src);
  const int64_t n = src.size(0);
  for (size_t i = 0; i < rows.size(); ++i)
    CUSBI_CHECK(0 <= rows[i] && rows[i] < n,
                "take_rows: index " << rows[i] << " (position " << i << ") is not a row of src "
                                    << shape_str(src.shape()) << "; indices must lie in [0, " << n
                                    << ")");
}

// Host indices (checked by the caller) as an int64 tensor on a GPU.
Tensor upload(const std::vector<int64_t>& rows, Device device) {
  return Tensor::from(rows, {static_cast<int64_t>(rows.size())}, device);
}

// Checks out and gathers; `rows` (num_rows) lives on src's device.
void gather(const Tensor& src, const int64_t* rows, int64_t num_rows, Tensor& out) {
  ops::check_out(out, gathered_shape(src, num_rows), src.device(), "take_rows");
  CUSBI_CHECK(!out.shares_memory_with(src),
              "take_rows: out overlaps src; gather into a separate buffer");
  const int64_t src_rows = src.size(0);
  const int64_t width = src_rows == 0 ? 0 : src.numel() / src_rows;
  if (num_rows == 0 || width == 0) return;
  if (ops::runs_on_cpu(src.device()))
    cpu::take_rows(src.data(), src_rows, width, rows, num_rows, out.data());
  else
    cuda::take_rows(src.data(), src_rows, width, rows, num_rows, out.data());
}

}  // namespace

void take_rows(const Tensor& src, const Tensor& indices, Tensor& out) {
  check_src(src);
  ops::check_defined(indices, "take_rows");
  CUSBI_CHECK(indices.dtype() == DType::Int64 && indices.dim() == 1,
              "take_rows: indices must be a 1-D int64 tensor, got "
                  << dtype_name(indices.dtype()) << " of shape " << shape_str(indices.shape())
                  << "; make them with Tensor::from(std::vector<int64_t>{...}, {n}, device)");
  ops::common_device(src, indices, "take_rows");
  gather(src, indices.data_as<int64_t>(), indices.size(0), out);
}

void take_rows(const Tensor& src, const std::vector<int64_t>& rows, Tensor& out) {
  check_host_rows(src, rows);
  // On the CPU the vector is already where the loop reads: no copy, no allocation.
  if (src.device().is_cpu())
    gather(src, rows.data(), static_cast<int64_t>(rows.size()), out);
  else
    take_rows(src, upload(rows, src.device()), out);
}

Tensor take_rows(const Tensor& src, const std::vector<int64_t>& rows) {
  check_host_rows(src, rows);
  Tensor out = Tensor::empty(gathered_shape(src, static_cast<int64_t>(rows.size())), src.device());
  take_rows(src, rows, out);
  return out;
}

}  // namespace cusbi
