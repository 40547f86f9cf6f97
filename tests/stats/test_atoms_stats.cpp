// Statistics of NRE's contrasting indices (spec mcmc_nre.md §6.2) over many draws at B = 20,
// K = 10: column 0 is the row itself, the others are distinct and never the row, every other
// row is chosen with frequency (K - 1) / (B - 1) (sbi's multinomial over (1 - I) / (B - 1)
// without replacement), and each column position is uniform too (the order is random).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cusbi/nre.hpp"

namespace cusbi {
namespace {

constexpr int64_t kB = 20, kK = 10, kDraws = 4000;

TEST(AtomsStats, UniformWithoutReplacementExcludingSelf) {
  Generator gen(20261205);
  // chosen[i][j]: draws in which row i picked j; at[i][c][j]: draws with j in column c.
  std::vector<int64_t> chosen(kB * kB, 0), at(kB * kK * kB, 0);
  for (int64_t d = 0; d < kDraws; ++d) {
    const std::vector<int64_t> idx =
        contrasting_indices(kB, kK, Device::cpu(), &gen).to_vector_as<int64_t>();
    for (int64_t i = 0; i < kB; ++i) {
      const int64_t* row = idx.data() + i * kK;
      ASSERT_EQ(row[0], i);
      for (int64_t c = 1; c < kK; ++c) {
        ASSERT_TRUE(row[c] >= 0 && row[c] < kB && row[c] != i) << "row " << i << ": " << row[c];
        for (int64_t e = 1; e < c; ++e) ASSERT_NE(row[e], row[c]) << "repeat in row " << i;
        ++chosen[i * kB + row[c]];
        ++at[(i * kK + c) * kB + row[c]];
      }
    }
  }
  // Each count is Binomial(kDraws, p). 5.5 standard deviations: a correct sampler exceeds it
  // in a given cell with probability 4e-8, so over the 380 (and 3420) cells about 1e-4; a
  // sampler that favours low indices, or includes i, or repeats, moves cells by far more
  // (e.g. a 5% bias in p is 8 sd here).
  const double p = double(kK - 1) / double(kB - 1);
  const double sd = std::sqrt(kDraws * p * (1 - p));
  const double q = 1.0 / double(kB - 1), sd_q = std::sqrt(kDraws * q * (1 - q));
  for (int64_t i = 0; i < kB; ++i)
    for (int64_t j = 0; j < kB; ++j) {
      if (j == i) {
        EXPECT_EQ(chosen[i * kB + j], 0);
        continue;
      }
      EXPECT_NEAR(double(chosen[i * kB + j]), kDraws * p, 5.5 * sd) << i << ", " << j;
      for (int64_t c = 1; c < kK; ++c)
        EXPECT_NEAR(double(at[(i * kK + c) * kB + j]), kDraws * q, 5.5 * sd_q)
            << "row " << i << " column " << c << " index " << j;
    }
}

// The smallest batch: K = B, so every row holds all B indices, and B = 2 has one choice.
TEST(AtomsStats, FullRowsArePermutations) {
  Generator gen(3);
  for (int64_t b : {2, 3, 7}) {
    const std::vector<int64_t> idx =
        contrasting_indices(b, b, Device::cpu(), &gen).to_vector_as<int64_t>();
    for (int64_t i = 0; i < b; ++i) {
      std::vector<int> seen(b, 0);
      for (int64_t c = 0; c < b; ++c) ++seen[idx[i * b + c]];
      for (int64_t j = 0; j < b; ++j) EXPECT_EQ(seen[j], 1);
      EXPECT_EQ(idx[i * b], i);
    }
  }
}

}  // namespace
}  // namespace cusbi
