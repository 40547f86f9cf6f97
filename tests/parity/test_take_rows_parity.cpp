// take_rows on the GPU against the CPU loop: a gather moves floats without arithmetic, so the
// results must be bit-identical, at awkward row counts and widths, with repeated indices, into
// a preallocated buffer, from a 3-D source, and with int64 indices already on the GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

std::vector<int64_t> random_rows(int64_t count, int64_t n, Generator& g) {
  const std::vector<float> u = rand({count}, Device::cpu(), &g).to_vector();
  std::vector<int64_t> rows;
  for (float v : u) rows.push_back(static_cast<int64_t>(v * static_cast<float>(n)) % n);
  return rows;
}

TEST(TakeRowsParity, CudaMatchesCpuExactly) {
  CUSBI_REQUIRE_GPU();
  Generator g(1);
  for (int64_t n : {1, 7, 33, 65, 1000}) {
    for (int64_t width : {1, 3, 17}) {
      const Tensor src = randn({n, width}, Device::cpu(), &g);
      const Tensor src_gpu = src.to(Device::cuda());
      const std::vector<int64_t> rows = random_rows(n + 5, n, g);  // more rows than n: repeats
      const Tensor cpu = take_rows(src, rows);
      const Tensor gpu = take_rows(src_gpu, rows);
      EXPECT_EQ(gpu.device(), Device::cuda());
      EXPECT_EQ(gpu.shape(), cpu.shape());
      EXPECT_EQ(gpu.to_vector(), cpu.to_vector()) << "n " << n << ", width " << width;
      Tensor into = Tensor::zeros({static_cast<int64_t>(rows.size()), width}, Device::cuda());
      take_rows(src_gpu, rows, into);
      EXPECT_EQ(into.to_vector(), cpu.to_vector()) << "preallocated, n " << n;
    }
  }
}

TEST(TakeRowsParity, KeepsTrailingDimensionsAndEmptyLists) {
  CUSBI_REQUIRE_GPU();
  Generator g(2);
  const Tensor src = randn({9, 4, 5}, Device::cpu(), &g);
  const std::vector<int64_t> rows = {8, 0, 4, 4};
  const Tensor gpu = take_rows(src.to(Device::cuda()), rows);
  EXPECT_EQ(gpu.shape(), (Shape{4, 4, 5}));
  EXPECT_EQ(gpu.to_vector(), take_rows(src, rows).to_vector());
  EXPECT_EQ(take_rows(src.to(Device::cuda()), {}).shape(), (Shape{0, 4, 5}));
}

// Indices already on the GPU (int64 tensor): the same rows as the CPU, bit for bit.
TEST(TakeRowsParity, DeviceIndicesMatchCpu) {
  CUSBI_REQUIRE_GPU();
  Generator g(3);
  for (int64_t n : {1, 7, 33, 65, 1000}) {
    const Tensor src = randn({n, 5}, Device::cpu(), &g);
    const std::vector<int64_t> rows = random_rows(n + 3, n, g);
    const Tensor idx = Tensor::from(rows, {n + 3}, Device::cuda());
    Tensor out = Tensor::empty({n + 3, 5}, Device::cuda());
    take_rows(src.to(Device::cuda()), idx, out);
    EXPECT_EQ(out.to_vector(), take_rows(src, rows).to_vector()) << "n " << n;
  }
}

// The GPU does not check indices (no read-back); an out-of-range row comes out NaN instead of
// reading outside src, and the in-range rows are still right.
TEST(TakeRowsParity, OutOfRangeDeviceIndexGivesNaNRows) {
  CUSBI_REQUIRE_GPU();
  const Tensor src = Tensor::from({1, 2, 3, 4}, {2, 2}, Device::cuda());
  const Tensor idx = Tensor::from(std::vector<int64_t>{1, 2, -1}, {3}, Device::cuda());
  Tensor out = Tensor::empty({3, 2}, Device::cuda());
  take_rows(src, idx, out);
  const std::vector<float> v = out.to_vector();
  EXPECT_EQ(v[0], 3.0f);
  EXPECT_EQ(v[1], 4.0f);
  for (size_t i = 2; i < 6; ++i) EXPECT_TRUE(std::isnan(v[i])) << i;
}

}  // namespace
}  // namespace cusbi
