// The CPU policy for small batches (sbi trains at batch 200): per-operation parallel loops do
// not pay there (each GEMM, spline or bias pass would be its own short parallel job, most below
// their thresholds; two threads gave 1.15x), so the batch is cut into parts that each run the
// whole program on their rows, with their own workspace and (in backward) their own
// parameter-gradient partial, added in part order afterwards. The cut depends on the row count
// only (a power of two number of parts of at least kMinPartRows rows), never on the thread
// count or on which thread ran a part, so results are the same bits for any thread count.
#pragma once
#include <cstdint>

namespace cusbi::exec {

constexpr int64_t kMinPartRows = 64;      // smaller parts lose GEMM efficiency (50-row: +12%)
constexpr int64_t kMaxParts = 16;         // bounds the gradient partials (15 x parameters)
constexpr int64_t kMaxPartedRows = 8192;  // larger training batches keep per-operation loops

// Number of parts for a CPU batch of `rows`: 1 (run as one program) or a power of two <= 16.
// Training parts each keep their rows' activations and a gradient partial, so batches above
// kMaxPartedRows run as one program with per-operation parallel loops. Inference programs work
// in blocks of bounded size whatever their rows (every_size), so any batch is cut: parts then
// stream their blocks through cache on their own threads instead of meeting at every operation
// of every 1024-row block (2 cores, batch 10^4: sample 22 -> 19 ms, log_prob 19 -> 16.6 ms).
inline int64_t row_parts(int64_t rows, bool every_size = false) {
  if (rows > kMaxPartedRows && !every_size) return 1;
  int64_t parts = 1;
  while (parts * 2 <= kMaxParts && rows / (parts * 2) >= kMinPartRows) parts *= 2;
  return parts;
}

// First row of part `k` of `parts` over `rows` rows: sizes differ by at most one row.
inline int64_t part_begin(int64_t rows, int64_t parts, int64_t k) { return rows * k / parts; }

}  // namespace cusbi::exec
