// cusbi::c2st (include/cusbi/metrics.hpp): sbibm's C2ST. Pools X (label 0) and Y (label 1),
// splits the pool as sklearn's KFold(shuffle=True) does, and trains one MlpClassifier per fold
// on the other folds, scoring its accuracy on the held-out fold (cross_val_score). On the CPU
// the folds train at once, one per pool thread; on a GPU one after another.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <sstream>
#include <vector>

#include "cusbi/error.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/metrics.hpp"
#include "cusbi/progress.hpp"
#include "cusbi/random.hpp"
#include "host/exec/thread_pool.hpp"
#include "host/metrics/c2st_data.hpp"
#include "host/metrics/mlp_classifier.hpp"

namespace cusbi {

namespace {

// The progress line of folds that may train at once, on any thread: each call takes the lock,
// and the line shows the folds finished and the epoch each running fold has reached.
class FoldProgress {
 public:
  FoldProgress(ProgressLine& line, int64_t folds)
      : line_(line), epoch_(static_cast<size_t>(folds), 0), loss_(static_cast<size_t>(folds)) {}

  void epoch(int64_t fold, int64_t epoch, double loss) {
    std::lock_guard<std::mutex> lock(mutex_);
    epoch_[static_cast<size_t>(fold)] = epoch;
    loss_[static_cast<size_t>(fold)] = loss;
    std::ostringstream detail;
    const char* sep = "";
    for (size_t k = 0; k < epoch_.size(); ++k) {
      if (epoch_[k] <= 0) continue;
      detail << sep << "fold " << k + 1 << " epoch " << epoch_[k] << " loss " << loss_[k];
      sep = ", ";
    }
    line_.update(done_, detail.str());
  }

  void finished(int64_t fold, double accuracy, int64_t epochs) {
    std::lock_guard<std::mutex> lock(mutex_);
    epoch_[static_cast<size_t>(fold)] = -1;  // no longer running
    ++done_;
    std::ostringstream detail;
    detail << "fold " << fold + 1 << " accuracy " << accuracy << " after " << epochs << " epochs";
    line_.update(done_, detail.str());
  }

 private:
  std::mutex mutex_;
  ProgressLine& line_;
  std::vector<int64_t> epoch_;  // per fold: the last epoch reported, 0 before, -1 after
  std::vector<double> loss_;
  int64_t done_ = 0;
};

}  // namespace

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

  // Every fold's training rows, test rows and classifier are its own, so folds can train at
  // once: fit reads only its inputs and its classifier (same initial weights and shuffles).
  auto fold_rows = [&](int64_t k, std::vector<int64_t>& train, std::vector<int64_t>& test) {
    const int64_t start = std::accumulate(sizes.begin(), sizes.begin() + k, int64_t(0));
    const int64_t stop = start + sizes[static_cast<size_t>(k)];
    test.assign(perm.begin() + start, perm.begin() + stop);
    // KFold's train indices are the remaining rows in their original order.
    std::vector<char> in_test(static_cast<size_t>(total), 0);
    for (int64_t i : test) in_test[static_cast<size_t>(i)] = 1;
    train.clear();
    train.reserve(static_cast<size_t>(total - (stop - start)));
    for (int64_t i = 0; i < total; ++i)
      if (!in_test[static_cast<size_t>(i)]) train.push_back(i);
  };

  ProgressLine progress("c2st", options.folds, options.show_progress);
  FoldProgress report(progress, options.folds);
  C2stResult result;
  result.fold_accuracies.assign(static_cast<size_t>(options.folds), 0.0);
  result.fold_epochs.assign(static_cast<size_t>(options.folds), 0);
  auto run_fold = [&](metrics::MlpClassifier& classifier, int64_t k) {
    std::vector<int64_t> train, test;
    fold_rows(k, train, test);
    metrics::MlpClassifier::EpochCallback on_epoch;
    if (progress.active())
      on_epoch = [&report, k](int64_t epoch, double loss) { report.epoch(k, epoch, loss); };
    const int64_t epochs =
        classifier.fit(take_rows(data, train), take_rows(labels, train), on_epoch, k);
    const double accuracy = classifier.accuracy(take_rows(data, test), take_rows(labels, test));
    result.fold_accuracies[static_cast<size_t>(k)] = accuracy;
    result.fold_epochs[static_cast<size_t>(k)] = epochs;
    report.finished(k, accuracy, epochs);
  };

  if (device.is_cpu()) {
    // One fold per pool thread, each single-threaded (pool work inside a pool job runs inline
    // on its thread): the small GEMMs of a batch of 200 split over two threads ran slower than
    // on one (57 vs 46 s for 10,000 vs 10,000 in 10-D on 2 cores), while whole folds need no
    // hand-offs. The GEMMs cut their rows the same way on one thread as on many, so every
    // fold's numbers are the same bits as with the folds one after another.
    std::atomic<bool> failed{false};
    exec::parallel_for(options.folds, true, [&](int64_t k) {
      if (failed.load()) return;  // another fold threw: its error is the one rethrown
      try {
        metrics::MlpClassifier classifier(dim, options, device);
        run_fold(classifier, k);
      } catch (...) {
        failed.store(true);
        throw;
      }
    });
  } else {
    // The GPU runs one fold at a time on its stream, reusing one classifier's buffers.
    metrics::MlpClassifier classifier(dim, options, device);
    for (int64_t k = 0; k < options.folds; ++k) run_fold(classifier, k);
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
