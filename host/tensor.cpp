// Tensor storage (bytes, any dtype), views and copies between devices. The elementwise and
// reduction ops live in host/ops/; this file only manages memory.
#include "cusbi/tensor.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <utility>

#include "cusbi/error.hpp"
#include "host/allocation_counter.hpp"
#include "host/cpu/runtime.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace detail {

namespace {
std::atomic<int64_t> g_allocations{0};
constexpr std::size_t kHostAlignment = 64;  // one cache line; Eigen's AVX-512 loads are aligned
}  // namespace

int64_t allocation_count() { return g_allocations.load(); }
void count_allocation() { ++g_allocations; }

Storage::Storage(int64_t bytes, Device device) : bytes_(bytes), device_(device) {
  CUSBI_CHECK(bytes >= 0, "cannot allocate a tensor of " << bytes << " bytes");
  check_device_usable(device);
  // At least 8 bytes so that an empty tensor still has a distinct, valid pointer.
  const std::size_t size = static_cast<std::size_t>(bytes > 8 ? bytes : 8);
  if (device.is_cpu()) {
    const std::size_t rounded = (size + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    data_ = std::aligned_alloc(kHostAlignment, rounded);
    CUSBI_CHECK(data_ != nullptr, "out of host memory allocating " << size << " bytes");
    ++g_allocations;
  } else {
    data_ = cuda::allocate(size, device.index());  // counts itself
  }
}

Storage::Storage(void* data, int64_t bytes, Device device, std::shared_ptr<void> owner)
    : data_(data), bytes_(bytes), device_(device), owner_(std::move(owner)) {
  CUSBI_CHECK(owner_ != nullptr, "external memory needs an owner that keeps it alive");
}

Storage::~Storage() {
  if (owner_) return;  // external memory: releasing owner_ lets its owner free it
  if (device_.is_cpu())
    std::free(data_);
  else
    cuda::release(data_, device_.index());
}

}  // namespace detail

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "float32";
    case DType::Int32:
      return "int32";
    case DType::Int64:
      return "int64";
    case DType::UInt32:
      return "uint32";
    case DType::Float64:
      return "float64";
  }
  return "unknown";
}

int64_t dtype_size(DType dtype) { return dtype == DType::Int64 || dtype == DType::Float64 ? 8 : 4; }

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ",";
  os << ")";
  return os.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    CUSBI_CHECK(d >= 0, "invalid shape " << shape_str(shape) << ": sizes must be >= 0");
    CUSBI_CHECK(d == 0 || n <= INT64_MAX / d,
                "shape " << shape_str(shape) << " has more elements than fit in 64 bits");
    n *= d;
  }
  return n;
}

namespace {
void check_shape(const Shape& shape) {
  for (int64_t d : shape)
    CUSBI_CHECK(d >= 0, "invalid shape " << shape_str(shape) << ": sizes must be >= 0");
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, int64_t n_bytes) {
  const std::size_t bytes = static_cast<std::size_t>(n_bytes);
  if (n_bytes == 0 || dst == src) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memmove(dst, src, bytes);
  } else if (dst_device.is_cuda() && src_device.is_cpu()) {
    cuda::set_device(dst_device.index());
    cuda::copy(dst, src, bytes, cuda::CopyKind::HostToDevice);
  } else if (dst_device.is_cpu()) {
    cuda::set_device(src_device.index());
    cuda::copy(dst, src, bytes, cuda::CopyKind::DeviceToHost);
  } else if (dst_device != src_device) {  // two GPUs: their streams do not order each other
    cuda::copy_between_devices(dst, dst_device.index(), src, src_device.index(), bytes);
  } else {
    cuda::set_device(dst_device.index());
    cuda::copy(dst, src, bytes, cuda::CopyKind::DeviceToDevice);
  }
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, Device device) {
  return empty(shape, DType::Float32, device);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape);
  Tensor t;
  t.storage_ = std::make_shared<detail::Storage>(shape_numel(shape) * dtype_size(dtype), device);
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::from_external(void* data, const Shape& shape, DType dtype, Device device,
                             std::shared_ptr<void> owner) {
  check_shape(shape);
  check_device_usable(device);
  CUSBI_CHECK(data != nullptr || shape_numel(shape) == 0,
              "cannot view external memory at a null pointer; pass the array's data pointer");
  CUSBI_CHECK(
      reinterpret_cast<std::uintptr_t>(data) % static_cast<std::uintptr_t>(dtype_size(dtype)) == 0,
      "external " << dtype_name(dtype) << " memory at " << data << " is not aligned to "
                  << dtype_size(dtype) << " bytes; copy it into an aligned array first");
  Tensor t;
  t.storage_ = std::make_shared<detail::Storage>(data, shape_numel(shape) * dtype_size(dtype),
                                                 device, std::move(owner));
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, Device device) { return full(shape, 0.0f, device); }

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}
Tensor Tensor::ones(const Shape& shape, Device device) { return full(shape, 1.0f, device); }

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::from(const std::vector<float>& values, const Shape& shape, Device device) {
  return from_raw(values.data(), static_cast<int64_t>(values.size()), DType::Float32, shape,
                  device);
}

Tensor Tensor::from_raw(const void* values, int64_t count, DType dtype, const Shape& shape,
                        Device device) {
  check_shape(shape);
  CUSBI_CHECK(count == shape_numel(shape), "Tensor::from got "
                                               << count << " values for shape " << shape_str(shape)
                                               << ", which needs " << shape_numel(shape));
  Tensor t = empty(shape, dtype, device);
  copy_bytes(t.raw(), device, values, Device::cpu(), t.bytes());
  return t;
}

Tensor Tensor::scalar(float value, Device device) { return full({}, value, device); }

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  const int64_t k = d < 0 ? d + n : d;
  CUSBI_CHECK(k >= 0 && k < n,
              "dimension " << d << " is out of range for a tensor of shape " << shape_str(shape_));
  return shape_[static_cast<size_t>(k)];
}

Device Tensor::device() const {
  CUSBI_CHECK(defined(), "the tensor is undefined (default-constructed); create it first");
  return storage_->device();
}

void Tensor::fail_data_access(DType wanted) const {
  CUSBI_CHECK(defined(), "the tensor is undefined (default-constructed); create it first");
  CUSBI_FAIL(
      "the tensor holds " << dtype_name(dtype_) << " but was read as " << dtype_name(wanted)
                          << (wanted == DType::Float32 ? " (data())" : "")
                          << "; use data_as/to_vector_as with the tensor's own element type, "
                             "or create it with DType::"
                          << (wanted == DType::Float32 ? "Float32" : dtype_name(wanted)));
}

void* Tensor::raw() const {
  CUSBI_CHECK(defined(), "the tensor is undefined (default-constructed); create it first");
  return static_cast<char*>(storage_->data()) + offset_ * dtype_size(dtype_);
}

void Tensor::copy_to_host(void* dst, DType wanted) const {
  if (dtype_ != wanted || !defined()) fail_data_access(wanted);
  copy_bytes(dst, Device::cpu(), raw(), device(), bytes());
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor t = empty(shape_, dtype_, device);
  copy_bytes(t.raw(), device, raw(), this->device(), bytes());
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_, device());
  copy_bytes(t.raw(), device(), raw(), device(), bytes());
  return t;
}

std::vector<float> Tensor::to_vector() const { return to_vector_as<float>(); }

float Tensor::item() const {
  CUSBI_CHECK(numel() == 1, "item() needs a one-element tensor, got shape " << shape_str(shape_));
  return to_vector()[0];
}

Tensor Tensor::reshape(const Shape& shape) const {
  CUSBI_CHECK(defined(), "cannot reshape an undefined tensor");
  Shape resolved = shape;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      CUSBI_CHECK(infer_at < 0, "reshape to " << shape_str(shape) << ": at most one -1 allowed");
      infer_at = static_cast<int64_t>(i);
    } else {
      CUSBI_CHECK(resolved[i] >= 0, "reshape to " << shape_str(shape) << ": negative size");
      known *= resolved[i];
    }
  }
  if (infer_at >= 0) {
    CUSBI_CHECK(known > 0 && numel() % known == 0,
                "cannot reshape " << shape_str(shape_) << " to " << shape_str(shape));
    resolved[static_cast<size_t>(infer_at)] = numel() / known;
  }
  CUSBI_CHECK(shape_numel(resolved) == numel(), "cannot reshape " << shape_str(shape_) << " ("
                                                                  << numel() << " elements) to "
                                                                  << shape_str(shape));
  Tensor t = *this;
  t.shape_ = resolved;
  return t;
}

Tensor Tensor::slice_rows(int64_t begin, int64_t end) const {
  CUSBI_CHECK(dim() >= 1, "slice_rows needs at least one dimension, got a scalar");
  CUSBI_CHECK(
      0 <= begin && begin <= end && end <= shape_[0],
      "rows [" << begin << ", " << end << ") are out of range for shape " << shape_str(shape_));
  const int64_t row = shape_[0] == 0 ? 0 : numel() / shape_[0];
  Tensor t = *this;
  t.offset_ += begin * row;
  t.shape_[0] = end - begin;
  return t;
}

Tensor Tensor::operator[](int64_t i) const {
  CUSBI_CHECK(dim() >= 1, "cannot index a scalar tensor");
  const int64_t k = i < 0 ? i + shape_[0] : i;
  Tensor t = slice_rows(k, k + 1);
  t.shape_.erase(t.shape_.begin());
  return t;
}

Tensor& Tensor::copy_(const Tensor& src) {
  CUSBI_CHECK(src.numel() == numel(), "copy_ from shape " << shape_str(src.shape())
                                                          << " into shape " << shape_str(shape_)
                                                          << ": element counts differ");
  CUSBI_CHECK(src.dtype() == dtype_, "copy_ from a " << dtype_name(src.dtype()) << " tensor into a "
                                                     << dtype_name(dtype_)
                                                     << " tensor: dtypes must match (cusbi does "
                                                        "not convert element types)");
  // Overlapping views: memmove would cope on the CPU but a device copy would not, so copy
  // through a temporary on every device (rare; the common non-overlapping case allocates nothing).
  if (shares_memory_with(src) && raw() != src.raw()) {
    const Tensor staged = src.clone();
    copy_bytes(raw(), device(), staged.raw(), staged.device(), bytes());
    return *this;
  }
  copy_bytes(raw(), device(), src.raw(), src.device(), bytes());
  return *this;
}

Tensor& Tensor::zero_() {
  // Every dtype's zero is all-zero bits and every size is a multiple of 4 bytes, so a float fill
  // of 0.0f over the bytes clears any dtype with the one fill entry point.
  if (device().is_cpu()) {
    std::memset(raw(), 0, static_cast<size_t>(bytes()));
  } else {
    cuda::set_device(device().index());
    cuda::fill(static_cast<float*>(raw()), bytes() / 4, 0.0f);
  }
  return *this;
}

Tensor& Tensor::fill_(float value) {
  CUSBI_CHECK(defined(), "fill_: the tensor is undefined (default-constructed); create it first");
  CUSBI_CHECK(dtype_ == DType::Float32,
              "fill_ takes a float and needs a float32 tensor, this one is "
                  << dtype_name(dtype_) << "; use zero_() or copy_ from Tensor::from");
  if (ops::runs_on_cpu(device()))
    cpu::fill(data(), numel(), value);
  else
    cuda::fill(data(), numel(), value);
  return *this;
}

bool Tensor::shares_memory_with(const Tensor& other) const {
  if (!defined() || !other.defined() || storage_ != other.storage_) return false;
  return offset_ < other.offset_ + other.numel() && other.offset_ < offset_ + numel();
}

}  // namespace cusbi
