#!/usr/bin/env bash
# sbi vs cusbi on the NLE workflows of bench/e2e (tools/e2e_sbi_nle.py documents them): the
# tutorial's NLE section (training; MCMC sample((1000,)) with 50 chains, the resample init, and
# the init and the sampling alone), sample_batched for a few observations, and the sampler's
# potential evaluations per second against the number of chains. CPU, and CUDA when a GPU is
# visible to both sides. Prints a table of times and the ratio sbi/cusbi.
#   bash scripts/e2e_compare_nle.sh [build-dir] [repeats]      (defaults: build, 3)
# Environment: E2E_THREADS (default 2) threads for torch and for cusbi's OpenMP;
# E2E_NLE_BATCHED_OBS (default 10; 0 skips) observations for sample_batched on both sides
#   (sbi loops over chains in Python, so 100 observations x 50 chains take it many minutes);
# E2E_NLE_CHAINS (default 10,100,1000,10000) chain counts of the throughput comparison;
# E2E_NLE_CUSBI_CPU_CHAINS (default 10,100,1000): cusbi's CPU throughput runs (51 sweeps each;
#   10,000 chains of the flow take minutes on 2 cores);
# E2E_NLE_SBI_CALLS (default 100) / E2E_NLE_SBI_BUDGET_S (default 60): sbi's throughput runs
#   stop after this many lockstep calls or seconds;
# E2E_NLE_CUSBI_GPU_JSON: the output of `bench_e2e_nle --device cuda --throughput ...` from a GPU
#   machine without sbi (scripts/gpu_check.sh prints it): its evals/s are set against sbi's CPU
#   ones (issue 9's target: >= 1000x at 10,000 chains).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/e2e_common.sh"
e2e_init "$@"
obs=${E2E_NLE_BATCHED_OBS:-10}
chains=${E2E_NLE_CHAINS:-10,100,1000,10000}
cusbi_cpu_chains=${E2E_NLE_CUSBI_CPU_CHAINS:-10,100,1000}
sbi_calls=${E2E_NLE_SBI_CALLS:-100}
sbi_budget=${E2E_NLE_SBI_BUDGET_S:-60}
gpu_json=${E2E_NLE_CUSBI_GPU_JSON:-}
cusbi_bin="$build/bench/bench_e2e_nle"

e2e_require "$cusbi_bin"
e2e_devices

e2e_machine_line "$threads" "$repeats"
for device in "${devices[@]}"; do
  cusbi_chains=$chains
  [[ $device == cpu ]] && cusbi_chains=$cusbi_cpu_chains
  e2e_run_pair "$device" "$repo/tools/e2e_sbi_nle.py" \
    --batched-obs "$obs" --throughput "$chains" \
    --throughput-calls "$sbi_calls" --throughput-budget-s "$sbi_budget" -- \
    --batched-obs "$obs" --throughput "$cusbi_chains"
done
[[ -n $gpu_json ]] && cp "$gpu_json" "$work/cusbi_gpu.json"

PYTHONPATH="$repo/tools${PYTHONPATH:+:$PYTHONPATH}" python3 - "$work" "${devices[@]}" <<'PY'
import json, pathlib, sys
from e2e_common import device_heading, read_pairs, workflow_table
work, devices = pathlib.Path(sys.argv[1]), sys.argv[2:]
keys = ["total_s", "train_s", "mcmc_sample_s", "init_s", "sampling_s", "sample_batched_s"]
sbi_cpu = None
for device, sbi, cus in read_pairs(work, devices):
    sbi_cpu = sbi if device == "cpu" else sbi_cpu
    if cus is None:
        continue
    device_heading(device, sbi, cus)
    workflow_table(sbi, cus, keys, (10, 16), counts=("observations",))
    t = cus["workflows"].get("tutorial")
    if t:
        print(f"cusbi tutorial run: {t['init_evaluations']:.0f} init evaluations, "
              f"{t['iterations']:.0f} lockstep iterations, {t['host_round_trips']:.0f} host round trips")
    sbi_rate = {r["chains"]: r for r in sbi.get("throughput", [])}
    print(f"\nsampler throughput on {device} (potential evaluations per second)")
    print(f"| {'chains':>7} | {'sbi evals/s':>12} | {'sbi calls':>9} | {'cusbi evals/s':>13} | "
          f"{'cusbi calls':>11} | {'cusbi/sbi':>9} |")
    print(f"|{'-' * 8}:|{'-' * 13}:|{'-' * 10}:|{'-' * 14}:|{'-' * 12}:|{'-' * 10}:|")
    for r in cus.get("throughput", []):
        s = sbi_rate.get(r["chains"])
        sbi_cells = (f"{s['evals_per_s']:12.4g} | {s['lockstep_calls']:9d}" if s
                     else f"{'':12} | {'':9}")
        ratio = f"{r['evals_per_s'] / s['evals_per_s']:9.1f}" if s else f"{'':9}"
        print(f"| {r['chains']:7d} | {sbi_cells} | {r['evals_per_s']:13.4g} | "
              f"{r['lockstep_calls']:11d} | {ratio} |")
    for c, s in sbi_rate.items():
        if not any(r["chains"] == c for r in cus.get("throughput", [])):
            print(f"| {c:7d} | {s['evals_per_s']:12.4g} | {s['lockstep_calls']:9d} | "
                  f"{'(not run)':>13} | {'':11} | {'':9} |")
gpu = work / "cusbi_gpu.json"
if gpu.exists() and sbi_cpu:
    cus = json.loads(gpu.read_text())
    sbi_rate = {r["chains"]: r["evals_per_s"] for r in sbi_cpu.get("throughput", [])}
    print(f"\ncusbi on {cus['device']} (E2E_NLE_CUSBI_GPU_JSON) vs sbi on the CPU: evals/s")
    for r in cus.get("throughput", []):
        if r["chains"] in sbi_rate:
            print(f"  {r['chains']:7d} chains: cusbi {r['evals_per_s']:.4g}, sbi "
                  f"{sbi_rate[r['chains']]:.4g}, ratio {r['evals_per_s'] / sbi_rate[r['chains']]:.0f}x"
                  f", {r['host_round_trips']} host round trips")
PY
