// The data side of C2ST (host/metrics/c2st.cpp): input checks, sbibm's z-scoring with the
// reference set's statistics, and sklearn KFold's fold sizes.
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/metrics.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi::metrics {

// Throws cusbi::Error naming the problem for inputs or options c2st cannot take.
void check_c2st_inputs(const Tensor& x, const Tensor& y, const C2stOptions& options);
// (x - mean_x) / std_x and (y - mean_x) / std_x, as sbibm (torch.mean, torch.std: unbiased),
// statistics computed in double on the host. Throws for a zero-variance column of x.
void z_score(const Tensor& x, const Tensor& y, Tensor& x_out, Tensor& y_out);
// sklearn KFold: fold k has n / folds rows, plus one for the first n % folds folds.
std::vector<int64_t> kfold_sizes(int64_t n, int64_t folds);

}  // namespace cusbi::metrics
