// The execution layer of a model: a Runner owns the model's programs (one per CPU row part, one
// for the GPU), its grow-only workspaces (one for inference, one for training, whose
// activations backward reads again) and the CPU policy, and runs a program call with one device
// dispatch. On the GPU one program runs the whole batch. On the CPU the batch is cut into row
// parts (host/exec/row_parts.hpp) that run on the pool (host/exec/thread_pool.hpp): each part
// has its own program and workspace, backward gives each part k > 0 its own zeroed gradient
// partial, and the partials are added in part order, so results are the same bits for any
// thread count and whichever thread ran a part; a late or descheduled thread never holds the
// call up. Any program whose calls work on a range of rows can run here: the flow's and
// ResidualNet's (and the classifiers').
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "cusbi/tensor.hpp"
#include "host/exec/row_parts.hpp"
#include "host/exec/thread_pool.hpp"
#include "host/exec/workspace.hpp"
#include "kernels/common.h"
#include "kernels/cuda_api.h"

namespace cusbi::exec {

enum class Phase { kInference = 0, kTraining = 1 };

// The rows of one program call: rows [first, first + rows) of the batch, part `index`, with
// its own workspace; front is the caller's front of the phase's workspace (shared by parts).
struct Part {
  int64_t index = 0, first = 0, rows = 0;
  float* ws = nullptr;
  float* front = nullptr;
};

template <class Layout, template <class> class Program, class CpuExec, class CudaExec>
class Runner {
 public:
  using CpuProgram = Program<CpuExec>;
  using GpuProgram = Program<CudaExec>;

  explicit Runner(const Layout& layout) : layout_(layout) {}
  const Layout& layout() const { return layout_; }

  // Runs f(program, executor, part) over a batch of `rows` rows on `device`. numel(tag, n) is
  // the workspace one program needs for n rows, tag a null pointer of the program's type.
  // `front` elements at the start of the phase's workspace belong to the caller (row-ordered
  // outputs that every part writes its rows of); returns them. A training run's cut and
  // workspace are kept for backward.
  template <class Numel, class F>
  float* run(Phase phase, Device device, int64_t rows, int64_t front, Numel&& numel, F&& f) {
    Cut& cut = cuts_[size_t(phase)];
    cut.device = device;
    cut.rows = rows;
    cut.offsets[0] = align_up(front);
    if (device.is_cpu()) {
      cut.parts = row_parts(rows, phase == Phase::kInference);
      while (int64_t(cpu_.size()) < cut.parts)
        cpu_.push_back(std::make_unique<CpuProgram>(layout_));
      for (int64_t k = 0; k < cut.parts; ++k) {
        const int64_t n = part_begin(rows, cut.parts, k + 1) - part_begin(rows, cut.parts, k);
        cut.offsets[k + 1] = cut.offsets[k] + align_up(numel(static_cast<CpuProgram*>(nullptr), n));
      }
      float* base = ws_[size_t(phase)].reserve(cut.offsets[cut.parts], device);
      for_parts(cut, [&](int64_t k, const Part& part) {
        CpuExec ex;
        f(*cpu_[size_t(k)], ex, part);
      });
      return base;
    }
    if (!gpu_) gpu_ = std::make_unique<GpuProgram>(layout_);
    cut.parts = 1;
    cut.offsets[1] = cut.offsets[0] + numel(static_cast<GpuProgram*>(nullptr), rows);
    float* base = ws_[size_t(phase)].reserve(cut.offsets[1], device);
    cuda::set_device(device.index());
    CudaExec ex;
    f(*gpu_, ex, Part{0, 0, rows, base + cut.offsets[0], base});
    return base;
  }

  // The backward of the last training run, over its cut and workspace: f(program, executor,
  // part, grads) with grads = `grads` (numel elements, accumulated into) for part 0 and a zeroed
  // partial for each later part; the partials are then added to `grads` in part order.
  template <class F>
  void backward(float* grads, int64_t numel, F&& f) {
    const Cut& cut = cuts_[size_t(Phase::kTraining)];
    if (!cut.device.is_cpu()) {
      cuda::set_device(cut.device.index());
      CudaExec ex;
      float* base = ws_[size_t(Phase::kTraining)].data();
      f(*gpu_, ex, Part{0, 0, cut.rows, base + cut.offsets[0], base}, grads);
      return;
    }
    const int64_t stride = align_up(numel);
    float* partials =
        cut.parts > 1 ? partials_.reserve((cut.parts - 1) * stride, Device::cpu()) : nullptr;
    for_parts(cut, [&](int64_t k, const Part& part) {
      float* g = grads;
      if (k > 0) {
        g = partials + (k - 1) * stride;
        std::fill(g, g + numel, 0.0f);
      }
      CpuExec ex;
      f(*cpu_[size_t(k)], ex, part, g);
    });
    if (cut.parts == 1) return;
    // Each element adds its partials in part order, whichever thread sums its chunk.
    constexpr int64_t kSumChunk = 4096;
    exec::parallel_for(kern::ceil_div(numel, kSumChunk), numel >= (int64_t(1) << 16),
                       [&](int64_t c) {
                         const int64_t end = std::min(numel, (c + 1) * kSumChunk);
                         for (int64_t k = 1; k < cut.parts; ++k) {
                           const float* p = partials + (k - 1) * stride;
                           for (int64_t i = c * kSumChunk; i < end; ++i) grads[i] += p[i];
                         }
                       });
  }

  // The caller's front elements and the whole buffer of a phase's workspace (views of it are
  // what the model returns; checks compare inputs against it).
  float* front(Phase phase) const { return ws_[size_t(phase)].data(); }
  const Workspace& workspace(Phase phase) const { return ws_[size_t(phase)]; }
  Device device(Phase phase) const { return cuts_[size_t(phase)].device; }
  // Drops every workspace (after the model moved to another device).
  void reset() {
    for (Workspace& w : ws_) w.release();
    partials_.release();
  }

 private:
  struct Cut {
    Device device = Device::cpu();
    int64_t rows = 0, parts = 1;
    std::array<int64_t, kMaxParts + 1> offsets{};  // each part's workspace, then the end
  };

  // g(part index, part) for each part of the cut; a single part runs on the caller outside any
  // job, so its own operations may still use the pool's threads.
  template <class G>
  void for_parts(const Cut& cut, G&& g) {
    float* base = ws_[size_t(&cut - cuts_.data())].data();
    auto one = [&](int64_t k) {
      const int64_t r0 = part_begin(cut.rows, cut.parts, k);
      g(k, Part{k, r0, part_begin(cut.rows, cut.parts, k + 1) - r0, base + cut.offsets[size_t(k)],
                base});
    };
    if (cut.parts == 1) {
      one(0);
    } else {
      exec::parallel_for(cut.parts, true, one);
    }
  }

  Layout layout_;
  std::vector<std::unique_ptr<CpuProgram>> cpu_;  // one per part: programs bind their buffers
  std::unique_ptr<GpuProgram> gpu_;
  std::array<Workspace, 2> ws_;
  std::array<Cut, 2> cuts_;
  Workspace partials_;  // (parts - 1) gradient partials of the parted backward
};

}  // namespace cusbi::exec
