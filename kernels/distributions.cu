// CUDA kernels of the priors and ThetaTransform: one thread per row (per-row reductions over the
// small event dimension D, in the fixed order of the CPU loop) or per element (the transform's
// maps), each an index guard around kernels/distributions.h, grid-strided with 64-bit indices.
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/distributions.h"

namespace cusbi::cuda {
namespace {

#define CUSBI_DIST_LOOP(i, n)                                               \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

__global__ void box_from_uniform_kernel(float* u, const float* low, const float* high, int64_t n,
                                        int64_t dim) {
  CUSBI_DIST_LOOP(i, n) {
    const int64_t d = i % dim;
    u[i] = kern::box_from_uniform(u[i], low[d], high[d]);
  }
}

__global__ void box_log_prob_kernel(const float* theta, const float* low, const float* high,
                                    int64_t rows, int64_t dim, float log_volume, float* out) {
  CUSBI_DIST_LOOP(r, rows)
  out[r] = kern::box_log_prob_row(theta + r * dim, low, high, dim, log_volume);
}

__global__ void box_support_kernel(const float* theta, const float* low, const float* high,
                                   int64_t rows, int64_t dim, float* out) {
  CUSBI_DIST_LOOP(r, rows) out[r] = kern::box_support_row(theta + r * dim, low, high, dim);
}

__global__ void finite_rows_kernel(const float* theta, int64_t rows, int64_t dim, float* out) {
  CUSBI_DIST_LOOP(r, rows) out[r] = kern::finite_row(theta + r * dim, dim);
}

__global__ void mvn_sample_kernel(const float* z, const float* mean, const float* scale_tril,
                                  int64_t rows, int64_t dim, float* out) {
  CUSBI_DIST_LOOP(r, rows) kern::mvn_sample_row(z + r * dim, mean, scale_tril, dim, out + r * dim);
}

__global__ void mvn_log_prob_kernel(const float* theta, const float* mean, const double* inv_tril,
                                    int64_t rows, int64_t dim, float log_normalizer, float* out) {
  CUSBI_DIST_LOOP(r, rows)
  out[r] = kern::mvn_log_prob_row(theta + r * dim, mean, inv_tril, dim, log_normalizer);
}

__global__ void mvn_log_prob_gradient_kernel(const float* theta, const float* mean,
                                             const double* precision, int64_t rows, int64_t dim,
                                             float* grad) {
  CUSBI_DIST_LOOP(r, rows)
  kern::mvn_log_prob_gradient_row(theta + r * dim, mean, precision, dim, grad + r * dim);
}

template <kern::ThetaMap Map>
__global__ void theta_map_kernel(const float* in, const float* shift, const float* scale, int64_t n,
                                 int64_t dim, float* out) {
  CUSBI_DIST_LOOP(i, n) {
    const int64_t d = i % dim;
    out[i] = kern::apply_theta_map<Map>(in[i], shift[d], scale[d]);
  }
}

__global__ void theta_log_det_kernel(bool sigmoid, const float* z, const float* scale, int64_t rows,
                                     int64_t dim, float* out) {
  CUSBI_DIST_LOOP(r, rows) out[r] = kern::theta_log_det_row(sigmoid, z + r * dim, scale, dim);
}

__global__ void support_select_kernel(const float* mask, int64_t rows, int64_t dim, float sign,
                                      float* value, const float* grad_in, float* grad_out) {
  CUSBI_DIST_LOOP(r, rows)
  kern::support_select_row(mask[r], sign, dim, value + r, grad_in ? grad_in + r * dim : nullptr,
                           grad_out ? grad_out + r * dim : nullptr);
}

__global__ void sum_trials_kernel(const float* log_likelihood, int64_t trials, int64_t cols,
                                  const float* prior, float* out) {
  CUSBI_DIST_LOOP(c, cols)
  out[c] = kern::sum_trials_column(log_likelihood, trials, cols, c, prior[c]);
}

__global__ void scaled_fma_kernel(const float* a, const float* b, const float* c, float sign,
                                  int64_t n, float* out) {
  CUSBI_DIST_LOOP(i, n) out[i] = kern::scaled_fma_element(a, b, c, sign, i);
}

#undef CUSBI_DIST_LOOP

}  // namespace

void box_from_uniform(float* u, const float* low, const float* high, int64_t n, int64_t dim) {
  if (n == 0) return;
  box_from_uniform_kernel<<<grid_for(n), kBlock, 0, stream()>>>(u, low, high, n, dim);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void box_log_prob(const float* theta, const float* low, const float* high, int64_t rows,
                  int64_t dim, float log_volume, float* out) {
  if (rows == 0) return;
  box_log_prob_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(theta, low, high, rows, dim,
                                                               log_volume, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void box_support_mask(const float* theta, const float* low, const float* high, int64_t rows,
                      int64_t dim, float* out) {
  if (rows == 0) return;
  box_support_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(theta, low, high, rows, dim, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void finite_rows_mask(const float* theta, int64_t rows, int64_t dim, float* out) {
  if (rows == 0) return;
  finite_rows_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(theta, rows, dim, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void mvn_sample(const float* z, const float* mean, const float* scale_tril, int64_t rows,
                int64_t dim, float* out) {
  if (rows == 0) return;
  mvn_sample_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(z, mean, scale_tril, rows, dim, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void mvn_log_prob(const float* theta, const float* mean, const double* inv_tril, int64_t rows,
                  int64_t dim, float log_normalizer, float* out) {
  if (rows == 0) return;
  mvn_log_prob_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(theta, mean, inv_tril, rows, dim,
                                                               log_normalizer, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void mvn_log_prob_gradient(const float* theta, const float* mean, const double* precision,
                           int64_t rows, int64_t dim, float* grad) {
  if (rows == 0) return;
  mvn_log_prob_gradient_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(theta, mean, precision,
                                                                        rows, dim, grad);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void theta_map(kern::ThetaMap map, const float* in, const float* shift, const float* scale,
               int64_t n, int64_t dim, float* out) {
  if (n == 0) return;
  kern::visit_theta_map(map, [&](auto tag) {
    theta_map_kernel<decltype(tag)::value>
        <<<grid_for(n), kBlock, 0, stream()>>>(in, shift, scale, n, dim, out);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
}

void theta_log_det(bool sigmoid, const float* z, const float* scale, int64_t rows, int64_t dim,
                   float* out) {
  if (rows == 0) return;
  theta_log_det_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(sigmoid, z, scale, rows, dim, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void support_select(const float* mask, int64_t rows, int64_t dim, float sign, float* value,
                    const float* grad_in, float* grad_out) {
  if (rows == 0) return;
  support_select_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(mask, rows, dim, sign, value,
                                                                 grad_in, grad_out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void sum_trials(const float* log_likelihood, int64_t trials, int64_t cols, const float* prior,
                float* out) {
  if (cols == 0) return;
  sum_trials_kernel<<<grid_for(cols), kBlock, 0, stream()>>>(log_likelihood, trials, cols, prior,
                                                             out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void scaled_fma(const float* a, const float* b, const float* c, float sign, int64_t n, float* out) {
  if (n == 0) return;
  scaled_fma_kernel<<<grid_for(n), kBlock, 0, stream()>>>(a, b, c, sign, n, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
