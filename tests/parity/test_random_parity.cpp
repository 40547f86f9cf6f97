// CUDA vs CPU random numbers: the same (seed, offset) must give the same draws on both devices,
// whatever the size or the generator's position. Skipped, and reported as skipped, without a GPU.
#include <cmath>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

const int64_t kSizes[] = {1, 7, 33, 65, 1000};
// A seed with high bits set exercises both 32-bit halves of the Philox key.
const uint64_t kSeeds[] = {0, 1234, 0xDEADBEEFCAFEF00DULL};

// rand is integer arithmetic and one exact scaling: bit-identical.
TEST(RandomParity, RandIsBitIdentical) {
  CUSBI_REQUIRE_GPU();
  for (uint64_t seed : kSeeds)
    for (int64_t n : kSizes) {
      Generator gc(seed), gg(seed);
      rand({5}, Device::cpu(), &gc);  // start both at a non-zero offset
      rand({5}, Device::cuda(), &gg);
      EXPECT_EQ(rand({n}, Device::cuda(), &gg).to_vector(),
                rand({n}, Device::cpu(), &gc).to_vector())
          << "seed " << seed << ", n " << n;
      EXPECT_EQ(gg.offset(), gc.offset());
    }
}

// uniform is one explicit fma on both devices (kern::philox_uniform_range), so bits agree.
TEST(RandomParity, UniformIsBitIdentical) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : kSizes) {
    Generator gc(77), gg(77);
    const Tensor c = uniform({n}, -3.0f, 5.0f, Device::cpu(), &gc);
    const Tensor g = uniform({n}, -3.0f, 5.0f, Device::cuda(), &gg);
    EXPECT_EQ(g.to_vector(), c.to_vector()) << n;
  }
}

// randn is Box-Muller in double: CUDA's double log/cos/sqrt are within 1-2 double ulp of
// glibc's, so after rounding to float the draws are equal or, rarely, 1 float ulp apart. rtol
// 2.5e-7 is 2 float ulp; atol 1e-12 covers values near zero, where the double error (~1e-16
// absolute) is large relative to the value. Most draws must match exactly.
TEST(RandomParity, RandnAgreesToAFewUlp) {
  CUSBI_REQUIRE_GPU();
  std::vector<int64_t> sizes(std::begin(kSizes), std::end(kSizes));
  sizes.push_back(100000);
  for (uint64_t seed : kSeeds)
    for (int64_t n : sizes) {
      Generator gc(seed), gg(seed);
      randn({3}, Device::cpu(), &gc);
      randn({3}, Device::cuda(), &gg);
      const auto c = randn({n}, Device::cpu(), &gc).to_vector();
      const auto g = randn({n}, Device::cuda(), &gg).to_vector();
      EXPECT_TRUE(cusbi::testing::all_close(g, c, 1e-12, 2.5e-7)) << "seed " << seed << ", n " << n;
      int64_t exact = 0;
      for (size_t i = 0; i < c.size(); ++i) exact += c[i] == g[i];
      EXPECT_GE(exact, n * 99 / 100) << "seed " << seed << ", n " << n;
    }
}

// Same seed, same device, same bits: a GPU draw repeated from a reset generator.
TEST(RandomParity, GpuDrawsAreReproducible) {
  CUSBI_REQUIRE_GPU();
  Generator g(9);
  const auto first = randn({4096}, Device::cuda(), &g).to_vector();
  g.manual_seed(9);
  EXPECT_EQ(randn({4096}, Device::cuda(), &g).to_vector(), first);
  const Tensor like = Tensor::zeros({3, 4}, Device::cuda());
  EXPECT_TRUE(rand_like(like, &g).device().is_cuda());
  EXPECT_TRUE(randn_like(like, &g).device().is_cuda());
}

}  // namespace
}  // namespace cusbi
