#!/usr/bin/env bash
# sbi vs cusbi on the NPE workflows of bench/e2e (tools/e2e_sbi_npe.py documents them): the
# tutorial's NPE section and the trainer path at 1,000 and 100,000 simulations, on the CPU and,
# when a GPU is visible to both sides, on CUDA (plus sample_batched for 1000 observations x 1000
# samples there). Prints a table of times and the ratio sbi/cusbi per workflow.
#   bash scripts/e2e_compare_npe.sh [build-dir] [repeats]      (defaults: build, 3)
# Environment: E2E_THREADS (default 2) threads for torch and for cusbi's OpenMP;
# E2E_TRAINER_SIMS (default 1000,100000); E2E_LARGE_MAX_EPOCHS (default 5) caps the epochs of
# the large trainer runs on both sides alike.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/e2e_common.sh"
e2e_init "$@"
sims=${E2E_TRAINER_SIMS:-1000,100000}
cap=${E2E_LARGE_MAX_EPOCHS:-5}
cusbi_bin="$build/bench/bench_e2e_npe"

e2e_require "$cusbi_bin"
e2e_devices

e2e_machine_line "$threads" "$repeats"
for device in "${devices[@]}"; do
  batched=()
  [[ $device == cuda ]] && batched=(--batched)
  e2e_run_pair "$device" "$repo/tools/e2e_sbi_npe.py" \
    --trainer-sims "$sims" --large-max-epochs "$cap" "${batched[@]}" -- \
    --trainer-sims "$sims" --large-max-epochs "$cap" "${batched[@]}"
done

PYTHONPATH="$repo/tools${PYTHONPATH:+:$PYTHONPATH}" python3 - "$work" "${devices[@]}" <<'PY'
import json, pathlib, sys
from e2e_common import device_heading, read_pairs, workflow_table
work, devices = pathlib.Path(sys.argv[1]), sys.argv[2:]
keys = ["total_s", "train_s", "epoch_s", "simulate_s", "flow_sample_s", "posterior_sample_s",
        "sample_batched_s"]
for device, sbi, cus in read_pairs(work, devices):
    if cus is None:
        continue
    device_heading(device, sbi, cus, load=False)
    workflow_table(sbi, cus, keys, (12, 18), counts=("epochs",))
PY
