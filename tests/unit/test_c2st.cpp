// cusbi::c2st's invariants: indistinguishable sets score ~0.5, separable sets 1.0, the same seed
// gives the same bits, KFold's fold sizes, and bad inputs throw cusbi::Error naming the problem.
// Agreement with sklearn's numbers is tests/golden/test_c2st_golden.cpp.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "host/allocation_counter.hpp"
#include "host/metrics/c2st_data.hpp"
#include "host/metrics/mlp_classifier.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

Tensor normal(int64_t n, int64_t d, float shift, uint64_t seed) {
  Generator g(seed);
  return randn({n, d}, Device::cpu(), &g) + shift;
}

TEST(C2st, IdenticalDistributionsScoreAboutHalf) {
  // 300 vs 300: each test fold has 120 rows, so a chance-level fold accuracy has sd
  // sqrt(0.25 / 120) = 0.046 and the 5-fold mean ~0.02 (folds overlap in training data, so a
  // little more). 0.5 +- 0.08 is four of those: a classifier that learned nothing passes, one
  // that memorises labels or a label/prediction mix-up (accuracy ~0 or ~1) fails.
  const C2stResult r = c2st_detailed(normal(300, 2, 0.0f, 1), normal(300, 2, 0.0f, 2));
  EXPECT_NEAR(r.accuracy, 0.5, 0.08);
  ASSERT_EQ(r.fold_accuracies.size(), 5u);
  ASSERT_EQ(r.fold_epochs.size(), 5u);
  for (int64_t e : r.fold_epochs) EXPECT_GE(e, 12);  // the stopping rule needs > 11 epochs
  EXPECT_NEAR(r.accuracy,
              std::accumulate(r.fold_accuracies.begin(), r.fold_accuracies.end(), 0.0) / 5.0,
              1e-12);
}

TEST(C2st, DisjointSetsScoreOne) {
  // Means 8 sd apart: the Bayes error is Phi(-4) = 3e-5, so 600 test rows are all classified
  // right unless the classifier is broken (an untrained net sits near 0.5, swapped labels at 0).
  const double acc = c2st(normal(300, 2, 0.0f, 3), normal(300, 2, 8.0f, 4));
  EXPECT_EQ(acc, 1.0);
}

TEST(C2st, SameSeedSameBitsOtherSeedOtherFolds) {
  const Tensor x = normal(200, 3, 0.0f, 5), y = normal(150, 3, 0.5f, 6);
  C2stOptions o;
  o.seed = 7;
  o.max_epochs = 40;  // determinism needs no convergence; keeps the test fast
  const C2stResult a = c2st_detailed(x, y, o), b = c2st_detailed(x, y, o);
  EXPECT_EQ(a.accuracy, b.accuracy);
  EXPECT_EQ(a.fold_accuracies, b.fold_accuracies);
  EXPECT_EQ(a.fold_epochs, b.fold_epochs);
  o.seed = 8;
  const C2stResult c = c2st_detailed(x, y, o);
  EXPECT_NE(a.fold_accuracies, c.fold_accuracies);  // other folds, weights and shuffles
}

TEST(C2st, ConcurrentFoldsGiveTheSequentialBits) {
  // On the CPU the folds train at once, one per pool thread; with one thread they run one after
  // another on the caller. Each fold owns its classifier and the GEMMs cut rows by batch size
  // alone, so fold accuracies and epochs must be the same bits. 3 threads: 5 folds over 3
  // threads, so threads also take a second fold (from their own range or another's).
  const Tensor x = normal(400, 3, 0.0f, 21), y = normal(350, 3, 0.4f, 22);
  C2stOptions o;
  o.max_epochs = 60;  // bitwise equality needs no convergence; keeps the test fast
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const C2stResult sequential = c2st_detailed(x, y, o);
  omp_set_num_threads(3);
  const C2stResult concurrent = c2st_detailed(x, y, o);
  omp_set_num_threads(threads);
  EXPECT_EQ(sequential.fold_accuracies, concurrent.fold_accuracies);
  EXPECT_EQ(sequential.fold_epochs, concurrent.fold_epochs);
  EXPECT_EQ(sequential.accuracy, concurrent.accuracy);
  // The folds differ from each other (a fold result written to the wrong slot, or one fold
  // trained k times, would show up as equal entries).
  EXPECT_NE(sequential.fold_accuracies[0], sequential.fold_accuracies[1]);
}

TEST(C2st, DivergingTrainingThrowsFromConcurrentFolds) {
  // A learning rate of 1e30 moves the weights by ~1e30 per Adam step, so the L2 term (w^2 in
  // float) overflows in the first epochs of every fold. Each fold throws on a pool thread; the
  // call must rethrow one of those errors (naming the loss), not hang or crash.
  const Tensor x = normal(200, 2, 0.0f, 23), y = normal(200, 2, 0.5f, 24);
  C2stOptions o;
  o.learning_rate = 1e30f;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(3);
  const std::string message = testing::error_of([&] { c2st(x, y, o); });
  omp_set_num_threads(threads);
  EXPECT_NE(message.find("training loss became"), std::string::npos) << message;
}

TEST(C2st, KFoldSizesAsSklearn) {
  // sklearn KFold: n // k rows per fold, the first n % k folds one more.
  EXPECT_EQ(metrics::kfold_sizes(10, 5), (std::vector<int64_t>{2, 2, 2, 2, 2}));
  EXPECT_EQ(metrics::kfold_sizes(13, 5), (std::vector<int64_t>{3, 3, 3, 2, 2}));
  EXPECT_EQ(metrics::kfold_sizes(7, 3), (std::vector<int64_t>{3, 2, 2}));
  // Fold accuracies are counts over those test sizes: accuracy times fold size is an integer.
  const std::vector<int64_t> sizes = metrics::kfold_sizes(351, 5);
  EXPECT_EQ(sizes, (std::vector<int64_t>{71, 70, 70, 70, 70}));
  const C2stResult r = c2st_detailed(normal(200, 2, 0.0f, 9), normal(151, 2, 1.0f, 10));
  for (size_t k = 0; k < sizes.size(); ++k) {
    const double count = r.fold_accuracies[k] * static_cast<double>(sizes[k]);
    EXPECT_NEAR(count, std::round(count), 1e-9) << "fold " << k;
  }
}

TEST(C2st, ZScoreUsesTheReferenceStatistics) {
  // Scaling and shifting both sets by the same affine map leaves the z-scored data unchanged
  // (up to float rounding), so the result is the same up to rounding-level divergence of
  // training; a z-score with Y's statistics (or none) would not be invariant. Compared at the
  // metric's own resolution: equal within one test row per fold.
  const Tensor x = normal(250, 2, 0.0f, 11), y = normal(250, 2, 0.7f, 12);
  const double a = c2st(x, y);
  const double b = c2st(x * 1000.0f + 5000.0f, y * 1000.0f + 5000.0f);
  EXPECT_NEAR(a, b, 0.03);  // 0.03: a few of 500 test rows changing side after rounding drift
}

TEST(C2st, TrainingAllocatesNoTensorPerStepOrEpoch) {
  // A fit sizes its buffers once: 2 and 6 epochs of 3 Adam steps (500 rows, batch 200, the last
  // one shorter) allocate the same number of tensors.
  const Tensor x = normal(500, 3, 0.0f, 15);
  std::vector<float> y(500);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(i % 2);
  const Tensor labels = Tensor::from(y, {500, 1}, Device::cpu());
  auto allocations = [&](int64_t epochs) {
    C2stOptions o;
    o.max_epochs = epochs;
    metrics::MlpClassifier classifier(3, o, Device::cpu());
    const int64_t before = detail::allocation_count();
    EXPECT_EQ(classifier.fit(x, labels, nullptr, 0), epochs);
    return detail::allocation_count() - before;
  };
  EXPECT_EQ(allocations(2), allocations(6));
}

TEST(C2st, BadInputsThrow) {
  const Tensor x = normal(20, 2, 0.0f, 13), y = normal(20, 2, 0.0f, 14);
  using testing::error_of;
  EXPECT_NE(error_of([&] { c2st(x, normal(20, 3, 0.0f, 1)); }).find("columns"), std::string::npos);
  EXPECT_NE(error_of([&] { c2st(x.reshape({-1}), y); }).find("shape"), std::string::npos);
  Tensor bad = x.clone();
  bad.data()[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(error_of([&] { c2st(bad, y); }).find("X"), std::string::npos);
  bad.data()[3] = std::numeric_limits<float>::infinity();
  EXPECT_NE(error_of([&] { c2st(x, bad); }).find("Y"), std::string::npos);
  Tensor flat = x.clone();
  for (int64_t i = 0; i < 20; ++i) flat.data()[i * 2 + 1] = 1.0f;
  EXPECT_NE(error_of([&] { c2st(flat, y); }).find("zero variance"), std::string::npos);
  C2stOptions o;
  o.folds = 1;
  EXPECT_NE(error_of([&] { c2st(x, y, o); }).find("folds"), std::string::npos);
  o.folds = 50;
  EXPECT_NE(error_of([&] { c2st(x, y, o); }).find("folds"), std::string::npos);
  o = C2stOptions();
  o.learning_rate = 0.0f;
  EXPECT_NE(error_of([&] { c2st(x, y, o); }).find("learning_rate"), std::string::npos);
}

}  // namespace
}  // namespace cusbi
