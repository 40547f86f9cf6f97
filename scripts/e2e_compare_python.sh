#!/usr/bin/env bash
# sbi vs cusbi from Python vs cusbi from C++ on the tutorial's workflows (the NPE, NLE and NRE
# sections and the NPE trainer at 1,000 simulations), on the CPU: the same steps and timing keys
# on all three sides (tools/e2e_cusbi_python.py documents them). Prints a table with the ratio
# sbi / cusbi-Python and the Python overhead, cusbi-Python / cusbi-C++.
#   bash scripts/e2e_compare_python.sh [build-dir] [repeats]      (defaults: build, 3)
# Needs sbi for python3 (pip install sbi), the bench_e2e_* targets built in build-dir, and the
# cusbi package importable by $PYTHON (default python3): pip install . (or PYTHONPATH=<a build
# configured with -DCUSBI_PYTHON=ON>/python). E2E_THREADS (default 2) threads on every side.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/e2e_common.sh"
e2e_init "$@"
python=${PYTHON:-python3}
for bin in bench_e2e_npe bench_e2e_nle bench_e2e_nre; do e2e_require "$build/bench/$bin"; done
"$python" -c "import cusbi" || { echo "cusbi is not importable by $python: pip install ." >&2; exit 1; }

e2e_machine_line "$threads" "$repeats"
common=(--device cpu --repeats "$repeats")
echo "== sbi"
python3 "$repo/tools/e2e_sbi_npe.py" "${common[@]}" --threads "$threads" --trainer-sims 1000 >"$work/sbi_npe.json"
python3 "$repo/tools/e2e_sbi_nle.py" "${common[@]}" --threads "$threads" --batched-obs 0 >"$work/sbi_nle.json"
python3 "$repo/tools/e2e_sbi_nre.py" "${common[@]}" --threads "$threads" --trainer-sims "" >"$work/sbi_nre.json"
echo "== cusbi (C++)"
export OMP_NUM_THREADS=$threads
"$build/bench/bench_e2e_npe" "${common[@]}" --trainer-sims 1000 >"$work/cpp_npe.json"
"$build/bench/bench_e2e_nle" "${common[@]}" --batched-obs 0 >"$work/cpp_nle.json"
"$build/bench/bench_e2e_nre" "${common[@]}" --trainer-sims "" >"$work/cpp_nre.json"
echo "== cusbi (Python)"
"$python" "$repo/tools/e2e_cusbi_python.py" "${common[@]}" --threads "$threads" >"$work/py.json"

python3 - "$work" <<'PY'
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
load = lambda name: json.loads((work / name).read_text())["workflows"]
py = load("py.json")
rows = [  # (label, python workflow, sbi/C++ file suffix, their workflow, keys)
    ("tutorial NPE section", "npe_tutorial", "npe", "tutorial",
     ["total_s", "train_s", "flow_sample_s", "posterior_sample_s"]),
    ("NPE trainer, 1,000 sims", "npe_trainer_1000", "npe", "trainer_1000",
     ["total_s", "simulate_s", "train_s", "epoch_s", "posterior_sample_s"]),
    ("tutorial NLE section", "nle_tutorial", "nle", "tutorial",
     ["total_s", "train_s", "mcmc_sample_s"]),
    ("tutorial NRE section", "nre_tutorial", "nre", "tutorial",
     ["total_s", "train_s", "mcmc_sample_s"]),
]
print("| workflow | measure | sbi s | cusbi Python s | cusbi C++ s | sbi / cusbi Python "
      "| Python / C++ |")
print("|---|---|--:|--:|--:|--:|--:|")
for label, name, suffix, theirs, keys in rows:
    sbi, cpp, ours = load(f"sbi_{suffix}.json")[theirs], load(f"cpp_{suffix}.json")[theirs], py[name]
    for key in keys:
        if key not in ours or key not in sbi or key not in cpp:
            continue
        s, c, p = sbi[key], cpp[key], ours[key]
        print(f"| {label} | {key} | {s:.3f} | {p:.3f} | {c:.3f} | {s / p:.1f} | {p / c:.2f} |")
    if "epochs" in ours:
        print(f"| {label} | epochs (median) | {sbi.get('epochs', '')} | {ours['epochs']} "
              f"| {cpp.get('epochs', '')} | | |")
PY
