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


}  // namespace cusbi::flows
