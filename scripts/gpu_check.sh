#!/usr/bin/env bash
# One command for a GPU machine (H100/H200), no network needed:
#   bash scripts/gpu_check.sh [build-dir]      (default: build)
# Uses the given build folder, or configures and builds a CUDA one with Ninja when it is absent;
# runs the parity tests, then every test binary, then the CUDA micro benchmarks, and prints a
# summary table last. The build folder may come from another machine: ctest files hold that
# machine's absolute paths, so the test binaries are run directly, and test data is taken from
# the copied build/tests/data or else from this checkout's tests/data (CUSBI_TEST_DATA).
# With CUSBI_GPU_CHECK_PYTHON=1 it also pip-installs the Python package (a CUDA build of its own)
# and runs python/tests. Exit status: non-zero if a test failed or crashed, or if the GPU tests
# were skipped on a GPU.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$repo/$build"
min_time=${CUSBI_BENCH_MIN_TIME:-0.05}  # seconds per benchmark: enough for a stable rate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
echo "== GPU: ${gpu:-none visible}"

if [[ ! -d $build/tests ]]; then
  echo "== no build at $build: configuring a CUDA build (this takes a few minutes)"
  cmake -S "$repo" -B "$build" -G Ninja -DCUSBI_CUDA=ON >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; exit 1; }
  cmake --build "$build" -j "$(nproc)" >"$work/build.log" 2>&1 ||
    { tail -n 50 "$work/build.log"; exit 1; }
fi

if [[ -d $build/tests/data ]]; then
  export CUSBI_TEST_DATA=${CUSBI_TEST_DATA:-$build/tests/data}
else
  export CUSBI_TEST_DATA=${CUSBI_TEST_DATA:-$repo/tests/data}
fi
echo "== test data: $CUSBI_TEST_DATA"

# Shared libraries a binary needs but this machine lacks (e.g. libbenchmark, a CUDA runtime of
# another version), so such a binary is reported by name instead of failing obscurely.
missing_libs() { ldd "$1" 2>/dev/null | awk '/not found/ { printf "%s ", $1 }'; }

# ---- tests: parity first (the CUDA-vs-CPU agreement this script exists for), then the rest ----
summary=()
any_failed=0
gpu_tests_skipped=0
gtest_count() {  # gtest_count <PASSED|FAILED|SKIPPED> <log>: the count in gtest's summary
  local n
  n=$(grep -oE "^\[  $1 *\] [0-9]+ tests?" "$2" | head -n 1 | grep -oE '[0-9]+')
  echo "${n:-0}"
}
run_suite() {  # run_suite <binary>: runs it, records passed/failed/skipped from gtest's summary
  local binary=$1 name log status passed failed skipped
  name=$(basename "$binary")
  log="$work/$name.log"
  echo "== $name"
  local missing
  missing=$(missing_libs "$binary")
  if [[ -n $missing ]]; then
    echo "cannot run $name: missing shared libraries: $missing"
    any_failed=1
    summary+=("$(printf '%-26s %s' "$name" "not run: missing $missing")")
    return
  fi
  timeout 600 "$binary" --gtest_brief=1 >"$log" 2>&1
  status=$?
  tail -n 25 "$log"
  passed=$(gtest_count PASSED "$log")
  failed=$(gtest_count FAILED "$log")
  skipped=$(gtest_count SKIPPED "$log")
  if ((status != 0)); then
    any_failed=1
    ((failed == 0)) && failed="exit $status"
  fi
  [[ $name = *parity* && -n $gpu && $skipped != 0 ]] && gpu_tests_skipped=1
  summary+=("$(printf '%-26s %8s %8s %8s' "$name" "$passed" "$failed" "$skipped")")
}

suites=()
[[ -x $build/tests/cusbi_parity_tests ]] && suites+=("$build/tests/cusbi_parity_tests")
for binary in "$build"/tests/cusbi_*_tests; do
  [[ -x $binary && $binary != *cusbi_parity_tests ]] && suites+=("$binary")
done
((${#suites[@]} > 0)) || { echo "no test binaries under $build/tests"; exit 1; }
for binary in "${suites[@]}"; do run_suite "$binary"; done

# ---- the main example on the best device ----
quickstart=""
if [[ -x $build/examples/quickstart ]]; then
  echo "== examples/quickstart"
  timeout 300 "$build/examples/quickstart" | tee "$work/quickstart.log"
  quickstart=$(grep -E '^(cusbi quickstart on|wall time)' "$work/quickstart.log" | paste -sd ';')
fi

# ---- the tutorial's custom loop (NPE part) on the best device ----
tutorial=""
if [[ -x $build/examples/training_interface ]]; then
  echo "== examples/training_interface"
  timeout 300 "$build/examples/training_interface" "$work" | tee "$work/tutorial.log" ||
    any_failed=1
  tutorial=$(grep -iE 'device|wall|time' "$work/tutorial.log" | paste -sd ';')
fi
# The cusbi side of the sbi comparison (sbi itself is not installed on GPU machines).
if [[ -x $build/bench/bench_e2e_custom_loop ]]; then
  echo "== bench_e2e_custom_loop"
  timeout 300 "$build/bench/bench_e2e_custom_loop" | tee "$work/e2e.json" || any_failed=1
fi

# The NPE workflows on the GPU: tutorial, trainer at 1,000 and 100,000 simulations (5 epochs),
# sample_batched for 1000 observations x 1000 samples (the issue's < 1 s target).
npe_e2e=""
if [[ -x $build/bench/bench_e2e_npe ]]; then
  echo "== bench_e2e_npe (cuda)"
  if timeout 400 "$build/bench/bench_e2e_npe" --device cuda --repeats 1 --batched \
      >"$work/npe.json"; then
    cat "$work/npe.json"
    npe_e2e=$(python3 - "$work/npe.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["workflows"]
print("; ".join(f"{k}: " + ", ".join(f"{m} {v[m]:.3f}s" for m in ("total_s", "train_s",
      "epoch_s", "sample_batched_s") if m in v) for k, v in d.items()))
PY
)
  else
    any_failed=1
  fi
fi

# The tutorial's NLE section on the GPU (training, MCMC with 50 chains and the resample init,
# sample_batched for 100 observations x 50 chains) and the sampler's throughput against the
# number of chains; sbi's side is run on a machine with sbi (scripts/e2e_compare_nle.sh, which
# takes this JSON as E2E_NLE_CUSBI_GPU_JSON for the ratio).
nle_e2e=""
if [[ -x $build/bench/bench_e2e_nle && -n $gpu ]]; then
  echo "== bench_e2e_nle (cuda)"
  if timeout 300 "$build/bench/bench_e2e_nle" --device cuda --repeats 1 --batched-obs 100 \
      --throughput 10,100,1000,10000,100000 >"$work/nle.json"; then
    cat "$work/nle.json"
    nle_e2e=$(python3 - "$work/nle.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t, b = d["workflows"]["tutorial"], d["workflows"].get("batched", {})
parts = [f"train {t['train_s']:.3f}s, sample(1000) {t['mcmc_sample_s']:.3f}s (sampling alone "
         f"{t['sampling_s']:.3f}s, {t['host_round_trips']:.0f} host round trips)"]
if b:
    parts.append(f"sample_batched {b['observations']:.0f} obs {b['sample_batched_s']:.3f}s")
parts += [f"{r['chains']} chains {r['evals_per_s']:.3g} evals/s ({r['host_round_trips']} round trips)"
          for r in d.get("throughput", []) if r["chains"] in (10000, 100000)]
print("; ".join(parts))
PY
)
  else
    any_failed=1
  fi
fi

# The tutorial's NRE section on the GPU (300 full-batch steps of classifier_logits with 10 atoms
# + NRE_B loss; MCMC with 100 chains and the resample init) and the NRE trainer at 1,000 and
# 100,000 simulations (5 epochs); sbi's side is run on a machine with sbi
# (scripts/e2e_compare_nre.sh, which takes this JSON as E2E_NRE_CUSBI_GPU_JSON).
nre_e2e=""
if [[ -x $build/bench/bench_e2e_nre && -n $gpu ]]; then
  echo "== bench_e2e_nre (cuda)"
  if timeout 300 "$build/bench/bench_e2e_nre" --device cuda --repeats 1 >"$work/nre.json"; then
    cat "$work/nre.json"
    nre_e2e=$(python3 - "$work/nre.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["workflows"]
parts = []
t = d.get("tutorial")
if t:
    parts.append(f"tutorial train {t['train_s']:.3f}s, sample(1000) {t['mcmc_sample_s']:.3f}s "
                 f"(init {t['init_s']:.3f}s, sampling alone {t['sampling_s']:.3f}s, "
                 f"{t['host_round_trips']:.0f} host round trips)")
for k, v in d.items():
    if k.startswith("trainer_"):
        parts.append(f"{k} train {v['train_s']:.3f}s ({v['epochs']:.0f} epochs, "
                     f"{v['epoch_s']:.3f}s each), sample(1000) {v['posterior_sample_s']:.3f}s")
print("; ".join(parts))
PY
)
  else
    any_failed=1
  fi
fi

# Kernel launches, cuBLAS calls and host round-trips of one training step (batch 200) and one
# log_prob call (1000 rows) of the tutorial-sized flow (cuda::counters(), bench_e2e_step --counts).
counts=""
if [[ -x $build/bench/bench_e2e_step && -n $gpu ]]; then
  echo "== bench_e2e_step --counts 1 (cuda)"
  if timeout 120 "$build/bench/bench_e2e_step" --device cuda --counts 1 >"$work/counts.json"; then
    cat "$work/counts.json"
    counts=$(python3 - "$work/counts.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("; ".join(f"{name}: {c['launches']} launches + {c['cublas_calls']} cuBLAS, "
                f"{c['host_syncs']} host round-trips"
                for name, c in (("step(200)", d["step_200_counts"]),
                                ("log_prob(1000)", d["log_prob_1000_counts"])) if c))
PY
)
  else
    any_failed=1
  fi
fi

# sbi's NSF (rebuilt from nflows: GPU machines have torch but no sbi) vs cusbi on this GPU: the
# issue targets' step at batch 200 and log_prob at 10^6. nflows from build/pyrefs
# (scripts/stage_pyrefs.sh on the build machine) or the environment.
proxy=""
if [[ -x $build/bench/bench_e2e_step && -n $gpu ]]; then
  echo "== e2e_compare_proxy (cuda)"
  if timeout 400 bash "$repo/scripts/e2e_compare_proxy.sh" "$build" cuda 3 | tee "$work/proxy.txt"; then
    proxy=$(grep -E '^\| (tutorial|step|log_prob|sample)' "$work/proxy.txt" | awk -F'|' '{gsub(/ /, "", $2); gsub(/ /, "", $6); printf "%s %sx; ", $2, $6}')
  else
    echo "(proxy comparison not run: torch or nflows missing)"
  fi
fi

# ---- CUDA micro benchmarks (CSV kept for the summary) ----
bench_rows=()
for binary in "$build"/bench/bench_*; do
  [[ -x $binary && $binary != *bench_e2e_* ]] || continue
  echo "== $(basename "$binary") (CUDA only)"
  missing=$(missing_libs "$binary")
  if [[ -n $missing ]]; then
    bench_rows+=("$(basename "$binary"): not run, missing shared libraries: $missing")
    continue
  fi
  csv="$work/$(basename "$binary").csv"
  timeout 300 "$binary" --benchmark_filter=cuda --benchmark_min_time="$min_time" \
    --benchmark_out="$csv" --benchmark_out_format=csv || any_failed=1
  [[ -f $csv ]] || continue
  # Columns by header name: the user counters (GFLOP, GB; per second) are appended per binary.
  while IFS= read -r row; do bench_rows+=("$row"); done < <(awk -F, '
    /^name,/ { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i }; header = 1; next }
    header {
      name = $col["name"]; gsub(/"/, "", name); sub(/\/real_time$/, "", name)
      if ($col["error_occurred"] == "true") { printf "%-58s %s\n", name, "skipped"; next }
      rate = ("GFLOP" in col && $col["GFLOP"] != "") ? sprintf("%8.1f GFLOP/s", $col["GFLOP"]) \
           : ("GB" in col && $col["GB"] != "") ? sprintf("%8.1f GB/s", $col["GB"]) : ""
      printf "%-58s %12.3g items/s %s\n", name, $col["items_per_second"], rate
    }' "$csv")
done

# bench_mcmc's 10,000-chain CUDA rows: evaluations and effective samples per second, host round
# trips per run (the slice sampler checks for finished chains only every few iterations).
mcmc_rows=""
if [[ -f $work/bench_mcmc.csv ]]; then
  mcmc_rows=$(awk -F, '
    /^name,/ { for (i = 1; i <= NF; i++) { gsub(/"/, "", $i); col[$i] = i }; header = 1; next }
    header && /chains:10000\// && $col["error_occurred"] != "true" {
      name = $col["name"]; gsub(/"/, "", name); sub(/^slice_sampling\//, "", name)
      sub(/\/chains:10000\/real_time$/, "", name)
      printf "%s %.3g evals/s, %.3g ESS/s, %g round trips; ", name, $col["evals/s"],
             $col["ESS/s"], $col["round_trips"]
    }' "$work/bench_mcmc.csv")
fi

# ---- compute-sanitizer over the parity tests (issue 12) ----------------------------------------
# memcheck, racecheck, synccheck and initcheck, each over cusbi_parity_tests with a time cap
# (CUSBI_SANITIZER_TIME seconds per tool, default 120; CUSBI_SANITIZER_FILTER picks tests): a
# tool that finds an error fails the check; a time-out reports the errors found so far; a
# missing or refused tool (no toolkit on the machine, no permission on the GPU) is skipped.
sanitizer_rows=()
sanitizer=$(command -v compute-sanitizer || true)
[[ -z $sanitizer && -x /usr/local/cuda/bin/compute-sanitizer ]] &&
  sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [[ -z $gpu || ! -x $build/tests/cusbi_parity_tests ]]; then
  sanitizer_rows+=("compute-sanitizer: skipped (no GPU visible or no parity test binary)")
elif [[ -z $sanitizer ]]; then
  sanitizer_rows+=("compute-sanitizer: skipped (not installed on this machine)")
else
  for tool in memcheck racecheck synccheck initcheck; do
    echo "== compute-sanitizer --tool $tool cusbi_parity_tests"
    log="$work/sanitizer_$tool.log"
    timeout "${CUSBI_SANITIZER_TIME:-120}" "$sanitizer" --tool "$tool" --error-exitcode 99 \
      "$build/tests/cusbi_parity_tests" --gtest_brief=1 \
      --gtest_filter="${CUSBI_SANITIZER_FILTER:-*}" >"$log" 2>&1
    status=$?
    tail -n 15 "$log"
    errors=$(grep -oE 'ERROR SUMMARY: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
    if ((status == 124)); then
      row="timed out after ${CUSBI_SANITIZER_TIME:-120} s ($(grep -c '^=========.*\(Invalid\|Race\|Barrier\|Uninitialized\)' "$log") reports so far)"
    elif [[ -n $errors ]]; then
      row="$errors errors, tests exit $status"
      ((errors > 0 || status != 0)) && any_failed=1
    else
      row="refused or failed to start (exit $status): $(tail -n 1 "$log")"
    fi
    sanitizer_rows+=("$(printf 'compute-sanitizer %-10s %s' "$tool" "$row")")
  done
fi
# ---- end of compute-sanitizer ------------------------------------------------------------------

# ---- the Python package on the GPU (opt-in: CUSBI_GPU_CHECK_PYTHON=1) ----
# Builds the package with pip from this checkout into its own build folder (a carried build folder
# holds another machine's paths and Python), then runs python/tests, test_cuda.py included. Needs
# torch, pytest, nanobind and scikit-build-core for python3; costs a CUDA build of the library.
python_row=""
if [[ ${CUSBI_GPU_CHECK_PYTHON:-0} == 1 ]]; then
  echo "== python package (pip install ., pytest)"
  if python3 -m pip install -q --no-build-isolation "$repo" -Cbuild-dir="$repo/build-py-gpu" \
      -Ccmake.define.CUSBI_CUDA=ON -Ccmake.define.CMAKE_CUDA_ARCHITECTURES=90 \
      >"$work/pip.log" 2>&1; then
    (cd "$work" && timeout 600 python3 -m pytest -q "$repo/python/tests" -p no:cacheprovider) \
      | tee "$work/pytest.log"
    status=${PIPESTATUS[0]}
    python_row=$(tail -n 1 "$work/pytest.log")
    ((status != 0)) && any_failed=1
  else
    tail -n 30 "$work/pip.log"
    python_row="pip install failed"
    any_failed=1
  fi
fi

# ---- summary ----
echo
echo "================ cusbi GPU check: ${gpu:-no GPU visible} ================"
printf '%-26s %8s %8s %8s\n' "test binary" "passed" "failed" "skipped"
printf '%s\n' "${summary[@]}"
printf '%s\n' "${sanitizer_rows[@]}"  # compute-sanitizer, one line per tool
[[ -n $python_row ]] && echo "python tests: $python_row"
[[ -n $quickstart ]] && echo "quickstart: $quickstart"
[[ -n $tutorial ]] && echo "training_interface: $tutorial"
[[ -n $npe_e2e ]] && echo "bench_e2e_npe (cuda): $npe_e2e"
[[ -n $proxy ]] && echo "sbi NSF (nflows proxy) / cusbi on this GPU: $proxy"
[[ -n $nle_e2e ]] && echo "bench_e2e_nle (cuda): $nle_e2e"
[[ -n $nre_e2e ]] && echo "bench_e2e_nre (cuda): $nre_e2e"
[[ -n $mcmc_rows ]] && echo "bench_mcmc (cuda), 10,000 chains: $mcmc_rows"
[[ -n $counts ]] && echo "launches / host round-trips per call: $counts"
if ((${#bench_rows[@]} > 0)); then
  echo "CUDA micro benchmarks (min_time ${min_time} s; items = samples, parameters or potential evaluations):"
  printf '%s\n' "${bench_rows[@]}"
fi
if ((gpu_tests_skipped)); then
  echo "FAIL: a GPU is visible but parity tests were skipped (is this a CPU-only build?)"
  exit 1
fi
((any_failed)) && { echo "FAIL: see the logs above"; exit 1; }
echo "ALL PASSED"
