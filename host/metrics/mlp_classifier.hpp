// The C2ST classifier: sklearn's MLPClassifier (two ReLU hidden layers, one logistic output,
// binary log-loss + L2 on the weights, Adam, minibatches reshuffled every epoch, stop when the
// epoch loss stalls) built from cusbi's Linear / ReLU / Adam, on the data's device. Buffers are
// sized once per fit; an Adam step allocates nothing and reads nothing back (one read per epoch).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "cusbi/metrics.hpp"
#include "cusbi/nn.hpp"
#include "cusbi/random.hpp"

namespace cusbi::metrics {

class MlpClassifier {
 public:
  // Registers dim -> h -> h -> 1 (h = hidden_multiplier * dim) and draws the initial weights
  // from Generator(seed); every fit starts from these weights and the same shuffle sequence.
  MlpClassifier(int64_t dim, const C2stOptions& options, Device device);

  // Called after each epoch with the epoch number (from 1) and its loss.
  using EpochCallback = std::function<void(int64_t epoch, double loss)>;

  // Trains from the initial weights on x (n, dim) with labels (n, 1) in {0, 1}; returns the
  // number of epochs run. `on_epoch` may be empty; `fold` only names the fold in errors.
  int64_t fit(const Tensor& x, const Tensor& labels, const EpochCallback& on_epoch, int64_t fold);
  // Fraction of rows of x (n, dim) whose prediction (probability > 0.5, i.e. logit > 0) equals
  // the label (labels (n, 1) in {0, 1}).
  double accuracy(const Tensor& x, const Tensor& labels);

 private:
  // Per-batch-size buffers: the full batch and the last, shorter one.
  struct Buffers {
    Tensor h1, h2, z, dz, d1, d2;  // (B, h) (B, h) (B, 1) (B, 1) (B, h) (B, h)
  };
  Buffers make_buffers(int64_t rows) const;
  static Buffers head(const Buffers& full, int64_t rows);
  void forward(const Tensor& x, Buffers& b);
  void step(const Tensor& x, const Tensor& y, Buffers& b, int64_t train_rows);

  C2stOptions options_;
  int64_t dim_, hidden_;
  Device device_;
  ParameterSet params_;
  Linear l1_, l2_, l3_;
  std::vector<Tensor> weights_, weight_grads_;  // views made once: the L2 penalty's operands
  Tensor initial_;                              // the initial weights, restored by every fit
  Generator after_init_;                        // the generator after the init draws
  Tensor acc_;                                  // (1,) float64 on device: the epoch loss
};

}  // namespace cusbi::metrics
