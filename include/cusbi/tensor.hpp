// Tensor: row-major, contiguous, on one device; float32 by default, with int32/int64/uint32 for
// indices, counters and flags kept on the device. A Tensor is a handle: copies share the
// same memory (as in PyTorch), `clone()` makes an independent copy. Views (reshape, row slices)
// share memory too, which is how `flow.parameters()` hands Adam the model's own buffer.
// This is not an autograd library: ops compute values; models provide their own backward.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "cusbi/device.hpp"

namespace cusbi {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);  // "(2, 3)"
int64_t shape_numel(const Shape& shape);

// Element types. Float32 is what every math op takes; the integer types hold indices (take_rows),
// counters and flags on the device so hot loops need no host round trip for them. Float64 is
// storage only (no math op takes it): state kept in double, such as MCMC chain positions.
enum class DType { Float32, Int32, Int64, UInt32, Float64 };
const char* dtype_name(DType dtype);  // "float32", "int64", ...
int64_t dtype_size(DType dtype);      // bytes per element

// The DType of a C++ element type (float, int32_t, int64_t, uint32_t, double).
template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::Float32;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::Int32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::Int64;
  else if constexpr (std::is_same_v<T, double>)
    return DType::Float64;
  else {
    static_assert(std::is_same_v<T, uint32_t>,
                  "Tensor elements are float, int32_t, int64_t, uint32_t or double");
    return DType::UInt32;
  }
}

namespace detail {
// RAII owner of one allocation on one device (64-byte aligned on the CPU).
class Storage {
 public:
  Storage(int64_t bytes, Device device);
  // Memory owned elsewhere (a NumPy array, a PyTorch tensor): not freed here; `owner` is held
  // until the last tensor viewing this storage is gone.
  Storage(void* data, int64_t bytes, Device device, std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  int64_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  int64_t bytes_ = 0;
  Device device_;
  std::shared_ptr<void> owner_;  // set for external memory
};
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() == false

  // Uninitialised memory; use for outputs that are written in full.
  static Tensor empty(const Shape& shape, Device device = Device::best());
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::best());
  static Tensor zeros(const Shape& shape, Device device = Device::best());
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::best());
  static Tensor ones(const Shape& shape, Device device = Device::best());
  static Tensor full(const Shape& shape, float value, Device device = Device::best());
  // values.size() must equal the number of elements of `shape`.
  static Tensor from(const std::vector<float>& values, const Shape& shape,
                     Device device = Device::best());
  // Integer tensors: T is int32_t, int64_t or uint32_t (a template so that a braced list such as
  // from({1.0f, 2.0f}, ...) still means float32).
  template <class T>
  requires(!std::is_same_v<T, float>) static Tensor
      from(const std::vector<T>& values, const Shape& shape, Device device = Device::best()) {
    return from_raw(values.data(), static_cast<int64_t>(values.size()), dtype_of<T>(), shape,
                    device);
  }
  static Tensor scalar(float value, Device device = Device::best());  // shape ()
  // Zero-copy view of memory that someone else owns (how the Python package hands NumPy arrays
  // and PyTorch tensors to cusbi). `data` holds numel(shape) contiguous row-major elements of
  // `dtype` on `device`, aligned to the element size; it must stay valid while `owner` lives,
  // and every tensor viewing it (copies, reshapes, slices) keeps `owner` alive. Writes through
  // the tensor are visible to the owner. Throws cusbi::Error for a null or misaligned pointer.
  static Tensor from_external(void* data, const Shape& shape, DType dtype, Device device,
                              std::shared_ptr<void> owner);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  Device device() const;
  DType dtype() const { return dtype_; }

  // Raw pointer into the tensor's device memory (host pointer only for CPU tensors). data() is
  // for float32 tensors; data_as<T>() for any dtype, T matching it (else cusbi::Error).
  float* data() const {
    if (dtype_ != DType::Float32 || !storage_) fail_data_access(DType::Float32);
    return static_cast<float*>(storage_->data()) + offset_;
  }
  template <class T>
  T* data_as() const {
    if (dtype_ != dtype_of<T>() || !storage_) fail_data_access(dtype_of<T>());
    return static_cast<T*>(storage_->data()) + offset_;
  }

  // Copy to another device; returns *this (shared) when already there.
  Tensor to(Device device) const;
  Tensor clone() const;
  std::vector<float> to_vector() const;  // synchronises with the device (float32 only)
  template <class T>
  std::vector<T> to_vector_as() const {  // any dtype, T matching it
    std::vector<T> out(static_cast<size_t>(numel()));
    copy_to_host(out.data(), dtype_of<T>());
    return out;
  }
  float item() const;  // the single element of a one-element tensor

  // Same memory, another shape; one entry may be -1 (inferred).
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) along the first dimension, sharing memory.
  Tensor slice_rows(int64_t begin, int64_t end) const;
  // Row i along the first dimension, with that dimension removed, sharing memory.
  Tensor operator[](int64_t i) const;

  // In-place: copy `src` (same number of elements and dtype, any device) into this tensor.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(float value);  // float32 only
  Tensor& zero_();             // any dtype: every element 0

  // True when both handles view the same memory range.
  bool shares_memory_with(const Tensor& other) const;

 private:
  static Tensor from_raw(const void* values, int64_t count, DType dtype, const Shape& shape,
                         Device device);
  [[noreturn]] void fail_data_access(DType wanted) const;
  void copy_to_host(void* dst, DType wanted) const;
  void* raw() const;  // first element, any dtype
  int64_t bytes() const { return numel() * dtype_size(dtype_); }

  std::shared_ptr<detail::Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  DType dtype_ = DType::Float32;
};

// ---- elementwise (float32) ---------------------------------------------------------------------
// Binary ops broadcast as numpy/torch do: shapes are right-aligned and each dimension is equal or
// 1 in one operand, so (N, D) with (D,), (1, D), (N, 1) or (), and (N, 1) with (1, D) -> (N, D).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float s);
Tensor operator-(const Tensor& a, float s);
Tensor operator*(const Tensor& a, float s);
Tensor operator/(const Tensor& a, float s);
Tensor operator+(float s, const Tensor& a);
Tensor operator-(float s, const Tensor& a);
Tensor operator*(float s, const Tensor& a);
Tensor operator/(float s, const Tensor& a);
Tensor operator-(const Tensor& a);

Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor square(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);

// out= forms: write into a preallocated `out` (the broadcast shape, a's device, float32) and
// allocate nothing. out may be a or b itself when it has that operand's shape (in place);
// any other overlap with an operand is rejected.
void add(const Tensor& a, const Tensor& b, Tensor& out);
void sub(const Tensor& a, const Tensor& b, Tensor& out);
void mul(const Tensor& a, const Tensor& b, Tensor& out);
void div(const Tensor& a, const Tensor& b, Tensor& out);
void exp(const Tensor& a, Tensor& out);
void log(const Tensor& a, Tensor& out);
void sqrt(const Tensor& a, Tensor& out);
void abs(const Tensor& a, Tensor& out);
void square(const Tensor& a, Tensor& out);
void sigmoid(const Tensor& a, Tensor& out);
void relu(const Tensor& a, Tensor& out);
// out = mask != 0 ? a : b elementwise; mask (float32) and a broadcast to out's shape.
void where(const Tensor& mask, const Tensor& a, float b, Tensor& out);
// The same into a temporary view (out.slice_rows(...), buf[k]): it shares the buffer's memory.
inline void add(const Tensor& a, const Tensor& b, Tensor&& out) { add(a, b, out); }
inline void sub(const Tensor& a, const Tensor& b, Tensor&& out) { sub(a, b, out); }
inline void mul(const Tensor& a, const Tensor& b, Tensor&& out) { mul(a, b, out); }
inline void div(const Tensor& a, const Tensor& b, Tensor&& out) { div(a, b, out); }
inline void where(const Tensor& mask, const Tensor& a, float b, Tensor&& out) {
  where(mask, a, b, out);
}
inline void exp(const Tensor& a, Tensor&& out) { exp(a, out); }
inline void log(const Tensor& a, Tensor&& out) { log(a, out); }
inline void sqrt(const Tensor& a, Tensor&& out) { sqrt(a, out); }
inline void abs(const Tensor& a, Tensor&& out) { abs(a, out); }
inline void square(const Tensor& a, Tensor&& out) { square(a, out); }
inline void sigmoid(const Tensor& a, Tensor&& out) { sigmoid(a, out); }
inline void relu(const Tensor& a, Tensor&& out) { relu(a, out); }

// ---- reductions over one dimension (removed from the shape; negative dims count from the end)
// Deterministic: each output is reduced in a fixed order on every device.
Tensor sum(const Tensor& a, int64_t dim);
Tensor mean(const Tensor& a, int64_t dim);
Tensor max(const Tensor& a, int64_t dim);
Tensor logsumexp(const Tensor& a, int64_t dim);
// out= forms: out has the allocating form's shape (a 1-D input gives shape (), so
// sum(losses, 0, sums[k]) writes one slot of a device buffer), is on a's device, does not overlap
// a, and the result has the same bits as the allocating form.
void sum(const Tensor& a, int64_t dim, Tensor& out);
void mean(const Tensor& a, int64_t dim, Tensor& out);
void max(const Tensor& a, int64_t dim, Tensor& out);
void logsumexp(const Tensor& a, int64_t dim, Tensor& out);
inline void sum(const Tensor& a, int64_t dim, Tensor&& out) { sum(a, dim, out); }
inline void mean(const Tensor& a, int64_t dim, Tensor&& out) { mean(a, dim, out); }
inline void max(const Tensor& a, int64_t dim, Tensor&& out) { max(a, dim, out); }
inline void logsumexp(const Tensor& a, int64_t dim, Tensor&& out) { logsumexp(a, dim, out); }
float sum_all(const Tensor& a);  // double accumulation, returned as float

// Concatenation along `dim`; all tensors on one device with matching other dimensions.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Row gather (torch's src[rows] / index_select along dim 0): src (N, ...) -> (rows.size(), ...),
// out row i = src row rows[i]. Indices in [0, N), repeats allowed. Runs on src's device (the
// host index list is checked, then uploaded into an int64 tensor once per call).
Tensor take_rows(const Tensor& src, const std::vector<int64_t>& rows);
// The same into a preallocated out (rows.size(), ...) on src's device, not overlapping src: a
// trainer gathers each epoch's shuffled rows into one buffer without allocating it again.
void take_rows(const Tensor& src, const std::vector<int64_t>& rows, Tensor& out);
// Device-resident indices: indices is int64 (num_rows,) on src's device, out (num_rows, ...).
// No upload, no allocation, no host round trip. On the CPU an index outside [0, N) throws; on a
// GPU it is not checked (that would need a synchronising read-back): such a row is filled with NaN
// instead of reading outside src.
void take_rows(const Tensor& src, const Tensor& indices, Tensor& out);
inline void take_rows(const Tensor& src, const Tensor& indices, Tensor&& out) {
  take_rows(src, indices, out);
}

// Throws cusbi::Error naming `what` if any element is NaN or +-inf.
void check_finite(const Tensor& a, const std::string& what);
bool all_finite(const Tensor& a);

}  // namespace cusbi
