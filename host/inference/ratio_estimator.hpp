// A ratio classifier as a TrainableEstimator (sbi's RatioEstimatorTrainer, spec mcmc_nre.md
// §6.2-6.3): per batch, the contrasting atoms (each x with its own theta at index 0 and K - 1
// others of the batch), one classifier forward over all atom rows, and the variant's fused loss
// (one scalar per batch, so losses_per_batch = 1). NRE_C's two independent atom draws go through
// one forward of B (2K + 1) rows so that one backward serves both.
#pragma once
#include <memory>

#include "cusbi/classifiers.hpp"
#include "cusbi/nre.hpp"
#include "host/inference/trainer.hpp"

namespace cusbi::detail {

class RatioEstimator final : public TrainableEstimator {
 public:
  explicit RatioEstimator(const NreOptions& options) : options_(options) {}

  bool has_network() const override { return classifier != nullptr; }
  void build_network(const Tensor& theta, const Tensor& x, Generator& g) override;
  Tensor parameters() override { return classifier->parameters(); }
  Tensor gradients() override { return classifier->gradients(); }
  void zero_grad() override { classifier->zero_grad(); }
  int64_t losses_per_batch(int64_t) const override { return 1; }
  void batch_loss(const Tensor& theta, const Tensor& x, Tensor& losses, bool training,
                  Generator& g) override;
  void backward(const Tensor& grad_losses) override;

  // The atoms per row for this variant (NRE_C: its K classes; the draws use K + 1 and K).
  int64_t num_atoms() const { return atoms_; }
  void set_num_atoms(int64_t atoms) { atoms_ = atoms; }
  const NreOptions& options() const { return options_; }

  std::shared_ptr<RatioClassifier> classifier;  // null before the first train()

 private:
  // Fills rows [first, first + B k) of the atom buffers with a fresh k-atom draw.
  void draw_atoms(const Tensor& theta, const Tensor& x, int64_t k, int64_t first, Generator& g);

  NreOptions options_;
  int64_t atoms_ = 0;
  // Grow-only workspaces: atom rows, their logits and d loss / d logits, the scalar loss.
  Tensor theta_rows_, x_rows_, indices_, logits_, grad_, loss_;
  int64_t rows_ = 0;  // atom rows of the last batch
};

}  // namespace cusbi::detail
