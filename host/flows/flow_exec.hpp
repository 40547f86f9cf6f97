// Executors of the flow program (host/flows/nsf_program.hpp): the network executors of the nn
// programs (cpu::CpuExec<T>, nn::CudaExec) plus the flow's own passes — row gathers, the spline
// coupling, the base density — as CPU loops over kernels/flows.h (float in production, double
// in tests/gradcheck) and as forwards to the CUDA entry points of kernels/api/flows.h; the LU
// layers run LuLinear's own loops (flows::lu_cpu, kernels/api/lu.h) on the flow's buffers.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cusbi/error.hpp"
#include "host/cpu/nn_exec.hpp"
#include "host/flows/lu_linear.hpp"
#include "host/nn/cuda_exec.hpp"
#include "kernels/cuda_api.h"
#include "kernels/flows.h"
#include "kernels/lu.h"

namespace cusbi::flows {

// A spline row costs ~0.5 us (two softmaxes of K exps), so a few hundred rows already pay for
// waking the OpenMP team; rows are independent, so results do not depend on the thread count.
constexpr int64_t kSplineParallelRows = 256;

[[noreturn]] inline void unsupported_bins(int num_bins) {
  CUSBI_FAIL("spline coupling: num_bins = " << num_bins << " is not supported; use 1 to "
                                            << kern::kMaxFlowBins);
}

template <class T>
struct FlowCpuExec : cpu::CpuExec<T> {
  // Inference runs the flow over blocks of this many rows, each through every layer while its
  // activations (~1024 x 0.9k floats for the default flow) stay in cache, instead of streaming
  // batch-sized buffers through memory once per layer.
  static constexpr int64_t kInferenceBlockRows = 1024;
  void rows_affine(int64_t rows, int64_t cols, kern::RowMap map, const T* src, const T* mean,
                   const T* std, T* dst) {
    cpu::for_row_chunks(rows, cols, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* s = src + kern::source_row(map, r) * cols;
        T* d = dst + r * cols;
        for (int64_t j = 0; j < cols; ++j)
          d[j] = mean ? kern::standardize_element(kern::StandardizeMode::kForward, s[j], mean[j],
                                                  std[j])
                      : s[j];
      }
    });
  }
  void gather_identity(int64_t rows, int64_t features, int parity, const T* x, T* a) {
    const int64_t n_id = kern::coupling_num_identity(features, parity);
    cpu::for_row_chunks(rows, n_id, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < n_id; ++i)
          a[r * n_id + i] = x[r * features + kern::coupling_identity_column(i, parity)];
    });
  }
  void scatter_add_identity(int64_t rows, int64_t features, int parity, const T* da, T* dx) {
    const int64_t n_id = kern::coupling_num_identity(features, parity);
    cpu::for_row_chunks(rows, n_id, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < n_id; ++i)
          dx[r * features + kern::coupling_identity_column(i, parity)] += da[r * n_id + i];
    });
  }
  // One row at a time: its features, then its log|det| sum in kern::add_row_logdet's order.
  void coupling_forward(const kern::CouplingArgs<T>& a, T* y, T* logdet, T* total) {
    const int64_t n_tr = kern::coupling_num_transformed(a.features, a.parity);
    for_bins(a, [&](auto tag) {
      using Tag = decltype(tag);
#pragma omp parallel for schedule(static) if (a.rows >= kSplineParallelRows)
      for (int64_t r = 0; r < a.rows; ++r) {
        for (int64_t d = 0; d < a.features; ++d)
          kern::coupling_forward_at<Tag::kMax, Tag::kExact>(a, r, d, y, logdet);
        kern::add_row_logdet(r, n_tr, logdet, total);
      }
    });
  }
  void coupling_inverse(const kern::CouplingArgs<T>& a, T* out) {
    for_bins(a, [&](auto tag) {
      using Tag = decltype(tag);
#pragma omp parallel for schedule(static) if (a.rows >= kSplineParallelRows)
      for (int64_t r = 0; r < a.rows; ++r)
        for (int64_t d = 0; d < a.features; ++d)
          kern::coupling_inverse_at<Tag::kMax, Tag::kExact>(a, r, d, out);
    });
  }
  void coupling_backward(const kern::CouplingArgs<T>& a, const T* dy, const T* dlogdet, T* dparams,
                         T* dx) {
    for_bins(a, [&](auto tag) {
      using Tag = decltype(tag);
#pragma omp parallel for schedule(static) if (a.rows >= kSplineParallelRows)
      for (int64_t r = 0; r < a.rows; ++r)
        for (int64_t d = 0; d < a.features; ++d)
          kern::coupling_backward_at<Tag::kMax, Tag::kExact>(a, r, d, dy, dlogdet, dparams, dx);
    });
  }
  void standardize(kern::StandardizeMode mode, int64_t rows, int64_t cols, const T* in,
                   const T* mean, const T* std, T* out) {
    cpu::standardize(mode, rows, cols, in, mean, std, out);
  }
  void base_log_prob(int64_t rows, int64_t features, const T* z, const T* total, T log_z, T sign,
                     T* out) {
    cpu::for_row_chunks(rows, features, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        out[r] =
            sign * (kern::standard_normal_log_prob(z + r * features, features, log_z) + total[r]);
    });
  }
  void loss_grad(int64_t rows, int64_t features, const T* z, const T* grad, T* dz, T* dlogdet) {
    cpu::for_row_chunks(rows, features, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t d = 0; d < features; ++d) dz[r * features + d] = grad[r] * z[r * features + d];
        dlogdet[r] = -grad[r];
      }
    });
  }
  void lu_prepare(int64_t d, const T* lower, const T* upper, const T* diag, T* lu, T* w,
                  T* logabsdet) {
    lu_cpu::prepare(d, lower, upper, diag, lu, w, logabsdet);
  }
  void lu_forward(int64_t rows, int64_t d, const T* w, const T* bias, const T* logabsdet,
                  const T* x, T* y, T* logdet) {
    if (rows > 0) lu_cpu::forward(rows, d, w, bias, logabsdet, x, y, logdet);
  }
  void lu_inverse(int64_t rows, int64_t d, const T* lu, const T* bias, const T* logabsdet,
                  const T* y, T* x, T* logdet) {
    if (rows > 0) lu_cpu::inverse(rows, d, lu, bias, logabsdet, y, x, logdet);
  }
  void lu_backward(int64_t rows, int64_t d, const T* lu, const T* w, const T* diag, const T* x,
                   const T* dy, const T* dlogdet, T* g_lower, T* g_upper, T* g_diag, T* g_bias,
                   T* dx, T* scratch) {
    if (rows > 0)
      lu_cpu::backward(rows, d, lu, w, diag, x, dy, dlogdet, g_lower, g_upper, g_diag, g_bias, dx,
                       scratch);
  }
  static int64_t lu_backward_scratch(int64_t rows, int64_t d) {
    return lu_cpu::backward_scratch(rows, d);
  }
  void fill(T* p, int64_t n, T value) { std::fill(p, p + n, value); }
  void copy(T* dst, const T* src, int64_t n) {
    if (n > 0) std::memcpy(dst, src, sizeof(T) * n);
  }

 private:
  template <class F>
  static void for_bins(const kern::CouplingArgs<T>& a, F&& f) {
    if (a.rows == 0) return;
    if (!kern::dispatch_bins(a.num_bins, f)) unsupported_bins(a.num_bins);
  }
};

struct FlowCudaExec : nn::CudaExec {
  // Blocks large enough to fill the GPU; they bound the inference workspace (~1 GB for the
  // default flow) at any batch size.
  static constexpr int64_t kInferenceBlockRows = int64_t(1) << 18;
  void rows_affine(int64_t rows, int64_t cols, kern::RowMap map, const float* src,
                   const float* mean, const float* std, float* dst) {
    cuda::flows_rows_affine(rows, cols, map, src, mean, std, dst);
  }
  void gather_identity(int64_t rows, int64_t features, int parity, const float* x, float* a) {
    cuda::flows_gather_identity(rows, features, parity, x, a);
  }
  void scatter_add_identity(int64_t rows, int64_t features, int parity, const float* da,
                            float* dx) {
    cuda::flows_scatter_add_identity(rows, features, parity, da, dx);
  }
  void coupling_forward(const kern::CouplingArgs<float>& a, float* y, float* logdet, float* total) {
    cuda::flows_coupling_forward(a, y, logdet, total);
  }
  void coupling_inverse(const kern::CouplingArgs<float>& a, float* out) {
    cuda::flows_coupling_inverse(a, out);
  }
  void coupling_backward(const kern::CouplingArgs<float>& a, const float* dy, const float* dlogdet,
                         float* dparams, float* dx) {
    cuda::flows_coupling_backward(a, dy, dlogdet, dparams, dx);
  }
  void standardize(kern::StandardizeMode mode, int64_t rows, int64_t cols, const float* in,
                   const float* mean, const float* std, float* out) {
    if (rows > 0) cuda::nn_standardize(mode, rows, cols, in, mean, std, out);
  }
  void base_log_prob(int64_t rows, int64_t features, const float* z, const float* total,
                     float log_z, float sign, float* out) {
    cuda::flows_base_log_prob(rows, features, z, total, log_z, sign, out);
  }
  void loss_grad(int64_t rows, int64_t features, const float* z, const float* grad, float* dz,
                 float* dlogdet) {
    cuda::flows_loss_grad(rows, features, z, grad, dz, dlogdet);
  }
  void lu_prepare(int64_t d, const float* lower, const float* upper, const float* diag, float* lu,
                  float* w, float* logabsdet) {
    cuda::lu_prepare(d, lower, upper, diag, lu, w, logabsdet);
  }
  void lu_forward(int64_t rows, int64_t d, const float* w, const float* bias,
                  const float* logabsdet, const float* x, float* y, float* logdet) {
    if (rows > 0) cuda::lu_forward(rows, d, w, bias, logabsdet, x, y, logdet);
  }
  void lu_inverse(int64_t rows, int64_t d, const float* lu, const float* bias,
                  const float* logabsdet, const float* y, float* x, float* logdet) {
    if (rows > 0) cuda::lu_inverse(rows, d, lu, bias, logabsdet, y, x, logdet);
  }
  void lu_backward(int64_t rows, int64_t d, const float* lu, const float* w, const float* diag,
                   const float* x, const float* dy, const float* dlogdet, float* g_lower,
                   float* g_upper, float* g_diag, float* g_bias, float* dx, float* scratch) {
    if (rows > 0)
      cuda::lu_backward(rows, d, lu, w, diag, x, dy, dlogdet, g_lower, g_upper, g_diag, g_bias, dx,
                        scratch);
  }
  static int64_t lu_backward_scratch(int64_t rows, int64_t d) {
    return kern::lu_cuda_backward_scratch(rows, d);
  }
  void fill(float* p, int64_t n, float value) {
    if (n > 0) cuda::fill(p, n, value);
  }
  void copy(float* dst, const float* src, int64_t n) {
    if (n > 0) cuda::copy(dst, src, sizeof(float) * n, cuda::CopyKind::DeviceToDevice);
  }
};

// The production executors: float on the CPU, the GPU.
using CpuFlowExec = FlowCpuExec<float>;
using CudaFlowExec = FlowCudaExec;

}  // namespace cusbi::flows
