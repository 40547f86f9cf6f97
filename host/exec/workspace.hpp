// Workspaces of the models: one flat buffer per use that grows only when a bigger batch
// arrives (released first, so peak memory is the new size, not both) and is otherwise reused,
// so a training step or a log_prob at a steady batch size allocates nothing (CUB's
// temp-storage discipline); and the one way to carve it: pieces of 16-element multiples, so
// every matrix starts on a 64-byte boundary (Eigen's and cuBLAS's preferred alignment), or
// only counted when the base is null (the same code sizes and carves, so they cannot differ).
#pragma once
#include <cstdint>

#include "cusbi/tensor.hpp"

namespace cusbi::exec {

constexpr int64_t kAlignElements = 16;

constexpr int64_t align_up(int64_t n) {
  return (n + kAlignElements - 1) / kAlignElements * kAlignElements;
}

// Hands out consecutive aligned pieces of base, or (base null) only counts them in `used`.
template <class T>
struct Carver {
  T* base = nullptr;
  int64_t used = 0;
  T* take(int64_t n) {
    T* p = base ? base + used : nullptr;
    used += align_up(n);
    return p;
  }
};

// Makes `t` a buffer of at least `numel` floats on `device`, replacing it only when it is
// smaller or elsewhere; returns its data. Every growing buffer of the models goes through here.
inline float* reserve(Tensor& t, int64_t numel, Device device) {
  if (!t.defined() || t.numel() < numel || t.device() != device) {
    t = Tensor();  // release the old one first: peak memory is the new size, not both
    t = Tensor::empty({numel}, device);
  }
  return t.data();
}

// A grow-only buffer owned by a model or a runner.
class Workspace {
 public:
  float* reserve(int64_t numel, Device device) { return exec::reserve(t_, numel, device); }
  float* data() const { return t_.defined() ? t_.data() : nullptr; }
  const Tensor& tensor() const { return t_; }
  void release() { t_ = Tensor(); }
  // (rows, cols) view of the buffer starting at p (a piece of it).
  Tensor view(const float* p, int64_t rows, int64_t cols) const {
    const int64_t offset = p - t_.data();
    return t_.slice_rows(offset, offset + rows * cols).reshape({rows, cols});
  }

 private:
  Tensor t_;
};

}  // namespace cusbi::exec
