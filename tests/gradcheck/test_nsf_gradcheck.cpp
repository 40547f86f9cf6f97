// Gradient check of the neural spline flow's training pair: the loss L = sum_r R_r loss_r
// (weights R random) w.r.t. every parameter tensor, the input and the condition (through the
// conditioners and the condition's z-scoring), analytic backward vs central
// differences in double, through the production program (host/flows/nsf_program.hpp on the CPU
// executor instantiated with double: the same couplings, ResidualNet, ContextSplineMap, LU and
// spline code the float path runs). Then the float production flow against that double backward.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gradcheck/nn_gradcheck.hpp"
#include "host/cpu/flows.hpp"
#include "host/flows/nsf_layout.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::central_differences;
using testing::grads_agree;
using Exec = cpu::FlowCpuExec<double>;

std::vector<double> to_double(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  return std::vector<double>(v.begin(), v.end());
}

// A float flow from build_nsf (for its statistics and layout) and the same flow in double with
// every parameter perturbed by U(-0.3, 0.3), so that nflows' 1e-3 init of the residual blocks'
// last layers and the LU identity init do not hide terms from the check.
struct Case {
  Case(int64_t D, int64_t C, const NsfOptions& o, int64_t rows_, uint64_t seed)
      : rows(rows_), gen(seed) {
    const Tensor theta = randn({40, D}, Device::cpu(), &gen) * 1.5f + 0.5f;
    const Tensor x = randn({40, C}, Device::cpu(), &gen);
    flow.emplace(build_nsf(theta, x, o, &gen));
    ParameterSet ps;
    const flows::NsfShape shape{D, C, o.hidden_features, o.num_blocks,
                                o.hidden_layers_spline_context};
    layout = flows::register_nsf(ps, shape,
                                 flows::spline_spec(o.num_bins, o.tail_bound, o.hidden_features),
                                 o.num_transforms, flow->input_zscore().mean().defined());
    entries = ps.entries();
    program.emplace(layout);
    Tensor p = flow->parameters();
    p.copy_(p + uniform(p.shape(), -0.3f, 0.3f, Device::cpu(), &gen));
    params = to_double(p);
    grads.assign(params.size(), 0.0);
    if (flow->input_zscore().mean().defined()) {
      in_mean = to_double(flow->input_zscore().mean());
      in_std = to_double(flow->input_zscore().std());
      for (double s : in_std) in_logdet -= std::log(s);
    }
    if (flow->condition_zscore().mean().defined()) {
      cond_mean = to_double(flow->condition_zscore().mean());
      cond_std = to_double(flow->condition_zscore().std());
    }
    // Rows alternate between the data's range and 4x beyond it: after z-scoring some features
    // fall outside the tail bound (identity tails), most inside.
    input_f = randn({rows, D}, Device::cpu(), &gen) * 1.5f + 0.5f;
    for (int64_t r = 1; r < rows; r += 2)
      for (int64_t d = 0; d < D; ++d) input_f.data()[r * D + d] *= 4.0f;
    cond_f = randn({rows, C}, Device::cpu(), &gen);
    weights_f = uniform({rows}, 0.5f, 1.5f, Device::cpu(), &gen);
    input = to_double(input_f);
    cond = to_double(cond_f);
    weights = to_double(weights_f);
    ws.assign(flows::NsfProgram<Exec>::training_numel(layout, rows), 0.0);
    out.assign(rows, 0.0);
  }

  flows::NsfPointers<double> pointers() {
    flows::NsfPointers<double> p;
    p.params = params.data();
    p.grads = grads.data();
    p.input_mean = in_mean.empty() ? nullptr : in_mean.data();
    p.input_std = in_std.empty() ? nullptr : in_std.data();
    p.condition_mean = cond_mean.empty() ? nullptr : cond_mean.data();
    p.condition_std = cond_std.empty() ? nullptr : cond_std.data();
    p.input_logdet = in_logdet;
    return p;
  }
  double loss() {
    const kern::RowMap map{rows, 0, 1};
    program->loss(ex, pointers(), ws.data(), rows, map, input.data(), map, cond.data(), out.data());
    return testing::dot(out, weights, rows);
  }
  // Analytic gradients: parameters into `grads`, the input's and the condition's returned.
  std::pair<std::vector<double>, std::vector<double>> backward() {
    std::fill(grads.begin(), grads.end(), 0.0);
    loss();
    std::vector<double> gi(input.size()), gc(cond.size());
    program->backward(ex, pointers(), ws.data(), rows, weights.data(), gi.data(), gc.data());
    return {gi, gc};
  }

  int64_t rows;
  Generator gen;
  std::optional<NeuralSplineFlow> flow;
  flows::NsfLayout layout;
  std::vector<ParameterSet::Entry> entries;
  std::optional<flows::NsfProgram<Exec>> program;
  Exec ex;
  std::vector<double> params, grads, in_mean, in_std, cond_mean, cond_std, input, cond, weights;
  std::vector<double> ws, out;
  double in_logdet = 0.0;
  Tensor input_f, cond_f, weights_f;
};

// Every parameter tensor: all its entries when small, else 24 spread over it plus the last.
void check_parameters(Case& c, const std::vector<double>& analytic) {
  for (const ParameterSet::Entry& e : c.entries) {
    const int64_t n = e.slot.numel(), stride = std::max<int64_t>(1, n / 24);
    auto select = [&](size_t i) {
      const int64_t k = int64_t(i) - e.slot.offset;
      return k >= 0 && k < n && (k % stride == 0 || k == n - 1);
    };
    EXPECT_TRUE(grads_agree(analytic,
                            central_differences(
                                c.params, [&] { return c.loss(); }, select),
                            e.name));
  }
}

void run_case(int64_t D, int64_t C, const NsfOptions& o, uint64_t seed) {
  SCOPED_TRACE("D=" + std::to_string(D) + " C=" + std::to_string(C) +
               " K=" + std::to_string(o.num_bins));
  Case c(D, C, o, 6, seed);
  const auto [dinput, dcond] = c.backward();
  const std::vector<double> dparams = c.grads;
  check_parameters(c, dparams);
  EXPECT_TRUE(grads_agree(dinput, central_differences(c.input, [&] { return c.loss(); }), "input"));
  EXPECT_TRUE(
      grads_agree(dcond, central_differences(c.cond, [&] { return c.loss(); }), "condition"));
  // Asking only for the parameter gradients gives the same ones (the skipped context GEMMs
  // touch no parameter gradient).
  std::fill(c.grads.begin(), c.grads.end(), 0.0);
  c.loss();
  c.program->backward(c.ex, c.pointers(), c.ws.data(), c.rows, c.weights.data(), nullptr, nullptr);
  EXPECT_EQ(c.grads, dparams) << "parameter gradients depend on which input gradients are asked";

  // The float production flow (same parameters, rounded) agrees with the double backward.
  NeuralSplineFlow& flow = *c.flow;
  flow.zero_grad();
  flow.loss(c.input_f, c.cond_f);
  Tensor grad_input, grad_condition;
  flow.backward(c.weights_f, &grad_input, &grad_condition);
  const std::vector<float> gf = flow.gradients().to_vector(), gi = grad_input.to_vector();
  const std::vector<float> gc = grad_condition.to_vector();
  double worst = 0.0, scale = 0.0;
  for (size_t i = 0; i < dparams.size(); ++i) {
    worst = std::max(worst, std::fabs(gf[i] - dparams[i]));
    scale = std::max(scale, std::fabs(dparams[i]));
  }
  // float32 through ~10 layers: rounding of ~1e-6 relative, amplified where a perturbed spline
  // has narrow bins ((x - x0) / w with w ~ 0.01 costs two digits; measured up to 6e-5 of the
  // largest parameter gradient and 1.3e-4 relative on the input gradient with K = 20, 1e-6 and
  // below otherwise). 3e-4 and 1e-3 allow that while a float-only defect (a wrong slot, stale
  // buffer, missing term) shows as O(1) errors.
  EXPECT_LE(worst, 3e-4 * scale) << "float vs double parameter gradients";
  for (size_t i = 0; i < dinput.size(); ++i)
    EXPECT_NEAR(gi[i], dinput[i], 1e-3 * (1.0 + std::fabs(dinput[i]))) << "input " << i;
  // The condition gradient runs through the same layers in reverse plus one conditioner GEMM
  // per coupling: the input gradient's float tolerance holds for it too.
  ASSERT_EQ(gc.size(), dcond.size());
  for (size_t i = 0; i < dcond.size(); ++i)
    EXPECT_NEAR(gc[i], dcond[i], 1e-3 * (1.0 + std::fabs(dcond[i]))) << "condition " << i;
}

NsfOptions options(int64_t bins) {
  NsfOptions o;
  o.hidden_features = 6;
  o.num_transforms = 3;
  o.num_blocks = 2;
  o.num_bins = bins;
  o.tail_bound = 2.0f;
  return o;
}

TEST(NsfGradcheck, TwoFeatures) { run_case(2, 2, options(4), 1); }

TEST(NsfGradcheck, ThreeFeaturesAlternatingMasks) {
  // D = 3: layers transform 2, 1, 2 features; K = 20 runs the padded 24-bin instantiation.
  run_case(3, 2, options(20), 2);
}

TEST(NsfGradcheck, OneFeatureContextSplineMap) {
  NsfOptions o = options(5);
  o.hidden_layers_spline_context = 2;  // sbi's shared hidden Linear, applied twice
  run_case(1, 3, o, 3);
}

TEST(NsfGradcheck, WithoutInputZScoring) {
  NsfOptions o = options(3);
  o.z_score_input = ZScore::None;
  o.z_score_condition = ZScore::Structured;
  run_case(2, 3, o, 4);
}

TEST(NsfGradcheck, WithoutConditionZScoring) {
  // The condition gradient then skips the z-score backward: the plain copy path.
  NsfOptions o = options(4);
  o.z_score_condition = ZScore::None;
  run_case(2, 2, o, 5);
}

}  // namespace
}  // namespace cusbi
