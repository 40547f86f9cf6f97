// Typed tensors on the GPU: int32/int64/uint32 buffers survive to(), clone(), copy_ between
// devices, views and zero_ with every bit intact (copies only, so comparisons are exact).
// Skipped, and reported as skipped, without a GPU.
#include <cstdint>
#include <limits>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

template <class T>
void expect_gpu_round_trip() {
  const std::vector<T> v = {std::numeric_limits<T>::min(), T(0), T(1),
                            std::numeric_limits<T>::max(), T(5), T(6)};
  for (int64_t n : {1, 7, 33, 65, 1000}) {
    std::vector<T> big(static_cast<size_t>(n));
    for (size_t i = 0; i < big.size(); ++i) big[i] = v[i % v.size()];
    const Tensor g = Tensor::from(big, {n}, Device::cuda());
    EXPECT_EQ(g.dtype(), dtype_of<T>());
    EXPECT_EQ(g.to_vector_as<T>(), big) << n;
    EXPECT_EQ(g.clone().to(Device::cpu()).to_vector_as<T>(), big) << n;
    Tensor back = Tensor::zeros({n}, dtype_of<T>(), Device::cpu());
    back.copy_(g);
    EXPECT_EQ(back.to_vector_as<T>(), big) << n;
    Tensor z = g.clone();
    z.slice_rows(n / 2, n).zero_();  // only the view is cleared
    std::vector<T> expected = big;
    for (size_t i = static_cast<size_t>(n / 2); i < expected.size(); ++i) expected[i] = T(0);
    EXPECT_EQ(z.to_vector_as<T>(), expected) << n;
  }
}

TEST(TensorDTypeParity, Int32) {
  CUSBI_REQUIRE_GPU();
  expect_gpu_round_trip<int32_t>();
}
TEST(TensorDTypeParity, Int64) {
  CUSBI_REQUIRE_GPU();
  expect_gpu_round_trip<int64_t>();
}
TEST(TensorDTypeParity, UInt32) {
  CUSBI_REQUIRE_GPU();
  expect_gpu_round_trip<uint32_t>();
}

}  // namespace
}  // namespace cusbi
