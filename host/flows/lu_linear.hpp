// nflows LULinear (identity init): y = x (L U)^T + b with L unit lower-triangular and
// U upper-triangular, u_ii = softplus(unconstrained_upper_diag_i) + 1e-3. log|det| = sum log u_ii,
// the same for every row. Parameters (nflows names under `prefix`, in nflows' registration
// order): bias (D), lower_entries (D(D-1)/2, row-major tril order), upper_entries (D(D-1)/2,
// row-major triu order), unconstrained_upper_diag (D). Internal to the flows (host/flows/).
#pragma once
#include <cstdint>
#include <string>

#include "cusbi/nn.hpp"

namespace cusbi::flows {

class LuLinear {
 public:
  LuLinear() = default;
  // Registers the four parameters with nflows' identity init (zeros, diag logit
  // log(e^(1-1e-3) - 1), zero bias); draws nothing from the generator, as nflows. Names are
  // prefix + "bias" etc.; a '.' is put between when prefix does not end with one
  // ("transform._transforms.2" and "transform._transforms.2." give the same names).
  LuLinear(ParameterSet& params, const std::string& prefix, int64_t features);
  int64_t features() const { return features_; }
  const ParamSlot& bias_slot() const { return bias_; }
  const ParamSlot& lower_slot() const { return lower_; }
  const ParamSlot& upper_slot() const { return upper_; }
  const ParamSlot& diag_slot() const { return diag_; }

  // Rebuilds the dense W = L U and the log|det| from the current parameters into an internal
  // cache on the parameters' device; call once after every parameter change (each forward of a
  // training step, each log_prob / sample call). Allocates only on first use (or device change);
  // on a GPU it queues one small kernel and does not synchronise.
  void prepare(const ParameterSet& params);
  // Views of the cache that prepare() filled (valid until the next prepare): W (D, D) and
  // log|det W| (1,), on the parameters' device.
  Tensor weight() const;
  Tensor logabsdet() const;

  // x (B, D) -> y (B, D) (y must not overlap x); logdet (B,) += sum log u_ii, skipped when
  // logdet is undefined.
  void forward(const ParameterSet& params, const Tensor& x, Tensor& y, Tensor& logdet) const;
  // y (B, D) -> x (B, D) by forward then back substitution (x may be y: in place);
  // logdet (B,) -= sum log u_ii, skipped when logdet is undefined.
  void inverse(const ParameterSet& params, const Tensor& y, Tensor& x, Tensor& logdet) const;
  // For the forward at input x: dy (B, D) and dlogdet (B,), the upstream gradient of each
  // row's log|det| term (undefined: zero) -> accumulates parameter gradients (the log|det| part
  // through the deterministic sum of dlogdet, computed on the device), writes dx (B, D) (not
  // overlapping x or dy). Uses the cache of the last prepare(). Its scratch grows only when a
  // bigger batch arrives; copies of a LuLinear share cache and scratch.
  void backward(ParameterSet& params, const Tensor& x, const Tensor& dy, const Tensor& dlogdet,
                Tensor& dx);

 private:
  void check_prepared(const ParameterSet& params, const char* who) const;
  int64_t features_ = 0;
  ParamSlot lower_, upper_, diag_, bias_;
  Tensor cache_;    // packed L\U (D*D), W = L U (D*D), log|det| (1); rebuilt by prepare()
  Tensor scratch_;  // backward's reductions: grows only
};

// The CPU loops behind LuLinear on raw row-major arrays, instantiated for float (LuLinear on
// the CPU) and double (tests/gradcheck runs this same code). Arrays as in kernels/api/lu.h:
// lu and w (D, D), logabsdet (1), x/y/dy/dx (B, D), logdet/dlogdet (B,) or null.
namespace lu_cpu {
template <class T>
void prepare(int64_t d, const T* lower, const T* upper, const T* diag, T* lu, T* w, T* logabsdet);
template <class T>
void forward(int64_t rows, int64_t d, const T* w, const T* bias, const T* logabsdet, const T* x,
             T* y, T* logdet);
template <class T>
void inverse(int64_t rows, int64_t d, const T* lu, const T* bias, const T* logabsdet, const T* y,
             T* x, T* logdet);
// Scratch (elements) that backward needs at this batch size.
int64_t backward_scratch(int64_t rows, int64_t d);
// Accumulates g_lower, g_upper, g_diag, g_bias; writes dx = dy W when dx is non-null. The batch
// reductions run in fixed row chunks: the same bits whatever the thread count.
template <class T>
void backward(int64_t rows, int64_t d, const T* lu, const T* w, const T* diag, const T* x,
              const T* dy, const T* dlogdet, T* g_lower, T* g_upper, T* g_diag, T* g_bias, T* dx,
              T* scratch);
}  // namespace lu_cpu

}  // namespace cusbi::flows
