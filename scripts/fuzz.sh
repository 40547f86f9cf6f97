#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/) for a bounded time each, starting from the committed seed
# corpus (fuzz/corpus/<target>/; new inputs go to a scratch copy, the committed one is untouched)
# with the dictionary fuzz/cusbi.dict:
#   bash scripts/fuzz.sh [seconds per target (default 60)] [build dir (default build-fuzz)]
#                        [targets at once (default 1)]
# CI (.ci/run) runs all three at once on its 2 cores. Configures and builds the fuzz build with
# clang when the folder has no fuzz targets. A crash, hang (-timeout, 10 s per input), leak or
# out-of-memory (-rss_limit_mb) leaves its input as <build>/fuzz-findings/<target>/crash-* etc.,
# prints the report and fails the script; each such input then becomes a regression test
# (tests/unit/test_io_fuzz_regressions.cpp). Prints executions and CPU seconds per target.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
build=${2:-build-fuzz}
parallel=${3:-1}
[[ $build = /* ]] || build="$repo/$build"
clang=${CUSBI_FUZZ_CXX:-$(command -v clang++ || true)}
targets=(fuzz_safetensors fuzz_model_file fuzz_sbi_nsf)

if [[ ! -x $build/fuzz/fuzz_safetensors ]]; then
  [[ -n $clang ]] || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-dev libomp-dev)"; exit 1; }
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$clang" -DCUSBI_FUZZ=ON \
    -DCUSBI_CUDA=OFF -DCUSBI_PLOT=OFF -DCUSBI_BUILD_TESTS=OFF -DCUSBI_BUILD_BENCH=OFF \
    -DCUSBI_BUILD_EXAMPLES=OFF >/dev/null || exit 1
  cmake --build "$build" -j "$(nproc)" || exit 1
fi

# fuzz_one <target>: fuzzes one target; its log, exit status and CPU time land next to its
# findings folder.
fuzz_one() {
  local target=$1
  local corpus="$build/fuzz-corpus/$target" findings="$build/fuzz-findings/$target"
  local log="$findings.log" status
  mkdir -p "$corpus" "$findings"
  cp -n "$repo/fuzz/corpus/$target/"* "$corpus/"
  # -max_len: the seeds are up to ~10 kB; longer inputs only add bytes no check looks at.
  # -rss_limit_mb (also the per-allocation limit): a reader must refuse a size it cannot back
  # with the file's bytes before allocating it. The outer timeout only guards against libFuzzer
  # itself not stopping; -timeout catches a slow input.
  local TIMEFORMAT='%U %S'
  { time timeout $((seconds + 120)) "$build/fuzz/$target" "$corpus" -dict="$repo/fuzz/cusbi.dict" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
      -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; } 2>"$findings.cpu"
  status=$?
  echo "$status" >"$findings.status"
}

failed=0
rows=()
echo "== fuzzing ${targets[*]}: ${seconds} s each, ${parallel} at once"
for target in "${targets[@]}"; do
  fuzz_one "$target" &
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n; done
done
wait
for target in "${targets[@]}"; do
  findings="$build/fuzz-findings/$target"
  status=$(cat "$findings.status" 2>/dev/null || echo "?")
  cpu=$(awk '{printf "%.0f", $1 + $2}' "$findings.cpu" 2>/dev/null)
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$findings.log" | grep -oE '[0-9]+$')
  found=$(find "$findings" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o \
    -name 'oom-*' -o -name 'leak-*' -o -name 'slow-unit-*' \) | wc -l)
  if [[ $status != 0 ]] || ((found > 0)); then
    failed=1
    echo "== $target FAILED (exit $status, $found finding(s)); the end of its log:"
    tail -n 60 "$findings.log"
    echo "== reproduce: $build/fuzz/$target <input> (inputs under $findings/)"
  fi
  rows+=("$(printf '%-18s %10s executions  %4s CPU s  %s findings  exit %s' "$target" \
    "${runs:-?}" "${cpu:-?}" "$found" "$status")")
done
echo "== fuzz summary (${seconds} s per target, ${parallel} at once)"
printf '%s\n' "${rows[@]}"
((failed)) && { echo "FAIL: the fuzzers found inputs that crash, hang or leak: see above"; exit 1; }
echo "no findings"
