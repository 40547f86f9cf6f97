// Small CPU batches (sbi trains at batch 200) are too small for the per-operation OpenMP loops
// to pay: each GEMM, spline or bias pass would be its own short parallel region, most below
// their thresholds, and two threads then gave 1.15x. Instead such a batch is cut into parts
// that each run the whole flow program on their rows, one OpenMP iteration per part, with
// their own workspace and (in backward) their own parameter-gradient partial, added in part
// order afterwards. The cut depends on the row count only (a power of two number of parts of
// at least kMinPartRows rows), never on the thread count, so gradients are the same bits for any
// OMP_NUM_THREADS.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "cusbi/tensor.hpp"
#include "host/flows/flow_exec.hpp"
#include "host/flows/nsf_program.hpp"

namespace cusbi::flows {

constexpr int64_t kMinPartRows = 64;  // smaller parts lose GEMM efficiency (measured: 50-row parts cost +12%)
constexpr int64_t kMaxParts = 16;       // bounds the gradient partials (15 x parameters)
constexpr int64_t kMaxPartedRows = 8192;  // larger batches keep the per-operation parallelism

// Number of parts for a CPU batch of `rows`: 1 (run as one program) or a power of two <= 16.
inline int64_t cpu_flow_parts(int64_t rows) {
  if (rows > kMaxPartedRows) return 1;
  int64_t parts = 1;
  while (parts * 2 <= kMaxParts && rows / (parts * 2) >= kMinPartRows) parts *= 2;
  return parts;
}

// First row of part `k` of `parts` over `rows` rows: sizes differ by at most one row.
inline int64_t part_begin(int64_t rows, int64_t parts, int64_t k) { return rows * k / parts; }

// Workspace floats are carved per part at multiples of 16 (64-byte alignment for Eigen).
inline int64_t round_up_16(int64_t n) { return (n + 15) / 16 * 16; }

// f(part, first row, rows) for each part, one OpenMP iteration per part. A single part runs
// outside any parallel region: inside one (even an inactive `if (false)` region) libgomp
// gives each of the part's own parallel loops a fresh thread team, which measured 4x slower
// at batch 10^4.
template <class F>
void run_parts(int64_t rows, int64_t parts, F&& f) {
  if (parts == 1) {
    f(int64_t(0), int64_t(0), rows);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < parts; ++k) {
    const int64_t r0 = part_begin(rows, parts, k);
    f(k, r0, part_begin(rows, parts, k + 1) - r0);
  }
}

// The CPU flow's parts: one program per part (a program binds its layers' workspaces, so parts
// running at once each need their own), the training workspace offsets of the last loss, and
// the buffers of the parted backward. Workspaces are the flow's tensors, grown here when a
// bigger batch arrives and reused otherwise.
class CpuParts {
 public:
  using Program = NsfProgram<CpuFlowExec>;
  explicit CpuParts(const NsfLayout& layout) : layout_(layout) {}

  // Cuts a batch of `rows` for loss() and sizes `ws` for it; backward() reuses the cut.
  void prepare_training(int64_t rows, Tensor& ws) {
    const int64_t parts = cpu_flow_parts(rows);
    ensure_programs(parts);
    offsets_.assign(size_t(parts) + 1, 0);
    for (int64_t k = 0; k < parts; ++k) {
      const int64_t n = part_begin(rows, parts, k + 1) - part_begin(rows, parts, k);
      offsets_[size_t(k) + 1] =
          offsets_[size_t(k)] + round_up_16(Program::training_numel(layout_, n));
    }
    grow(ws, offsets_.back());
  }
  // f(part, first row, rows, program, executor, workspace) for each part of the prepared cut.
  template <class F>
  void for_training(int64_t rows, Tensor& ws, F&& f) {
    float* base = ws.data();
    run_parts(rows, int64_t(offsets_.size()) - 1, [&](int64_t k, int64_t r0, int64_t n) {
      CpuFlowExec ex;
      f(k, r0, n, *programs_[size_t(k)], ex, base + offsets_[size_t(k)]);
    });
  }
  // f(first row, rows, program, executor, workspace) for each part of an inference batch.
  template <class F>
  void for_inference(int64_t rows, Tensor& ws, F&& f) {
    const int64_t parts = cpu_flow_parts(rows);
    ensure_programs(parts);
    const int64_t largest = part_begin(rows, parts, 1) + 1;  // parts differ by <= 1 row
    const int64_t per_part = round_up_16(Program::inference_numel(layout_, largest));
    grow(ws, parts * per_part);
    float* base = ws.data();
    run_parts(rows, parts, [&](int64_t k, int64_t r0, int64_t n) {
      CpuFlowExec ex;
      f(r0, n, *programs_[size_t(k)], ex, base + k * per_part);
    });
  }
  // backward of the last loss over its `rows` rows: part 0 accumulates into `grads`, part
  // k > 0 into its own zeroed partial, and the partials are added in part order. With
  // grad_input / grad_condition, sets them to the input gradient (rows, D) / condition gradient
  // (rows, C), views valid until the next backward; each part writes its own rows.
  void backward(const NsfPointers<float>& p, const Tensor& grads, int64_t rows, int64_t D,
                int64_t C, const Tensor& grad_loss, Tensor& ws, Tensor* grad_input,
                Tensor* grad_condition) {
    const int64_t parts = int64_t(offsets_.size()) - 1, numel = grads.numel();
    if (parts > 1) grow(partials_, (parts - 1) * numel);
    if (grad_input) grow(input_grad_, rows * D);
    if (grad_condition) grow(condition_grad_, rows * C);
    float* partials = parts > 1 ? partials_.data() : nullptr;
    float* gi = grad_input ? input_grad_.data() : nullptr;
    float* gc = grad_condition ? condition_grad_.data() : nullptr;
    for_training(rows, ws, [&](int64_t k, int64_t r0, int64_t n, Program& program,
                               CpuFlowExec& ex, float* w) {
      NsfPointers<float> pk = p;
      if (k > 0) {
        pk.grads = partials + (k - 1) * numel;
        std::fill(pk.grads, pk.grads + numel, 0.0f);
      }
      program.backward(ex, pk, w, n, grad_loss.data() + r0, gi ? gi + r0 * D : nullptr,
                       gc ? gc + r0 * C : nullptr);
    });
    float* out = grads.data();
    for (int64_t k = 1; k < parts; ++k) {
      const float* part = partials + (k - 1) * numel;
#pragma omp parallel for simd schedule(static) if (numel >= (int64_t(1) << 16))
      for (int64_t i = 0; i < numel; ++i) out[i] += part[i];
    }
    if (grad_input) *grad_input = input_grad_.slice_rows(0, rows * D).reshape({rows, D});
    if (grad_condition)
      *grad_condition = condition_grad_.slice_rows(0, rows * C).reshape({rows, C});
  }

 private:
  void ensure_programs(int64_t parts) {
    while (int64_t(programs_.size()) < parts) programs_.push_back(std::make_unique<Program>(layout_));
  }
  // Replaces `t` by a bigger CPU buffer when it holds fewer than `numel` floats.
  static void grow(Tensor& t, int64_t numel) {
    if (t.defined() && t.numel() >= numel && t.device().is_cpu()) return;
    t = Tensor();  // release the old one first: peak memory is the new size, not both
    t = Tensor::empty({numel}, Device::cpu());
  }

  NsfLayout layout_;
  std::vector<std::unique_ptr<Program>> programs_;
  std::vector<int64_t> offsets_;  // each part's training workspace offset, then the total
  Tensor partials_;               // (parts - 1) x parameters
  Tensor input_grad_;             // (rows, D)
  Tensor condition_grad_;         // (rows, C)
};

}  // namespace cusbi::flows
