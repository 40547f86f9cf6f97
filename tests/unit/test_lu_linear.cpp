// LuLinear (nflows LULinear) on the CPU: nflows' parameter names, order and identity init; the
// forward against a dense L U built here independently (own index enumeration, Eigen product);
// log|det| against Eigen's determinant and against finite differences of the map; inverse∘forward
// = id (also in place); argument errors; no allocation in steady state; the same bits for any
// thread count.
#include <omp.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "host/allocation_counter.hpp"
#include "host/cpu/lu.hpp"
#include "host/flows/lu_linear.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using flows::LuLinear;
using testing::all_close;
using testing::contains;
using testing::error_of;
using Matrix = Eigen::MatrixXd;

std::vector<float> normal_vector(int64_t n, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<float> v(n);
  for (float& e : v) e = static_cast<float>(normal(rng));
  return v;
}

// A layer in its own CPU set with random parameters: nflows' non-identity init (entries and
// diagonal logits U(+-1/sqrt(D)), which keeps cond(W) < 10 up to D = 17) and a N(0, 1) bias.
struct Layer {
  ParameterSet params;
  LuLinear lu;
  Layer(int64_t d, std::mt19937_64* rng) {
    lu = LuLinear(params, "t.", d);
    Generator gen(0);
    params.materialize(Device::cpu(), gen);
    if (rng == nullptr) return;
    const double bound = 1.0 / std::sqrt(double(d));
    std::uniform_real_distribution<double> entry(-bound, bound);
    std::vector<float> v(params.numel());
    for (float& e : v) e = static_cast<float>(entry(*rng));
    params.values().copy_(Tensor::from(v, {params.numel()}, cpu()));
    params.value(lu.bias_slot()).copy_(Tensor::from(normal_vector(d, 1.0, *rng), {d}, cpu()));
  }
  static Device cpu() { return Device::cpu(); }
  std::vector<double> get(const ParamSlot& s) const {
    const std::vector<float> v = params.value(s).to_vector();
    return {v.begin(), v.end()};
  }
  // W = L U in double, from the parameter vectors by enumerating numpy's tril/triu index order
  // (row-major) here, not through kernels/lu.h.
  Matrix dense_weight() const {
    const int64_t d = lu.features();
    const std::vector<double> lo = get(lu.lower_slot()), up = get(lu.upper_slot()),
                              dg = get(lu.diag_slot());
    Matrix L = Matrix::Identity(d, d), U = Matrix::Zero(d, d);
    int64_t n = 0;
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < i; ++j) L(i, j) = lo[n++];
    n = 0;
    for (int64_t i = 0; i < d; ++i) {
      U(i, i) = std::log1p(std::exp(dg[i])) + 1e-3;
      for (int64_t j = i + 1; j < d; ++j) U(i, j) = up[n++];
    }
    return L * U;
  }
};

Tensor random_rows(int64_t rows, int64_t d, std::mt19937_64& rng) {
  return Tensor::from(normal_vector(rows * d, 1.0, rng), {rows, d}, Device::cpu());
}

TEST(LuLinear, ParametersFollowNflowsNamesOrderAndInit) {
  for (const std::string prefix : {"transform._transforms.1.", "transform._transforms.1"}) {
    ParameterSet ps;
    LuLinear lu(ps, prefix, 4);
    // Registered after the layer: if LuLinear drew from the generator, these would shift.
    Linear after(ps, "after", 3, 2);
    Generator gen(7);
    ps.materialize(Device::cpu(), gen);
    const auto& e = ps.entries();
    ASSERT_EQ(e.size(), 6u);
    // nflows' named_parameters order: Linear.__init__ registers bias first.
    const char* names[] = {"bias", "lower_entries", "upper_entries", "unconstrained_upper_diag"};
    const int64_t sizes[] = {4, 6, 6, 4};
    int64_t offset = 0;
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(e[k].name, std::string("transform._transforms.1.") + names[k]);
      EXPECT_EQ(e[k].slot.shape, Shape{sizes[k]});
      EXPECT_EQ(e[k].slot.offset, offset);
      offset += sizes[k];
    }
    EXPECT_EQ(offset, 4 * 4 + 4);  // D^2 + D parameters
    EXPECT_EQ(ps.values().slice_rows(0, 16).to_vector(), std::vector<float>(16, 0.0f));
    // np.log(np.exp(1 - 1e-3) - 1) rounded to float32, as torch stores it.
    EXPECT_EQ(ps.value(lu.diag_slot()).to_vector(),
              std::vector<float>(4, static_cast<float>(0.5397424172369522)));

    ParameterSet alone;
    Linear only(alone, "after", 3, 2);
    Generator gen2(7);
    alone.materialize(Device::cpu(), gen2);
    EXPECT_EQ(ps.values().slice_rows(20, 28).to_vector(), alone.values().to_vector());
  }
}

TEST(LuLinear, IsTheIdentityAtInit) {
  Layer layer(3, nullptr);
  layer.lu.prepare(layer.params);
  // u_ii = softplus(float(c)) + 1e-3 in float is 1 up to a few ulps (the logit is rounded to
  // float and softplus/log1p round), so W = I and log|det| = 0 to 1e-6.
  EXPECT_TRUE(all_close(layer.lu.weight(),
                        Tensor::from({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3}, Device::cpu()), 1e-6,
                        0.0));
  EXPECT_NEAR(layer.lu.logabsdet().item(), 0.0f, 1e-6);
  // Bit for bit what torch gives: F.softplus(float32(c)) + 1e-3 = 1 - 2^-24 (torch 2.x, CPU).
  const std::vector<float> w = layer.lu.weight().to_vector();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(w[i * 4], 0.99999994039535522f);
  std::mt19937_64 rng(1);
  const Tensor x = random_rows(5, 3, rng);
  Tensor y = Tensor::empty({5, 3}, Device::cpu()), logdet = Tensor::full({5}, 2.0f, Device::cpu());
  layer.lu.forward(layer.params, x, y, logdet);
  EXPECT_TRUE(all_close(y, x, 1e-5, 1e-6));  // |x| <= ~4: a few ulps of u_ii times x
  EXPECT_TRUE(all_close(logdet, Tensor::full({5}, 2.0f, Device::cpu()), 1e-6, 0.0));
}

TEST(LuLinear, ForwardIsTheDenseProductAndLogdetItsDeterminant) {
  std::mt19937_64 rng(2);
  for (int64_t d : {1, 2, 3, 5, 17}) {
    SCOPED_TRACE("D = " + std::to_string(d));
    Layer layer(d, &rng);
    layer.lu.prepare(layer.params);
    const Matrix w = layer.dense_weight();
    const std::vector<double> bias = layer.get(layer.lu.bias_slot());
    const int64_t rows = 9;
    const Tensor x = random_rows(rows, d, rng);
    Tensor y = Tensor::empty({rows, d}, Device::cpu()),
           logdet = Tensor::zeros({rows}, Device::cpu());
    layer.lu.forward(layer.params, x, y, logdet);
    const std::vector<float> xv = x.to_vector();
    std::vector<float> expected(rows * d);
    for (int64_t b = 0; b < rows; ++b)
      for (int64_t i = 0; i < d; ++i) {
        double s = bias[i];
        for (int64_t k = 0; k < d; ++k) s += w(i, k) * xv[b * d + k];
        expected[b * d + i] = static_cast<float>(s);
      }
    // Float products summed over D <= 17 terms of size <= ~5: rounding <= 17 * 6e-8 * 5 ~ 5e-6.
    EXPECT_TRUE(all_close(y.to_vector(), expected, 1e-5, 1e-5));
    EXPECT_TRUE(all_close(
        layer.lu.weight().to_vector(),
        [&] {
          std::vector<float> v(d * d);
          for (int64_t i = 0; i < d * d; ++i) v[i] = float(w(i / d, i % d));
          return v;
        }(),
        1e-5, 1e-5));
    // log|det W| from Eigen's pivoted LU of the independently built W; float log and sum of
    // D <= 17 terms of size <= ~3: within 1e-5.
    const double reference = std::log(std::fabs(w.partialPivLu().determinant()));
    EXPECT_NEAR(layer.lu.logabsdet().item(), reference, 1e-5);
    EXPECT_TRUE(all_close(logdet, Tensor::full({rows}, float(reference), Device::cpu()), 1e-5, 0));
  }
}

TEST(LuLinear, LogdetMatchesFiniteDifferenceJacobian) {
  std::mt19937_64 rng(3);
  for (int64_t d : {2, 5}) {
    Layer layer(d, &rng);
    const std::vector<double> lo = layer.get(layer.lu.lower_slot()),
                              up = layer.get(layer.lu.upper_slot()),
                              dg = layer.get(layer.lu.diag_slot()),
                              bias = layer.get(layer.lu.bias_slot());
    std::vector<double> lu(d * d), w(d * d), ld(1);
    cpu::lu::prepare(d, lo.data(), up.data(), dg.data(), lu.data(), w.data(), ld.data());
    // Jacobian of the double forward map by central differences at a random point. The map is
    // affine, so differences are exact up to rounding: ~1e-16 / 1e-3 = 1e-13 per entry.
    std::vector<double> x(d), xp(d), yp(d), ym(d);
    for (double& v : x) v = std::normal_distribution<double>()(rng);
    Matrix jac(d, d);
    const double h = 1e-3;
    for (int64_t j = 0; j < d; ++j) {
      xp = x;
      xp[j] += h;
      cpu::lu::forward<double>(1, d, w.data(), bias.data(), ld.data(), xp.data(), yp.data(),
                                     nullptr);
      xp[j] -= 2 * h;
      cpu::lu::forward<double>(1, d, w.data(), bias.data(), ld.data(), xp.data(), ym.data(),
                                     nullptr);
      for (int64_t i = 0; i < d; ++i) jac(i, j) = (yp[i] - ym[i]) / (2 * h);
    }
    EXPECT_NEAR(ld[0], std::log(std::fabs(jac.determinant())), 1e-9);
  }
}

TEST(LuLinear, InverseUndoesForward) {
  std::mt19937_64 rng(4);
  for (int64_t d : {1, 2, 5, 17}) {
    SCOPED_TRACE("D = " + std::to_string(d));
    Layer layer(d, &rng);
    layer.lu.prepare(layer.params);
    const int64_t rows = 33;
    const Tensor x = random_rows(rows, d, rng);
    Tensor y = Tensor::empty({rows, d}, Device::cpu()),
           back = Tensor::empty({rows, d}, Device::cpu());
    Tensor logdet = Tensor::zeros({rows}, Device::cpu());
    layer.lu.forward(layer.params, x, y, logdet);
    layer.lu.inverse(layer.params, y, back, logdet);
    const double cond = [&] {
      Eigen::JacobiSVD<Matrix> svd(layer.dense_weight());
      return svd.singularValues()(0) / svd.singularValues()(d - 1);
    }();
    // Round trip error ~ cond(W) * (D + 2) roundings of eps = 6e-8 on |x| <= ~4, doubled for
    // the two directions (observed: a few ulps).
    const double tol = 2.0 * cond * double(d + 2) * 6e-8 * 4.0;
    EXPECT_TRUE(all_close(back, x, tol, 0.0)) << "cond(W) = " << cond;
    // +ld then -ld of the same float: exactly back to 0.
    EXPECT_EQ(logdet.to_vector(), std::vector<float>(rows, 0.0f));
    Tensor in_place = y.clone(), none;
    layer.lu.inverse(layer.params, in_place, in_place, none);
    EXPECT_EQ(in_place.to_vector(), back.to_vector());
  }
}

TEST(LuLinear, WrongArgumentsSayWhatToPass) {
  Layer layer(3, nullptr);
  const Device cpu = Device::cpu();
  Tensor x = Tensor::zeros({4, 3}, cpu), y = Tensor::zeros({4, 3}, cpu), none;
  EXPECT_TRUE(contains(error_of([&] { layer.lu.forward(layer.params, x, y, none); }),
                       "call prepare(params)"));
  layer.lu.prepare(layer.params);
  EXPECT_TRUE(contains(error_of([&] {
                         layer.lu.forward(layer.params, Tensor::zeros({4, 2}, cpu), y, none);
                       }),
                       "x has shape (4, 2), expected (batch, 3)"));
  EXPECT_TRUE(contains(error_of([&] {
                         Tensor y5 = Tensor::zeros({5, 3}, cpu);
                         layer.lu.forward(layer.params, x, y5, none);
                       }),
                       "y has shape (5, 3), expected (4, 3)"));
  EXPECT_TRUE(contains(error_of([&] {
                         Tensor ld = Tensor::zeros({3}, cpu);
                         layer.lu.forward(layer.params, x, y, ld);
                       }),
                       "logdet has shape (3,), expected (4,)"));
  EXPECT_TRUE(contains(error_of([&] { layer.lu.forward(layer.params, x, x, none); }),
                       "y shares memory with x"));
  EXPECT_TRUE(contains(error_of([&] {
                         layer.lu.inverse(layer.params, Tensor::zeros({4, 4}, cpu), y, none);
                       }),
                       "y has shape (4, 4), expected (batch, 3)"));
  EXPECT_TRUE(contains(error_of([&] {
                         Tensor dx = Tensor::zeros({4, 2}, cpu);
                         layer.lu.backward(layer.params, x, y, none, dx);
                       }),
                       "dx has shape (4, 2), expected (4, 3)"));
  EXPECT_TRUE(contains(error_of([&] {
                         Tensor dl = Tensor::zeros({4, 1}, cpu);
                         Tensor dx = Tensor::zeros({4, 3}, cpu);
                         layer.lu.backward(layer.params, x, y, dl, dx);
                       }),
                       "dlogdet has shape (4, 1), expected (4,)"));
  ParameterSet ps;
  EXPECT_TRUE(contains(error_of([&] { LuLinear(ps, "t", 0); }), "features must be >= 1"));
}

TEST(LuLinear, SteadyStateAllocatesNothingAndIgnoresThreadCount) {
  std::mt19937_64 rng(5);
  Layer layer(5, &rng);
  // 20000 rows x 25 dW terms is above the GEMMs' parallel threshold, so threads take part.
  const int64_t rows = 20000;
  const Tensor x = random_rows(rows, 5, rng), dy = random_rows(rows, 5, rng);
  const Tensor dlogdet = Tensor::from(normal_vector(rows, 1.0, rng), {rows}, Device::cpu());
  Tensor y = Tensor::empty({rows, 5}, Device::cpu()), dx = Tensor::empty({rows, 5}, Device::cpu());
  Tensor logdet = Tensor::zeros({rows}, Device::cpu());
  auto step = [&] {
    layer.params.zero_grad();
    layer.lu.prepare(layer.params);
    layer.lu.forward(layer.params, x, y, logdet);
    layer.lu.inverse(layer.params, y, y, logdet);
    layer.lu.forward(layer.params, x, y, logdet);
    layer.lu.backward(layer.params, x, dy, dlogdet, dx);
  };
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  step();  // the first call at this batch sizes the cache and the scratch
  const std::vector<float> serial = layer.params.grads().to_vector(), dx_serial = dx.to_vector();
  omp_set_num_threads(threads > 1 ? threads : 2);
  const int64_t before = detail::allocation_count();
  step();
  const int64_t allocations = detail::allocation_count() - before;
  omp_set_num_threads(threads);
  EXPECT_EQ(allocations, 0);
  // Fixed chunk order in every reduction: the same bits on 1 and on several threads.
  EXPECT_EQ(layer.params.grads().to_vector(), serial);
  EXPECT_EQ(dx.to_vector(), dx_serial);
}

}  // namespace
}  // namespace cusbi
