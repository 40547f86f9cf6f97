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
build=${1:-build}
[[ $build = /* ]] || build="$repo/$build"
repeats=${2:-3}
threads=${E2E_THREADS:-2}
sims=${E2E_TRAINER_SIMS:-1000,100000}
cap=${E2E_LARGE_MAX_EPOCHS:-5}
cusbi_bin="$build/bench/bench_e2e_npe"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source "$repo/scripts/e2e_common.sh"
e2e_require "$cusbi_bin"
e2e_devices

e2e_machine_line "$threads" "$repeats"
for device in "${devices[@]}"; do
  batched=()
  [[ $device == cuda ]] && batched=(--batched)
  echo "== $device: sbi"
  python3 "$repo/tools/e2e_sbi_npe.py" --device "$device" --threads "$threads" \
    --repeats "$repeats" --trainer-sims "$sims" --large-max-epochs "$cap" "${batched[@]}" \
    >"$work/sbi_$device.json"
  echo "== $device: cusbi"
  if ! OMP_NUM_THREADS=$threads "$cusbi_bin" --device "$device" --repeats "$repeats" \
      --trainer-sims "$sims" --large-max-epochs "$cap" "${batched[@]}" >"$work/cusbi_$device.json"; then
    echo "cusbi could not run on $device (a build without CUDA?): skipped" >&2
    rm -f "$work/cusbi_$device.json"
  fi
done

python3 - "$work" "${devices[@]}" <<'PY'
import json, pathlib, sys
work, devices = pathlib.Path(sys.argv[1]), sys.argv[2:]
keys = ["total_s", "train_s", "epoch_s", "simulate_s", "flow_sample_s", "posterior_sample_s",
        "sample_batched_s"]
for device in devices:
    if not (work / f"cusbi_{device}.json").exists():
        continue
    sbi = json.loads((work / f"sbi_{device}.json").read_text())
    cus = json.loads((work / f"cusbi_{device}.json").read_text())
    print(f"\n{device}: sbi {sbi['sbi_version']} (torch {sbi['torch_version']}, {sbi['device']})"
          f" vs cusbi ({cus['device']}), {sbi['threads']} threads")
    print(f"| {'workflow':12} | {'measure':18} | {'sbi s':>9} | {'cusbi s':>9} | {'sbi/cusbi':>9} |")
    print(f"|{'-' * 14}|{'-' * 20}|{'-' * 10}:|{'-' * 10}:|{'-' * 10}:|")
    for name, s in sbi["workflows"].items():
        c = cus["workflows"].get(name)
        if c is None:
            continue
        for key in keys:
            if key in s and key in c and c[key] > 0:
                print(f"| {name:12} | {key:18} | {s[key]:9.3f} | {c[key]:9.3f} | "
                      f"{s[key] / c[key]:9.1f} |")
        if "epochs" in s:
            print(f"| {name:12} | {'epochs':18} | {s['epochs']:9.0f} | {c['epochs']:9.0f} | {'':9} |")
PY
