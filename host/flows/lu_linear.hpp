// nflows LULinear (identity init): y = x (L U)^T + b with L unit lower-triangular and
// U upper-triangular, u_ii = softplus(unconstrained_upper_diag_i) + 1e-3. log|det| = sum log u_ii,
// the same for every row. Parameters (nflows names under `prefix`): lower_entries (D(D-1)/2,
// row-major tril order), upper_entries (D(D-1)/2, row-major triu order),
// unconstrained_upper_diag (D), bias (D). Internal to the flows (host/flows/).
#pragma once
#include <cstdint>
#include <string>

#include "cusbi/nn.hpp"

namespace cusbi::flows {

class LuLinear {
 public:
  LuLinear() = default;
  // Registers the four parameters with nflows' identity init (zeros, diag logit
  // log(e^(1-1e-3) - 1), zero bias).
  LuLinear(ParameterSet& params, const std::string& prefix, int64_t features);
  int64_t features() const { return features_; }

  // Rebuilds the dense W = L U and the log|det| from the current parameters into an internal
  // cache on the parameters' device; call once after every parameter change (each forward of a
  // training step, each log_prob / sample call). Allocates only on first use.
  void prepare(const ParameterSet& params);
  // x (B, D) -> y (B, D) (y must not alias x); logdet (B,) += sum log u_ii.
  void forward(const ParameterSet& params, const Tensor& x, Tensor& y, Tensor& logdet) const;
  // y (B, D) -> x (B, D) by forward then back substitution; logdet (B,) -= sum log u_ii.
  void inverse(const ParameterSet& params, const Tensor& y, Tensor& x, Tensor& logdet) const;
  // For the forward at input x: dy (B, D) and dlogdet (B,), the upstream gradient of each
  // row's log|det| term -> accumulates parameter gradients (the log|det| part through the
  // deterministic sum of dlogdet, computed on the device), writes dx (B, D) (no aliasing).
  void backward(ParameterSet& params, const Tensor& x, const Tensor& dy, const Tensor& dlogdet,
                Tensor& dx);

 private:
  int64_t features_ = 0;
  ParamSlot lower_, upper_, diag_, bias_;
  Tensor weight_;   // (D, D) dense L U, rebuilt by prepare()
  Tensor logdet_;   // (1,) sum log u_ii, on the device (no host round trip)
  Tensor scratch_;  // backward scratch: dW (D, D) and friends
};

}  // namespace cusbi::flows
