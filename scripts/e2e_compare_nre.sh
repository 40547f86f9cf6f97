#!/usr/bin/env bash
# sbi vs cusbi on the NRE workflows of bench/e2e (tools/e2e_sbi_nre.py documents them): the
# tutorial's NRE section (300 full-batch steps of classifier_logits with 10 atoms + the NRE_B
# loss; MCMC sample((1000,)) with 100 chains and the resample init, and the init and the
# sampling alone) and the NRE trainer at 1,000 and 100,000 simulations (training, then
# build_posterior().sample((1000,))). CPU, and CUDA when a GPU is visible to both sides. Prints
# a table of times and the ratio sbi/cusbi, and on the CPU cusbi's tutorial training time next
# to the same GEMMs done by plain Eigen SGEMM on the same threads (the issue: within 1.5x).
#   bash scripts/e2e_compare_nre.sh [build-dir] [repeats]      (defaults: build, 3)
# Environment: E2E_THREADS (default 2) threads for torch and for cusbi's OpenMP (and Eigen's);
# E2E_TRAINER_SIMS (default 1000,100000); E2E_LARGE_MAX_EPOCHS (default 5) caps the epochs of
# the large trainer runs on both sides alike (one run each; compare epoch_s too);
# E2E_NRE_CUSBI_GPU_JSON: the output of `bench_e2e_nre --device cuda` from a GPU machine without
#   sbi (scripts/gpu_check.sh prints it): its times are set against sbi's CPU ones.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/e2e_common.sh"
e2e_init "$@"
sims=${E2E_TRAINER_SIMS:-1000,100000}
cap=${E2E_LARGE_MAX_EPOCHS:-5}
gpu_json=${E2E_NRE_CUSBI_GPU_JSON:-}
cusbi_bin="$build/bench/bench_e2e_nre"

e2e_require "$cusbi_bin"
e2e_devices

e2e_machine_line "$threads" "$repeats"
for device in "${devices[@]}"; do
  e2e_run_pair "$device" "$repo/tools/e2e_sbi_nre.py" \
    --trainer-sims "$sims" --large-max-epochs "$cap" -- \
    --trainer-sims "$sims" --large-max-epochs "$cap"
done
[[ -n $gpu_json ]] && cp "$gpu_json" "$work/cusbi_gpu.json"

PYTHONPATH="$repo/tools${PYTHONPATH:+:$PYTHONPATH}" python3 - "$work" "${devices[@]}" <<'PY'
import json, pathlib, sys
from e2e_common import device_heading, read_pairs, workflow_table
work, devices = pathlib.Path(sys.argv[1]), sys.argv[2:]
keys = ["total_s", "train_s", "epoch_s", "simulate_s", "mcmc_sample_s", "init_s", "sampling_s",
        "posterior_sample_s"]


def table(sbi, cus):
    workflow_table(sbi, cus, keys, (14, 18), counts=("epochs",))


sbi_cpu = None
for device, sbi, cus in read_pairs(work, devices):
    sbi_cpu = sbi if device == "cpu" else sbi_cpu
    if cus is None:
        continue
    device_heading(device, sbi, cus)
    table(sbi, cus)
    t = cus["workflows"].get("tutorial")
    if t:
        print(f"cusbi tutorial run: {t['init_evaluations']:.0f} init evaluations, "
              f"{t['iterations']:.0f} lockstep iterations, {t['host_round_trips']:.0f} host round trips;"
              f" final loss sbi {sbi['workflows']['tutorial']['final_loss']:.3f},"
              f" cusbi {t['final_loss']:.3f}")
    if t and "gemm_floor_s" in t:
        print(f"tutorial training vs its GEMM floor ({device}): cusbi train_s {t['train_s']:.3f} s;"
              f" the same 300 steps' GEMMs in plain Eigen SGEMM {t['gemm_floor_s']:.3f} s"
              f" ({t['gemm_floor_gflop_per_s']:.1f} GFLOP/s; Eigen's OpenMP on"
              f" {t['eigen_threads']:.0f} threads {t['gemm_eigen_threaded_s']:.3f} s, one thread"
              f" {t['gemm_eigen_1thread_s']:.3f} s): train_s / floor"
              f" {t['train_over_gemm_floor']:.2f} (target <= 1.5)")
gpu = work / "cusbi_gpu.json"
if gpu.exists() and sbi_cpu is not None:
    cus = json.loads(gpu.read_text())
    print(f"\ncusbi on {cus['device']} (E2E_NRE_CUSBI_GPU_JSON) vs sbi on the CPU")
    table(sbi_cpu, cus)
PY
