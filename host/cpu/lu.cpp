// CPU twin of kernels/lu.cu (host/cpu/lu.hpp): the GEMM-shaped work (forward, dW = dy^T x,
// dx = dy W) on host/cpu's Eigen GEMMs over fixed row chunks, everything else on the
// per-element math of kernels/lu.h, templated on the scalar so tests/gradcheck runs this code in
// double.
#include "host/cpu/lu.hpp"

#include <algorithm>

#include "host/cpu/gemm.hpp"
#include "host/cpu/nn.hpp"
#include "host/exec/workspace.hpp"
#include "kernels/lu.h"

namespace cusbi::cpu::lu {

template <class T>
void prepare(int64_t d, const T* lower, const T* upper, const T* diag, T* lu, T* w, T* logabsdet) {
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      lu[i * d + j] = kern::lu_packed_element(d, i, j, lower, upper, diag);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) w[i * d + j] = kern::lu_weight_element(d, i, j, lu);
  *logabsdet = kern::lu_logabsdet(d, lu);
}

template <class T>
void forward(int64_t rows, int64_t d, const T* w, const T* bias, const T* logabsdet, const T* x,
             T* y, T* logdet) {
  gemm(false, true, rows, d, d, x, d, w, d, T(0), y, d);
  const T ld = *logabsdet;
  for_row_chunks(rows, d, [=](int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; ++b) {
      for (int64_t j = 0; j < d; ++j) y[b * d + j] += bias[j];
      if (logdet != nullptr) logdet[b] += ld;
    }
  });
}

template <class T>
void inverse(int64_t rows, int64_t d, const T* lu, const T* bias, const T* logabsdet, const T* y,
             T* x, T* logdet) {
  const T ld = *logabsdet;
  // A row's solve costs ~D^2 operations: weigh the chunking's parallel threshold by that.
  for_row_chunks(rows, d * d, [=](int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; ++b) {
      kern::lu_solve_row(d, lu, bias, y + b * d, x + b * d);
      if (logdet != nullptr) logdet[b] -= ld;
    }
  });
}

// The pieces of backward's scratch (host/exec/workspace.hpp's carving; counted when base is
// null): the reductions' chunk partials (shared by the three reductions, which run one after
// the other), dW (D*D) and S = sum dlogdet (1).
template <class T>
struct BackwardScratch {
  T *partials = nullptr, *dw = nullptr, *dlogdet_sum = nullptr;
  int64_t numel = 0;
};

template <class T>
BackwardScratch<T> carve_backward(int64_t rows, int64_t d, T* base) {
  exec::Carver<T> c{base};
  BackwardScratch<T> s;
  s.partials = c.take(std::max(weight_grad_scratch(rows, d * d), kern::colsum_scratch(rows, d)));
  s.dw = c.take(d * d);
  s.dlogdet_sum = c.take(1);
  s.numel = c.used;
  return s;
}

int64_t backward_scratch(int64_t rows, int64_t d) {
  return carve_backward<float>(rows, d, nullptr).numel;
}

template <class T>
void backward(int64_t rows, int64_t d, const T* lu, const T* w, const T* diag, const T* x,
              const T* dy, const T* dlogdet, T* g_lower, T* g_upper, T* g_diag, T* g_bias, T* dx,
              T* scratch) {
  const BackwardScratch<T> s = carve_backward(rows, d, scratch);
  T* dw = s.dw;
  T* dlogdet_sum = s.dlogdet_sum;
  colsum(rows, d, dy, g_bias, s.partials);
  std::fill(dw, dw + d * d, T(0));
  weight_grad(d, d, rows, dy, d, x, d, dw, d, s.partials);
  *dlogdet_sum = T(0);
  if (dlogdet != nullptr) colsum(rows, int64_t(1), dlogdet, dlogdet_sum, s.partials);
  if (dx != nullptr) gemm(false, false, rows, d, d, dy, d, w, d, T(0), dx, d);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      kern::lu_accumulate_entry_grad(d, i, j, lu, dw, *dlogdet_sum, diag, g_lower, g_upper, g_diag);
}

#define CUSBI_LU_CPU_INSTANTIATE(T)                                                             \
  template void prepare<T>(int64_t, const T*, const T*, const T*, T*, T*, T*);                  \
  template void forward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);   \
  template void inverse<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);   \
  template void backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, const T*, \
                            const T*, T*, T*, T*, T*, T*, T*);
CUSBI_LU_CPU_INSTANTIATE(float)
CUSBI_LU_CPU_INSTANTIATE(double)
#undef CUSBI_LU_CPU_INSTANTIATE

}  // namespace cusbi::cpu::lu
