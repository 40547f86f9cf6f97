// CPU twin of kernels/flows.cu: the executor of the flow program (host/flows/nsf_program.hpp)
// on the CPU — the network executor cpu::CpuExec<T> (host/cpu/nn.hpp) plus the flow's own passes
// (row gathers, the spline coupling, the base density) as loops over kernels/flows.h, float in
// production and double in tests/gradcheck; the LU layers run host/cpu/lu.hpp. Its CUDA
// counterpart is exec::FlowCudaExec (host/exec/cuda_exec.hpp).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cusbi/error.hpp"
#include "host/cpu/lu.hpp"
#include "host/cpu/nn.hpp"
#include "host/exec/thread_pool.hpp"
#include "kernels/flows.h"
#include "kernels/lu.h"

namespace cusbi::cpu {

// A spline row costs ~0.5 us (two softmaxes of K exps), so a few hundred rows already pay for
// waking the threads; rows are independent, so results do not depend on the thread count.
constexpr int64_t kSplineParallelRows = 256;
constexpr int64_t kSplineChunkRows = 64;  // claimed one chunk at a time (host/exec/thread_pool)

[[noreturn]] inline void unsupported_bins(int num_bins) {
  CUSBI_FAIL("spline coupling: num_bins = " << num_bins << " is not supported; use 1 to "
                                            << kern::kMaxFlowBins);
}

template <class T>
struct FlowCpuExec : CpuExec<T> {
  // Inference runs the flow over blocks of this many rows, each through every layer while its
  // activations (~1024 x 0.9k floats for the default flow) stay in cache, instead of streaming
  // batch-sized buffers through memory once per layer.
  static constexpr int64_t kInferenceBlockRows = 1024;
  void rows_affine(int64_t rows, int64_t cols, kern::RowMap map, const T* src, const T* mean,
                   const T* std, T* dst) {
    for_row_chunks(rows, cols, [=](int64_t r0, int64_t r1) {
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
    for_row_chunks(rows, n_id, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < n_id; ++i)
          a[r * n_id + i] = x[r * features + kern::coupling_identity_column(i, parity)];
    });
  }
  void scatter_add_identity(int64_t rows, int64_t features, int parity, const T* da, T* dx) {
    const int64_t n_id = kern::coupling_num_identity(features, parity);
    for_row_chunks(rows, n_id, [=](int64_t r0, int64_t r1) {
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
      spline_rows(a.rows, [&](int64_t r) {
        for (int64_t d = 0; d < a.features; ++d)
          kern::coupling_forward_at<Tag::kMax, Tag::kExact>(a, r, d, y, logdet);
        kern::add_row_logdet(r, n_tr, logdet, total);
      });
    });
  }
  void coupling_inverse(const kern::CouplingArgs<T>& a, T* out) {
    for_bins(a, [&](auto tag) {
      using Tag = decltype(tag);
      spline_rows(a.rows, [&](int64_t r) {
        for (int64_t d = 0; d < a.features; ++d)
          kern::coupling_inverse_at<Tag::kMax, Tag::kExact>(a, r, d, out);
      });
    });
  }
  void coupling_backward(const kern::CouplingArgs<T>& a, const T* dy, const T* dlogdet, T* dparams,
                         T* dx) {
    for_bins(a, [&](auto tag) {
      using Tag = decltype(tag);
      spline_rows(a.rows, [&](int64_t r) {
        for (int64_t d = 0; d < a.features; ++d)
          kern::coupling_backward_at<Tag::kMax, Tag::kExact>(a, r, d, dy, dlogdet, dparams, dx);
      });
    });
  }
  void base_log_prob(int64_t rows, int64_t features, const T* z, const T* total, T log_z, T sign,
                     T* out) {
    for_row_chunks(rows, features, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        out[r] =
            sign * (kern::standard_normal_log_prob(z + r * features, features, log_z) + total[r]);
    });
  }
  void loss_grad(int64_t rows, int64_t features, const T* z, const T* grad, T* dz, T* dlogdet) {
    for_row_chunks(rows, features, [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t d = 0; d < features; ++d) dz[r * features + d] = grad[r] * z[r * features + d];
        dlogdet[r] = -grad[r];
      }
    });
  }
  void lu_prepare(int64_t d, const T* lower, const T* upper, const T* diag, T* lu, T* w,
                  T* logabsdet) {
    lu::prepare(d, lower, upper, diag, lu, w, logabsdet);
  }
  void lu_forward(int64_t rows, int64_t d, const T* w, const T* bias, const T* logabsdet,
                  const T* x, T* y, T* logdet) {
    if (rows > 0) lu::forward(rows, d, w, bias, logabsdet, x, y, logdet);
  }
  void lu_inverse(int64_t rows, int64_t d, const T* lu, const T* bias, const T* logabsdet,
                  const T* y, T* x, T* logdet) {
    if (rows > 0) lu::inverse(rows, d, lu, bias, logabsdet, y, x, logdet);
  }
  void lu_backward(int64_t rows, int64_t d, const T* lu, const T* w, const T* diag, const T* x,
                   const T* dy, const T* dlogdet, T* g_lower, T* g_upper, T* g_diag, T* g_bias,
                   T* dx, T* scratch) {
    if (rows > 0)
      lu::backward(rows, d, lu, w, diag, x, dy, dlogdet, g_lower, g_upper, g_diag, g_bias, dx,
                   scratch);
  }
  static int64_t lu_backward_scratch(int64_t rows, int64_t d) {
    return lu::backward_scratch(rows, d);
  }
  void fill(T* p, int64_t n, T value) { std::fill(p, p + n, value); }
  void copy(T* dst, const T* src, int64_t n) {
    if (n > 0) std::memcpy(dst, src, sizeof(T) * n);
  }

 private:
  // f(row) for every row, in chunks claimed by the pool's threads for large batches.
  template <class F>
  static void spline_rows(int64_t rows, F&& f) {
    const int64_t chunks = kern::ceil_div(rows, kSplineChunkRows);
    exec::parallel_for(chunks, rows >= kSplineParallelRows, [&](int64_t c) {
      const int64_t end = std::min(rows, (c + 1) * kSplineChunkRows);
      for (int64_t r = c * kSplineChunkRows; r < end; ++r) f(r);
    });
  }
  template <class F>
  static void for_bins(const kern::CouplingArgs<T>& a, F&& f) {
    if (a.rows == 0) return;
    if (!kern::dispatch_bins(a.num_bins, f)) unsupported_bins(a.num_bins);
  }
};

}  // namespace cusbi::cpu
