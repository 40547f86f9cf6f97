// NRE's training pieces (spec mcmc_nre.md §6.2-6.3): the contrastive losses of sbi's NRE_A,
// BNRE, NRE_B and NRE_C, each one fused pass that returns the batch-mean loss and its gradient
// with respect to the logits, and the atom construction that pairs each x with its own theta and
// K - 1 others from the minibatch. Everything runs on the logits' (or the requested) device;
// results are deterministic (fixed-order sums, counter-based random numbers) and equal on CPU
// and GPU up to float rounding (the atoms exactly).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cusbi/classifiers.hpp"
#include "cusbi/distributions.hpp"
#include "cusbi/inference.hpp"
#include "cusbi/mcmc.hpp"
#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// ---- losses: (loss, d loss / d logits); loss is a shape-() tensor on the logits' device -------

// NRE_B (SRE, sbi's NRE): logits (B, K), K >= 2, the true pair at column 0 (the layout of
// atom_rows). loss = -mean_i(f_i0 - logsumexp_k f_ik); grad (B, K) = (softmax - onehot_0) / B.
std::pair<Tensor, Tensor> nre_b_loss(const Tensor& logits);
// NRE_A (AALR): logits (B, 2) or (2B,) interleaved [joint_0, marginal_0, joint_1, ...] (the
// (B, 2) atoms of atom_rows with K = 2, flattened). Binary cross-entropy of sigmoid(logit)
// against label 1 (joint) / 0 (marginal), mean over the 2B items, evaluated from the logit
// (stable where sbi's sigmoid-then-BCELoss saturates, i.e. |logit| > ~16). grad shaped as logits.
std::pair<Tensor, Tensor> nre_a_loss(const Tensor& logits);
// BNRE: NRE_A's BCE + lambda * (mean_i[sigmoid(f_joint_i) + sigmoid(f_marginal_i)] - 1)^2 (the
// mean taken before squaring, as sbi's bnre.py); lambda = regularization_strength >= 0 (sbi's
// default 100). Same logits layout as nre_a_loss.
std::pair<Tensor, Tensor> bnre_loss(const Tensor& logits, float regularization_strength = 100.0f);

// NRE_C (contrastive NRE): marginal_logits (B, K + 1) from the (K+1)-atom draw, whose column 0
// (the joint pair) is dropped; joint_logits (B, K) from an independent K-atom draw, column 0
// joint; K >= 2 classes (sbi fails for K = 1), gamma > 0. Per row, with lg = log gamma:
//   l_m = log K - logsumexp([lg + g_1, ..., lg + g_K, log K]),
//   l_j = lg + h_0 - logsumexp([lg + h_0, ..., lg + h_{K-1}, log K]),
// loss = -mean_i(l_m / (1 + gamma) + gamma l_j / (1 + gamma)) (sbi's nre_c.py). grad_marginal's
// column 0 is 0.
struct NreCLoss {
  Tensor loss, grad_marginal, grad_joint;
};
NreCLoss nre_c_loss(const Tensor& marginal_logits, const Tensor& joint_logits, float gamma = 1.0f);

// out= forms for allocation-free training steps: loss (), grads shaped as the logits, all on the
// logits' device, float32; they allocate nothing.
void nre_b_loss(const Tensor& logits, Tensor& loss, Tensor& grad);
void nre_a_loss(const Tensor& logits, Tensor& loss, Tensor& grad);
void bnre_loss(const Tensor& logits, float regularization_strength, Tensor& loss, Tensor& grad);
void nre_c_loss(const Tensor& marginal_logits, const Tensor& joint_logits, float gamma,
                Tensor& loss, Tensor& grad_marginal, Tensor& grad_joint);

// ---- atoms -------------------------------------------------------------------------------------

// sbi's contrasting choice (RatioEstimatorTrainer._classifier_logits): int64 (B, K) on `device`,
// row i = [i, c_1, ..., c_{K-1}] with the c's distinct, drawn uniformly without replacement from
// {0..B-1} \ {i} and in uniformly random order. 2 <= num_atoms <= batch. Counter-based: reserves
// K - 1 counters of `generator` (the default generator when null); the same generator state
// gives the same indices on every device. The out= form writes an int64 (B, K) tensor.
Tensor contrasting_indices(int64_t batch, int64_t num_atoms, Device device,
                           Generator* generator = nullptr);
void contrasting_indices(Tensor& out, Generator* generator = nullptr);

// The classifier's inputs for the atoms: theta (B, D), x (B, C), indices int64 (B, K) from
// contrasting_indices, all on one device -> theta_out (B K, D) with row i K + k = theta[indices[i,
// k]] and x_out (B K, C) with row i K + k = x[i] (sbi's repeat_rows). Preallocated outputs on the
// same device, not overlapping the inputs; allocates nothing. The classifier's logits (B K,)
// reshaped to (B, K) are then the losses' input.
void atom_rows(const Tensor& theta, const Tensor& x, const Tensor& indices, Tensor& theta_out,
               Tensor& x_out);

// The tutorial's classifier_logits(net, theta, x, num_atoms) for custom loops: contrasting atoms
// drawn for the batch (contrasting_indices from `generator`, the default one when null), then
// net.forward over the B K atom rows: logits (B K,), row i K + k pairs x_i with theta of atom k
// (k = 0: its own). Reshape to (B, K) for nre_b_loss; net.backward takes the (B K,) gradient.
Tensor classifier_logits(RatioClassifier& net, const Tensor& theta, const Tensor& x,
                         int64_t num_atoms, Generator* generator = nullptr);

// ---- trainers ----------------------------------------------------------------------------------

enum class NreVariant {
  B,     // sbi's NRE = NRE_B (SRE): softmax over num_atoms atoms, true pair first
  A,     // NRE_A (AALR): binary, 2 atoms
  C,     // NRE_C (contrastive NRE): num_classes marginal classes and gamma
  BNRE,  // balanced NRE_A, regularization_strength
};

// sbi's NRE constructor and train() arguments that are not TrainOptions (defaults of sbi 0.27).
struct NreOptions {
  NreVariant variant = NreVariant::B;
  // NRE_B's atoms per row; clamped to [2, min(training batch, validation batch)] with a warning,
  // as sbi. NRE_A and BNRE use 2; NRE_C uses num_classes + 1 (also clamped).
  int64_t num_atoms = 10;
  int64_t num_classes = 5;                 // NRE_C's K
  float gamma = 1.0f;                      // NRE_C's odds of the joint class
  float regularization_strength = 100.0f;  // BNRE's lambda
  // sbi's classifier: "resnet" (default), "mlp" or "linear", with its builder options.
  std::string classifier = "resnet";
  ClassifierOptions classifier_options = {};
};

namespace detail {
struct NreState;  // host/inference/nre_state.hpp
}

// sbi's NRE trainers (first round): NRE (= NRE_B), NRE_A, NRE_C and BNRE over the training loop
// shared with NPE and NLE (sbi's defaults: batch 200, lr 5e-4, 10% validation, 20 epochs of
// patience, clip 5). The classifier is built from the training rows (z-scoring statistics),
// the atoms of each batch are drawn on the device from the training generator, and the loss is
// the variant's fused contrastive loss. Usage:
//   NRE nre(prior);  nre.append_simulations(theta, x);  nre.train();
//   MCMCPosterior posterior = nre.build_posterior();
class NRE {
 public:
  explicit NRE(const Distribution& prior, Device device = Device::best());
  NRE(const Distribution& prior, const NreOptions& options, Device device = Device::best());
  ~NRE();
  NRE(NRE&&) noexcept;
  NRE& operator=(NRE&&) noexcept;

  // theta (N, D), x (N, C), any device. As sbi's NRE, rows with NaN/inf raise a cusbi::Error
  // unless exclude_invalid_x (then they are dropped with a warning that results may be biased).
  NRE& append_simulations(const Tensor& theta, const Tensor& x, bool exclude_invalid_x = false);
  // Trains (TrainOptions as NPE's) and returns the classifier, owned by this NRE.
  RatioClassifier& train(const TrainOptions& options = {});
  // An MCMCPosterior over ratio_estimator_based_potential(deep copy of the classifier, prior),
  // proposal = prior, the prior's theta transform and sbi's MCMC defaults unless `options`.
  MCMCPosterior build_posterior(const MCMCOptions& options = {}) const;

  const TrainingSummary& summary() const;
  RatioClassifier& classifier();  // throws before train()
  const Distribution& prior() const;
  Device device() const;
  const NreOptions& options() const;
  const Tensor& theta() const;
  const Tensor& x() const;
  int64_t num_simulations() const;
  // The atoms per row the last train() used, after sbi's clamping (NRE_C: its classes).
  int64_t num_atoms() const;

 private:
  std::unique_ptr<detail::NreState> impl_;
};

// sbi's other names: NRE_B is NRE; NRE_A, NRE_C and BNRE set the variant.
using NRE_B = NRE;
NRE NRE_A(const Distribution& prior, Device device = Device::best());
NRE NRE_C(const Distribution& prior, int64_t num_classes = 5, float gamma = 1.0f,
          Device device = Device::best());
NRE BNRE(const Distribution& prior, float regularization_strength = 100.0f,
         Device device = Device::best());

}  // namespace cusbi
