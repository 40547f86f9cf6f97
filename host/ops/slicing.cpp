// Slicing and column ops of tensor_ops.hpp: narrow, select, take_columns, stack_columns and
// transpose. Each result is a new contiguous tensor; the copies are block copies (copy_2d, the
// same entry point cat uses) on the tensors' device, or the transpose kernel.
#include <string>

#include "cusbi/tensor_ops.hpp"
#include "host/cpu/elementwise.hpp"
#include "host/cpu/tensor_ops.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

void copy_block(const Device& device, float* dst, int64_t dst_stride, const float* src,
                int64_t src_stride, int64_t rows, int64_t cols) {
  if (rows == 0 || cols == 0) return;
  if (ops::runs_on_cpu(device))
    cpu::copy_2d(dst, dst_stride, src, src_stride, rows, cols);
  else
    cuda::copy_2d(dst, dst_stride, src, src_stride, rows, cols);
}

}  // namespace

Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length) {
  ops::check_float(a, "narrow");
  const int64_t d = ops::normalize_dim(dim, a.shape(), "narrow");
  const int64_t size = a.shape()[static_cast<size_t>(d)];
  CUSBI_CHECK(start >= 0 && length >= 0 && start <= size && length <= size - start,
              "narrow: elements [" << start << ", " << start << " + " << length
                                   << ") along dimension " << d << " of shape "
                                   << shape_str(a.shape()) << " are out of range; need 0 <= start"
                                   << " and start + length <= " << size);
  Shape shape = a.shape();
  shape[static_cast<size_t>(d)] = length;
  Tensor out = Tensor::empty(shape, a.device());
  if (out.numel() == 0) return out;
  const int64_t outer = ops::span_numel(a.shape(), 0, d);
  const int64_t inner = ops::span_numel(a.shape(), d + 1, a.dim());
  copy_block(a.device(), out.data(), length * inner, a.data() + start * inner, size * inner, outer,
             length * inner);
  return out;
}

Tensor select(const Tensor& a, int64_t dim, int64_t index) {
  ops::check_float(a, "select");
  const int64_t d = ops::normalize_dim(dim, a.shape(), "select");
  const int64_t size = a.shape()[static_cast<size_t>(d)];
  CUSBI_CHECK(-size <= index && index < size,
              "select: index " << index << " is out of range for dimension " << d << " of shape "
                               << shape_str(a.shape()) << " (valid: " << -size << " to " << size - 1
                               << ")");
  Shape shape = a.shape();
  shape.erase(shape.begin() + d);
  return narrow(a, d, index < 0 ? index + size : index, 1).reshape(shape);
}

Tensor take_columns(const Tensor& a, const std::vector<int64_t>& columns) {
  ops::check_float(a, "take_columns");
  CUSBI_CHECK(a.dim() == 2, "take_columns: needs a 2-D (N, D) tensor, got shape "
                                << shape_str(a.shape()) << "; reshape it to (N, D) first");
  const int64_t rows = a.size(0), cols = a.size(1), k = static_cast<int64_t>(columns.size());
  for (size_t j = 0; j < columns.size(); ++j)
    CUSBI_CHECK(0 <= columns[j] && columns[j] < cols,
                "take_columns: column " << columns[j] << " (entry " << j
                                        << ") is out of range for shape " << shape_str(a.shape())
                                        << " (valid: 0 to " << cols - 1 << ")");
  Tensor out = Tensor::empty({rows, k}, a.device());
  if (out.numel() == 0) return out;
  // Runs of consecutive columns are one block copy each (narrow-like), so a[:, 2:5] is one copy.
  for (int64_t j = 0; j < k;) {
    int64_t run = 1;
    while (j + run < k &&
           columns[static_cast<size_t>(j + run)] == columns[static_cast<size_t>(j)] + run)
      ++run;
    copy_block(a.device(), out.data() + j, k, a.data() + columns[static_cast<size_t>(j)], cols,
               rows, run);
    j += run;
  }
  return out;
}

Tensor stack_columns(const std::vector<Tensor>& columns) {
  CUSBI_CHECK(!columns.empty(), "stack_columns: got no columns; pass at least one (N,) tensor");
  const Tensor& first = columns.front();
  ops::check_float(first, "stack_columns");
  const int64_t rows = first.numel();
  const int64_t k = static_cast<int64_t>(columns.size());
  for (size_t j = 0; j < columns.size(); ++j) {
    const Tensor& c = columns[j];
    ops::check_float(c, "stack_columns");
    ops::common_device(first, c, "stack_columns");
    const bool column_shape = c.dim() == 1 || (c.dim() == 2 && c.size(1) == 1);
    CUSBI_CHECK(column_shape && c.size(0) == rows,
                "stack_columns: column " << j << " has shape " << shape_str(c.shape())
                                         << ", column 0 has " << shape_str(first.shape())
                                         << "; every column must be (N,) or (N, 1) with one N");
  }
  Tensor out = Tensor::empty({rows, k}, first.device());
  if (out.numel() == 0) return out;
  for (int64_t j = 0; j < k; ++j)
    copy_block(first.device(), out.data() + j, k, columns[static_cast<size_t>(j)].data(), 1, rows,
               1);
  return out;
}

Tensor transpose(const Tensor& a) {
  ops::check_float(a, "transpose");
  CUSBI_CHECK(a.dim() == 2, "transpose: needs a 2-D tensor, got shape "
                                << shape_str(a.shape()) << "; reshape it to (N, M) first");
  const int64_t rows = a.size(0), cols = a.size(1);
  Tensor out = Tensor::empty({cols, rows}, a.device());
  if (out.numel() == 0) return out;
  if (ops::runs_on_cpu(a.device()))
    cpu::transpose_2d(a.data(), rows, cols, out.data());
  else
    cuda::transpose_2d(a.data(), rows, cols, out.data());
  return out;
}

}  // namespace cusbi
