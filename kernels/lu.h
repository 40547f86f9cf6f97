// nflows' LULinear per element, written once for the CPU loops (host/flows/lu_linear.cpp, float
// and double) and the CUDA kernels (kernels/lu.cu): the packed L\U matrix from the parameters,
// W = L U, log|det|, one row's two triangular solves and the gradient of W = L U w.r.t. the
// entries (spec: npe.md §3). "Packed" is one (D, D) row-major matrix holding L's strict lower
// triangle (L's unit diagonal implied) and U's upper triangle with u_ii = softplus(d_i) + 1e-3.
#pragma once
#include <cstdint>

#include "kernels/common.h"  // softplus(_grad): torch's softplus, as torch computes it

namespace cusbi::kern {

inline constexpr double kLuEps = 1e-3;  // LULinear's eps: u_ii = softplus(d_i) + eps
// np.log(np.exp(1 - eps) - 1) in double: the identity-init logit, so u_ii = 1 (to rounding).
inline constexpr double kLuIdentityDiag = 0.5397424172369522;

// Position of L's (i, j), i > j, in lower_entries (numpy tril_indices(k=-1): row-major).
CUSBI_HD int64_t lu_lower_index(int64_t i, int64_t j) { return i * (i - 1) / 2 + j; }

// Position of U's (i, j), j > i, in upper_entries (numpy triu_indices(k=1): row-major; row r
// holds D - 1 - r entries).
CUSBI_HD int64_t lu_upper_index(int64_t d, int64_t i, int64_t j) {
  return i * (d - 1) - i * (i - 1) / 2 + (j - i - 1);
}

// torch's F.softplus form (log1p(exp(x)), x above 20 passed through) rather than common.h's
// rearranged one: at the identity-init logit the two round to different sides of 1 in float, and
// this one gives torch's u_ii = 1 - 2^-24 bit for bit.
template <typename T>
CUSBI_HD T lu_upper_diag(T unconstrained) {
  return softplus(unconstrained) + T(kLuEps);
}

// Packed element (i, j) from the parameters lower_entries, upper_entries and
// unconstrained_upper_diag.
template <typename T>
CUSBI_HD T lu_packed_element(int64_t d, int64_t i, int64_t j, const T* lower, const T* upper,
                             const T* diag) {
  if (i > j) return lower[lu_lower_index(i, j)];
  if (i < j) return upper[lu_upper_index(d, i, j)];
  return lu_upper_diag(diag[i]);
}

// W_ij = sum_{k <= min(i, j)} L_ik U_kj from the packed matrix (L_ii = 1 is not stored).
template <typename T>
CUSBI_HD T lu_weight_element(int64_t d, int64_t i, int64_t j, const T* lu) {
  const int64_t m = i < j ? i : j;
  T s = T(0);
  for (int64_t k = 0; k < m; ++k) s += lu[i * d + k] * lu[k * d + j];
  return i <= j ? s + lu[i * d + j] : s + lu[i * d + j] * lu[j * d + j];
}

// log|det W| = sum_i log u_ii (u_ii > 0 by construction), summed in index order.
template <typename T>
CUSBI_HD T lu_logabsdet(int64_t d, const T* lu) {
  T s = T(0);
  for (int64_t i = 0; i < d; ++i) s += log(lu[i * d + i]);
  return s;
}

// y_j = b_j + sum_k W_jk x_k for one row x (the CUDA forward; the CPU runs an Eigen GEMM).
template <typename T>
CUSBI_HD T lu_forward_element(int64_t d, int64_t j, const T* w, const T* bias, const T* x_row) {
  T s = T(0);
  for (int64_t k = 0; k < d; ++k) s += w[j * d + k] * x_row[k];
  return s + bias[j];
}

// dx_k = sum_j dy_j W_jk for one row (the CUDA input gradient; the CPU runs an Eigen GEMM).
template <typename T>
CUSBI_HD T lu_input_grad_element(int64_t d, int64_t k, const T* w, const T* dy_row) {
  T s = T(0);
  for (int64_t j = 0; j < d; ++j) s += dy_row[j] * w[j * d + k];
  return s;
}

// x = (L U)^{-1} (y - b) for one row: forward substitution with the unit-diagonal L, then back
// substitution with U, in place in x (so x may be y: each y_i is read before x_i is written).
template <typename T>
CUSBI_HD void lu_solve_row(int64_t d, const T* lu, const T* bias, const T* y_row, T* x_row) {
  for (int64_t i = 0; i < d; ++i) x_row[i] = y_row[i] - bias[i];
  for (int64_t i = 1; i < d; ++i) {
    T s = x_row[i];
    for (int64_t k = 0; k < i; ++k) s -= lu[i * d + k] * x_row[k];
    x_row[i] = s;
  }
  for (int64_t i = d - 1; i >= 0; --i) {
    T s = x_row[i];
    for (int64_t k = i + 1; k < d; ++k) s -= lu[i * d + k] * x_row[k];
    x_row[i] = s / lu[i * d + i];
  }
}

// Gradient of a loss w.r.t. packed entry (i, j) given dW = dLoss/dW for W = L U:
// strictly lower (i > j): dL = strict_lower(dW U^T), dL_ij = sum_{k >= j} dW_ik U_jk;
// upper (i <= j): dU = upper(L^T dW), dU_ij = dW_ij + sum_{k > i} L_ki dW_kj (L_ii = 1).
template <typename T>
CUSBI_HD T lu_entry_grad(int64_t d, int64_t i, int64_t j, const T* lu, const T* dw) {
  T s = T(0);
  if (i > j) {
    for (int64_t k = j; k < d; ++k) s += dw[i * d + k] * lu[j * d + k];
  } else {
    s = dw[i * d + j];
    for (int64_t k = i + 1; k < d; ++k) s += lu[k * d + i] * dw[k * d + j];
  }
  return s;
}

// Adds entry (i, j)'s gradient to its parameter. The diagonal also takes the log|det| term:
// every row's log|det| is sum_i log u_ii, so with S = sum_b dlogdet_b it adds S / u_ii to dU_ii;
// then du_ii / dd_i = softplus'(d_i) = sigmoid(d_i), in torch's form (1 above 20).
template <typename T>
CUSBI_HD void lu_accumulate_entry_grad(int64_t d, int64_t i, int64_t j, const T* lu, const T* dw,
                                       T dlogdet_sum, const T* diag, T* g_lower, T* g_upper,
                                       T* g_diag) {
  const T g = lu_entry_grad(d, i, j, lu, dw);
  if (i > j) {
    g_lower[lu_lower_index(i, j)] += g;
  } else if (i < j) {
    g_upper[lu_upper_index(d, i, j)] += g;
  } else {
    g_diag[i] += (g + dlogdet_sum / lu[i * d + i]) * softplus_grad(diag[i]);
  }
}

// The backward's per-row terms, reduced over the batch as columns: c < D^2 is dW's (i, j) =
// (c / D, c % D) term dy_i x_j; the next D are the bias terms dy_c; the last is dlogdet (0 when
// there is none).
CUSBI_HD int64_t lu_grad_cols(int64_t d) { return d * d + d + 1; }

template <typename T>
CUSBI_HD T lu_grad_term(int64_t d, int64_t c, const T* x_row, const T* dy_row, const T* dlogdet) {
  if (c < d * d) return dy_row[c / d] * x_row[c % d];
  if (c < d * d + d) return dy_row[c - d * d];
  return dlogdet ? *dlogdet : T(0);
}

// The CUDA backward reduces rows in fixed chunks (each summed in row order, then the chunk
// partials in a fixed tree), a split that depends only on the batch size: the same bits for any
// launch configuration. At least kLuGradRows rows per chunk, at most kLuGradMaxChunks chunks
// (within CUDA's grid.y limit).
inline constexpr int64_t kLuGradRows = 128;
inline constexpr int64_t kLuGradMaxChunks = 1024;

CUSBI_HD int64_t lu_grad_chunk_rows(int64_t rows) {
  const int64_t needed = ceil_div(rows, kLuGradMaxChunks);
  return needed > kLuGradRows ? needed : kLuGradRows;
}

CUSBI_HD int64_t lu_grad_chunks(int64_t rows) {
  return rows <= 0 ? 1 : ceil_div(rows, lu_grad_chunk_rows(rows));
}

// Scratch (floats) of the CUDA backward: the chunk partials, then the reduced columns.
CUSBI_HD int64_t lu_cuda_backward_scratch(int64_t rows, int64_t d) {
  return (lu_grad_chunks(rows) + 1) * lu_grad_cols(d);
}

}  // namespace cusbi::kern
