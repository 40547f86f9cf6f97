// CPU twins of kernels/distributions.cu: one row (or element) of kernels/distributions.h per
// iteration, in row ranges on the pool when the loop is large enough. Rows are independent, so
// results do not depend on the thread count.
#include "host/cpu/distributions.hpp"

#include <algorithm>

#include "host/exec/thread_pool.hpp"
#include "kernels/distributions.h"

namespace cusbi::cpu {

namespace {

// Runs f(r) for every r in [0, rows), in row ranges on the pool (host/exec/thread_pool.hpp)
// when rows * cost is large enough to pay for waking threads.
template <typename F>
void for_rows(int64_t rows, int64_t cost, F f) {
  constexpr int64_t kParallelMin = 1 << 14;  // smaller loops run faster on one thread
  exec::parallel_range(
      rows, rows * cost >= kParallelMin,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) f(r);
      },
      std::max<int64_t>(1, (int64_t(1) << 13) / std::max<int64_t>(cost, 1)));
}

}  // namespace

void box_from_uniform(float* u, const float* low, const float* high, int64_t n, int64_t dim) {
  for_rows(n / dim, dim, [&](int64_t r) {
    for (int64_t d = 0; d < dim; ++d)
      u[r * dim + d] = kern::box_from_uniform(u[r * dim + d], low[d], high[d]);
  });
}

void box_log_prob(const float* theta, const float* low, const float* high, int64_t rows,
                  int64_t dim, float log_volume, float* out) {
  for_rows(rows, dim, [&](int64_t r) {
    out[r] = kern::box_log_prob_row(theta + r * dim, low, high, dim, log_volume);
  });
}

void box_support_mask(const float* theta, const float* low, const float* high, int64_t rows,
                      int64_t dim, float* out) {
  for_rows(rows, dim,
           [&](int64_t r) { out[r] = kern::box_support_row(theta + r * dim, low, high, dim); });
}

void finite_rows_mask(const float* theta, int64_t rows, int64_t dim, float* out) {
  for_rows(rows, dim, [&](int64_t r) { out[r] = kern::finite_row(theta + r * dim, dim); });
}

void mvn_sample(const float* z, const float* mean, const float* scale_tril, int64_t rows,
                int64_t dim, float* out) {
  for_rows(rows, dim * dim, [&](int64_t r) {
    kern::mvn_sample_row(z + r * dim, mean, scale_tril, dim, out + r * dim);
  });
}

void mvn_log_prob(const float* theta, const float* mean, const double* inv_tril, int64_t rows,
                  int64_t dim, float log_normalizer, float* out) {
  for_rows(rows, dim * dim, [&](int64_t r) {
    out[r] = kern::mvn_log_prob_row(theta + r * dim, mean, inv_tril, dim, log_normalizer);
  });
}

void mvn_log_prob_gradient(const float* theta, const float* mean, const double* precision,
                           int64_t rows, int64_t dim, float* grad) {
  for_rows(rows, dim * dim, [&](int64_t r) {
    kern::mvn_log_prob_gradient_row(theta + r * dim, mean, precision, dim, grad + r * dim);
  });
}

// One compiled loop per map (the visit picks it once, outside the rows).
void theta_map(kern::ThetaMap map, const float* in, const float* shift, const float* scale,
               int64_t n, int64_t dim, float* out) {
  kern::visit_theta_map(map, [&](auto tag) {
    for_rows(n / dim, dim, [&](int64_t r) {
      for (int64_t d = 0; d < dim; ++d)
        out[r * dim + d] =
            kern::apply_theta_map<decltype(tag)::value>(in[r * dim + d], shift[d], scale[d]);
    });
  });
}

void theta_log_det(bool sigmoid, const float* z, const float* scale, int64_t rows, int64_t dim,
                   float* out) {
  for_rows(rows, dim,
           [&](int64_t r) { out[r] = kern::theta_log_det_row(sigmoid, z + r * dim, scale, dim); });
}

void support_select(const float* mask, int64_t rows, int64_t dim, float sign, float* value,
                    const float* grad_in, float* grad_out) {
  for_rows(rows, dim + 1, [&](int64_t r) {
    kern::support_select_row(mask[r], sign, dim, value + r, grad_in ? grad_in + r * dim : nullptr,
                             grad_out ? grad_out + r * dim : nullptr);
  });
}

void sum_trials(const float* log_likelihood, int64_t trials, int64_t cols, const float* prior,
                float* out) {
  for_rows(cols, trials, [&](int64_t c) {
    out[c] = kern::sum_trials_column(log_likelihood, trials, cols, c, prior[c]);
  });
}

void scaled_fma(const float* a, const float* b, const float* c, float sign, int64_t n, float* out) {
  for_rows(n, 1, [&](int64_t i) { out[i] = kern::scaled_fma_element(a, b, c, sign, i); });
}

}  // namespace cusbi::cpu
