// One of sbi's training loaders (a SubsetRandomSampler over a pool of rows, drop_last = True)
// without per-step allocation: each epoch's shuffled rows are gathered once into preallocated
// buffers, and the batches are row views of them made once.
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi::detail {

class BatchLoader {
 public:
  // `count` = |pool| / size batches of size = min(batch_option, |pool|) rows; the pool must
  // outlive the loader.
  BatchLoader(const std::vector<int64_t>& pool, int64_t batch_option, int64_t dim_theta,
              int64_t dim_x, Device device);

  // A new random order of the pool drawn from `g` (one permutation), the leftover rows dropped,
  // gathered from all_theta (N, D) and all_x (N, C) into the batches.
  void gather(const Tensor& all_theta, const Tensor& all_x, Generator& g);

  int64_t size() const { return size_; }
  int64_t count() const { return count_; }
  const Tensor& theta(int64_t k) const { return theta_batches_[static_cast<size_t>(k)]; }
  const Tensor& x(int64_t k) const { return x_batches_[static_cast<size_t>(k)]; }

 private:
  const std::vector<int64_t>* pool_;
  int64_t size_, count_;
  Tensor theta_, x_;  // (count * size, D), (count * size, C)
  std::vector<Tensor> theta_batches_, x_batches_;
  std::vector<int64_t> rows_;  // this epoch's gathered rows
};

}  // namespace cusbi::detail
