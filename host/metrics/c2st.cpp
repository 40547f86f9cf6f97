// cusbi::c2st (include/cusbi/metrics.hpp): sbibm's C2ST. Pools X (label 0) and Y (label 1),
// splits the pool as sklearn's KFold(shuffle=True) does, and trains one MlpClassifier per fold
// on the other folds, scoring its accuracy on the held-out fold (cross_val_score).
#include <algorithm>
#include <numeric>
#include <sstream>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/metrics.hpp"
#include "cusbi/progress.hpp"
#include "cusbi/random.hpp"
#include "host/metrics/c2st_data.hpp"
#include "host/metrics/mlp_classifier.hpp"

namespace cusbi {

C2stResult c2st_detailed(const Tensor& X, const Tensor& Y, const C2stOptions& options) {
  metrics::check_c2st_inputs(X, Y, options);
  const Device device = X.device();
  const int64_t n = X.size(0), m = Y.size(0), total = n + m, dim = X.size(1);
  Tensor xs = X, ys = Y;
  if (options.z_score) metrics::z_score(X, Y, xs, ys);
  const Tensor data = cat({xs, ys}, 0);
  const Tensor labels = cat({Tensor::zeros({n, 1}, device), Tensor::ones({m, 1}, device)}, 0);

  // KFold(shuffle=True): permute, then contiguous folds. The permutation is cusbi's Philox
  // Fisher-Yates, not numpy's, so the folds differ from sklearn's for the same seed.
  Generator kfold(options.seed);
  const std::vector<int64_t> perm = random_permutation(total, &kfold);
  const std::vector<int64_t> sizes = metrics::kfold_sizes(total, options.folds);

  metrics::MlpClassifier classifier(dim, options, device);
  ProgressLine progress("c2st", options.folds, options.show_progress);
  C2stResult result;
  int64_t start = 0;
  for (int64_t k = 0; k < options.folds; ++k) {
    const int64_t stop = start + sizes[static_cast<size_t>(k)];
    std::vector<int64_t> test(perm.begin() + start, perm.begin() + stop);
    // KFold's train indices are the remaining rows in their original order.
    std::vector<char> in_test(static_cast<size_t>(total), 0);
    for (int64_t i : test) in_test[static_cast<size_t>(i)] = 1;
    std::vector<int64_t> train;
    train.reserve(static_cast<size_t>(total - (stop - start)));
    for (int64_t i = 0; i < total; ++i)
      if (!in_test[static_cast<size_t>(i)]) train.push_back(i);
    start = stop;

    const int64_t epochs =
        classifier.fit(take_rows(data, train), take_rows(labels, train), &progress, k);
    const double accuracy = classifier.accuracy(take_rows(data, test), take_rows(labels, test));
    result.fold_accuracies.push_back(accuracy);
    result.fold_epochs.push_back(epochs);
    std::ostringstream detail;
    detail << "fold " << k + 1 << " accuracy " << accuracy << " after " << epochs << " epochs";
    progress.update(k + 1, detail.str());
  }
  result.accuracy =
      std::accumulate(result.fold_accuracies.begin(), result.fold_accuracies.end(), 0.0) /
      static_cast<double>(options.folds);
  std::ostringstream summary;
  summary << "accuracy " << result.accuracy;
  progress.finish(summary.str());
  return result;
}

double c2st(const Tensor& X, const Tensor& Y, const C2stOptions& options) {
  return c2st_detailed(X, Y, options).accuracy;
}

}  // namespace cusbi
