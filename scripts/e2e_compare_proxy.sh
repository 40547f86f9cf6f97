#!/usr/bin/env bash
# cusbi vs sbi's NSF on a machine without sbi (the GPU machines): tools/e2e_nflows_proxy.py
# times sbi's network rebuilt from nflows (checked equal to sbi's build_nsf where sbi is
# installed), bench/e2e/step.cpp the same workloads in cusbi; prints the ratios per device.
#   bash scripts/e2e_compare_proxy.sh [build-dir] [device] [repeats]   (build, cuda or cpu, 3)
# nflows comes from the environment or from <build-dir>/pyrefs (scripts/stage_pyrefs.sh).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$repo/$build"
device=${2:-cpu}
repeats=${3:-3}
threads=${E2E_THREADS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PYTHONPATH="$build/pyrefs${PYTHONPATH:+:$PYTHONPATH}"
[[ -x $build/bench/bench_e2e_step ]] || { echo "no $build/bench/bench_e2e_step" >&2; exit 1; }
python3 -c "import torch, nflows" 2>/dev/null ||
  { echo "torch or nflows missing (bash scripts/stage_pyrefs.sh on the build machine)" >&2; exit 1; }
OMP_NUM_THREADS=$threads "$build/bench/bench_e2e_step" --device "$device" --repeats "$repeats" \
  >"$work/cusbi.json"
python3 "$repo/tools/e2e_nflows_proxy.py" --device "$device" --threads "$threads" \
  --repeats "$repeats" 2>/dev/null >"$work/proxy.json"
python3 - "$work" <<'PY'
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
c, p = (json.loads((work / f).read_text()) for f in ("cusbi.json", "proxy.json"))
print(f"{p['device']}: sbi's NSF via nflows (torch {p['torch_version']}) vs cusbi")
print(f"| {'measure':24} | {'sbi (nflows)':>13} | {'cusbi':>13} | {'ratio':>7} |")
print(f"|{'-' * 26}|{'-' * 14}:|{'-' * 14}:|{'-' * 8}:|")
for key, lower_is_better in (("tutorial_train_s", True), ("step_200_ms", True),
                             ("log_prob_per_s", False), ("sample_per_s", False)):
    ratio = p[key] / c[key] if lower_is_better else c[key] / p[key]
    print(f"| {key:24} | {p[key]:13.4g} | {c[key]:13.4g} | {ratio:7.1f} |")
PY
