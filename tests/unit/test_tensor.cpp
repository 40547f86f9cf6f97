// Tensor core on the CPU: creation, views that share memory (reshape, slice_rows, operator[]),
// in-place copy/fill, clone/to, item, and the error messages of misuse. Values are exact here
// (only copies, no arithmetic), so comparisons are exact.
#include <memory>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

const Device kCpu = Device::cpu();

std::vector<float> iota(int64_t n, float start = 0.0f) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return v;
}

// The message of the cusbi::Error `f` throws ("" if it throws nothing, so the caller's
// contains() check fails).
TEST(Tensor, FactoriesFillShapeAndValues) {
  const Tensor z = Tensor::zeros({2, 3}, kCpu);
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.dim(), 2);
  EXPECT_EQ(z.size(-1), 3);
  EXPECT_EQ(z.to_vector(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(Tensor::ones({4}, kCpu).to_vector(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(Tensor::full({2, 2}, -2.5f, kCpu).to_vector(), std::vector<float>(4, -2.5f));
  const Tensor s = Tensor::scalar(7.0f, kCpu);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 7.0f);
  EXPECT_TRUE(s.device().is_cpu());
  EXPECT_EQ(Tensor::zeros({0, 3}, kCpu).numel(), 0);
  EXPECT_FALSE(Tensor().defined());
}

TEST(Tensor, ShapeStrAndNumel) {
  EXPECT_EQ(shape_str({2, 3}), "(2, 3)");
  EXPECT_EQ(shape_str({4}), "(4,)");  // Python's one-tuple, as sbi users read shapes
  EXPECT_EQ(shape_str({}), "()");
  EXPECT_EQ(shape_numel({}), 1);
  EXPECT_EQ(shape_numel({3, 0, 2}), 0);
}

TEST(Tensor, FromKeepsRowMajorOrderAndChecksSize) {
  const Tensor t = Tensor::from(iota(6), {2, 3}, kCpu);
  EXPECT_EQ(t.to_vector(), iota(6));
  EXPECT_EQ(t[1].to_vector(), (std::vector<float>{3, 4, 5}));
  const std::string msg = error_of([] { Tensor::from(iota(5), {2, 3}, Device::cpu()); });
  EXPECT_TRUE(contains(msg, "5 values for shape (2, 3)"));
  EXPECT_TRUE(contains(msg, "needs 6"));
  EXPECT_TRUE(contains(error_of([] { Tensor::zeros({2, -1}, Device::cpu()); }), "invalid shape"));
}

TEST(Tensor, SizeRejectsOutOfRangeDims) {
  const Tensor t = Tensor::zeros({2, 3}, kCpu);
  EXPECT_EQ(t.size(-2), 2);
  EXPECT_TRUE(contains(error_of([&] { t.size(2); }), "dimension 2 is out of range"));
  EXPECT_TRUE(contains(error_of([&] { t.size(-3); }), "(2, 3)"));
}

TEST(Tensor, CopiesOfAHandleShareMemoryCloneDoesNot) {
  Tensor a = Tensor::from(iota(4), {4}, kCpu);
  Tensor b = a;  // a handle, as in PyTorch
  b.fill_(9.0f);
  EXPECT_EQ(a.to_vector(), std::vector<float>(4, 9.0f));
  EXPECT_TRUE(a.shares_memory_with(b));
  Tensor c = a.clone();
  EXPECT_FALSE(c.shares_memory_with(a));
  c.fill_(1.0f);
  EXPECT_EQ(a.to_vector(), std::vector<float>(4, 9.0f));
  EXPECT_EQ(c.to_vector(), std::vector<float>(4, 1.0f));
}

TEST(Tensor, ReshapeIsAViewAndInfersMinusOne) {
  Tensor a = Tensor::from(iota(12), {3, 4}, kCpu);
  Tensor r = a.reshape({2, -1});
  EXPECT_EQ(r.shape(), (Shape{2, 6}));
  EXPECT_EQ(a.reshape({-1}).shape(), Shape{12});
  EXPECT_EQ(a.reshape({2, 3, -1}).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(Tensor::zeros({1}, kCpu).reshape({}).shape(), Shape{});
  EXPECT_TRUE(r.shares_memory_with(a));
  r.fill_(0.0f);
  EXPECT_EQ(a.to_vector(), std::vector<float>(12, 0.0f));
}

TEST(Tensor, ReshapeErrorsNameBothShapes) {
  const Tensor a = Tensor::zeros({3, 4}, Device::cpu());
  EXPECT_TRUE(contains(error_of([&] { a.reshape({5, 2}); }), "cannot reshape (3, 4)"));
  EXPECT_TRUE(contains(error_of([&] { a.reshape({5, -1}); }), "to (5, -1)"));
  EXPECT_TRUE(contains(error_of([&] { a.reshape({-1, -1}); }), "at most one -1"));
  EXPECT_TRUE(contains(error_of([&] { a.reshape({-2, 6}); }), "negative size"));
  EXPECT_TRUE(contains(error_of([] { Tensor().reshape({1}); }), "undefined"));
}

TEST(Tensor, SliceRowsAndIndexShareMemory) {
  Tensor a = Tensor::from(iota(12), {4, 3}, kCpu);
  Tensor rows = a.slice_rows(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 3}));
  EXPECT_EQ(rows.to_vector(), iota(6, 3.0f));
  Tensor last = a[-1];
  EXPECT_EQ(last.shape(), Shape{3});
  EXPECT_EQ(last.to_vector(), iota(3, 9.0f));
  EXPECT_EQ(a[0][2].shape(), Shape{});
  EXPECT_EQ(a[0][2].item(), 2.0f);
  rows.fill_(-1.0f);
  EXPECT_EQ(a.to_vector()[3], -1.0f);
  EXPECT_EQ(a.to_vector()[9], 9.0f);  // rows outside the slice untouched
  EXPECT_TRUE(rows.shares_memory_with(a));
  EXPECT_FALSE(rows.shares_memory_with(a.slice_rows(3, 4)));  // disjoint ranges of one storage
  EXPECT_EQ(a.slice_rows(2, 2).numel(), 0);
}

TEST(Tensor, SliceAndIndexErrors) {
  const Tensor a = Tensor::zeros({4, 3}, Device::cpu());
  EXPECT_TRUE(contains(error_of([&] { a.slice_rows(2, 5); }), "rows [2, 5) are out of range"));
  EXPECT_TRUE(contains(error_of([&] { a.slice_rows(3, 2); }), "(4, 3)"));
  EXPECT_TRUE(contains(error_of([&] { a[4]; }), "out of range"));
  EXPECT_TRUE(contains(error_of([&] { a[-5]; }), "out of range"));
  EXPECT_TRUE(contains(error_of([] { Tensor::scalar(1.0f, Device::cpu())[0]; }), "scalar"));
}

TEST(Tensor, CopyIntoAViewWritesTheParent) {
  Tensor a = Tensor::zeros({3, 2}, kCpu);
  a[1].copy_(Tensor::from({5, 6}, {2}, kCpu));
  EXPECT_EQ(a.to_vector(), (std::vector<float>{0, 0, 5, 6, 0, 0}));
  // Only the element count must agree: copy_ is a flat copy.
  a.copy_(Tensor::from(iota(6), {6}, kCpu));
  EXPECT_EQ(a.to_vector(), iota(6));
  const std::string msg = error_of([&] { a.copy_(Tensor::zeros({5}, Device::cpu())); });
  EXPECT_TRUE(contains(msg, "copy_ from shape (5,) into shape (3, 2)"));
}

TEST(Tensor, ToSameDeviceIsTheSameHandle) {
  Tensor a = Tensor::from(iota(3), {3}, kCpu);
  Tensor b = a.to(Device::cpu());
  EXPECT_TRUE(b.shares_memory_with(a));
  EXPECT_EQ(b.to_vector(), a.to_vector());
}

TEST(Tensor, ItemNeedsOneElement) {
  EXPECT_EQ(Tensor::from({3.5f}, {1, 1}, kCpu).item(), 3.5f);
  const std::string msg = error_of([] { Tensor::zeros({2}, Device::cpu()).item(); });
  EXPECT_TRUE(contains(msg, "one-element tensor, got shape (2,)"));
}

TEST(Tensor, UndefinedTensorSaysSo) {
  EXPECT_TRUE(contains(error_of([] { Tensor().device(); }), "undefined"));
  EXPECT_TRUE(contains(error_of([] { Tensor().data(); }), "undefined"));
}

// CPU tensors are 64-byte aligned (Eigen's aligned loads depend on it).
TEST(Tensor, CpuStorageIsCacheLineAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    const Tensor t = Tensor::empty({n}, kCpu);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u) << n;
  }
}

// Zero-copy views of foreign memory (the Python package's NumPy/PyTorch inputs): the tensor
// reads and writes the owner's memory and keeps the owner alive until its last view is gone.
TEST(Tensor, FromExternalViewsForeignMemoryAndKeepsItsOwnerAlive) {
  auto owner = std::make_shared<std::vector<float>>(std::vector<float>{1, 2, 3, 4, 5, 6});
  std::weak_ptr<std::vector<float>> watch = owner;
  float* data = owner->data();
  Tensor view;
  {
    Tensor t = Tensor::from_external(data, {2, 3}, DType::Float32, Device::cpu(), owner);
    owner.reset();
    EXPECT_EQ(t.data(), data);
    EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    view = t.slice_rows(1, 2);
  }
  ASSERT_FALSE(watch.expired());  // the slice still holds the owner
  view.fill_(7.0f);
  EXPECT_EQ(watch.lock()->at(3), 7.0f);  // writes land in the owner's memory
  EXPECT_EQ(watch.lock()->at(0), 1.0f);
  view = Tensor();
  EXPECT_TRUE(watch.expired());
}

TEST(Tensor, FromExternalRejectsNullMisalignedAndOwnerless) {
  auto owner = std::make_shared<std::vector<double>>(4, 0.0);
  char* bytes = reinterpret_cast<char*>(owner->data());
  EXPECT_THROW(Tensor::from_external(bytes + 2, {2}, DType::Float32, Device::cpu(), owner), Error);
  EXPECT_THROW(Tensor::from_external(nullptr, {2}, DType::Float32, Device::cpu(), owner), Error);
  EXPECT_THROW(Tensor::from_external(owner->data(), {2}, DType::Float64, Device::cpu(), nullptr),
               Error);
  // An empty array may have no data pointer at all (NumPy, PyTorch).
  EXPECT_EQ(Tensor::from_external(nullptr, {0, 3}, DType::Float32, Device::cpu(), owner).numel(),
            0);
}

}  // namespace
}  // namespace cusbi
