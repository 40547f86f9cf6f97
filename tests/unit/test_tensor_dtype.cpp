// Typed tensors on the CPU: int32/int64/uint32 next to float32 round-trip through from,
// to_vector_as, to, clone, copy_, slice_rows, reshape, operator[] and zero_, and every misuse
// (reading as the wrong type, copying across dtypes, math on integers) names the dtypes. Only
// copies happen here, so comparisons are exact.
#include <cstdint>
#include <limits>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

const Device kCpu = Device::cpu();

template <class T>
std::vector<T> sample_values() {
  // Extremes of each type, so a narrowing or reinterpreting copy would show.
  return {std::numeric_limits<T>::min(), T(0), T(1), T(7), std::numeric_limits<T>::max(), T(3)};
}

template <class T>
void expect_round_trips(DType dtype) {
  const std::vector<T> v = sample_values<T>();
  const Tensor t = Tensor::from(v, {2, 3}, kCpu);
  EXPECT_EQ(t.dtype(), dtype);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.to_vector_as<T>(), v);
  EXPECT_EQ(t.data_as<T>()[4], v[4]);
  EXPECT_EQ(t.to(kCpu).to_vector_as<T>(), v);
  const Tensor c = t.clone();
  EXPECT_EQ(c.dtype(), dtype);
  EXPECT_FALSE(c.shares_memory_with(t));
  EXPECT_EQ(c.to_vector_as<T>(), v);
  // Views keep the dtype and count offsets in elements of that dtype.
  const Tensor row = t[1];
  EXPECT_EQ(row.dtype(), dtype);
  EXPECT_EQ(row.to_vector_as<T>(), (std::vector<T>{v[3], v[4], v[5]}));
  EXPECT_EQ(t.slice_rows(1, 2).data_as<T>(), t.data_as<T>() + 3);
  EXPECT_EQ(t.reshape({3, 2})[2].to_vector_as<T>(), (std::vector<T>{v[4], v[5]}));
  EXPECT_TRUE(row.shares_memory_with(t));
  // copy_ into a view writes the parent; zero_ clears only the view.
  Tensor dst = Tensor::zeros({2, 3}, dtype, kCpu);
  EXPECT_EQ(dst.to_vector_as<T>(), std::vector<T>(6, T(0)));
  dst[0].copy_(row);
  EXPECT_EQ(dst.to_vector_as<T>(), (std::vector<T>{v[3], v[4], v[5], 0, 0, 0}));
  Tensor all = t.clone();
  all[0].zero_();
  EXPECT_EQ(all.to_vector_as<T>(), (std::vector<T>{0, 0, 0, v[3], v[4], v[5]}));
  EXPECT_EQ(Tensor::empty({4}, dtype, kCpu).dtype(), dtype);
}

TEST(TensorDType, Int32RoundTrips) { expect_round_trips<int32_t>(DType::Int32); }
TEST(TensorDType, Int64RoundTrips) { expect_round_trips<int64_t>(DType::Int64); }
TEST(TensorDType, UInt32RoundTrips) { expect_round_trips<uint32_t>(DType::UInt32); }
TEST(TensorDType, Float32RoundTripsThroughTheTypedApi) {
  const Tensor t = Tensor::from({1.5f, -2.0f}, {2}, kCpu);  // a braced list still means float32
  EXPECT_EQ(t.dtype(), DType::Float32);
  EXPECT_EQ(t.to_vector_as<float>(), t.to_vector());
  EXPECT_EQ(t.data_as<float>(), t.data());
  EXPECT_EQ(Tensor::zeros({2}, kCpu).dtype(), DType::Float32);  // defaults stay float32
}

TEST(TensorDType, NamesAndSizes) {
  EXPECT_STREQ(dtype_name(DType::Float32), "float32");
  EXPECT_STREQ(dtype_name(DType::Int64), "int64");
  EXPECT_STREQ(dtype_name(DType::UInt32), "uint32");
  EXPECT_EQ(dtype_size(DType::Int64), 8);
  EXPECT_EQ(dtype_size(DType::Int32), 4);
  EXPECT_EQ(dtype_of<uint32_t>(), DType::UInt32);
}

TEST(TensorDType, Int64StorageIsAlignedAndSized) {
  // 5 int64 need 40 bytes: a float-sized allocation would be 20 and the last writes would land
  // outside it (caught by sanitizers; here by the values surviving a round trip).
  std::vector<int64_t> v = {1LL << 40, -(1LL << 40), 5, 6, 7};
  const Tensor t = Tensor::from(v, {5}, kCpu);
  EXPECT_EQ(t.to_vector_as<int64_t>(), v);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data_as<int64_t>()) % 64, 0u);
}

TEST(TensorDType, MismatchedAccessNamesBothDTypes) {
  const Tensor idx = Tensor::from(std::vector<int64_t>{1, 2}, {2}, kCpu);
  const std::string data = error_of([&] { idx.data(); });
  EXPECT_TRUE(contains(data, "holds int64 but was read as float32"));
  EXPECT_TRUE(contains(error_of([&] { idx.data_as<int32_t>(); }), "read as int32"));
  EXPECT_TRUE(contains(error_of([&] { idx.to_vector(); }), "holds int64"));
  EXPECT_TRUE(contains(error_of([&] { idx.to_vector_as<uint32_t>(); }), "read as uint32"));
  EXPECT_TRUE(contains(error_of([] { Tensor().data_as<int64_t>(); }), "undefined"));
  const Tensor f = Tensor::zeros({2}, kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { f.data_as<int64_t>(); }), "holds float32 but was read as int64"));
}

TEST(TensorDType, CopyAndFillNeedMatchingTypes) {
  Tensor idx = Tensor::zeros({2}, DType::Int64, kCpu);
  const std::string copy = error_of([&] { idx.copy_(Tensor::zeros({2}, kCpu)); });
  EXPECT_TRUE(contains(copy, "copy_ from a float32 tensor into a int64 tensor"));
  EXPECT_TRUE(contains(error_of([&] { idx.fill_(1.0f); }), "needs a float32 tensor"));
  EXPECT_TRUE(contains(error_of([&] { idx[0].item(); }), "holds int64"));
}

TEST(TensorDType, MathOpsRejectIntegerTensors) {
  const Tensor idx = Tensor::from(std::vector<int32_t>{1, 2}, {2}, kCpu);
  const Tensor f = Tensor::ones({2}, kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { f + idx; }), "operator+: needs float32 tensors, got a int32"));
  EXPECT_TRUE(contains(error_of([&] { exp(idx); }), "exp: needs float32"));
  EXPECT_TRUE(contains(error_of([&] { sum(idx, 0); }), "sum: needs float32"));
  EXPECT_TRUE(contains(error_of([&] { idx * 2.0f; }), "needs float32"));
  EXPECT_TRUE(contains(error_of([&] { cat({f, idx}); }), "cat: needs float32"));
  EXPECT_TRUE(contains(error_of([&] { sum_all(idx); }), "needs float32"));
  EXPECT_TRUE(contains(error_of([&] { all_finite(idx); }), "needs float32"));
  Tensor out = Tensor::empty({2}, DType::Int32, kCpu);
  EXPECT_TRUE(contains(error_of([&] { add(f, f, out); }), "out is int32, it must be float32"));
}

TEST(TensorDType, FromChecksTheCount) {
  const std::string msg = error_of([] {
    Tensor::from(std::vector<uint32_t>{1, 2, 3}, {2, 2}, Device::cpu());
  });
  EXPECT_TRUE(contains(msg, "3 values for shape (2, 2)"));
}

}  // namespace
}  // namespace cusbi
