// NPE's trainer against sbi's semantics (spec §4): the 90/10 split, drop_last normalisation,
// early stopping (epochs trained = best epoch + 1 + stop, best weights restored), the
// max_num_epochs case of v0.27.0, resume_training, exclusion of NaN/Inf rows, errors, and
// determinism. Small flows and data sets on the CPU keep each test well under a second.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::CaptureWarnings;
using testing::contains;
using testing::error_of;
using testing::quiet;

const Device kCpu = Device::cpu();
// A small flow: these tests check the trainer, not the flow's capacity.
const NsfOptions kSmall{.hidden_features = 16, .num_transforms = 2, .num_bins = 4};

// theta ~ U(-2, 2)^2, x = theta + 0.1 noise: (N, 2) and (N, 2) on the CPU.
std::pair<Tensor, Tensor> gaussian_data(int64_t n, uint64_t seed) {
  Generator g(seed);
  const Tensor theta = uniform({n, 2}, -2.0f, 2.0f, kCpu, &g);
  return {theta, theta + 0.1f * randn_like(theta, &g)};
}

// Mean -log q over the given rows, as the trainer's validation computes it (one batch).
double mean_loss_on(NeuralSplineFlow& flow, const NPE& npe, const std::vector<int64_t>& rows) {
  const Tensor losses = flow.loss(take_rows(npe.theta(), rows), take_rows(npe.x(), rows));
  return sum_all(losses) / static_cast<double>(rows.size());
}

TEST(NpeTrainer, SplitIsNinetyTenDisjointAndComplete) {
  auto [theta, x] = gaussian_data(101, 1);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  npe.append_simulations(theta, x);
  Generator g(2);
  npe.train(quiet({.max_num_epochs = 0, .generator = &g}));
  // int((1 - 0.1) * 101) = int(90.9) = 90, as sbi truncates.
  ASSERT_EQ(npe.train_indices().size(), 90u);
  ASSERT_EQ(npe.validation_indices().size(), 11u);
  std::set<int64_t> all(npe.train_indices().begin(), npe.train_indices().end());
  all.insert(npe.validation_indices().begin(), npe.validation_indices().end());
  EXPECT_EQ(all.size(), 101u);  // disjoint and together every row
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), 100);
}

TEST(NpeTrainer, EpochLossIsTheSumOverFullBatchesOverBatchesTimesBatchSize) {
  // Identical rows give every sample the same loss L, so any normalisation other than
  // sum / (num_batches * batch) shows: 153 training rows in batches of 50 use 150 (drop_last),
  // and dividing by 153 would give 0.98 L. A learning rate of 1e-30 leaves the weights (and L)
  // unchanged during the epoch.
  const int64_t n = 170;
  const Tensor theta = Tensor::full({n, 2}, 0.5f, kCpu), x = Tensor::full({n, 3}, -1.0f, kCpu);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  npe.append_simulations(theta, x);
  Generator g(3);
  NeuralSplineFlow& flow = npe.train(quiet(
      {.training_batch_size = 50, .learning_rate = 1e-30, .max_num_epochs = 0, .generator = &g}));
  const double L = flow.loss(theta.slice_rows(0, 1), x.slice_rows(0, 1)).item();
  // Tolerance: float sums of 50 equal values and 1-ulp GEMM differences between batch rows.
  ASSERT_EQ(npe.summary().training_loss.size(), 1u);
  EXPECT_NEAR(npe.summary().training_loss[0], L, 1e-5 * std::fabs(L));
  EXPECT_NEAR(npe.summary().validation_loss[0], L, 1e-5 * std::fabs(L));
}

TEST(NpeTrainer, EarlyStoppingRestoresTheBestEpoch) {
  // 60 simulations: 54 training rows (one batch), 6 validation rows (one batch, all used, so
  // every epoch's validation loss is the mean over the same rows). A large learning rate
  // overfits within a few dozen epochs.
  auto [theta, x] = gaussian_data(60, 4);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  npe.append_simulations(theta, x);
  Generator g(5);
  const int64_t stop = 3;
  NeuralSplineFlow& flow = npe.train(quiet(
      {.learning_rate = 3e-2, .stop_after_epochs = stop, .max_num_epochs = 300, .generator = &g}));
  const TrainingSummary& s = npe.summary();
  const std::vector<double>& val = s.validation_loss;
  ASSERT_EQ(s.epochs_trained.size(), 1u);
  ASSERT_LT(s.epochs_trained[0], 300) << "did not stop early";
  EXPECT_EQ(static_cast<int64_t>(val.size()), s.epochs_trained[0]);
  // The best epoch is the first minimum (only strict improvements count).
  const int64_t best = std::min_element(val.begin(), val.end()) - val.begin();
  EXPECT_EQ(s.epochs_trained[0], best + 1 + stop);
  EXPECT_EQ(s.best_validation_loss[0], val[static_cast<size_t>(best)]);
  // The returned weights are the best epoch's: re-evaluated on the validation rows they give
  // its loss (to float summation order: the trainer summed the rows in another order).
  const double again = mean_loss_on(flow, npe, npe.validation_indices());
  EXPECT_NEAR(again, s.best_validation_loss[0], 1e-5 * (1.0 + std::fabs(again)));
  // The gradients were cleared at the end.
  EXPECT_EQ(sum_all(abs(flow.gradients())), 0.0f);
}

TEST(NpeTrainer, MaxNumEpochsRunsMaxPlusOneAndKeepsTheBestWeights) {
  // The data and seeds of the early-stopping test: its validation loss jumps about, and with
  // 20 epochs the last one is not the best, so the best weights must be reloaded at the end.
  auto [theta, x] = gaussian_data(60, 4);
  for (int64_t max_epochs : {0, 19}) {
    NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
    npe.append_simulations(theta, x);
    Generator g(5);
    CaptureWarnings warnings;
    NeuralSplineFlow& flow =
        npe.train(quiet({.learning_rate = 3e-2, .max_num_epochs = max_epochs, .generator = &g}));
    const TrainingSummary& s = npe.summary();
    // The loop condition is epoch <= max_num_epochs, so sbi runs max + 1 epochs.
    EXPECT_EQ(s.epochs_trained[0], max_epochs + 1);
    ASSERT_EQ(static_cast<int64_t>(s.validation_loss.size()), max_epochs + 1);
    ASSERT_EQ(warnings.messages.size(), 1u);
    EXPECT_TRUE(contains(warnings.messages[0], "max_num_epochs=" + std::to_string(max_epochs)));
    // v0.27.0: the last epoch is scored once more, so the weights are the best of all epochs.
    const double best = *std::min_element(s.validation_loss.begin(), s.validation_loss.end());
    if (max_epochs > 0) ASSERT_LT(best, s.validation_loss.back()) << "the reload is not tested";
    EXPECT_EQ(s.best_validation_loss[0], best);
    const double again = mean_loss_on(flow, npe, npe.validation_indices());
    EXPECT_NEAR(again, best, 1e-5 * (1.0 + std::fabs(best)));  // summation order only
  }
}

TEST(NpeTrainer, ResumeKeepsSplitAndCountsEpochsOn) {
  auto [theta, x] = gaussian_data(80, 8);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  npe.append_simulations(theta, x);
  Generator g(9);
  CaptureWarnings warnings;  // both calls end at max_num_epochs
  npe.train(quiet({.max_num_epochs = 1, .generator = &g}));
  const std::vector<int64_t> split = npe.train_indices();
  npe.train(quiet({.max_num_epochs = 3, .resume_training = true, .generator = &g}));
  EXPECT_EQ(npe.train_indices(), split);
  EXPECT_EQ(npe.summary().epochs_trained, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(npe.summary().training_loss.size(), 4u);
  // A fresh (non-resumed) call draws a new split and counts from 0 again.
  npe.train(quiet({.max_num_epochs = 0, .generator = &g}));
  EXPECT_NE(npe.train_indices(), split);
  EXPECT_EQ(npe.summary().epochs_trained.back(), 1);
  EXPECT_EQ(npe.summary().best_validation_loss.size(), 3u);
}

TEST(NpeTrainer, SameSeedGivesTheSameTraining) {
  Tensor theta, x;
  std::tie(theta, x) = gaussian_data(120, 10);
  auto run = [&](uint64_t seed) {
    NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
    npe.append_simulations(theta, x);
    Generator g(seed);
    CaptureWarnings warnings;
    npe.train(quiet({.training_batch_size = 40, .max_num_epochs = 2, .generator = &g}));
    return std::make_pair(npe.summary().validation_loss,
                          npe.density_estimator().parameters().to_vector());
  };
  const auto a = run(11), b = run(11), c = run(12);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_NE(a.first, c.first);
}

TEST(NpeTrainer, LossDecreasesOnASimpleProblem) {
  // x = theta + 0.1 noise: the true posterior has -log p about 2 * 0.5 log(2 pi e 0.01) = -1.8
  // nats, the untrained flow about +3 to +4. After 15 epochs this small flow reaches about
  // -1.7; -1.0 leaves room for the noise of a 60-row validation set while any trainer that
  // does not learn (or learns from shuffled pairs) stays far above it.
  auto [theta, x] = gaussian_data(600, 12);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  npe.append_simulations(theta, x);
  Generator g(13);
  CaptureWarnings warnings;
  npe.train(quiet(
      {.training_batch_size = 50, .learning_rate = 5e-3, .max_num_epochs = 14, .generator = &g}));
  const std::vector<double>& val = npe.summary().validation_loss;
  EXPECT_LT(val.back(), val.front() - 1.0);
  EXPECT_LT(npe.summary().best_validation_loss[0], -1.0);
}

TEST(NpeTrainer, NonFiniteLossStopsTrainingNamingTheEpoch) {
  // A learning rate of 1e30 without clipping blows the weights up in the first epoch.
  auto [theta, x] = gaussian_data(60, 19);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  npe.append_simulations(theta, x);
  Generator g(20);
  const std::string error = error_of([&] {
    npe.train(quiet({.training_batch_size = 10,
                     .learning_rate = 1e30,
                     .max_num_epochs = 30,
                     .clip_max_norm = 0.0,
                     .generator = &g}));
  });
  EXPECT_TRUE(contains(error, "epoch 1 gave a non-finite loss"));
  // The best (here: the untrained) weights are back, so the estimator is still usable.
  EXPECT_TRUE(all_finite(npe.density_estimator().parameters()));
  EXPECT_TRUE(npe.summary().epochs_trained.empty());
}

TEST(TakeRows, GathersRowsInOrderWithRepeats) {
  const Tensor src = Tensor::from({0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}, {4, 3}, kCpu);
  const Tensor out = take_rows(src, {3, 0, 3, 1});
  EXPECT_EQ(out.shape(), (Shape{4, 3}));
  EXPECT_EQ(out.to_vector(), (std::vector<float>{30, 31, 32, 0, 1, 2, 30, 31, 32, 10, 11, 12}));
  // Trailing dimensions are kept; an empty index list gives zero rows.
  EXPECT_EQ(take_rows(src.reshape({4, 3, 1}), {2}).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(take_rows(src, {}).shape(), (Shape{0, 3}));
  Tensor into = Tensor::zeros({2, 3}, kCpu);
  take_rows(src, {2, 2}, into);
  EXPECT_EQ(into.to_vector(), (std::vector<float>{20, 21, 22, 20, 21, 22}));
}

TEST(TakeRows, ErrorsNameTheProblem) {
  const Tensor src = Tensor::zeros({4, 3}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { take_rows(src, {0, 4}); }), "index 4 (position 1)"));
  EXPECT_TRUE(contains(error_of([&] { take_rows(src, {-1}); }), "[0, 4)"));
  EXPECT_TRUE(contains(error_of([&] { take_rows(Tensor::scalar(1.0f, kCpu), {0}); }), "scalar"));
  Tensor wrong = Tensor::zeros({2, 2}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { take_rows(src, {0, 1}, wrong); }), "expected (2, 3)"));
  Tensor overlapping = src.slice_rows(0, 2);
  EXPECT_TRUE(contains(error_of([&] { take_rows(src, {2, 3}, overlapping); }), "overlaps"));
}

TEST(NpeTrainer, ExcludesNonFiniteRowsWithAWarning) {
  auto [theta, x] = gaussian_data(40, 14);
  std::vector<float> xv = x.to_vector(), tv = theta.to_vector();
  const float nan = std::nanf(""), inf = INFINITY;
  xv[2 * 3] = nan;      // row 3: NaN in x
  xv[2 * 5 + 1] = nan;  // row 5: NaN in x
  xv[2 * 7] = -inf;     // row 7: Inf in x
  xv[2 * 9] = nan;      // row 9: NaN and Inf in x (counted in both, as sbi)
  xv[2 * 9 + 1] = inf;
  tv[2 * 11] = nan;  // row 11: NaN in theta
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  CaptureWarnings warnings;
  npe.append_simulations(Tensor::from(tv, {40, 2}, kCpu), Tensor::from(xv, {40, 2}, kCpu));
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_TRUE(contains(warnings.messages[0], "3 simulations with NaN and 2 with Inf in x"));
  EXPECT_TRUE(contains(warnings.messages[0], "1 with NaN/Inf in theta"));
  EXPECT_TRUE(contains(warnings.messages[0], "5 of 40 rows"));
  EXPECT_EQ(npe.num_simulations(), 35);
  EXPECT_TRUE(all_finite(npe.x()) && all_finite(npe.theta()));
  // The kept rows are the valid ones, in order: row 4 of the input is row 3 of the kept data.
  EXPECT_EQ(npe.theta()[3].to_vector(), theta[4].to_vector());
  // A second append adds to the first.
  npe.append_simulations(theta.slice_rows(0, 5), x.slice_rows(0, 5));
  EXPECT_EQ(npe.num_simulations(), 40);
}

// sbi's warn_if_invalid_for_zscoring: constant x columns and extreme outliers are reported at
// intake (training still runs); ordinary data gives no warning.
TEST(NpeTrainer, WarnsAboutXThatZScoringHandlesBadly) {
  auto [theta, x] = gaussian_data(100, 15);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  CaptureWarnings warnings;
  npe.append_simulations(theta, x);
  EXPECT_TRUE(warnings.messages.empty());

  std::vector<float> xv = x.to_vector();
  for (int64_t i = 0; i < 100; ++i) xv[2 * i + 1] = 3.0f;  // column 1 constant
  npe.append_simulations(theta, Tensor::from(xv, {100, 2}, kCpu));
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_TRUE(contains(warnings.messages[0], "constant values in dimension(s) [1]"));

  xv = x.to_vector();
  xv[2 * 17] = 1e4f;  // one value ~ 2500 IQR above the quartiles in column 0
  npe.append_simulations(theta, Tensor::from(xv, {100, 2}, kCpu));
  ASSERT_EQ(warnings.messages.size(), 2u);
  EXPECT_TRUE(contains(warnings.messages[1], "extreme outliers in dimension(s) [0]"));
}

TEST(NpeTrainer, KeptInvalidRowsMakeTrainFailClearly) {
  auto [theta, x] = gaussian_data(30, 15);
  std::vector<float> xv = x.to_vector();
  xv[0] = std::nanf("");
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  CaptureWarnings warnings;
  npe.append_simulations(theta, Tensor::from(xv, {30, 2}, kCpu), /*exclude_invalid_x=*/false);
  EXPECT_EQ(npe.num_simulations(), 30);
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_TRUE(contains(error_of([&] { npe.train(quiet({})); }), "exclude_invalid_x = true"));
}

TEST(NpeTrainer, ErrorsSayWhatToDo) {
  BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  Tensor theta, x;
  std::tie(theta, x) = gaussian_data(30, 16);
  NPE npe(prior, kSmall, kCpu);
  EXPECT_TRUE(contains(error_of([&] { npe.train(); }), "call append_simulations"));
  EXPECT_TRUE(contains(error_of([&] { npe.density_estimator(); }), "train() first"));
  EXPECT_TRUE(contains(error_of([&] { npe.build_posterior(); }), "train() first"));
  EXPECT_TRUE(contains(error_of([&] {
                         npe.append_simulations(Tensor::zeros({30, 3}, kCpu), x);
                       }),
                       "the prior has 2 dimensions"));
  EXPECT_TRUE(contains(error_of([&] { npe.append_simulations(theta, x.slice_rows(0, 29)); }),
                       "theta has 30 rows but x has 29"));
  EXPECT_TRUE(contains(error_of([&] { npe.append_simulations(theta, Tensor::zeros({30}, kCpu)); }),
                       "reshape({N, -1})"));
  std::vector<float> all_nan(60, std::nanf(""));
  EXPECT_TRUE(contains(error_of([&] {
                         CaptureWarnings w;
                         npe.append_simulations(theta, Tensor::from(all_nan, {30, 2}, kCpu));
                       }),
                       "no valid simulation is left"));

  NPE tiny(prior, kSmall, kCpu);
  tiny.append_simulations(theta.slice_rows(0, 1), x.slice_rows(0, 1));
  EXPECT_TRUE(contains(error_of([&] { tiny.train(quiet({})); }), "append at least 2"));

  npe.append_simulations(theta, x);
  EXPECT_TRUE(contains(error_of([&] { npe.train(quiet({.resume_training = true})); }),
                       "needs a previous train()"));
  EXPECT_TRUE(
      contains(error_of([&] { npe.train(quiet({.learning_rate = 0})); }), "learning_rate is 0"));
  EXPECT_TRUE(contains(error_of([&] { npe.train(quiet({.validation_fraction = 1.0})); }),
                       "validation_fraction is 1"));
  EXPECT_TRUE(contains(error_of([&] { npe.train(quiet({.stop_after_epochs = 0})); }),
                       "stop_after_epochs is 0"));
  EXPECT_TRUE(contains(error_of([&] { npe.train(quiet({.training_batch_size = 0})); }),
                       "training_batch_size is 0"));
}

TEST(NpeTrainer, TrainsWithoutClippingAndBuildsAPosterior) {
  auto [theta, x] = gaussian_data(60, 17);
  NPE npe(BoxUniform(-2.0f, 2.0f, 2, kCpu), kSmall, kCpu);
  npe.append_simulations(theta, x);
  Generator g(18);
  CaptureWarnings warnings;
  npe.train(quiet({.max_num_epochs = 1, .clip_max_norm = 0.0, .generator = &g}));
  EXPECT_EQ(npe.summary().epochs_trained[0], 2);
  DirectPosterior posterior = npe.build_posterior();
  const Tensor x_o = Tensor::from({0.5f, -0.5f}, {1, 2}, kCpu);
  SampleOptions sample_options;
  sample_options.show_progress = false;
  sample_options.generator = &g;
  const Tensor samples = posterior.sample({10}, x_o, sample_options);
  EXPECT_EQ(samples.shape(), (Shape{10, 2}));
  // The posterior holds a copy: training on does not change it.
  const std::vector<float> before = posterior.estimator().parameters().to_vector();
  npe.train(quiet({.max_num_epochs = 0, .generator = &g}));
  EXPECT_EQ(posterior.estimator().parameters().to_vector(), before);
  EXPECT_NE(npe.density_estimator().parameters().to_vector(), before);
}

}  // namespace
}  // namespace cusbi
