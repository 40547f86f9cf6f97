// BatchLoader: sbi's drop_last loader as row gathers into buffers sized once (see the header).
#include "host/inference/batch_loader.hpp"

#include <algorithm>

#include "cusbi/inference.hpp"

namespace cusbi::detail {

BatchLoader::BatchLoader(const std::vector<int64_t>& pool, int64_t batch_option, int64_t dim_theta,
                         int64_t dim_x, Device device)
    : pool_(&pool), size_(std::min<int64_t>(batch_option, static_cast<int64_t>(pool.size()))) {
  count_ = static_cast<int64_t>(pool.size()) / size_;
  theta_ = Tensor::empty({count_ * size_, dim_theta}, device);
  x_ = Tensor::empty({count_ * size_, dim_x}, device);
  for (int64_t k = 0; k < count_; ++k) {
    theta_batches_.push_back(theta_.slice_rows(k * size_, (k + 1) * size_));
    x_batches_.push_back(x_.slice_rows(k * size_, (k + 1) * size_));
  }
  rows_.resize(static_cast<size_t>(count_ * size_));
}

void BatchLoader::gather(const Tensor& all_theta, const Tensor& all_x, Generator& g) {
  const std::vector<int64_t> perm = random_permutation(static_cast<int64_t>(pool_->size()), &g);
  for (size_t i = 0; i < rows_.size(); ++i) rows_[i] = (*pool_)[static_cast<size_t>(perm[i])];
  take_rows(all_theta, rows_, theta_);
  take_rows(all_x, rows_, x_);
}

}  // namespace cusbi::detail
