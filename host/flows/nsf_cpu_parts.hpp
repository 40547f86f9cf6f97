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

}  // namespace cusbi::flows
