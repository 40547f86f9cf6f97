// cat: concatenation along any dimension. Each input is one 2-D block copy into the output,
// viewed as (outer, len_i * inner) rows written at a column offset of an (outer, sum len * inner)
// output, so every dimension costs the same and the GPU path is one cudaMemcpy2D per input
// (cpu::copy_2d / cuda::copy_2d).
#include "cusbi/tensor.hpp"
#include "host/cpu/elementwise.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

// All inputs agree with the first on device, rank and every dimension but `d`.
void check_cat_inputs(const std::vector<Tensor>& tensors, int64_t d) {
  const Tensor& first = tensors[0];
  for (size_t k = 1; k < tensors.size(); ++k) {
    const Tensor& t = tensors[k];
    ops::common_device(first, t, "cat");
    bool same = t.dim() == first.dim();
    for (int64_t i = 0; same && i < t.dim(); ++i) same = i == d || t.size(i) == first.size(i);
    CUSBI_CHECK(same, "cat along dimension " << d << ": tensor " << k << " has shape "
                                             << shape_str(t.shape()) << ", tensor 0 has shape "
                                             << shape_str(first.shape()) << "; all dimensions but "
                                             << d << " must match");
  }
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  CUSBI_CHECK(!tensors.empty(), "cat: got no tensors; pass at least one");
  for (const Tensor& t : tensors) ops::check_float(t, "cat");
  const Tensor& first = tensors[0];
  CUSBI_CHECK(first.dim() >= 1, "cat: cannot concatenate scalars (shape ()); reshape({1}) them");
  const int64_t d = ops::normalize_dim(dim, first.shape(), "cat");
  check_cat_inputs(tensors, d);

  Shape out_shape = first.shape();
  out_shape[static_cast<size_t>(d)] = 0;
  for (const Tensor& t : tensors) out_shape[static_cast<size_t>(d)] += t.size(d);
  Tensor out = Tensor::empty(out_shape, first.device());
  if (out.numel() == 0) return out;

  const int64_t outer = ops::span_numel(out_shape, 0, d);
  const int64_t inner = ops::span_numel(out_shape, d + 1, first.dim());
  const int64_t out_cols = out_shape[static_cast<size_t>(d)] * inner;
  int64_t col = 0;
  for (const Tensor& t : tensors) {
    const int64_t cols = t.size(d) * inner;
    if (cols > 0 && ops::runs_on_cpu(first.device()))
      cpu::copy_2d(out.data() + col, out_cols, t.data(), cols, outer, cols);
    else if (cols > 0)
      cuda::copy_2d(out.data() + col, out_cols, t.data(), cols, outer, cols);
    col += cols;
  }
  return out;
}

}  // namespace cusbi
