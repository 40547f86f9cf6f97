#!/usr/bin/env bash
# Runs every libFuzzer target (fuzz/) for a bounded time each, starting from the committed seed
# corpus (fuzz/corpus/<target>/; new inputs go to a scratch copy, the committed one is untouched):
#   bash scripts/fuzz.sh [seconds per target (default 60)] [build dir (default build-fuzz)]
# Configures and builds the fuzz build with clang when the folder is absent. A crash, hang
# (-timeout, 10 s per input), leak or out-of-memory (-rss_limit_mb) leaves its input as
# <build>/fuzz-findings/<target>/crash-* etc. and fails the script; each such input then becomes
# a regression test (tests/unit/test_io_fuzz_regressions.cpp). Prints executions per target.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
build=${2:-build-fuzz}
[[ $build = /* ]] || build="$repo/$build"
clang=${CUSBI_FUZZ_CXX:-$(command -v clang++ || true)}

if [[ ! -x $build/fuzz/fuzz_safetensors ]]; then
  [[ -n $clang ]] || { echo "fuzz.sh: clang++ not found (apt-get install clang libomp-dev)"; exit 1; }
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$clang" -DCUSBI_FUZZ=ON \
    -DCUSBI_CUDA=OFF -DCUSBI_PLOT=OFF -DCUSBI_BUILD_TESTS=OFF -DCUSBI_BUILD_BENCH=OFF \
    -DCUSBI_BUILD_EXAMPLES=OFF >/dev/null || exit 1
  cmake --build "$build" -j "$(nproc)" || exit 1
fi

failed=0
rows=()
for target in fuzz_safetensors fuzz_model_file fuzz_sbi_nsf; do
  corpus="$build/fuzz-corpus/$target"
  findings="$build/fuzz-findings/$target"
  mkdir -p "$corpus" "$findings"
  cp -n "$repo/fuzz/corpus/$target/"* "$corpus/"
  echo "== $target, ${seconds} s"
  log="$build/fuzz-findings/$target.log"
  # -max_len: the seeds are up to ~10 kB; longer inputs only add bytes no check looks at.
  "$build/fuzz/$target" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1
  status=$?
  tail -n 3 "$log"
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  found=$(find "$findings" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o \
    -name 'oom-*' -o -name 'leak-*' \) | wc -l)
  ((status != 0 || found > 0)) && failed=1
  rows+=("$(printf '%-18s %10s executions  %s findings  exit %s' "$target" "${runs:-?}" "$found" "$status")")
done
echo "== fuzz summary (${seconds} s per target)"
printf '%s\n' "${rows[@]}"
((failed)) && { echo "FAIL: findings under $build/fuzz-findings"; exit 1; }
echo "no findings"
