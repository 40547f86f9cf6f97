// Tensor: float32, row-major, contiguous, on one device. A Tensor is a handle: copies share the
// same memory (as in PyTorch), `clone()` makes an independent copy. Views (reshape, row slices)
// share memory too, which is how `flow.parameters()` hands Adam the model's own buffer.
// This is not an autograd library: ops compute values; models provide their own backward.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "cusbi/device.hpp"

namespace cusbi {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);  // "(2, 3)"
int64_t shape_numel(const Shape& shape);

namespace detail {
// RAII owner of one allocation on one device (64-byte aligned on the CPU).
class Storage {
 public:
  Storage(int64_t num_floats, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  float* data() const { return data_; }
  int64_t size() const { return size_; }
  Device device() const { return device_; }

 private:
  float* data_ = nullptr;
  int64_t size_ = 0;
  Device device_;
};
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;  // undefined tensor: defined() == false

  // Uninitialised memory; use for outputs that are written in full.
  static Tensor empty(const Shape& shape, Device device = Device::best());
  static Tensor zeros(const Shape& shape, Device device = Device::best());
  static Tensor ones(const Shape& shape, Device device = Device::best());
  static Tensor full(const Shape& shape, float value, Device device = Device::best());
  // values.size() must equal the number of elements of `shape`.
  static Tensor from(const std::vector<float>& values, const Shape& shape,
                     Device device = Device::best());
  static Tensor scalar(float value, Device device = Device::best());  // shape ()

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  Device device() const;

  // Raw pointer into the tensor's device memory (host pointer only for CPU tensors).
  float* data() const;

  // Copy to another device; returns *this (shared) when already there.
  Tensor to(Device device) const;
  Tensor clone() const;
  std::vector<float> to_vector() const;  // synchronises with the device
  float item() const;                    // the single element of a one-element tensor

  // Same memory, another shape; one entry may be -1 (inferred).
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) along the first dimension, sharing memory.
  Tensor slice_rows(int64_t begin, int64_t end) const;
  // Row i along the first dimension, with that dimension removed, sharing memory.
  Tensor operator[](int64_t i) const;

  // In-place: copy `src` (same number of elements, any device) into this tensor's memory.
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(float value);
  Tensor& zero_() { return fill_(0.0f); }

  // True when both handles view the same memory range.
  bool shares_memory_with(const Tensor& other) const;

 private:
  std::shared_ptr<detail::Storage> storage_;
  int64_t offset_ = 0;  // in floats
  Shape shape_;
};

// ---- elementwise ------------------------------------------------------------------------------
// Binary ops broadcast by suffix: shapes equal, or one operand's shape, leading 1s dropped, is a
// trailing part of the other's ((N, D) with (D,), (1, D) or ()), the usual case of adding a
// per-dimension vector. (N, 1) with (N, D) is rejected: reshape or expand explicitly.
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

// ---- reductions over one dimension (removed from the shape; negative dims count from the end)
// Deterministic: each output is reduced in a fixed order on every device.
Tensor sum(const Tensor& a, int64_t dim);
Tensor mean(const Tensor& a, int64_t dim);
Tensor max(const Tensor& a, int64_t dim);
Tensor logsumexp(const Tensor& a, int64_t dim);
float sum_all(const Tensor& a);  // double accumulation, returned as float

// Concatenation along `dim`; all tensors on one device with matching other dimensions.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);

// Row gather (torch's src[rows] / index_select along dim 0): src (N, ...) -> (rows.size(), ...),
// out row i = src row rows[i]. Indices in [0, N), repeats allowed. Runs on src's device (the
// index list is uploaded once per call).
Tensor take_rows(const Tensor& src, const std::vector<int64_t>& rows);
// The same into a preallocated out (rows.size(), ...) on src's device, not overlapping src: a
// trainer gathers each epoch's shuffled rows into one buffer without allocating it again.
void take_rows(const Tensor& src, const std::vector<int64_t>& rows, Tensor& out);

// Throws cusbi::Error naming `what` if any element is NaN or +-inf.
void check_finite(const Tensor& a, const std::string& what);
bool all_finite(const Tensor& a);

}  // namespace cusbi
