// CUDA side of the neural spline flow: the fused coupling kernels (one thread per (row,
// feature): parameter normalisation, bin search, evaluation and, for training, the backward, all
// in registers and local memory), instantiated per bin count by kern::dispatch_bins, plus the
// small row passes around them. Per-element math: kernels/flows.h, shared with the CPU loops.
// Per-row log|det| sums run in a second pass in a fixed order: no atomics, deterministic.
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/flows.h"

namespace cusbi::cuda {
namespace {

// One index per element of a (rows, cols) matrix, grid-strided so any size fits the grid.
#define CUSBI_FLOW_LOOP(i, n)                                               \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

__global__ void rows_affine_kernel(int64_t rows, int64_t cols, kern::RowMap map, const float* src,
                                   const float* mean, const float* std, float* dst) {
  CUSBI_FLOW_LOOP(i, rows * cols) {
    const int64_t r = i / cols, j = i % cols;
    const float v = src[kern::source_row(map, r) * cols + j];
    dst[i] =
        mean ? kern::standardize_element(kern::StandardizeMode::kForward, v, mean[j], std[j]) : v;
  }
}

__global__ void gather_identity_kernel(int64_t rows, int64_t features, int parity, const float* x,
                                       float* a) {
  const int64_t n_id = kern::coupling_num_identity(features, parity);
  CUSBI_FLOW_LOOP(i, rows * n_id) {
    const int64_t r = i / n_id, c = kern::coupling_identity_column(i % n_id, parity);
    a[i] = x[r * features + c];
  }
}

__global__ void scatter_add_identity_kernel(int64_t rows, int64_t features, int parity,
                                            const float* da, float* dx) {
  const int64_t n_id = kern::coupling_num_identity(features, parity);
  CUSBI_FLOW_LOOP(i, rows * n_id) {
    const int64_t r = i / n_id, c = kern::coupling_identity_column(i % n_id, parity);
    dx[r * features + c] += da[i];
  }
}

// With one transformed feature per row (D = 1 or 2, the common case) the thread owning it adds
// its log|det| straight to the row's total: the same sum as add_row_logdet, one pass saved.
template <int MaxBins, bool Exact>
__global__ void coupling_forward_kernel(kern::CouplingArgs<float> a, float* y, float* logdet,
                                        float* total, bool direct_total) {
  CUSBI_FLOW_LOOP(i, a.rows * a.features) {
    const int64_t r = i / a.features, d = i % a.features;
    kern::coupling_forward_at<MaxBins, Exact>(a, r, d, y, logdet);
    if (direct_total && kern::coupling_transforms(d, a.parity))
      kern::add_row_logdet(r, 1, logdet, total);
  }
}

template <int MaxBins, bool Exact>
__global__ void coupling_inverse_kernel(kern::CouplingArgs<float> a, float* out) {
  CUSBI_FLOW_LOOP(i, a.rows * a.features) {
    kern::coupling_inverse_at<MaxBins, Exact>(a, i / a.features, i % a.features, out);
  }
}

template <int MaxBins, bool Exact>
__global__ void coupling_backward_kernel(kern::CouplingArgs<float> a, const float* dy,
                                         const float* dlogdet, float* dparams, float* dx) {
  CUSBI_FLOW_LOOP(i, a.rows * a.features) {
    kern::coupling_backward_at<MaxBins, Exact>(a, i / a.features, i % a.features, dy, dlogdet,
                                               dparams, dx);
  }
}

__global__ void add_row_logdet_kernel(int64_t rows, int64_t n, const float* logdet, float* total) {
  CUSBI_FLOW_LOOP(r, rows) { kern::add_row_logdet(r, n, logdet, total); }
}

__global__ void base_log_prob_kernel(int64_t rows, int64_t features, const float* z,
                                     const float* total, float log_z, float sign, float* out) {
  CUSBI_FLOW_LOOP(r, rows) {
    out[r] = sign * (kern::standard_normal_log_prob(z + r * features, features, log_z) + total[r]);
  }
}

__global__ void loss_grad_kernel(int64_t rows, int64_t features, const float* z, const float* grad,
                                 float* dz, float* dlogdet) {
  CUSBI_FLOW_LOOP(i, rows * features) {
    const int64_t r = i / features;
    dz[i] = grad[r] * z[i];
    if (i % features == 0) dlogdet[r] = -grad[r];
  }
}

#undef CUSBI_FLOW_LOOP

// The coupling kernels keep per-thread spline arrays; 128 threads per block keep more blocks
// resident than 256 when those spill to local memory.
constexpr int kSplineBlock = 128;

unsigned spline_grid(int64_t n) {
  const int64_t blocks = (n + kSplineBlock - 1) / kSplineBlock;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 2147483647LL ? 2147483647LL : blocks));
}

void check_bins(int num_bins) {
  CUSBI_CHECK(num_bins >= 1 && num_bins <= kern::kMaxFlowBins,
              "spline coupling: num_bins = " << num_bins << " is not supported; use 1 to "
                                             << kern::kMaxFlowBins);
}

}  // namespace

void flows_rows_affine(int64_t rows, int64_t cols, kern::RowMap map, const float* src,
                       const float* mean, const float* std, float* dst) {
  if (rows * cols == 0) return;
  rows_affine_kernel<<<grid_for(rows * cols), kBlock, 0, stream()>>>(rows, cols, map, src, mean,
                                                                     std, dst);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void flows_gather_identity(int64_t rows, int64_t features, int parity, const float* x, float* a) {
  const int64_t n = rows * kern::coupling_num_identity(features, parity);
  if (n == 0) return;
  gather_identity_kernel<<<grid_for(n), kBlock, 0, stream()>>>(rows, features, parity, x, a);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void flows_scatter_add_identity(int64_t rows, int64_t features, int parity, const float* da,
                                float* dx) {
  const int64_t n = rows * kern::coupling_num_identity(features, parity);
  if (n == 0) return;
  scatter_add_identity_kernel<<<grid_for(n), kBlock, 0, stream()>>>(rows, features, parity, da, dx);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void flows_coupling_forward(const kern::CouplingArgs<float>& args, float* y, float* logdet,
                            float* total) {
  check_bins(args.num_bins);
  const int64_t n = args.rows * args.features;
  if (n == 0) return;
  const int64_t n_tr = kern::coupling_num_transformed(args.features, args.parity);
  const bool direct = n_tr == 1;
  kern::dispatch_bins(args.num_bins, [&](auto tag) {
    using Tag = decltype(tag);
    coupling_forward_kernel<Tag::kMax, Tag::kExact>
        <<<spline_grid(n), kSplineBlock, 0, stream()>>>(args, y, logdet, total, direct);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
  if (!direct) {
    add_row_logdet_kernel<<<grid_for(args.rows), kBlock, 0, stream()>>>(args.rows, n_tr, logdet,
                                                                        total);
    CUSBI_CUDA_CHECK_LAUNCH();
  }
}

void flows_coupling_inverse(const kern::CouplingArgs<float>& args, float* out) {
  check_bins(args.num_bins);
  const int64_t n = args.rows * args.features;
  if (n == 0) return;
  kern::dispatch_bins(args.num_bins, [&](auto tag) {
    using Tag = decltype(tag);
    coupling_inverse_kernel<Tag::kMax, Tag::kExact>
        <<<spline_grid(n), kSplineBlock, 0, stream()>>>(args, out);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
}

void flows_coupling_backward(const kern::CouplingArgs<float>& args, const float* dy,
                             const float* dlogdet, float* dparams, float* dx) {
  check_bins(args.num_bins);
  const int64_t n = args.rows * args.features;
  if (n == 0) return;
  kern::dispatch_bins(args.num_bins, [&](auto tag) {
    using Tag = decltype(tag);
    coupling_backward_kernel<Tag::kMax, Tag::kExact>
        <<<spline_grid(n), kSplineBlock, 0, stream()>>>(args, dy, dlogdet, dparams, dx);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
}

void flows_base_log_prob(int64_t rows, int64_t features, const float* z, const float* total,
                         float log_z, float sign, float* out) {
  if (rows == 0) return;
  base_log_prob_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(rows, features, z, total, log_z,
                                                                sign, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void flows_loss_grad(int64_t rows, int64_t features, const float* z, const float* grad, float* dz,
                     float* dlogdet) {
  if (rows * features == 0) return;
  loss_grad_kernel<<<grid_for(rows * features), kBlock, 0, stream()>>>(rows, features, z, grad, dz,
                                                                       dlogdet);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
