// CPU training on row parts (host/exec/row_parts.hpp, runner.hpp): a batch cut into parts gives the
// gradients of the whole batch (compared with rows sent one at a time, which never cut), the
// same bits for any OpenMP thread count, and the input gradient in row order.
#include <omp.h>

#include <cmath>

#include "cusbi/cusbi.hpp"
#include "host/exec/row_parts.hpp"
#include "support/test_support.hpp"

namespace cusbi::testing {
namespace {

struct Batch {
  Tensor theta, x, grad;
};

Batch make_batch(int64_t rows, uint64_t seed) {
  Generator g(seed);
  Batch b;
  b.theta = randn({rows, 3}, Device::cpu(), &g);
  b.x = randn({rows, 2}, Device::cpu(), &g);
  b.grad = rand({rows}, Device::cpu(), &g);  // unequal row weights: a row mix-up shows
  return b;
}

using testing::small_flow;

TEST(NsfCpuParts, CutDependsOnRowsOnly) {
  EXPECT_EQ(exec::row_parts(100), 1);
  EXPECT_EQ(exec::row_parts(200), 2);  // sbi's batch: 100 + 100 rows
  EXPECT_EQ(exec::row_parts(1000), 8);
  EXPECT_EQ(exec::row_parts(5000), 16);
  EXPECT_EQ(exec::row_parts(100000), 1);  // large batches parallelise each operation
  for (const int64_t rows : {201, 999, 1023})
    for (int64_t parts = exec::row_parts(rows), k = 0; k < parts; ++k)
      EXPECT_LE(exec::part_begin(rows, parts, k + 1) - exec::part_begin(rows, parts, k),
                rows / parts + 1);
}

TEST(NsfCpuParts, PartedGradientsEqualRowByRowGradients) {
  const int64_t rows = 300;  // 4 parts of 75
  ASSERT_EQ(exec::row_parts(rows), 4);
  NeuralSplineFlow flow = small_flow();
  const Batch b = make_batch(rows, 7);
  flow.zero_grad();
  flow.loss(b.theta, b.x);
  Tensor grad_input;
  flow.backward(b.grad, &grad_input);
  const std::vector<float> parted = flow.gradients().to_vector();
  const std::vector<float> parted_input = grad_input.to_vector();

  flow.zero_grad();
  std::vector<float> row_input;
  const std::vector<float> g = b.grad.to_vector();
  for (int64_t r = 0; r < rows; ++r) {
    flow.loss(b.theta.slice_rows(r, r + 1), b.x.slice_rows(r, r + 1));
    Tensor gi;
    flow.backward(Tensor::from({g[size_t(r)]}, {1}, Device::cpu()), &gi);
    const std::vector<float> v = gi.to_vector();
    row_input.insert(row_input.end(), v.begin(), v.end());
  }
  // Same sums in another order: float rounding of a 300-term sum, ~1e-5 of the largest terms;
  // a lost or doubled part would change the gradients by ~25%.
  EXPECT_TRUE(all_close(parted, flow.gradients().to_vector(), 1e-4, 1e-4));
  // Each row's input gradient comes from that row alone: the same operations, so equal up to
  // the GEMM blocking of a 75-row vs a 1-row product.
  EXPECT_TRUE(all_close(parted_input, row_input, 1e-5, 1e-5));
}

TEST(NsfCpuParts, SameBitsForAnyThreadCount) {
  NeuralSplineFlow flow = small_flow();
  const Batch b = make_batch(1000, 9);  // 8 parts
  const int threads_before = omp_get_max_threads();
  std::vector<std::vector<float>> grads, losses;
  for (const int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    flow.zero_grad();
    losses.push_back(flow.loss(b.theta, b.x).to_vector());
    flow.backward(b.grad);
    grads.push_back(flow.gradients().to_vector());
  }
  omp_set_num_threads(threads_before);
  EXPECT_EQ(losses[1], losses[0]);
  EXPECT_EQ(losses[2], losses[0]);
  EXPECT_EQ(grads[1], grads[0]);
  EXPECT_EQ(grads[2], grads[0]);
}

}  // namespace
}  // namespace cusbi::testing
