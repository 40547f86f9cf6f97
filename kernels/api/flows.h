// CUDA entry points of the neural spline flow (include/cusbi/flows.hpp). CUDA-free, so host/
// includes it with g++. Device pointers on the current device (the caller sets it), row-major,
// float; work is queued on the device's stream (cuda::stream()), nothing synchronises or allocates.
// Each mirrors a CPU loop of host/cpu/flows.hpp over the per-element math of kernels/flows.h.
#pragma once
#include <cstdint>

#include "kernels/flows.h"

namespace cusbi::cuda {

// dst (rows, cols) row r = src row source_row(map, r), standardised ((v - mean) / std) when mean
// is non-null.
void flows_rows_affine(int64_t rows, int64_t cols, kern::RowMap map, const float* src,
                       const float* mean, const float* std, float* dst);
// a (rows, n_id) = the identity columns of x (rows, D).
void flows_gather_identity(int64_t rows, int64_t features, int parity, const float* x, float* a);
// dx (rows, D) identity columns += da (rows, n_id).
void flows_scatter_add_identity(int64_t rows, int64_t features, int parity, const float* da,
                                float* dx);
// y (rows, D) = the coupling's forward of args.x; total (rows,) += each row's log|det|, through
// logdet (rows, n_tr) scratch. num_bins must be in [1, kern::kMaxFlowBins].
void flows_coupling_forward(const kern::CouplingArgs<float>& args, float* y, float* logdet,
                            float* total);
// out (rows, D) = the coupling's inverse of args.x.
void flows_coupling_inverse(const kern::CouplingArgs<float>& args, float* out);
// dx (rows, D) and dparams (rows, n_tr (3K - 1)) for dy (rows, D), dlogdet (rows,).
void flows_coupling_backward(const kern::CouplingArgs<float>& args, const float* dy,
                             const float* dlogdet, float* dparams, float* dx);
// out[r] = sign * (standard normal log-density of z[r] + total[r]).
void flows_base_log_prob(int64_t rows, int64_t features, const float* z, const float* total,
                         float log_z, float sign, float* out);
// For loss = -log q: dz (rows, D) = grad[r] z[r], dlogdet[r] = -grad[r].
void flows_loss_grad(int64_t rows, int64_t features, const float* z, const float* grad, float* dz,
                     float* dlogdet);

}  // namespace cusbi::cuda
