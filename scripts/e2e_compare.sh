#!/usr/bin/env bash
# sbi tutorial 18's NPE custom loop (100 full-batch Adam steps on 1000 simulations, then 1000
# samples) in sbi and in cusbi on this machine, with the same thread count, and a table of the
# times and the ratio sbi/cusbi for the training loop, the sampling and the total (build + loop +
# sampling). On the CPU, then on CUDA when a GPU is visible to both sides.
#   bash scripts/e2e_compare.sh [build-dir] [repeats]      (defaults: build, 3)
# Needs: the build's bench/bench_e2e_custom_loop, python3 with sbi (pip install sbi).
# Environment: E2E_THREADS (default 2) threads for torch and for cusbi's OpenMP.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/e2e_common.sh"
e2e_init "$@"
cusbi_bin="$build/bench/bench_e2e_custom_loop"
sbi_script="$repo/tools/e2e_sbi_custom_loop.py"

e2e_require "$cusbi_bin"
e2e_devices

e2e_machine_line "$threads" "$repeats"
for device in "${devices[@]}"; do
  e2e_run_pair "$device" "$sbi_script" --
done

python3 - "$work" "${devices[@]}" <<'PY'
import json, pathlib, sys
work, devices = pathlib.Path(sys.argv[1]), sys.argv[2:]
rows = [("training loop (100 steps)", "train_s"), ("sampling (1000)", "sample_s"),
        ("total (build + loop + sampling)", "total_s")]
for device in devices:
    if not (work / f"cusbi_{device}.json").exists():
        continue
    sbi = json.loads((work / f"sbi_{device}.json").read_text())
    cus = json.loads((work / f"cusbi_{device}.json").read_text())
    print(f"\n{device}: sbi {sbi['sbi_version']} (torch {sbi['torch_version']}, {sbi['device']})"
          f" vs cusbi ({cus['device']}), {sbi['threads']} torch threads")
    print(f"| {'':33} | {'sbi s':>9} | {'cusbi s':>9} | {'sbi/cusbi':>9} |")
    print(f"|{'-' * 35}|{'-' * 10}:|{'-' * 10}:|{'-' * 10}:|")
    for name, key in rows:
        print(f"| {name:33} | {sbi[key]:9.4f} | {cus[key]:9.4f} | {sbi[key] / cus[key]:9.1f} |")
    print("final mean loss: sbi " + ", ".join(f"{r['final_loss']:.3f}" for r in sbi["runs"])
          + "; cusbi " + ", ".join(f"{r['final_loss']:.3f}" for r in cus["runs"]))
PY
