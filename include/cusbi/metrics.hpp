// Sample-quality metrics. c2st is the classifier two-sample test exactly as sbibm computes it
// (sbibm/metrics/c2st.py, the accuracy metric of the sbi benchmark): z-score both sets with the
// reference set's mean and std, label the reference 0 and the other set 1, and report the mean
// 5-fold cross-validated accuracy of an MLP classifier trained as sklearn's MLPClassifier trains.
// 0.5: the classifier cannot tell the sets apart; 1.0: it separates them completely.
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/tensor.hpp"

namespace cusbi {

// Defaults are sbibm's recipe: sklearn MLPClassifier(activation="relu", hidden_layer_sizes=
// (10 dim, 10 dim), solver="adam", max_iter=10000, alpha=1e-4, batch_size="auto" = min(200, n),
// learning_rate_init=1e-3, tol=1e-4, n_iter_no_change=10, early_stopping=False) under
// KFold(n_splits=5, shuffle=True).
struct C2stOptions {
  int64_t folds = 5;               // cross-validation folds, >= 2
  bool z_score = true;             // standardise both sets with X's mean and (unbiased) std
  uint64_t seed = 1;               // fold assignment, initial weights and per-epoch shuffles
  int64_t hidden_multiplier = 10;  // hidden width = multiplier * dim, two hidden layers
  int64_t max_epochs = 10000;      // sklearn's max_iter: passes over the training folds
  int64_t batch_size = 200;        // rows per Adam step, capped at the training rows
  float learning_rate = 1e-3f;     // Adam, betas (0.9, 0.999), eps 1e-8
  float l2 = 1e-4f;                // sklearn's alpha: 0.5 alpha ||W||^2 / batch rows, weights only
  float tol = 1e-4f;               // training stops when the epoch loss has not improved by tol ...
  int64_t n_iter_no_change = 10;   // ... for more than this many consecutive epochs
  bool show_progress = false;      // a progress line on stderr (see cusbi/progress.hpp)
};

struct C2stResult {
  double accuracy = 0.0;                // mean of fold_accuracies: sbibm's c2st value
  std::vector<double> fold_accuracies;  // test accuracy of each fold, in fold order
  std::vector<int64_t> fold_epochs;     // epochs each fold's classifier trained for
};

// X: (n, dim) reference samples, Y: (m, dim) samples to test, both float32 on one device (CPU or
// CUDA); the classifier trains on that device. Rows are pooled (X first) and split into folds
// as sklearn's KFold(shuffle=True) does: a random permutation cut into contiguous folds, the
// first (n + m) % folds of them one row longer. The permutation, the initial weights (Glorot
// uniform as sklearn: U(+-sqrt(6 / (fan_in + fan_out))) for weights and biases) and the epoch
// shuffles come from cusbi's counter-based generator: numpy's RNG is not reproduced, so a single
// run differs from sklearn's as two sklearn seeds differ from each other, and the mean over
// seeds agrees (tests/golden/test_c2st_golden.cpp). The same seed and device give the same
// result. Each fold's classifier starts from the same initial weights and shuffle sequence, as
// sklearn's clone with a fixed random_state does. A test row counts as class 1 when the
// predicted probability is > 0.5. On the CPU the folds train at once, each on one thread (at
// most OMP_NUM_THREADS of them); the result is the same bits for any thread count.
// Throws cusbi::Error for non-2-D inputs, different dims, devices or dtypes, NaN/Inf values, a
// zero-variance column of X when z-scoring, fewer rows than folds, or invalid options.
C2stResult c2st_detailed(const Tensor& X, const Tensor& Y, const C2stOptions& options = {});
double c2st(const Tensor& X, const Tensor& Y, const C2stOptions& options = {});

}  // namespace cusbi
