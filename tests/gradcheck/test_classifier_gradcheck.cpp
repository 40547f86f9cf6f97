// Gradient checks of the ratio classifiers: analytic backward vs central differences in double,
// through the production program (host/classifiers/classifier_program.hpp instantiated on
// ClassifierCpuExec<double>): every parameter (LayerNorm's included) and theta, for each trunk,
// with z-scoring statistics far from identity. Also LayerNorm's CPU twin on its own.
#include <vector>

#include "gradcheck/nn_gradcheck.hpp"
#include "host/classifiers/classifier_impl.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::central_differences;
using testing::dot;
using testing::grads_agree;
using Exec = classifiers::ClassifierCpuExec<double>;

std::vector<double> draw(int64_t n, double low, double high, Generator& gen) {
  const std::vector<float> v =
      uniform({n}, float(low), float(high), Device::cpu(), &gen).to_vector();
  return std::vector<double>(v.begin(), v.end());
}

// Parameters from U(-0.6, 0.6) (nflows' 1e-3 init and LayerNorm's 1 / 0 would hide terms);
// mean in [-1, 1] and std in [0.5, 2] so the z-scoring's Jacobian is far from the identity.
void check_classifier(const std::string& kind, int64_t D, int64_t C, int64_t H, int64_t B,
                      uint64_t seed) {
  SCOPED_TRACE(::testing::Message()
               << kind << " D=" << D << " C=" << C << " H=" << H << " B=" << B);
  ClassifierOptions o;
  o.hidden_features = H;
  ParameterSet set;
  const classifiers::ClassifierLayout layout = classifiers::register_classifier(kind, D, C, o, set);
  Generator gen(seed);
  std::vector<double> params = draw(set.numel(), -0.6, 0.6, gen), grads(params.size(), 0.0);
  const std::vector<double> mean = draw(D + C, -1, 1, gen), std = draw(D + C, 0.5, 2, gen);
  std::vector<double> theta = draw(B * D, -2, 2, gen), x = draw(B * C, -2, 2, gen);
  const std::vector<double> R = draw(B, -1, 1, gen);
  std::vector<double> ws(classifiers::ClassifierProgram<Exec>::workspace_numel(layout, B));
  std::vector<double> logits(B), grad_theta(B * D);
  classifiers::ClassifierProgram<Exec> program(layout);
  Exec ex;
  auto bind = [&] {
    program.bind(params.data(), grads.data(), mean.data(), std.data(), ws.data(), B,
                 {logits.data(), grad_theta.data()});
  };
  auto loss = [&] {
    bind();
    program.forward(ex, theta.data(), x.data());
    return dot(logits, R, size_t(B));
  };
  loss();
  program.backward(ex, R.data());
  const std::vector<double> dparams = grads, dtheta = grad_theta;
  EXPECT_TRUE(grads_agree(dparams, central_differences(params, loss), "dparams"));
  // Rows are independent: with a large batch the first 24 theta entries cover every path.
  EXPECT_TRUE(grads_agree(
      dtheta, central_differences(theta, loss, [&](size_t i) { return B < 100 || i < 24; }),
      "dtheta"));
  // Without grad_theta the parameter gradients are the same (the first layer's input GEMM is
  // skipped for mlp and linear).
  std::fill(grads.begin(), grads.end(), 0.0);
  program.bind(params.data(), grads.data(), mean.data(), std.data(), ws.data(), B,
               {logits.data(), nullptr});
  program.forward(ex, theta.data(), x.data());
  program.backward(ex, R.data());
  for (size_t i = 0; i < grads.size(); ++i) ASSERT_EQ(grads[i], dparams[i]) << i;
}

TEST(Gradcheck, ResnetClassifier) {
  check_classifier("resnet", 2, 3, 6, 5, 1);
  check_classifier("resnet", 1, 1, 4, 1, 2);  // a single row, one theta and one x feature
}

TEST(Gradcheck, MlpClassifier) {
  check_classifier("mlp", 2, 3, 6, 5, 3);
  check_classifier("mlp", 3, 1, 5, 1, 4);
}

TEST(Gradcheck, LinearClassifier) {
  check_classifier("linear", 2, 3, 0, 5, 5);
  check_classifier("linear", 1, 2, 0, 3, 6);
}

TEST(Gradcheck, MlpClassifierLargeBatchTakesTheChunkedPath) {
  // B * H = 16800 >= cpu::kParallelElements: threaded LayerNorm passes and chunked column sums.
  // Every parameter and the first 24 theta entries. (A width of 3 would leave LayerNorm's input
  // gradient one degree of freedom, too little to show a wrong term.)
  check_classifier("mlp", 2, 1, 8, 2100, 7);
}

// The float production path (public API, CPU row parts: 150 rows run as 2 parts) against the
// double program on the same float-rounded numbers, for every trunk.
TEST(Gradcheck, ClassifierFloatPathMatchesDoublePath) {
  for (const std::string kind : {"resnet", "mlp", "linear"}) {
    SCOPED_TRACE(kind);
    const int64_t D = 2, C = 3, B = 150;
    const Tensor bt = testing::random_tensor({40, D}, -2, 3, 1);
    const Tensor bx = testing::random_tensor({40, C}, 0, 5, 2);
    ClassifierOptions o;
    o.hidden_features = 8;
    o.z_score_x = "structured";
    Generator gen(3);
    RatioClassifier clf = kind == "resnet" ? build_resnet_classifier(bt, bx, o, &gen)
                          : kind == "mlp"  ? build_mlp_classifier(bt, bx, o, &gen)
                                           : build_linear_classifier(bt, bx, o, &gen);
    clf.parameters().copy_(uniform({clf.parameters().numel()}, -0.5f, 0.5f, Device::cpu(), &gen));
    const Tensor theta = testing::random_tensor({B, D}, -2, 3, 4);
    const Tensor x = testing::random_tensor({B, C}, 0, 5, 5);
    const Tensor w = testing::random_tensor({B}, -1, 1, 6);
    clf.zero_grad();
    const Tensor logits = clf.forward(theta, x);
    Tensor grad_theta;
    clf.backward(w, &grad_theta);

    auto dbl = [](const Tensor& t) {
      const std::vector<float> v = t.to_vector();
      return std::vector<double>(v.begin(), v.end());
    };
    ParameterSet set;
    const auto layout = classifiers::register_classifier(kind, D, C, o, set);
    std::vector<double> params = dbl(clf.parameters()), grads(params.size(), 0.0);
    std::vector<double> mean = dbl(clf.theta_zscore().mean()), std = dbl(clf.theta_zscore().std());
    const std::vector<double> xm = dbl(clf.x_zscore().mean()), xs = dbl(clf.x_zscore().std());
    mean.insert(mean.end(), xm.begin(), xm.end());
    std.insert(std.end(), xs.begin(), xs.end());
    std::vector<double> ws(classifiers::ClassifierProgram<Exec>::workspace_numel(layout, B));
    std::vector<double> out(B), gt(B * D);
    const std::vector<double> td = dbl(theta), xd = dbl(x), wd = dbl(w);
    classifiers::ClassifierProgram<Exec> program(layout);
    Exec ex;
    program.bind(params.data(), grads.data(), mean.data(), std.data(), ws.data(), B,
                 {out.data(), gt.data()});
    program.forward(ex, td.data(), xd.data());
    program.backward(ex, wd.data());
    auto as_tensor = [](const std::vector<double>& v, const Shape& shape) {
      return Tensor::from(std::vector<float>(v.begin(), v.end()), shape, Device::cpu());
    };
    // Float rounding through <= 6 layers of width 8 and sums over 150 rows: ~1e-6 of the scale;
    // 1e-5 (and sum-of-magnitudes scales for the column sums) leaves room, while a path that
    // differs in any term is off by O(1).
    EXPECT_TRUE(testing::close_scaled(logits, as_tensor(out, {B}), 1e-5));
    EXPECT_TRUE(testing::close_scaled(grad_theta, as_tensor(gt, {B, D}), 1e-5));
    EXPECT_TRUE(
        testing::close_scaled(clf.gradients(), as_tensor(grads, {int64_t(grads.size())}), 1e-5));
  }
}

// LayerNorm alone: y = LN(x) gamma + beta; L = sum R y. dx, and gamma's and beta's gradients as
// the column sums of dy * xhat and dy.
TEST(Gradcheck, LayerNorm) {
  for (int64_t cols : {1, 2, 7, 33}) {
    SCOPED_TRACE(cols);
    const int64_t rows = 4;
    Generator gen(10 + cols);
    std::vector<double> x = draw(rows * cols, -2, 2, gen), gamma = draw(cols, -1.5, 1.5, gen),
                        beta = draw(cols, -1, 1, gen);
    const std::vector<double> R = draw(rows * cols, -1, 1, gen);
    std::vector<double> y(rows * cols), mean(rows), rstd(rows);
    auto loss = [&] {
      cpu::layer_norm_forward(rows, cols, x.data(), gamma.data(), beta.data(), 1e-5, y.data(),
                              mean.data(), rstd.data());
      return dot(y, R, y.size());
    };
    loss();
    std::vector<double> dx(rows * cols), t(rows * cols), dgamma(cols, 0.0), dbeta(cols, 0.0);
    cpu::layer_norm_backward(rows, cols, R.data(), x.data(), mean.data(), rstd.data(), gamma.data(),
                             dx.data(), t.data());
    cpu::colsum(rows, cols, t.data(), dgamma.data(), static_cast<double*>(nullptr));
    cpu::colsum(rows, cols, R.data(), dbeta.data(), static_cast<double*>(nullptr));
    EXPECT_TRUE(grads_agree(dx, central_differences(x, loss), "dx"));
    EXPECT_TRUE(grads_agree(dgamma, central_differences(gamma, loss), "dgamma"));
    EXPECT_TRUE(grads_agree(dbeta, central_differences(beta, loss), "dbeta"));
  }
}

}  // namespace
}  // namespace cusbi
