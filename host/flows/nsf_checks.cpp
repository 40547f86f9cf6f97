// Argument checks and row maps of NeuralSplineFlow (see nsf_checks.hpp).
#include "host/flows/nsf_checks.hpp"

#include <cmath>
#include <string>

#include "cusbi/error.hpp"

namespace cusbi::flows {

namespace {

std::string shape_of(const Tensor& t) { return t.defined() ? shape_str(t.shape()) : "undefined"; }

// t must end in `features` columns, with `min_dim` to `max_dim` dimensions.
void check_event(const Tensor& t, int64_t features, int min_dim, int max_dim, const char* who,
                 const char* what, const char* role, const char* expected) {
  CUSBI_CHECK(t.defined() && t.dim() >= min_dim && t.dim() <= max_dim,
              who << ": " << what << " has shape " << shape_of(t) << "; pass " << expected);
  CUSBI_CHECK(t.size(-1) == features, who << ": " << what << " has " << t.size(-1)
                                          << " features (shape " << shape_str(t.shape())
                                          << ") but the flow was built for " << features << " "
                                          << role << " features; pass " << expected);
}

}  // namespace

void check_nsf_options(int64_t D, int64_t C, const NsfOptions& o) {
  CUSBI_CHECK(D >= 1, "NeuralSplineFlow: input_features must be >= 1, got " << D);
  CUSBI_CHECK(C >= 1,
              "NeuralSplineFlow: condition_features must be >= 1 (the flow is "
              "conditional), got "
                  << C);
  CUSBI_CHECK(o.hidden_features >= 1, "NsfOptions.hidden_features must be >= 1, got "
                                          << o.hidden_features << " (sbi's default is 50)");
  CUSBI_CHECK(o.num_transforms >= 1, "NsfOptions.num_transforms must be >= 1, got "
                                         << o.num_transforms << " (sbi's default is 5)");
  CUSBI_CHECK(o.num_bins >= 1 && o.num_bins <= kern::kMaxFlowBins,
              "NsfOptions.num_bins = " << o.num_bins << " is not supported; use 1 to "
                                       << kern::kMaxFlowBins << " (sbi's default is 10)");
  CUSBI_CHECK(std::isfinite(o.tail_bound) && o.tail_bound > 0.0f,
              "NsfOptions.tail_bound must be finite and > 0 (the spline acts on [-B, B]), got "
                  << o.tail_bound << " (sbi's default is 3)");
  CUSBI_CHECK(o.num_blocks >= 0, "NsfOptions.num_blocks must be >= 0, got "
                                     << o.num_blocks << " (sbi's default is 2)");
  CUSBI_CHECK(o.hidden_layers_spline_context >= 0,
              "NsfOptions.hidden_layers_spline_context must be >= 0, got "
                  << o.hidden_layers_spline_context << " (sbi's default is 1)");
}

void check_zscore(const Standardize& z, int64_t features, const char* side) {
  if (!z.mean().defined()) return;
  CUSBI_CHECK(z.features() == features, "NeuralSplineFlow: the "
                                            << side << " z-scoring has " << z.features()
                                            << " features but the flow has " << features << " "
                                            << side << " features; fit it on data of that width");
}

void check_on(const Tensor& t, Device device, const char* who, const char* what) {
  CUSBI_CHECK(t.device() == device, who << ": " << what << " is on " << t.device().str()
                                        << " but the flow is on " << device.str()
                                        << "; move it with .to(" << device.str() << ")");
}

namespace {
LogProbRows broadcast_rows(const Tensor& input, const Tensor& condition, int64_t D, int64_t C,
                           Device device, const char* who) {
  check_event(input, D, 2, 3, who, "input", "input", "(samples, batch, D) or (batch, D)");
  check_event(condition, C, 2, 3, who, "condition", "condition",
              "(batch, C) or (samples, batch, C)");
  const int64_t S = input.dim() == 3 ? input.size(0) : 1, Bi = input.size(-2);
  const int64_t Sc = condition.dim() == 3 ? condition.size(0) : 1, Bc = condition.size(-2);
  CUSBI_CHECK(Bi == Bc || Bi == 1 || Bc == 1,
              who << ": input batch " << Bi << " and condition batch " << Bc
                  << " do not broadcast; their batch sizes must match, or one of them must be 1");
  CUSBI_CHECK(Sc == S || Sc == 1, who << ": condition has " << Sc << " samples but input has " << S
                                      << "; give the condition 1 or " << S << " samples");
  check_on(input, device, who, "input");
  check_on(condition, device, who, "condition");
  LogProbRows r;
  r.samples = S;
  r.batch = (Bi == 1) ? Bc : Bi;
  const int64_t period = r.batch > 0 ? r.batch : 1;
  r.input = {period, Bi, Bi == 1 ? 0 : 1};
  r.condition = {period, Sc == 1 ? 0 : Bc, Bc == 1 ? 0 : 1};
  return r;
}
}  // namespace

LossRows loss_rows(const Tensor& input, const Tensor& condition, int64_t D, int64_t C,
                   Device device) {
  const LogProbRows b = broadcast_rows(input, condition, D, C, device, "NeuralSplineFlow.loss");
  LossRows r;
  r.rows = b.samples * b.batch;
  r.out_shape = input.dim() == 3 ? Shape{b.samples, b.batch} : Shape{b.batch};
  r.input = b.input;
  r.condition = b.condition;
  return r;
}

LogProbRows log_prob_rows(const Tensor& input, const Tensor& condition, int64_t D, int64_t C,
                          Device device) {
  return broadcast_rows(input, condition, D, C, device, "NeuralSplineFlow.log_prob");
}

SampleRows noise_rows(const Tensor& noise, const Tensor& condition, int64_t D, int64_t C,
                      Device device) {
  const char* who = "NeuralSplineFlow.sample_from_noise";
  check_event(noise, D, 3, 3, who, "noise", "input", "(samples, batch, D)");
  check_event(condition, C, 2, 2, who, "condition", "condition", "(batch, C) or (1, C)");
  const int64_t B = noise.size(1), Bc = condition.size(0);
  CUSBI_CHECK(Bc == B || Bc == 1, who << ": noise has batch " << B << " but condition has " << Bc
                                      << "; pass one condition row per batch entry, or one row");
  check_on(noise, device, who, "noise");
  check_on(condition, device, who, "condition");
  SampleRows r;
  r.samples = noise.size(0);
  r.batch = B;
  const int64_t period = B > 0 ? B : 1;
  r.noise = {period, B, 1};  // noise[j, b] is row j B + b already
  r.condition = {period, 0, Bc == 1 ? 0 : 1};
  return r;
}

SampleRows sample_rows(const Shape& sample_shape, const Tensor& condition, int64_t C,
                       Device device) {
  const char* who = "NeuralSplineFlow.sample";
  check_event(condition, C, 2, 2, who, "condition", "condition", "(batch, C)");
  for (int64_t n : sample_shape)
    CUSBI_CHECK(n >= 0,
                who << ": sample_shape " << shape_str(sample_shape) << " has a negative size");
  check_on(condition, device, who, "condition");
  SampleRows r;
  r.samples = shape_numel(sample_shape);
  r.batch = condition.size(0);
  // Noise drawn as (B, n, D): sample j of condition b is noise row b n + j.
  r.noise = {r.batch > 0 ? r.batch : 1, 1, r.samples};
  r.condition = {r.batch > 0 ? r.batch : 1, 0, 1};
  return r;
}

}  // namespace cusbi::flows
