// Unit tests of cusbi::Adam, grad_norm and clip_grad_norm on the CPU: the update against a
// textbook double-precision Adam and against values recorded from PyTorch, argument errors,
// NaN propagation, no allocation per step, and a norm whose bits depend on n only.
#include <omp.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "host/allocation_counter.hpp"
#include "host/optim/grad_norm.hpp"
#include "kernels/adam.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::all_close;
const Device kCpu = Device::cpu();

// Textbook Adam (torch.optim.Adam documentation) in double.
struct RefAdam {
  double lr, b1, b2, eps, wd;
  std::vector<double> p, m, v;
  int t = 0;
  void step(const std::vector<float>& g) {
    ++t;
    for (size_t i = 0; i < p.size(); ++i) {
      const double gi = double(g[i]) + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double m_hat = m[i] / (1 - std::pow(b1, t)), v_hat = v[i] / (1 - std::pow(b2, t));
      p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
};

std::vector<float> random_vector(int64_t n, uint64_t seed, float scale) {
  Generator gen(seed);
  std::vector<float> x = randn({n}, kCpu, &gen).to_vector();
  for (float& v : x) v *= scale;
  return x;
}

std::vector<float> as_float(const std::vector<double>& x) { return {x.begin(), x.end()}; }

// Runs `steps` updates with fresh random gradients on both and compares.
void expect_matches_reference(const AdamOptions& o, int steps) {
  const int64_t n = 257;
  const std::vector<float> p0 = random_vector(n, 1, 1.0f);
  Tensor params = Tensor::from(p0, {n}, kCpu), grads = Tensor::zeros({n}, kCpu);
  Adam opt(params, grads, o);
  RefAdam ref{o.lr,
              o.beta1,
              o.beta2,
              o.eps,
              o.weight_decay,
              {p0.begin(), p0.end()},
              std::vector<double>(n),
              std::vector<double>(n)};
  for (int s = 0; s < steps; ++s) {
    const std::vector<float> g = random_vector(n, 100 + s, 2.0f);
    grads.copy_(Tensor::from(g, {n}, kCpu));
    opt.step();
    ref.step(g);
  }
  EXPECT_EQ(opt.step_count(), steps);
  // Float vs double drift over a few steps: each step moves p by at most ~lr = 1e-2 and rounds
  // p (|p| < 5, ulp <= 5e-7) and the update (relative 1e-6): 2e-6 absolute leaves margin, while
  // a wrong formula (eps inside the sqrt, a missing bias correction) moves p by >= 1e-4.
  EXPECT_TRUE(all_close(params.to_vector(), as_float(ref.p), 2e-6, 0.0));
  // Moments are plain float recurrences of O(1) values: a few float ulps relative.
  EXPECT_TRUE(all_close(opt.exp_avg().to_vector(), as_float(ref.m), 1e-7, 1e-5));
  EXPECT_TRUE(all_close(opt.exp_avg_sq().to_vector(), as_float(ref.v), 1e-9, 1e-5));
}

TEST(Adam, MatchesDoubleReference) { expect_matches_reference({.lr = 1e-2}, 6); }

TEST(Adam, MatchesDoubleReferenceWithWeightDecayAndSmallBeta1) {
  // beta1 < 0.5 takes torch.lerp's other branch; weight decay adds wd * p to the gradient.
  expect_matches_reference({.lr = 1e-2, .beta1 = 0.3, .beta2 = 0.99, .weight_decay = 0.1}, 6);
  expect_matches_reference({.lr = 3e-3, .beta1 = 0.0, .beta2 = 0.0, .eps = 1e-6}, 4);
}

// The reordered formula of kernels/adam.h (lerp, fma, sqrt(v)/sqrt(bc2)) is the textbook one
// in exact arithmetic: instantiated in double it must agree with RefAdam to double rounding.
TEST(Adam, KernelFormulaEqualsTextbookInDouble) {
  for (double b1 : {0.9, 0.3}) {
    RefAdam ref{1e-2, b1, 0.999, 1e-8, 0.05, {0.7, -1.3}, {0, 0}, {0, 0}};
    double p[2] = {0.7, -1.3}, m[2] = {}, v[2] = {};
    const std::vector<float> gs[3] = {{0.5f, -2.0f}, {-0.25f, 1.0f}, {1.5f, 0.125f}};
    for (int t = 1; t <= 3; ++t) {
      const auto s = kern::adam_scalars<double>(1e-2, b1, 0.999, 1e-8, 0.05, t);
      for (int i = 0; i < 2; ++i) kern::adam_update(p[i], double(gs[t - 1][i]), m[i], v[i], s);
      ref.step(gs[t - 1]);
    }
    // Different but equivalent orders of double operations: 1e-13 is ~1000 double ulps of O(1).
    for (int i = 0; i < 2; ++i) {
      EXPECT_NEAR(p[i], ref.p[i], 1e-13) << "beta1 " << b1;
      EXPECT_NEAR(m[i], ref.m[i], 1e-13) << "beta1 " << b1;
      EXPECT_NEAR(v[i], ref.v[i], 1e-13) << "beta1 " << b1;
    }
  }
}

// Recorded with torch 2.15.0 (CPU): torch.optim.Adam([p], lr=0.01, betas=(b1, 0.999), eps=1e-8,
// weight_decay=wd), three steps with the gradients below; values are p.tolist() afterwards.
TEST(Adam, MatchesRecordedPyTorch) {
  const std::vector<float> p0 = {0.5f, -1.25f, 2.0f, 0.0f, -0.03125f, 3.5f, -2.75f};
  const std::vector<std::vector<float>> gs = {{0.1f, -0.2f, 0.3f, 1.5f, -0.05f, 2.0f, -1.0f},
                                              {-0.4f, 0.25f, 0.3f, -1.0f, 0.02f, 1.0f, 0.5f},
                                              {0.2f, 0.2f, -0.6f, 0.5f, -0.01f, -3.0f, 0.75f}};
  const std::vector<float> expected_plain = {
      0.4966967701911926f,    -1.2460801601409912f, 1.9807565212249756f, -0.014230296015739441f,
      -0.014000027440488338f, 3.4814980030059814f,  -2.7391884326934814f};
  const std::vector<float> expected_wd = {
      0.4944024085998535f,   -1.2438410520553589f, 1.983183741569519f, -0.008900841698050499f,
      -0.01910899393260479f, 3.4884426593780518f,  -2.742562770843506f};
  // opt.state[p]["exp_avg"] and ["exp_avg_sq"] afterwards, printed with %.9g (exact floats).
  const std::vector<float> m_plain = {-0.00789999869f, 0.0263f,         -0.00869999733f,
                                      0.0815000087f,   -0.00325000007f, -0.0480000004f,
                                      0.0390000045f};
  const std::vector<float> v_plain = {0.000209820035f, 0.000142357545f, 0.000539730128f,
                                      0.00349450228f,  2.99460294e-06f, 0.0139910039f,
                                      0.00181025104f};
  const std::vector<float> m_wd = {0.110650353f,    0.0591227226f, -0.145109609f, 0.233822688f,
                                   -0.00810695346f, -1.42493737f,  0.300427049f};
  const std::vector<float> v_wd = {0.000207968827f, 0.000127036488f, 0.000659855839f, 0.0034958343f,
                                   3.28374949e-06f, 0.0143616172f,   0.00190010155f};
  for (bool wd : {false, true}) {
    Tensor params = Tensor::from(p0, {7}, kCpu), grads = Tensor::zeros({7}, kCpu);
    Adam opt(params, grads,
             AdamOptions{.lr = 0.01, .beta1 = wd ? 0.3 : 0.9, .weight_decay = wd ? 0.1 : 0.0});
    for (const auto& g : gs) {
      grads.copy_(Tensor::from(g, {7}, kCpu));
      opt.step();
    }
    // Same operation order as torch; only torch's CPU sqrt (MKL, 1 ulp) differs, which moves p
    // by a few float ulps over three steps: 4e-7 relative + 1e-8 absolute (|p| down to 0.009).
    EXPECT_TRUE(all_close(params.to_vector(), wd ? expected_wd : expected_plain, 1e-8, 4e-7))
        << "weight decay " << wd;
    // The moments involve no sqrt: the same float ops (fmas included) in the same order as
    // torch, so they must be exact; a plain mul + add instead of torch's fma would fail here.
    EXPECT_EQ(opt.exp_avg().to_vector(), wd ? m_wd : m_plain) << "weight decay " << wd;
    EXPECT_EQ(opt.exp_avg_sq().to_vector(), wd ? v_wd : v_plain) << "weight decay " << wd;
  }
}

TEST(Adam, NanGradientPropagatesLikePyTorch) {
  Tensor params = Tensor::from({1.0f, 2.0f, 3.0f}, {3}, kCpu);
  Tensor grads = Tensor::from({0.5f, std::nanf(""), -0.5f}, {3}, kCpu);
  Adam opt(params, grads, 0.1);
  opt.step();
  const std::vector<float> p = params.to_vector();
  EXPECT_TRUE(std::isnan(p[1]));
  EXPECT_TRUE(std::isnan(opt.exp_avg().to_vector()[1]));
  // The other elements take an ordinary first step of size lr (m_hat / sqrt(v_hat) = sign(g)).
  EXPECT_NEAR(p[0], 0.9f, 1e-6);  // 1e-6: float rounding of 1 - 0.1, a few ulps
  EXPECT_NEAR(p[2], 3.1f, 1e-6);
}

TEST(Adam, StepZeroGradAndClipAllocateNothing) {
  const int64_t n = 5000;
  Tensor params = Tensor::from(random_vector(n, 3, 1.0f), {n}, kCpu);
  Tensor grads = Tensor::from(random_vector(n, 4, 1.0f), {n}, kCpu);
  Adam opt(params, grads, 1e-3);
  const int64_t before = detail::allocation_count();
  for (int i = 0; i < 3; ++i) {
    clip_grad_norm(grads, 1.0);
    opt.step();
    (void)grad_norm(grads);
    opt.zero_grad();
  }
  EXPECT_EQ(detail::allocation_count(), before);
  EXPECT_EQ(grad_norm(grads), 0.0f);  // zero_grad really zeroed
}

TEST(Adam, LoadStateResumesBitForBit) {
  const int64_t n = 33;
  const std::vector<float> p0 = random_vector(n, 5, 1.0f);
  Tensor pa = Tensor::from(p0, {n}, kCpu), ga = Tensor::zeros({n}, kCpu);
  Adam a(pa, ga, 1e-2);
  for (int s = 0; s < 3; ++s) {
    ga.copy_(Tensor::from(random_vector(n, 10 + s, 1.0f), {n}, kCpu));
    a.step();
  }
  Tensor pb = pa.clone(), gb = ga.clone();
  Adam b(pb, gb, 1e-2);
  b.load_state(a.exp_avg(), a.exp_avg_sq(), a.step_count());
  a.step();
  b.step();
  EXPECT_EQ(pa.to_vector(), pb.to_vector());
  EXPECT_THROW(b.load_state(Tensor::zeros({4}, kCpu), Tensor::zeros({4}, kCpu), 1), Error);
  EXPECT_THROW(b.load_state(a.exp_avg(), a.exp_avg_sq(), -1), Error);
}

TEST(Adam, RejectsBadArguments) {
  Tensor p = Tensor::zeros({4}, kCpu), g = Tensor::zeros({4}, kCpu);
  EXPECT_THROW(Adam(Tensor(), g), Error);
  EXPECT_THROW(Adam(p, Tensor()), Error);
  EXPECT_THROW(Adam(p, Tensor::zeros({5}, kCpu)), Error);
  EXPECT_THROW(Adam(p, p), Error);  // gradients aliasing the parameters
  EXPECT_THROW(Adam(p, g, 0.0), Error);
  EXPECT_THROW(Adam(p, g, -1e-3), Error);
  EXPECT_THROW(Adam(p, g, std::nan("")), Error);
  EXPECT_THROW(Adam(p, g, AdamOptions{.beta1 = 1.0}), Error);
  EXPECT_THROW(Adam(p, g, AdamOptions{.beta1 = -0.1}), Error);
  EXPECT_THROW(Adam(p, g, AdamOptions{.beta2 = 1.0}), Error);
  EXPECT_THROW(Adam(p, g, AdamOptions{.eps = -1e-8}), Error);
  EXPECT_THROW(Adam(p, g, AdamOptions{.weight_decay = -0.1}), Error);
  Adam ok(p, g, AdamOptions{.beta1 = 0.0, .beta2 = 0.0, .eps = 0.0});
  EXPECT_THROW(ok.set_lr(0.0), Error);
  ok.set_lr(0.5);
  EXPECT_EQ(ok.options().lr, 0.5);
}

// ---- grad_norm / clip_grad_norm ----------------------------------------------------------------

// Norm in long double, rounded to float: the true norm to within float rounding.
float reference_norm(const std::vector<float>& x) {
  long double s = 0;
  for (float v : x) s += static_cast<long double>(v) * v;
  return static_cast<float>(std::sqrt(s));
}

float next_up(float x) { return std::nextafter(x, std::numeric_limits<float>::infinity()); }
float next_down(float x) { return std::nextafter(x, -std::numeric_limits<float>::infinity()); }

// The double sum of squares is checked, not only the float norm: rounding to float hides most
// order-of-summation differences (a plain OpenMP reduction passes a float-only check).
TEST(GradNorm, DeterministicAndAccurateAtAwkwardSizes) {
  const int default_threads = omp_get_max_threads();
  for (int64_t n : std::vector<int64_t>{1, 7, 33, 65, 1000, 4097, 1 << 20}) {
    const std::vector<float> x = random_vector(n, 7 + n, 3.0f);
    Tensor g = Tensor::from(x, {n}, kCpu);
    std::vector<uint64_t> bits;
    for (int threads : {1, 2, 3, default_threads}) {
      omp_set_num_threads(threads);
      bits.push_back(std::bit_cast<uint64_t>(detail::sum_of_squares(g)));
    }
    omp_set_num_threads(default_threads);
    bits.push_back(std::bit_cast<uint64_t>(detail::sum_of_squares(g)));  // repeated call
    for (uint64_t b : bits) EXPECT_EQ(b, bits[0]) << "n " << n;
    // Double accumulation is ~1e-16 relative off the truth, so the float result is the correctly
    // rounded norm or, at a rounding tie, its neighbour: within one ulp.
    const float norm = grad_norm(g), expected = reference_norm(x);
    EXPECT_EQ(norm, static_cast<float>(std::sqrt(std::bit_cast<double>(bits[0])))) << n;
    EXPECT_TRUE(norm == expected || norm == next_up(expected) || norm == next_down(expected))
        << n << ": " << norm << " vs " << expected;
  }
}

TEST(GradNorm, EdgeValues) {
  EXPECT_EQ(grad_norm(Tensor::zeros({0}, kCpu)), 0.0f);
  EXPECT_EQ(grad_norm(Tensor::from({-3.0f, 4.0f}, {2}, kCpu)), 5.0f);
  // Squares summed in double do not overflow: sqrt(2) * 2e38 is representable in float (torch's
  // float accumulation would return inf here); beyond FLT_MAX the result is inf.
  EXPECT_NEAR(grad_norm(Tensor::from({2e38f, 2e38f}, {2}, kCpu)), 2.8284271e38f, 1e32f);
  EXPECT_TRUE(std::isinf(grad_norm(Tensor::from({3e38f, 3e38f}, {2}, kCpu))));
  EXPECT_THROW(grad_norm(Tensor()), Error);
}

TEST(ClipGradNorm, BelowMaxNormLeavesGradientsUntouched) {
  const std::vector<float> x = random_vector(1000, 11, 0.01f);
  Tensor g = Tensor::from(x, {1000}, kCpu);
  const float norm = clip_grad_norm(g, 5.0);
  EXPECT_LT(norm, 5.0f);
  EXPECT_EQ(norm, grad_norm(Tensor::from(x, {1000}, kCpu)));
  EXPECT_EQ(g.to_vector(), x);
}

TEST(ClipGradNorm, AboveMaxNormScalesByTorchCoefficient) {
  const int64_t n = 1000;
  const std::vector<float> x = random_vector(n, 12, 1.0f);
  Tensor g = Tensor::from(x, {n}, kCpu);
  const float norm = clip_grad_norm(g, 5.0);
  EXPECT_EQ(norm, grad_norm(Tensor::from(x, {n}, kCpu)));
  // torch: coef = clamp(reciprocal(norm + 1e-6) * max_norm, max=1), all in float32.
  const float coef = (1.0f / (norm + 1e-6f)) * 5.0f;
  std::vector<float> expected(x);
  for (float& v : expected) v *= coef;
  EXPECT_EQ(g.to_vector(), expected);
  // The clipped norm is max_norm up to the 1e-6 guard and float rounding (~1e-6 relative).
  EXPECT_NEAR(grad_norm(g), 5.0f, 5.0f * 2e-6f);
}

// Recorded with torch 2.15.0: p.grad = [3, -4, 12, 0.5, -0.25];
// torch.nn.utils.clip_grad_norm_([p], 5.0) -> 13.01201343536377, p.grad afterwards below.
TEST(ClipGradNorm, MatchesRecordedPyTorch) {
  Tensor g = Tensor::from({3.0f, -4.0f, 12.0f, 0.5f, -0.25f}, {5}, kCpu);
  EXPECT_EQ(clip_grad_norm(g, 5.0), 13.01201343536377f);
  const std::vector<float> expected = {1.1527807712554932f, -1.5370410680770874f,
                                       4.611123085021973f, 0.19213013350963593f,
                                       -0.09606506675481796f};
  EXPECT_EQ(g.to_vector(), expected);  // same float ops in the same order: exact
}

// The trainers' variant that leaves the norm on the device clips to the same bits.
TEST(ClipGradNorm, OnDeviceVariantClipsIdentically) {
  const std::vector<float> x = random_vector(1000, 13, 1.0f);
  Tensor a = Tensor::from(x, {1000}, kCpu), b = Tensor::from(x, {1000}, kCpu);
  clip_grad_norm(a, 5.0);
  clip_grad_norm_on_device(b, 5.0);
  EXPECT_NE(a.to_vector(), x);  // the norm is ~18 > 5: clipping did something
  EXPECT_EQ(b.to_vector(), a.to_vector());
}

TEST(ClipGradNorm, NonFiniteNormFollowsTorch) {
  // error_if_nonfinite=False in torch: a NaN norm makes every gradient NaN; an infinite norm
  // gives a coefficient of 0 (finite entries become 0, infinite ones 0 * inf = NaN).
  Tensor with_nan = Tensor::from({1.0f, std::nanf(""), 2.0f}, {3}, kCpu);
  EXPECT_TRUE(std::isnan(clip_grad_norm(with_nan, 1.0)));
  for (float v : with_nan.to_vector()) EXPECT_TRUE(std::isnan(v));
  const float inf = std::numeric_limits<float>::infinity();
  Tensor with_inf = Tensor::from({1.0f, inf, 2.0f}, {3}, kCpu);
  EXPECT_TRUE(std::isinf(clip_grad_norm(with_inf, 1.0)));
  const std::vector<float> after = with_inf.to_vector();
  EXPECT_EQ(after[0], 0.0f);
  EXPECT_TRUE(std::isnan(after[1]));
  EXPECT_EQ(after[2], 0.0f);
}

TEST(ClipGradNorm, RejectsBadMaxNorm) {
  Tensor g = Tensor::ones({3}, kCpu);
  EXPECT_THROW(clip_grad_norm(g, 0.0), Error);
  EXPECT_THROW(clip_grad_norm(g, -1.0), Error);
  EXPECT_THROW(clip_grad_norm(g, std::nan("")), Error);
  EXPECT_THROW(clip_grad_norm(Tensor(), 1.0), Error);
  EXPECT_EQ(g.to_vector(), std::vector<float>(3, 1.0f));  // untouched by the failed calls
}

}  // namespace
}  // namespace cusbi
