// take_rows with int64 index tensors on the CPU: the same rows as the host-vector form, no
// allocation once out and the indices exist, and every misuse (out-of-range index, wrong dtype
// or rank of the indices) named. A gather copies floats, so comparisons are exact.
#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

const Device kCpu = Device::cpu();

Tensor rows_0_to_n(int64_t n, int64_t width) {
  std::vector<float> v;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < width; ++c) v.push_back(static_cast<float>(10 * r + c));
  return Tensor::from(v, {n, width}, kCpu);
}

TEST(TakeRowsIndices, MatchesTheHostVectorForm) {
  const Tensor src = rows_0_to_n(5, 3);
  const std::vector<int64_t> rows = {4, 0, 4, 2};
  const Tensor idx = Tensor::from(rows, {4}, kCpu);
  Tensor out = Tensor::empty({4, 3}, kCpu);
  take_rows(src, idx, out);
  EXPECT_EQ(out.to_vector(), take_rows(src, rows).to_vector());
  EXPECT_EQ(out[1].to_vector(), (std::vector<float>{0, 1, 2}));
  const int64_t before = detail::allocation_count();
  take_rows(src, idx, out);
  take_rows(src, rows, out);  // the host-vector form uploads nothing on the CPU either
  EXPECT_EQ(detail::allocation_count(), before);
  // A 3-D source keeps its trailing dimensions; a slice of an index buffer works as indices.
  Tensor out3 = Tensor::empty({2, 3, 1}, kCpu);
  take_rows(src.reshape({5, 3, 1}), idx.slice_rows(1, 3), out3);
  EXPECT_EQ(out3.to_vector(), (std::vector<float>{0, 1, 2, 40, 41, 42}));
}

TEST(TakeRowsIndices, OutOfRangeIndexThrowsOnTheCpu) {
  const Tensor src = rows_0_to_n(4, 2);
  Tensor out = Tensor::empty({2, 2}, kCpu);
  const std::string high = error_of([&] {
    take_rows(src, Tensor::from(std::vector<int64_t>{1, 4}, {2}, kCpu), out);
  });
  EXPECT_TRUE(contains(high, "index 4 (position 1)"));
  EXPECT_TRUE(contains(high, "[0, 4)"));
  EXPECT_TRUE(contains(error_of([&] {
                         take_rows(src, Tensor::from(std::vector<int64_t>{-1, 0}, {2}, kCpu), out);
                       }),
                       "index -1 (position 0)"));
}

TEST(TakeRowsIndices, IndicesMustBeOneDimInt64) {
  const Tensor src = rows_0_to_n(4, 2);
  Tensor out = Tensor::empty({2, 2}, kCpu);
  const Tensor i32 = Tensor::from(std::vector<int32_t>{0, 1}, {2}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { take_rows(src, i32, out); }),
                       "indices must be a 1-D int64 tensor, got int32 of shape (2,)"));
  const Tensor two_d = Tensor::from(std::vector<int64_t>{0, 1}, {1, 2}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { take_rows(src, two_d, out); }), "shape (1, 2)"));
  const Tensor idx = Tensor::from(std::vector<int64_t>{0, 1, 2}, {3}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { take_rows(src, idx, out); }), "expected (3, 2)"));
}

}  // namespace
}  // namespace cusbi
