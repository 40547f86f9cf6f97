// MlpClassifier (see the header): sklearn MLPClassifier's training loop (_fit_stochastic) on
// cusbi's layers. One difference: cusbi's Adam adds eps to sqrt(v_hat) (torch), sklearn adds it
// to sqrt(v) and folds sqrt(1 - beta2^t) into the step size, i.e. sklearn's eps is
// eps / sqrt(1 - beta2^t) in torch's form: <= 3.2e-7 at the first step, -> 1e-8 later, against
// sqrt(v_hat) ~ |gradient| ~ 1e-3..1e-1, so the updates differ by well under 0.1%.
#include "host/metrics/mlp_classifier.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cusbi/error.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/optim.hpp"
#include "host/metrics/loss.hpp"

namespace cusbi::metrics {

namespace {

// sklearn's _init_coef with a ReLU network: Glorot uniform, factor 6 (2 only when the hidden
// activation is logistic), the same bound for the weights and the biases of every layer,
// including the logistic output layer.
float glorot_bound(int64_t fan_in, int64_t fan_out) {
  return static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)));
}

// The shuffle stream is a second key of the same seed, so the weights and the shuffles differ
// from the fold permutation (host/metrics/c2st.cpp) drawn from `seed` itself.
constexpr uint64_t kInitStream = 0x6d6c70696e6974ULL;  // "mlpinit"

}  // namespace

MlpClassifier::MlpClassifier(int64_t dim, const C2stOptions& options, Device device)
    : options_(options), dim_(dim), hidden_(options.hidden_multiplier * dim), device_(device) {
  l1_ = Linear(params_, "l1", dim_, hidden_, glorot_bound(dim_, hidden_));
  l2_ = Linear(params_, "l2", hidden_, hidden_, glorot_bound(hidden_, hidden_));
  l3_ = Linear(params_, "l3", hidden_, 1, glorot_bound(hidden_, 1));
  Generator g(options.seed ^ kInitStream);
  params_.materialize(device_, g);
  after_init_ = g;
  initial_ = params_.values().clone();
  for (const Linear* l : {&l1_, &l2_, &l3_}) {
    weights_.push_back(params_.value(l->weight_slot()).reshape({-1}));
    weight_grads_.push_back(params_.grad(l->weight_slot()).reshape({-1}));
  }
  acc_ = Tensor::zeros({1}, DType::Float64, device_);
}

MlpClassifier::Buffers MlpClassifier::make_buffers(int64_t rows) const {
  Buffers b;
  b.h1 = Tensor::empty({rows, hidden_}, device_);
  b.h2 = Tensor::empty({rows, hidden_}, device_);
  b.z = Tensor::empty({rows, 1}, device_);
  b.dz = Tensor::empty({rows, 1}, device_);
  b.d1 = Tensor::empty({rows, hidden_}, device_);
  b.d2 = Tensor::empty({rows, hidden_}, device_);
  return b;
}

MlpClassifier::Buffers MlpClassifier::head(const Buffers& full, int64_t rows) {
  return {full.h1.slice_rows(0, rows), full.h2.slice_rows(0, rows), full.z.slice_rows(0, rows),
          full.dz.slice_rows(0, rows), full.d1.slice_rows(0, rows), full.d2.slice_rows(0, rows)};
}

// ReLU in place: backward needs only the sign pattern, which the output keeps.
void MlpClassifier::forward(const Tensor& x, Buffers& b) {
  l1_.forward(params_, x, b.h1);
  relu_forward(b.h1, b.h1);
  l2_.forward(params_, b.h1, b.h2);
  relu_forward(b.h2, b.h2);
  l3_.forward(params_, b.h2, b.z);
}

// One Adam step on a batch, as sklearn's _backprop: the loss is the batch mean of the log-loss
// plus 0.5 alpha ||W||^2 / rows, accumulated into acc_ weighted by rows / train_rows (the epoch
// loss is sklearn's sum of batch_loss * rows / n); the penalty uses the weights before the step.
void MlpClassifier::step(const Tensor& x, const Tensor& y, Buffers& b, int64_t train_rows) {
  const int64_t rows = x.size(0);
  const double alpha = options_.l2, inv_n = 1.0 / static_cast<double>(train_rows);
  forward(x, b);
  params_.zero_grad();
  bce_loss(b.z, y, 1.0f / static_cast<float>(rows), inv_n, b.dz, acc_);
  for (size_t k = 0; k < weights_.size(); ++k)
    l2_penalty(weights_[k], static_cast<float>(alpha / static_cast<double>(rows)),
               0.5 * alpha * inv_n, weight_grads_[k], acc_);
  l3_.backward(params_, b.h2, b.dz, &b.d2);
  relu_backward(b.h2, b.d2, b.d2);
  l2_.backward(params_, b.h1, b.d2, &b.d1);
  relu_backward(b.h1, b.d1, b.d1);
  l1_.backward(params_, x, b.d1, nullptr);
}

int64_t MlpClassifier::fit(const Tensor& x, const Tensor& labels, const EpochCallback& on_epoch,
                           int64_t fold) {
  const int64_t n = x.size(0);
  const int64_t batch = std::min(options_.batch_size, n);
  const int64_t full = n / batch, rest = n % batch;
  params_.values().copy_(initial_);
  AdamOptions adam_options;
  adam_options.lr = options_.learning_rate;
  Adam adam(params_.values(), params_.grads(), adam_options);
  Generator g = after_init_;

  // The epoch's shuffled rows are gathered once into ex / ey; batches are row views made here.
  Tensor ex = Tensor::empty({n, dim_}, device_), ey = Tensor::empty({n, 1}, device_);
  Tensor index_host = Tensor::empty({n}, DType::Int64, Device::cpu());
  Tensor index = device_.is_cpu() ? index_host : Tensor::empty({n}, DType::Int64, device_);
  std::vector<Tensor> bx, by;
  for (int64_t s = 0; s < n; s += batch) {
    bx.push_back(ex.slice_rows(s, std::min(n, s + batch)));
    by.push_back(ey.slice_rows(s, std::min(n, s + batch)));
  }
  Buffers full_buffers = make_buffers(batch);
  Buffers last_buffers = head(full_buffers, rest > 0 ? rest : batch);

  double best = std::numeric_limits<double>::infinity();
  int64_t stalled = 0, epoch = 0;
  int64_t* host_rows = index_host.data_as<int64_t>();
  while (epoch < options_.max_epochs) {
    const std::vector<int64_t> perm = random_permutation(n, &g);
    std::copy(perm.begin(), perm.end(), host_rows);
    if (!device_.is_cpu()) index.copy_(index_host);
    take_rows(x, index, ex);
    take_rows(labels, index, ey);
    acc_.zero_();
    for (size_t k = 0; k < bx.size(); ++k) {
      step(bx[k], by[k], static_cast<int64_t>(k) < full ? full_buffers : last_buffers, n);
      adam.step();
    }
    ++epoch;
    const double loss = acc_.to_vector_as<double>()[0];
    CUSBI_CHECK(std::isfinite(loss), "c2st: the classifier's training loss became "
                                         << loss << " at epoch " << epoch << " of fold " << fold
                                         << "; check the samples for extreme values");
    // sklearn's _update_no_improvement_count (early_stopping=False): stop once the loss has
    // failed to beat the best by tol more than n_iter_no_change epochs in a row.
    stalled = loss > best - options_.tol ? stalled + 1 : 0;
    best = std::min(best, loss);
    if (on_epoch) on_epoch(epoch, loss);
    if (stalled > options_.n_iter_no_change) break;
  }
  return epoch;
}

double MlpClassifier::accuracy(const Tensor& x, const Tensor& labels) {
  const int64_t n = x.size(0);
  if (n == 0) return 0.0;
  const int64_t batch = std::min(options_.batch_size, n);
  Buffers buffers = make_buffers(batch);
  Tensor logits = Tensor::empty({n, 1}, device_);
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t e = std::min(n, s + batch);
    Buffers b = head(buffers, e - s);
    b.z = logits.slice_rows(s, e);
    forward(x.slice_rows(s, e), b);
  }
  const std::vector<float> z = logits.to_vector(), y = labels.to_vector();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) correct += (z[i] > 0.0f) == (y[i] > 0.5f) ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace cusbi::metrics
