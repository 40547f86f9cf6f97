// CPU twins of the distribution and potential CUDA entry points (kernels/api/distributions.h):
// same names and signatures in cusbi::cpu, loops over the same kernels/distributions.h math, so
// host/distributions/ and host/potentials/ check arguments and then dispatch once,
// `ops::runs_on_cpu(d) ? cpu::f(...) : cuda::f(...)`.
#pragma once
#include <cstdint>

#include "kernels/api/distributions.h"

namespace cusbi::cpu {

void box_from_uniform(float* u, const float* low, const float* high, int64_t n, int64_t dim);
void box_log_prob(const float* theta, const float* low, const float* high, int64_t rows,
                  int64_t dim, float log_volume, float* out);
void box_support_mask(const float* theta, const float* low, const float* high, int64_t rows,
                      int64_t dim, float* out);
void finite_rows_mask(const float* theta, int64_t rows, int64_t dim, float* out);

void mvn_sample(const float* z, const float* mean, const float* scale_tril, int64_t rows,
                int64_t dim, float* out);
void mvn_log_prob(const float* theta, const float* mean, const double* inv_tril, int64_t rows,
                  int64_t dim, float log_normalizer, float* out);
void mvn_log_prob_gradient(const float* theta, const float* mean, const double* precision,
                           int64_t rows, int64_t dim, float* grad);

void theta_map(kern::ThetaMap map, const float* in, const float* shift, const float* scale,
               int64_t n, int64_t dim, float* out);
void theta_log_det(bool sigmoid, const float* z, const float* scale, int64_t rows, int64_t dim,
                   float* out);

void support_select(const float* mask, int64_t rows, int64_t dim, float sign, float* value,
                    const float* grad_in, float* grad_out);
void sum_trials(const float* log_likelihood, int64_t trials, int64_t cols, const float* prior,
                float* out);
void scaled_fma(const float* a, const float* b, const float* c, float sign, int64_t n, float* out);

}  // namespace cusbi::cpu
