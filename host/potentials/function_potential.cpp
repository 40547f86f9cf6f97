// potential_from_function: a user's batch function as a Potential, so that MCMCPosterior samples
// it as sbi samples any potential_fn. The function returns a fresh tensor per call (it cannot
// write into the caller's buffer), so this potential allocates per call, unlike the builders'.
#include "cusbi/error.hpp"
#include "cusbi/mcmc.hpp"
#include "host/potentials/potential_support.hpp"

namespace cusbi {

namespace {

class FunctionPotential final : public Potential {
 public:
  FunctionPotential(PotentialFunction function, int64_t dim, Device device)
      : function_(std::move(function)), dim_(dim), device_(device) {}

  int64_t dim() const override { return dim_; }
  Device device() const override { return device_; }
  bool has_gradient() const override { return false; }
  // The function closes over its own data; an observation is kept only so x() reports it.
  void set_x(const Tensor& x_o) override { x_ = x_o.clone(); }
  const Tensor& x() const override { return x_; }

  void evaluate(const Tensor& theta, Tensor& out) override {
    const char* where = "potential function";
    const int64_t m = potentials::check_theta(theta, dim_, device_, where);
    potentials::check_buffer(out, {m}, device_, where, "out");
    const Tensor values = function_(theta);
    CUSBI_CHECK(values.defined() && values.numel() == m && values.dtype() == DType::Float32,
                where << ": for theta " << shape_str(theta.shape()) << " it returned "
                      << (values.defined() ? shape_str(values.shape()) : std::string("nothing"))
                      << "; return one float log density per row, shape (" << m << ",)");
    CUSBI_CHECK(values.device() == device_,
                where << ": it returned values on " << values.device().str()
                      << " for a potential declared on " << device_.str()
                      << "; return them on the theta's device (or declare the potential there)");
    out.copy_(values);
  }

  void evaluate_with_gradient(const Tensor&, Tensor&, Tensor&) override {
    CUSBI_FAIL(
        "potential function: a potential made by potential_from_function has no "
        "gradient; MAP search needs one of the estimator-based potentials");
  }

 private:
  PotentialFunction function_;
  int64_t dim_;
  Device device_;
  Tensor x_;
};

}  // namespace

std::shared_ptr<Potential> potential_from_function(PotentialFunction function, int64_t dim,
                                                   Device device) {
  CUSBI_CHECK(function != nullptr, "potential_from_function: the function is empty");
  CUSBI_CHECK(dim >= 1, "potential_from_function: dim must be >= 1, got " << dim);
  return std::make_shared<FunctionPotential>(std::move(function), dim, device);
}

}  // namespace cusbi
