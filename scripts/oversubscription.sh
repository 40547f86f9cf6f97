#!/usr/bin/env bash
# How the CPU path degrades when the cores are oversubscribed: times sbi's training step at
# batch 200 (bench_flow's train_step: loss, backward, clipping, Adam; and loss_backward alone,
# the row parts on the pool) and at batch 10^4 (per-operation loops) alone, then beside 2 and 4
# busy processes, and prints each slowdown next to the fair share of the cores lost: with N
# busy processes, P cores and T threads of ours, each runnable thread gets P / (N + T) of a
# core, so a fair slowdown is max(1, (N + T) / P).
# Run it on an otherwise idle machine; the busy loops are killed on exit.
# Usage: scripts/oversubscription.sh <build folder> [seconds per measurement, default 2]
set -euo pipefail
build=${1:?usage: scripts/oversubscription.sh <build folder> [seconds]}
secs=${2:-2}
bench="$build/bench/bench_flow"
[[ -x "$bench" ]] || { echo "no $bench: build the bench_flow target first" >&2; exit 1; }

cores=$(nproc)
threads=${OMP_NUM_THREADS:-$cores}
(( threads > cores )) && threads=$cores

busy=()
stop_busy() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${busy[@]}"; do wait "$pid" 2>/dev/null || true; done
  busy=()
}
trap stop_busy EXIT INT TERM

# Median real time (ms) of one benchmark over 5 repetitions, bounded by `timeout`.
measure() {
  local filter=$1
  timeout "$(awk -v s="$secs" 'BEGIN { printf "%d", s * 100 + 60 }')" "$bench" --benchmark_filter="$filter" \
    --benchmark_min_time="$secs" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_time_unit=ms --benchmark_format=csv \
    2>/dev/null | awk -F, '/_median"?,/ { printf "%.3f", $3 }'
}

printf 'cores %d, our threads %d, %ss per measurement, load before: %s\n' "$cores" "$threads" \
  "$secs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-32s %6s %10s %9s %11s\n' benchmark busy ms/step slowdown fair-share
# CASES overrides the benchmarks (space-separated bench_flow names; older builds have no
# train_step: CASES='loss_backward/cpu/batch:200/transforms:5/real_time ...').
cases=${CASES:-'train_step/cpu/batch:200/transforms:5/real_time
  loss_backward/cpu/batch:200/transforms:5/real_time
  train_step/cpu/batch:10000/transforms:5/real_time
  loss_backward/cpu/batch:10000/transforms:5/real_time'}
for case in $cases; do
  filter="^${case}\$"
  alone=""
  for n in 0 2 4; do
    for ((i = 0; i < n; ++i)); do
      sh -c 'while :; do :; done' &
      busy+=($!)
    done
    sleep 0.5  # let the busy loops reach the scheduler
    t=$(measure "$filter")
    stop_busy
    [[ -z "$t" ]] && { echo "$case: no result (did the benchmark run?)" >&2; continue; }
    [[ -z "$alone" ]] && alone=$t
    awk -v c="${case%%/transforms*}" -v n="$n" -v t="$t" -v a="$alone" -v p="$cores" \
      -v th="$threads" 'BEGIN {
        fair = (n + th) / p; if (fair < 1) fair = 1;
        printf "%-32s %6d %10.3f %8.2fx %10.2fx\n", c, n, t, t / a, fair }'
  done
done
