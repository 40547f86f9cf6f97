// Priors and ThetaTransform on the CPU: closed forms, out= forms equal to the allocating ones
// and allocation-free, log_prob gradients against finite differences, the half-open log_prob vs the
// closed support check, -inf outside and for NaN, batch shapes, errors and their messages, and
// values against torch / sbi 0.27 (numbers pasted below; made once with python, torch 2.15, by
//   box = sbi.utils.BoxUniform(low, high); mvn = torch.distributions.MultivariateNormal(m, C)
//   tf = sbi.utils.mcmc_transform(prior); tf(theta), tf.inv(z), tf.inv.log_abs_det_jacobian(z, .)
// in float32). The transform's derivative is checked against finite differences in double.
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>
#include <vector>

#include "host/allocation_counter.hpp"
#include "kernels/distributions.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::all_close;
using cusbi::testing::contains;
using cusbi::testing::error_of;
const Device kCpu = Device::cpu();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

BoxUniform torch_box() { return BoxUniform({-3.0f, 0.5f}, {3.0f, 2.0f}, kCpu); }

MultivariateNormal torch_mvn() {
  return MultivariateNormal(
      Tensor::from({0.5f, -1.0f, 2.0f}, {3}, kCpu),
      Tensor::from({2.0f, 0.3f, -0.4f, 0.3f, 1.0f, 0.2f, -0.4f, 0.2f, 0.5f}, {3, 3}, kCpu));
}

// Inside, on the lower corner, theta == high in one dimension, just inside the upper edge of one
// and on the other, below low, and NaN: the rows of the torch comparison.
const std::vector<float> kBoxTheta = {0.0f, 1.0f, -3.0f, 0.5f, 3.0f, 1.0f,
                                      2.9f, 2.0f, -3.1f, 1.0f, 1.0f, kNaN};

// -------------------------------------------------------------------------------- BoxUniform

// -log(6 * 1.5) inside; the lower edge is in, the upper edge out (torch: value < high).
// rtol 1e-7: one log in double rounded to float vs torch's float logs, within an ulp.
TEST(BoxUniform, LogProbMatchesTorchHalfOpen) {
  const Tensor lp = torch_box().log_prob(Tensor::from(kBoxTheta, {6, 2}, kCpu));
  EXPECT_EQ(lp.shape(), Shape({6}));
  EXPECT_TRUE(
      all_close(lp.to_vector(), {-2.1972246f, -2.1972246f, -kInf, -kInf, -kInf, -kInf}, 0, 1e-7));
}

// sbi's within_support: closed at both ends, so theta == high passes; NaN never does.
TEST(BoxUniform, SupportMaskIsClosed) {
  const Tensor mask = torch_box().support_mask(Tensor::from(kBoxTheta, {6, 2}, kCpu));
  EXPECT_EQ(mask.to_vector(), std::vector<float>({1, 1, 1, 1, 0, 0}));
}

TEST(BoxUniform, ShapesFollowTheBatch) {
  const BoxUniform box(-1.0f, 2.0f, 3, kCpu);
  EXPECT_EQ(box.event_size(), 3);
  EXPECT_EQ(box.log_prob(Tensor::zeros({3}, kCpu)).shape(), Shape{});
  EXPECT_EQ(box.support_mask(Tensor::zeros({2, 4, 3}, kCpu)).shape(), Shape({2, 4}));
  EXPECT_EQ(box.log_prob(Tensor::zeros({0, 3}, kCpu)).shape(), Shape({0}));
  EXPECT_EQ(box.sample({}).shape(), Shape({3}));
  EXPECT_EQ(box.sample({4, 5}).shape(), Shape({4, 5, 3}));
  EXPECT_FLOAT_EQ(box.log_prob(Tensor::zeros({3}, kCpu)).item(), -3.0f * std::log(3.0f));
}

// The draw is low + u (high - low) with u from cusbi::rand on the same generator state, so the
// CPU and the GPU draw the same numbers; one fma, as in kernels/distributions.h.
TEST(BoxUniform, SampleIsAffineMapOfRand) {
  const BoxUniform box = torch_box();
  Generator g(11), reference(11);
  const std::vector<float> s = box.sample({500}, &g).to_vector();
  const std::vector<float> u = rand({500, 2}, kCpu, &reference).to_vector();
  EXPECT_EQ(g.offset(), reference.offset());
  const float low[2] = {-3.0f, 0.5f}, width[2] = {6.0f, 1.5f};
  for (size_t i = 0; i < s.size(); ++i)
    ASSERT_EQ(s[i], std::fma(width[i % 2], u[i], low[i % 2])) << i;
}

// In [1000, 1001) a float step is 2^-14 of the width, so low + u (high - low) rounds up to high
// for about 1 draw in 2^15: 200k draws hold several (counted below, so the test has power), and
// none may reach high, where log_prob is -inf.
TEST(BoxUniform, SamplesStayBelowHighWhenRoundingWouldReachIt) {
  const BoxUniform box(1000.0f, 1001.0f, 1, kCpu);
  Generator g(3), reference(3);
  const std::vector<float> s = box.sample({200000}, &g).to_vector();
  const std::vector<float> u = rand({200000}, kCpu, &reference).to_vector();
  int rounded_up = 0;
  for (float v : u) rounded_up += (1000.0f + v) == 1001.0f;
  EXPECT_GE(rounded_up, 2);
  for (float v : s) ASSERT_TRUE(v >= 1000.0f && v < 1001.0f) << v;
}

TEST(BoxUniform, MomentsAndDescription) {
  const BoxUniform box = torch_box();
  EXPECT_EQ(box.mean().to_vector(), std::vector<float>({0.0f, 1.25f}));
  EXPECT_TRUE(all_close(box.stddev().to_vector(),
                        {6.0f / std::sqrt(12.0f), 1.5f / std::sqrt(12.0f)}, 0,
                        1e-7));  // a float division in both: within an ulp
  EXPECT_TRUE(box.bounded());
  EXPECT_EQ(box.support_high().to_vector(), std::vector<float>({3.0f, 2.0f}));
  EXPECT_EQ(BoxUniform(-3.0f, 3.0f, 2, kCpu).describe(), "BoxUniform(low=[-3, -3], high=[3, 3])");
}

TEST(BoxUniform, CopiesOwnTheirBounds) {
  Tensor low = Tensor::from({0.0f}, {1}, kCpu);
  const BoxUniform box(low, Tensor::from({1.0f}, {1}, kCpu));
  const auto copy = box.clone();
  low.fill_(5.0f);
  EXPECT_EQ(box.low().item(), 0.0f);
  EXPECT_EQ(copy->support_low().item(), 0.0f);
  EXPECT_EQ(copy->describe(), box.describe());
  EXPECT_TRUE(box.to(kCpu)->device().is_cpu());
}

TEST(BoxUniform, ConstructorErrorsNameTheProblem) {
  const std::string shapes = error_of([] { BoxUniform({0.0f, 0.0f}, {1.0f, 1.0f, 1.0f}, kCpu); });
  EXPECT_TRUE(contains(shapes, "low (2,) and high (3,)")) << shapes;
  const std::string rank = error_of([] {
    BoxUniform(Tensor::zeros({2, 2}, kCpu), Tensor::ones({2, 2}, kCpu));
  });
  EXPECT_TRUE(contains(rank, "shape (D,)"));
  EXPECT_TRUE(contains(error_of([] { BoxUniform({}, {}, kCpu); }), "empty"));
  EXPECT_TRUE(contains(error_of([] { BoxUniform(0.0f, 1.0f, 0, kCpu); }), "dim is 0"));
  const std::string inf = error_of([] { BoxUniform({0.0f, 0.0f}, {1.0f, kInf}, kCpu); });
  EXPECT_TRUE(contains(inf, "dimension 1")) << inf;
  EXPECT_TRUE(contains(inf, "not finite"));
  const std::string order = error_of([] { BoxUniform({0.0f, 2.0f}, {1.0f, 2.0f}, kCpu); });
  EXPECT_TRUE(contains(order, "dimension 1 has low 2 >= high 2")) << order;
  EXPECT_TRUE(contains(order, "strictly below"));
}

TEST(BoxUniform, ThetaErrorsNameColumnsAndDimensions) {
  const BoxUniform box = torch_box();
  const std::string cols = error_of([&] { box.log_prob(Tensor::zeros({4, 3}, kCpu)); });
  EXPECT_TRUE(contains(cols, "theta has 3 columns")) << cols;
  EXPECT_TRUE(contains(cols, "the prior has 2 dimensions"));
  EXPECT_TRUE(contains(error_of([&] { box.support_mask(Tensor::scalar(1.0f, kCpu)); }), "scalar"));
  EXPECT_TRUE(contains(error_of([&] { box.log_prob(Tensor()); }), "undefined"));
}

// ------------------------------------------------------------------------ MultivariateNormal

// torch's float32 scale_tril and log_prob (the float64 log_probs agree with them to 2e-7
// relative); rtol 1e-6: our L and the solve run in double, torch's in float32.
TEST(MultivariateNormal, MatchesTorch) {
  const MultivariateNormal mvn = torch_mvn();
  EXPECT_TRUE(all_close(mvn.scale_tril().to_vector(),
                        {1.4142135f, 0.0f, 0.0f, 0.21213202f, 0.97724098f, 0.0f, -0.2828427f,
                         0.26605514f, 0.59094387f},
                        1e-7, 1e-6));
  const Tensor x =
      Tensor::from({0.5f, -1.0f, 2.0f, 1.0f, 0.0f, 0.0f, -2.0f, 3.0f, 1.5f, 10.0f, -10.0f, 5.0f},
                   {2, 2, 3}, kCpu);
  const Tensor lp = mvn.log_prob(x);
  EXPECT_EQ(lp.shape(), Shape({2, 2}));
  EXPECT_TRUE(
      all_close(lp.to_vector(), {-2.5543330f, -9.6945133f, -21.011980f, -167.75299f}, 0, 1e-6));
  // sqrt of the covariance's diagonal (torch derives it from L: 0.99999994 instead of 1).
  EXPECT_TRUE(all_close(mvn.stddev().to_vector(), {1.4142135f, 1.0f, 0.70710677f}, 0, 1e-7));
  EXPECT_FALSE(mvn.bounded());
  EXPECT_EQ(mvn.support_low().to_vector(), std::vector<float>(3, -kInf));
  EXPECT_EQ(mvn.support_high().to_vector(), std::vector<float>(3, kInf));
}

// A diagonal covariance factorises: the sum of univariate normal log-densities, in double.
TEST(MultivariateNormal, DiagonalIsAProductOfNormals) {
  const MultivariateNormal mvn = MultivariateNormal::diagonal(
      Tensor::from({1.0f, -2.0f}, {2}, kCpu), Tensor::from({4.0f, 0.25f}, {2}, kCpu));
  const float x0 = 0.3f, x1 = -1.1f;
  const double expected = -0.5 * std::pow((x0 - 1.0) / 2.0, 2) - std::log(2.0) -
                          0.5 * std::pow((x1 + 2.0) / 0.5, 2) - std::log(0.5) -
                          std::log(2.0 * std::numbers::pi);
  EXPECT_NEAR(mvn.log_prob(Tensor::from({x0, x1}, {2}, kCpu)).item(), expected,
              1e-6 * std::fabs(expected));  // float inputs, double math: float rounding only
  EXPECT_EQ(mvn.covariance().to_vector(), std::vector<float>({4.0f, 0.0f, 0.0f, 0.25f}));
  EXPECT_TRUE(contains(mvn.describe(), "covariance=[[4, 0], [0, 0.25]]")) << mvn.describe();
}

// sample = mean + L z with z from cusbi::randn on the same generator state; the reference sums
// in double as the kernel does, so only the final rounding can differ (rtol 1e-7 ~ 1 ulp).
TEST(MultivariateNormal, SampleIsMeanPlusLz) {
  const MultivariateNormal mvn = torch_mvn();
  Generator g(5), reference(5);
  const std::vector<float> s = mvn.sample({7}, &g).to_vector();
  const std::vector<float> z = randn({7, 3}, kCpu, &reference).to_vector();
  const std::vector<float> l = mvn.scale_tril().to_vector(), m = {0.5f, -1.0f, 2.0f};
  std::vector<float> expected(21);
  for (int r = 0; r < 7; ++r)
    for (int i = 0; i < 3; ++i) {
      double acc = m[i];
      for (int j = 0; j <= i; ++j) acc += double(l[i * 3 + j]) * z[r * 3 + j];
      expected[r * 3 + i] = float(acc);
    }
  EXPECT_TRUE(all_close(s, expected, 1e-7, 1e-7));
  EXPECT_EQ(mvn.sample({2, 3}).shape(), Shape({2, 3, 3}));
}

TEST(MultivariateNormal, SupportIsEveryFiniteRow) {
  const Tensor x = Tensor::from({0, 1, 2, kInf, 0, 0, 0, kNaN, 0, 1e30f, -1e30f, 0}, {4, 3}, kCpu);
  EXPECT_EQ(torch_mvn().support_mask(x).to_vector(), std::vector<float>({1, 0, 0, 1}));
  EXPECT_TRUE(std::isnan(torch_mvn().log_prob(x).to_vector()[2]));  // NaN in, NaN out (torch)
}

TEST(MultivariateNormal, CloneAndToAreDeep) {
  const MultivariateNormal mvn = torch_mvn();
  const auto copy = mvn.clone();
  EXPECT_FALSE(copy->mean().shares_memory_with(mvn.loc()));
  const Tensor x = Tensor::from({1.0f, 0.0f, 0.0f}, {3}, kCpu);
  EXPECT_EQ(copy->log_prob(x).item(), mvn.log_prob(x).item());
  EXPECT_EQ(mvn.to(kCpu)->describe(), mvn.describe());
}

TEST(MultivariateNormal, ConstructorErrorsNameTheProblem) {
  const Tensor m = Tensor::zeros({2}, kCpu);
  auto make = [&](std::vector<float> c) { MultivariateNormal(m, Tensor::from(c, {2, 2}, kCpu)); };
  const std::string shape = error_of([&] { MultivariateNormal(m, Tensor::ones({3, 3}, kCpu)); });
  EXPECT_TRUE(contains(shape, "covariance has shape (3, 3) but mean has 2 entries")) << shape;
  EXPECT_TRUE(contains(error_of([&] { make({1, 0, 0, kNaN}); }), "entry (1, 1) is nan"));
  const std::string asym = error_of([&] { make({1, 0.5f, 0.4f, 1}); });
  EXPECT_TRUE(contains(asym, "not symmetric: entry (1, 0) is 0.4 but entry (0, 1) is 0.5")) << asym;
  make({1, 0.5f, 0.5f * (1 + 1e-6f), 1});  // float-level asymmetry is accepted
  const std::string spd = error_of([&] { make({1, 2, 2, 1}); });
  EXPECT_TRUE(contains(spd, "Cholesky pivot of dimension 1 is -3")) << spd;
  EXPECT_TRUE(contains(spd, "symmetric positive definite"));
  const std::string var = error_of([&] {
    MultivariateNormal::diagonal(m, Tensor::from({1, 0}, {2}, kCpu));
  });
  EXPECT_TRUE(contains(var, "variances[1] is 0")) << var;
  const std::string cols = error_of([&] { torch_mvn().log_prob(Tensor::zeros({2}, kCpu)); });
  EXPECT_TRUE(contains(cols, "theta has 2 columns")) << cols;
  EXPECT_TRUE(contains(cols, "the prior has 3 dimensions"));
}

// ---------------------------------------------------------------------------- ThetaTransform

const std::vector<float> kZ = {-100.0f, -20.0f, -1.0f, 0.0f,   0.3f,
                               5.0f,    30.0f,  16.0f, -88.0f, 2.5f};

// sbi's mcmc_transform(BoxUniform): z = tf(theta) with torch's clamp to [tiny, 1 - eps] (the
// edges and outside map to +-87.34 / 15.94), theta = tf.inv(z) with the clipped sigmoid, and
// tf.inv.log_abs_det_jacobian. rtol 2e-6 / atol 1e-6: float log/exp/sigmoid of glibc vs torch's
// vectorised ones (a few ulp), and logit(0.5 + x) near 0 loses relative accuracy to cancellation.
TEST(ThetaTransform, BoxMatchesSbiMcmcTransform) {
  const ThetaTransform tf = ThetaTransform::for_prior(torch_box());
  EXPECT_FALSE(tf.is_identity());
  const std::vector<float> z = tf.forward(Tensor::from(kBoxTheta, {6, 2}, kCpu)).to_vector();
  const std::vector<float> expected_z = {0.0f,        -0.69314718f, -87.336548f, -87.336548f,
                                         15.942385f,  -0.69314718f, 4.0775385f,  15.942385f,
                                         -87.336548f, -0.69314718f, 0.69314724f, kNaN};
  EXPECT_TRUE(all_close(z, expected_z, 1e-6, 2e-6));
  const Tensor zt = Tensor::from(kZ, {5, 2}, kCpu);
  EXPECT_TRUE(all_close(tf.inverse(zt).to_vector(),
                        {-3.0f, 0.5f, -1.3863513f, 1.25f, 0.44665504f, 1.9899608f, 2.999999f,
                         1.9999998f, -3.0f, 1.8862127f},
                        1e-6, 2e-6));
  EXPECT_TRUE(all_close(tf.inverse_log_abs_det_jacobian(zt).to_vector(),
                        {-117.80277f, -0.81559300f, -4.2249165f, -43.802776f, -88.460548f}, 1e-6,
                        2e-6));
}

// mcmc_transform(MultivariateNormal): an affine z-score with the prior's mean and stddev. rtol
// 3e-7: torch's stddev of dimension 1 is 0.99999994 (from L), ours 1 (from the covariance).
TEST(ThetaTransform, UnboundedPriorIsAffineZScore) {
  const ThetaTransform tf = ThetaTransform::for_prior(torch_mvn());
  const Tensor x = Tensor::from(
      {0.5f, -1.0f, 2.0f, 1.0f, 0.0f, 0.0f, -2.0f, 3.0f, 1.5f, 10.0f, -10.0f, 5.0f}, {4, 3}, kCpu);
  EXPECT_TRUE(all_close(tf.forward(x).to_vector(),
                        {0, 0, 0, 0.35355338f, 1.0000001f, -2.828427f, -1.767767f, 4.0000005f,
                         -0.70710677f, 6.7175145f, -9.000001f, 4.242641f},
                        1e-6, 3e-7));
  EXPECT_TRUE(all_close(tf.inverse(tf.forward(x)), x, 1e-6, 1e-6));  // two roundings each way
  const double log_det = std::log(std::sqrt(2.0)) + std::log(std::sqrt(0.5));
  // Three float logs summed in double: each within an ulp (3e-8), so 3e-7.
  for (float v : tf.inverse_log_abs_det_jacobian(x).to_vector()) EXPECT_NEAR(v, log_det, 3e-7);
  EXPECT_EQ(tf.inverse_derivative(x).to_vector()[4], 1.0f);
}

TEST(ThetaTransform, DisabledOrDefaultIsIdentity) {
  for (const ThetaTransform& tf :
       {ThetaTransform(), ThetaTransform::for_prior(torch_box(), false)}) {
    const Tensor z = Tensor::from({1.0f, -7.0f, 0.5f, 2.0f}, {2, 2}, kCpu);
    EXPECT_TRUE(tf.is_identity());
    EXPECT_EQ(tf.forward(z).to_vector(), z.to_vector());
    EXPECT_EQ(tf.inverse(z).to_vector(), z.to_vector());
    EXPECT_EQ(tf.inverse_derivative(z).to_vector(), std::vector<float>(4, 1.0f));
    EXPECT_EQ(tf.inverse_log_abs_det_jacobian(z).to_vector(), std::vector<float>(2, 0.0f));
  }
}

// Round trips inside the box, where the clamps are inactive: z -> theta -> z loses accuracy only
// as sigmoid flattens (|z| <= 8: relative step of theta ~ 1e-7 / (s (1 - s)) ~ 3e-4 at 8), so
// atol 2e-3; theta -> z -> theta is well conditioned: atol 3e-6 (a few ulp of |theta| <= 3).
TEST(ThetaTransform, SigmoidRoundTrips) {
  const ThetaTransform tf = ThetaTransform::for_prior(torch_box());
  Generator g(9);
  const Tensor z = uniform({1000, 2}, -8.0f, 8.0f, kCpu, &g);
  EXPECT_TRUE(all_close(tf.forward(tf.inverse(z)), z, 2e-3, 0));
  const Tensor theta = torch_box().sample({1000}, &g);
  EXPECT_TRUE(all_close(tf.inverse(tf.forward(theta)), theta, 3e-6, 0));
}

// d theta / d z against central differences of the inverse in double (h = 1e-5: truncation
// ~h^2 |theta'''| ~ 1e-10, rounding ~1e-16/h), then the float Tensor path against the double
// math (rtol 1e-5: float exp/softplus/sigmoid), and the log-det against the sum of logs.
TEST(ThetaTransform, DerivativeMatchesFiniteDifferences) {
  const double shift = -3.0, scale = 6.0, h = 1e-5;
  const std::vector<float> zs = {-12.0f, -3.0f, -0.5f, 0.0f, 0.7f, 4.0f, 11.0f, 2.0f};
  for (float zf : zs) {
    const double z = zf;
    const double fd =
        (kern::sigmoid_inverse(z + h, shift, scale) - kern::sigmoid_inverse(z - h, shift, scale)) /
        (2 * h);
    EXPECT_NEAR(kern::sigmoid_derivative(z, scale), fd, 1e-7 * std::max(1.0, fd)) << z;
  }
  const ThetaTransform tf = ThetaTransform::for_prior(BoxUniform(-3.0f, 3.0f, 2, kCpu));
  const Tensor zt = Tensor::from(zs, {4, 2}, kCpu);
  const std::vector<float> d = tf.inverse_derivative(zt).to_vector();
  const std::vector<float> ld = tf.inverse_log_abs_det_jacobian(zt).to_vector();
  for (size_t i = 0; i < zs.size(); ++i)
    EXPECT_NEAR(d[i], kern::sigmoid_derivative(double(zs[i]), scale), 1e-5 * d[i]) << zs[i];
  for (size_t r = 0; r < 4; ++r)
    EXPECT_NEAR(ld[r], std::log(double(d[2 * r])) + std::log(double(d[2 * r + 1])), 1e-5);
}

TEST(ThetaTransform, ErrorsNameColumns) {
  const ThetaTransform tf = ThetaTransform::for_prior(torch_box());
  const std::string cols = error_of([&] { tf.inverse(Tensor::zeros({5, 3}, kCpu)); });
  EXPECT_TRUE(contains(cols, "z has 3 columns")) << cols;
  EXPECT_TRUE(contains(cols, "the transform has 2 dimensions"));
  EXPECT_TRUE(contains(error_of([&] { tf.forward(Tensor::zeros({1}, kCpu)); }),
                       "theta has 1 column (shape (1,))"));
}

// ------------------------------------------------------------------------------ out= forms

// Each out= form writes what the allocating form returns (bit for bit: one code path), allocates
// nothing, and rejects a buffer of the wrong shape.
TEST(Distribution, OutFormsEqualTheAllocatingFormsAndAllocateNothing) {
  const BoxUniform box = torch_box();
  const MultivariateNormal mvn = torch_mvn();
  const Tensor box_theta = Tensor::from(kBoxTheta, {6, 2}, kCpu);
  const Tensor mvn_theta =
      Tensor::from({0.5f, -1.0f, 2.0f, 1.0f, 0.0f, 0.0f, -2.0f, 3.0f, 1.5f, 10.0f, -10.0f, kInf},
                   {2, 2, 3}, kCpu);
  const std::vector<std::pair<const Distribution*, Tensor>> cases = {{&box, box_theta},
                                                                     {&mvn, mvn_theta}};
  for (const auto& [prior, theta] : cases) {
    const Shape batch(theta.shape().begin(), theta.shape().end() - 1);
    Tensor lp = Tensor::empty(batch, kCpu), mask = Tensor::empty(batch, kCpu);
    Tensor grad = Tensor::empty(theta.shape(), kCpu);
    prior->log_prob(theta, lp);
    prior->support_mask(theta, mask);
    prior->log_prob_gradient(theta, grad);
    const int64_t before = detail::allocation_count();
    prior->log_prob(theta, lp);
    prior->support_mask(theta, mask);
    prior->log_prob_gradient(theta, grad);
    EXPECT_EQ(detail::allocation_count(), before) << prior->describe();
    EXPECT_TRUE(all_close(lp, prior->log_prob(theta), 0, 0));  // NaN == NaN, inf == inf
    EXPECT_EQ(mask.to_vector(), prior->support_mask(theta).to_vector());
    Tensor wrong = Tensor::empty({7}, kCpu);
    EXPECT_TRUE(
        contains(error_of([&, &prior = prior, &theta = theta] { prior->log_prob(theta, wrong); }),
                 "out has shape (7,)"));
    EXPECT_TRUE(contains(
        error_of([&, &prior = prior, &theta = theta] { prior->log_prob_gradient(theta, wrong); }),
        "grad has shape (7,)"));
  }
}

// The box density is flat: gradient 0 inside and (documented) 0 outside too.
TEST(BoxUniform, LogProbGradientIsZero) {
  Tensor grad = Tensor::full({6, 2}, 5.0f, kCpu);
  torch_box().log_prob_gradient(Tensor::from(kBoxTheta, {6, 2}, kCpu), grad);
  EXPECT_EQ(grad.to_vector(), std::vector<float>(12, 0.0f));
}

// -Sigma^-1 (theta - mean) against (a) the closed form with Sigma^-1 from a double Gauss-Jordan
// inverse of the covariance (atol/rtol 1e-6: one float rounding of a double result) and (b)
// central differences of the float log_prob: exact for a quadratic up to the rounding of
// log_prob (|lp| < 200, ulp <= 1.5e-5) over 2h = 0.2, so atol 2e-4.
TEST(MultivariateNormal, LogProbGradientIsMinusPrecisionTimesResidual) {
  const MultivariateNormal mvn = torch_mvn();
  std::vector<double> a = {2.0, 0.3, -0.4, 0.3, 1.0, 0.2, -0.4, 0.2, 0.5};
  std::vector<double> inv = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  for (int c = 0; c < 3; ++c) {  // Gauss-Jordan without pivoting (SPD)
    const double p = a[c * 3 + c];
    for (int j = 0; j < 3; ++j) {
      a[c * 3 + j] /= p;
      inv[c * 3 + j] /= p;
    }
    for (int r = 0; r < 3; ++r) {
      if (r == c) continue;
      const double f = a[r * 3 + c];
      for (int j = 0; j < 3; ++j) {
        a[r * 3 + j] -= f * a[c * 3 + j];
        inv[r * 3 + j] -= f * inv[c * 3 + j];
      }
    }
  }
  const std::vector<float> mean = {0.5f, -1.0f, 2.0f};
  const std::vector<float> theta = {1.0f, 0.0f, 0.0f, -2.0f, 3.0f, 1.5f, 10.0f, -10.0f, 5.0f};
  Tensor grad = Tensor::empty({3, 3}, kCpu);
  mvn.log_prob_gradient(Tensor::from(theta, {3, 3}, kCpu), grad);
  const std::vector<float> g = grad.to_vector();
  std::vector<float> expected(9);
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) {
      double acc = 0.0;
      for (int j = 0; j < 3; ++j) acc -= inv[k * 3 + j] * (double(theta[r * 3 + j]) - mean[j]);
      expected[r * 3 + k] = static_cast<float>(acc);
    }
  EXPECT_TRUE(all_close(g, expected, 1e-6, 1e-6));
  const float h = 0.1f;
  for (int r = 0; r < 3; ++r)
    for (int k = 0; k < 3; ++k) {
      std::vector<float> up(theta.begin() + 3 * r, theta.begin() + 3 * r + 3), down = up;
      up[k] += h;
      down[k] -= h;
      const double step = double(up[k]) - down[k];  // 2h as rounded in float
      const double fd = (double(mvn.log_prob(Tensor::from(up, {3}, kCpu)).item()) -
                         mvn.log_prob(Tensor::from(down, {3}, kCpu)).item()) /
                        step;
      EXPECT_NEAR(g[r * 3 + k], fd, 2e-4) << "row " << r << ", dimension " << k;
    }
}

// Every ThetaTransform map's out= form equals its allocating form, in place too, and allocates
// nothing; the log|det| gradient is 1 - 2 sigmoid(z) for the box map and 0 otherwise.
TEST(ThetaTransform, OutFormsEqualTheAllocatingForms) {
  const Tensor z = Tensor::from(kZ, {5, 2}, kCpu);
  const std::vector<std::pair<bool, ThetaTransform>> cases = {
      {true, ThetaTransform::for_prior(torch_box())},
      {false, ThetaTransform::for_prior(MultivariateNormal::diagonal(
                  Tensor::from({1.0f, -1.0f}, {2}, kCpu), Tensor::from({4.0f, 0.5f}, {2}, kCpu)))},
      {false, ThetaTransform()}};
  for (const auto& [sigmoid_map, tf] : cases) {
    Tensor a = Tensor::empty({5, 2}, kCpu), b = Tensor::empty({5, 2}, kCpu);
    Tensor c = Tensor::empty({5, 2}, kCpu), ld = Tensor::empty({5}, kCpu);
    Tensor ldg = Tensor::empty({5, 2}, kCpu);
    auto all = [&, &tf = tf] {
      tf.inverse(z, a);
      tf.forward(a, b);
      tf.inverse_derivative(z, c);
      tf.inverse_log_abs_det_jacobian(z, ld);
      tf.inverse_log_abs_det_jacobian_gradient(z, ldg);
    };
    all();
    const int64_t before = detail::allocation_count();
    all();
    EXPECT_EQ(detail::allocation_count(), before);
    EXPECT_EQ(a.to_vector(), tf.inverse(z).to_vector());
    EXPECT_EQ(b.to_vector(), tf.forward(tf.inverse(z)).to_vector());
    EXPECT_EQ(c.to_vector(), tf.inverse_derivative(z).to_vector());
    EXPECT_EQ(ld.to_vector(), tf.inverse_log_abs_det_jacobian(z).to_vector());
    const std::vector<float> g = ldg.to_vector();
    for (size_t i = 0; i < kZ.size(); ++i) {
      const double expected = sigmoid_map ? 1.0 - 2.0 / (1.0 + std::exp(-double(kZ[i]))) : 0.0;
      EXPECT_NEAR(g[i], expected, 1e-6) << kZ[i];  // a few ulp of a number in [-1, 1]
    }
    Tensor in_place = z.clone();
    tf.inverse(in_place, in_place);
    EXPECT_EQ(in_place.to_vector(), a.to_vector());
    Tensor wrong = Tensor::empty({5}, kCpu);
    EXPECT_TRUE(contains(error_of([&, &tf = tf] { tf.inverse(z, wrong); }), "out has shape (5,)"));
  }
}

// d/dz log|d theta / d z| of the sigmoid map against central differences of the double
// log-determinant (h = 1e-4: truncation ~h^2 / 6 |f'''| < 1e-9, rounding ~1e-16 / h).
TEST(ThetaTransform, LogDetGradientMatchesFiniteDifferences) {
  const double h = 1e-4, scale = 6.0;
  // Away from |z| = 20, where softplus switches to its linear branch (torch's threshold) and
  // differences across the switch would measure the switch, not the derivative.
  for (const float zf : {-40.0f, -12.0f, -3.0f, -0.5f, 0.0f, 0.7f, 4.0f, 11.0f, 30.0f}) {
    const double zp = double(zf) + h, zm = double(zf) - h;
    const double fd = (kern::theta_log_det_row(true, &zp, &scale, 1) -
                       kern::theta_log_det_row(true, &zm, &scale, 1)) /
                      (2 * h);
    EXPECT_NEAR(kern::log_sigmoid_slope_derivative(double(zf)), fd, 1e-8) << zf;
  }
}

}  // namespace
}  // namespace cusbi
