// General (numpy) broadcasting and the out= forms on the CPU. Broadcast results are compared
// with a reference that indexes each operand per dimension (independent of the library's
// merged-dimension plan); out= forms must equal the allocating forms bit for bit and allocate
// nothing once out exists. + - * / are single correctly rounded IEEE operations and reductions
// run the same code in either form, so every comparison here is exact (tolerance 0).
#include <functional>
#include <random>

#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

const Device kCpu = Device::cpu();

// Values in [0.5, 2): away from 0, so quotients stay finite.
Tensor random_tensor(const Shape& shape, unsigned seed, float lo = 0.5f, float hi = 2.0f) {
  return testing::random_tensor(shape, lo, hi, seed);
}

// Element of `t` (shape s) that output multi-index `idx` (of rank r) reads under numpy rules.
float at_broadcast(const std::vector<float>& t, const Shape& s, const std::vector<int64_t>& idx) {
  int64_t flat = 0;
  const size_t off = idx.size() - s.size();
  for (size_t d = 0; d < s.size(); ++d) flat = flat * s[d] + (s[d] == 1 ? 0 : idx[d + off]);
  return t[static_cast<size_t>(flat)];
}

std::vector<float> reference(const Tensor& a, const Tensor& b, const Shape& out,
                             const std::function<float(float, float)>& f) {
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  std::vector<float> r(static_cast<size_t>(shape_numel(out)));
  std::vector<int64_t> idx(out.size(), 0);
  for (size_t i = 0; i < r.size(); ++i) {
    int64_t rest = static_cast<int64_t>(i);
    for (size_t d = out.size(); d-- > 0;) {
      idx[d] = rest % out[d];
      rest /= out[d];
    }
    r[i] = f(at_broadcast(va, a.shape(), idx), at_broadcast(vb, b.shape(), idx));
  }
  return r;
}

struct Case {
  Shape a, b, out;
};

const std::vector<Case> kCases = {{{5, 1}, {5, 3}, {5, 3}},
                                  {{5, 3}, {5, 1}, {5, 3}},
                                  {{1, 3}, {5, 1}, {5, 3}},
                                  {{5, 3}, {3}, {5, 3}},
                                  {{4, 1, 3}, {1, 2, 1}, {4, 2, 3}},
                                  {{4, 2, 3}, {4, 1, 3}, {4, 2, 3}},
                                  {{2, 1, 3}, {5, 1}, {2, 5, 3}},
                                  {{1}, {2, 3}, {2, 3}},
                                  {{3, 1, 1}, {3, 2, 4}, {3, 2, 4}},
                                  {{0, 1}, {0, 3}, {0, 3}},
                                  {{2, 1, 3, 1, 2}, {1, 4, 1, 5, 1}, {2, 4, 3, 5, 2}}};

const std::vector<
    std::pair<void (*)(const Tensor&, const Tensor&, Tensor&), std::function<float(float, float)>>>
    kOps = {{add, std::plus<float>()},
            {sub, std::minus<float>()},
            {mul, std::multiplies<float>()},
            {div, std::divides<float>()}};

TEST(OpsBroadcast, EveryPatternMatchesPerDimensionReference) {
  for (const Case& c : kCases) {
    const Tensor a = random_tensor(c.a, 1), b = random_tensor(c.b, 2, -2.0f, 2.0f);
    const std::string where = shape_str(c.a) + " with " + shape_str(c.b);
    EXPECT_EQ((a + b).shape(), c.out) << where;
    EXPECT_EQ((a + b).to_vector(), reference(a, b, c.out, std::plus<float>())) << where;
    EXPECT_EQ((a - b).to_vector(), reference(a, b, c.out, std::minus<float>())) << where;
    EXPECT_EQ((a * b).to_vector(), reference(a, b, c.out, std::multiplies<float>())) << where;
    EXPECT_EQ((a / b).to_vector(), reference(a, b, c.out, std::divides<float>())) << where;
  }
}

// Above the OpenMP threshold (32768 elements) the loops run on threads; each element is still
// computed on its own, so the result is the reference's bits.
TEST(OpsBroadcast, LargeBroadcastRunsThreadedWithTheSameBits) {
  const Tensor a = random_tensor({5000, 1}, 11), b = random_tensor({1, 9}, 12);
  const Tensor c = random_tensor({5000, 9}, 13);
  EXPECT_EQ((a * b).to_vector(), reference(a, b, {5000, 9}, std::multiplies<float>()));
  EXPECT_EQ((c - a).to_vector(), reference(c, a, {5000, 9}, std::minus<float>()));
  Tensor out = Tensor::empty({5000, 9}, kCpu);
  where(a, c, 0.5f, out);  // a lies in [0.5, 2): nonzero everywhere, every element kept
  EXPECT_EQ(out.to_vector(), c.to_vector());
}

TEST(OpsBroadcast, LargeSuffixBroadcastsRunInRangesWithTheSameBits) {
  // 5000 x 9 = 45000 elements (above the parallel threshold, 1 << 15) run as 6 ranges of 7500
  // elements, which start mid-row (7500 = 833 x 9 + 3): the repeating operand's index must
  // start at the right column and wrap.
  const Tensor c = random_tensor({5000, 9}, 21), v = random_tensor({9}, 22);
  EXPECT_EQ((c + v).to_vector(), reference(c, v, {5000, 9}, std::plus<float>()));
  EXPECT_EQ((v / c).to_vector(), reference(v, c, {5000, 9}, std::divides<float>()));
  EXPECT_EQ((c * 3.0f).to_vector(),
            reference(c, Tensor::full({1}, 3.0f, kCpu), {5000, 9}, std::multiplies<float>()));
}

TEST(OpsBroadcast, IncompatibleShapesNameBoth) {
  const std::string msg = error_of([] {
    Tensor::zeros({4, 3}, kCpu) * Tensor::zeros({2, 1, 2}, kCpu);
  });
  EXPECT_TRUE(contains(msg, "operator*: shapes (4, 3) and (2, 1, 2) do not broadcast"));
  EXPECT_TRUE(contains(error_of([] {
                         Tensor::zeros({5, 2}, kCpu) + Tensor::zeros({5}, kCpu);
                       }),
                       "(5, 2) and (5,)"));
}

TEST(OpsBroadcast, TooManyAlternatingDimsIsAClearError) {
  // 7 dimensions alternating broadcast/full in both operands cannot merge into 6.
  const Shape a = {2, 1, 2, 1, 2, 1, 2}, b = {1, 2, 1, 2, 1, 2, 1};
  const std::string msg = error_of([&] { Tensor::zeros(a, kCpu) + Tensor::zeros(b, kCpu); });
  EXPECT_TRUE(contains(msg, "more than 6 times"));
}

TEST(OpsOut, BinaryOutEqualsAllocatingFormAndAllocatesNothing) {
  for (const Case& c : kCases) {
    const Tensor a = random_tensor(c.a, 3), b = random_tensor(c.b, 4, -2.0f, 2.0f);
    Tensor out = Tensor::empty(c.out, kCpu);
    for (const auto& [op, f] : kOps) {
      op(a, b, out);
      EXPECT_EQ(out.to_vector(), reference(a, b, c.out, f)) << shape_str(c.a);
    }
    add(a, b, out);
    EXPECT_EQ(out.to_vector(), (a + b).to_vector());
    const int64_t before = detail::allocation_count();
    for (const auto& [op, f] : kOps) op(a, b, out);
    EXPECT_EQ(detail::allocation_count(), before) << shape_str(c.a) << " with " << shape_str(c.b);
  }
}

TEST(OpsOut, BinaryOutMayBeAnOperandItself) {
  const Tensor x = random_tensor({6, 4}, 5), col = random_tensor({6, 1}, 6);
  const std::vector<float> expected = (x * col).to_vector();
  Tensor acc = x.clone();
  mul(acc, col, acc);  // in place: acc *= col, broadcast along rows
  EXPECT_EQ(acc.to_vector(), expected);
  Tensor acc2 = x.clone();
  add(acc2, acc2, acc2);  // every operand the same tensor
  EXPECT_EQ(acc2.to_vector(), (x + x).to_vector());
}

TEST(OpsOut, BinaryOutChecksShapeDTypeAndOverlap) {
  const Tensor a = Tensor::zeros({3, 4}, kCpu), b = Tensor::zeros({3, 1}, kCpu);
  Tensor wrong = Tensor::empty({3, 1}, kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { add(a, b, wrong); }), "add: out has shape (3, 1), expected (3, 4)"));
  Tensor ints = Tensor::empty({3, 4}, DType::Int64, kCpu);
  EXPECT_TRUE(contains(error_of([&] { sub(a, b, ints); }), "out is int64"));
  Tensor undefined;
  EXPECT_TRUE(contains(error_of([&] { mul(a, b, undefined); }), "out is undefined"));
  // out a shifted view of a: element i would be written before a later position reads it.
  Tensor big = Tensor::zeros({4, 4}, kCpu);
  Tensor shifted = big.slice_rows(1, 4);
  EXPECT_TRUE(contains(error_of([&] { div(big.slice_rows(0, 3), b, shifted); }),
                       "out overlaps an input partially"));
}

TEST(OpsOut, UnaryOutEqualsAllocatingForm) {
  const Tensor a = random_tensor({7, 3}, 7, -3.0f, 3.0f);
  const Tensor pos = abs(a) + 0.1f;
  using Unary = Tensor (*)(const Tensor&);
  using UnaryOut = void (*)(const Tensor&, Tensor&);
  const std::vector<std::pair<Unary, UnaryOut>> fns = {
      {exp, exp},       {log, log},         {sqrt, sqrt}, {abs, abs},
      {square, square}, {sigmoid, sigmoid}, {relu, relu}};
  Tensor out = Tensor::empty({7, 3}, kCpu);
  for (const auto& [f, f_out] : fns) {
    f_out(pos, out);
    EXPECT_EQ(out.to_vector(), f(pos).to_vector());
    const int64_t before = detail::allocation_count();
    f_out(a, out);
    EXPECT_EQ(detail::allocation_count(), before);
  }
  exp(pos.slice_rows(0, 2), out.slice_rows(5, 7));  // into a temporary view of out
  EXPECT_EQ(out.slice_rows(5, 7).to_vector(), exp(pos.slice_rows(0, 2)).to_vector());
  Tensor in_place = pos.clone();
  exp(in_place, in_place);
  EXPECT_EQ(in_place.to_vector(), exp(pos).to_vector());
  Tensor wrong = Tensor::empty({3, 7}, kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { relu(a, wrong); }), "relu: out has shape (3, 7), expected (7, 3)"));
}

TEST(OpsOut, ReductionOutEqualsAllocatingForm) {
  const Tensor a = random_tensor({5, 7, 3}, 8, -4.0f, 4.0f);
  using Red = Tensor (*)(const Tensor&, int64_t);
  using RedOut = void (*)(const Tensor&, int64_t, Tensor&);
  const std::vector<std::pair<Red, RedOut>> fns = {
      {sum, sum}, {mean, mean}, {max, max}, {logsumexp, logsumexp}};
  for (int64_t dim : {0, 1, 2, -1}) {
    for (const auto& [f, f_out] : fns) {
      const Tensor expected = f(a, dim);
      Tensor out = Tensor::empty(expected.shape(), kCpu);
      f_out(a, dim, out);
      EXPECT_EQ(out.to_vector(), expected.to_vector()) << "dim " << dim;
      const int64_t before = detail::allocation_count();
      f_out(a, dim, out);
      EXPECT_EQ(detail::allocation_count(), before);
    }
  }
}

TEST(OpsOut, OneDimSumWritesOneSlotOfABuffer) {
  // The trainer's pattern: per-batch loss sums written into slots of one buffer, no host trip.
  const Tensor losses = random_tensor({33}, 9);
  Tensor sums = Tensor::zeros({4}, kCpu);
  sum(losses, 0, sums[2]);
  const std::vector<float> got = sums.to_vector();
  EXPECT_EQ(got[2], sum(losses, 0).item());
  EXPECT_EQ(got[0], 0.0f);
  EXPECT_EQ(got[3], 0.0f);
  EXPECT_EQ(sum(losses, 0).shape(), Shape{});
}

TEST(OpsOut, ReductionOutChecks) {
  const Tensor a = Tensor::ones({4, 3}, kCpu);
  Tensor wrong = Tensor::empty({4}, kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { sum(a, 0, wrong); }), "sum: out has shape (4,), expected (3,)"));
  Tensor self = a.reshape({12}).slice_rows(0, 3);
  EXPECT_TRUE(contains(error_of([&] { mean(a, 0, self); }), "mean: out overlaps an input"));
  Tensor ints = Tensor::empty({3}, DType::UInt32, kCpu);
  EXPECT_TRUE(contains(error_of([&] { max(a, 0, ints); }), "out is uint32"));
}

TEST(OpsWhere, SelectsWithABroadcastMask) {
  const Tensor a = random_tensor({4, 3}, 10);
  const Tensor mask = Tensor::from({1.0f, 0.0f, 2.0f, 0.0f}, {4, 1}, kCpu);  // nonzero = keep
  Tensor out = Tensor::empty({4, 3}, kCpu);
  where(mask, a, -7.0f, out);
  const std::vector<float> va = a.to_vector(), got = out.to_vector();
  for (size_t i = 0; i < got.size(); ++i) {
    const bool keep = (i / 3) % 2 == 0;
    EXPECT_EQ(got[i], keep ? va[i] : -7.0f) << i;
  }
  const int64_t before = detail::allocation_count();
  where(mask, a, -7.0f, out);
  EXPECT_EQ(detail::allocation_count(), before);
  Tensor wrong = Tensor::empty({4, 1}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { where(mask, a, 0.0f, wrong); }), "expected (4, 3)"));
}

}  // namespace
}  // namespace cusbi
