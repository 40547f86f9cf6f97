#!/usr/bin/env python3
"""Makes tests/data/c2st/c2st_cases.safetensors: sample sets and sbibm's C2ST on them, which
cusbi::c2st must reproduce within sbibm's own seed-to-seed spread (tests/golden/test_c2st_golden.cpp).

    pip install scikit-learn torch numpy safetensors   (sbibm itself is optional, see below)
    python tools/make_c2st_fixtures.py [--sbibm-c2st PATH/TO/sbibm/metrics/c2st.py]
    python tools/make_c2st_fixtures.py --time OUT.safetensors   (timing, writes no fixture)

The metric is sbibm 1.1.0's own `sbibm.metrics.c2st` (imported from the installed sbibm, or the
file given by --sbibm-c2st: it needs only numpy, torch and sklearn): z-score with X's mean/std,
sklearn MLPClassifier(relu, (10 dim, 10 dim), adam, max_iter 10000, random_state=seed) and
KFold(5, shuffle, random_state=seed), mean accuracy. Per case it runs seeds 1..SEEDS on the same
samples and stores the mean and sd over seeds (the run-to-run spread of the metric itself); a
replica of the recipe with cross_validate records sklearn's epochs per fold for seed 1 (and checks
that it gives sbibm's score). Tensors per case: <case>.x, <case>.y (float32), <case>.scores
(float64, one per seed); metadata <case>.mean, <case>.sd, <case>.epochs_seed1. Updates only this
file's entry of tests/data/c2st/MANIFEST.json.
"""
import argparse
import hashlib
import importlib.util
import json
import pathlib
import sys
import time

import numpy as np
import sklearn
import torch
from safetensors.torch import save_file
from sklearn.model_selection import KFold, cross_validate
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fixture_files import canonicalize_header  # noqa: E402  (tools/ is the script's folder)

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "c2st"
NAME = "c2st_cases.safetensors"
COMMAND = "python tools/make_c2st_fixtures.py"
SEEDS = 10


def load_c2st(path):
    if path is None:
        from sbibm.metrics.c2st import c2st  # the installed sbibm
        import sbibm
        return c2st, f"sbibm {sbibm.__version__} package"
    spec = importlib.util.spec_from_file_location("sbibm_c2st", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.c2st, "sbibm/metrics/c2st.py given by --sbibm-c2st"


def make_cases(gen):
    """(name, X, Y): small sizes so the golden test trains 5 folds in about a second."""
    def normal(n, dim, mean=0.0, scale=1.0):
        return (torch.randn(n, dim, generator=gen) * scale + mean).float()

    shift2 = torch.tensor([0.6, 0.0])
    return [
        ("same_2d", normal(1000, 2), normal(1000, 2)),                  # indistinguishable: ~0.5
        ("shift_2d", normal(1000, 2), normal(1000, 2, shift2)),          # Bayes accuracy 0.618
        ("shift_10d", normal(500, 10), normal(500, 10, 0.3)),            # Bayes accuracy 0.683
        ("scale_10d", normal(500, 10), normal(500, 10, 0.0, 1.5)),      # needs the hidden layers
    ]


def replica_epochs(x, y, seed):
    """sbibm's recipe written out, keeping the fitted estimators: (score, epochs per fold)."""
    mean, std = torch.mean(x, dim=0), torch.std(x, dim=0)
    data = np.concatenate((((x - mean) / std).numpy(), ((y - mean) / std).numpy()))
    target = np.concatenate((np.zeros(x.shape[0]), np.ones(y.shape[0])))
    dim = x.shape[1]
    clf = MLPClassifier(activation="relu", hidden_layer_sizes=(10 * dim, 10 * dim),
                        max_iter=10000, solver="adam", random_state=seed)
    cv = KFold(n_splits=5, shuffle=True, random_state=seed)
    out = cross_validate(clf, data, target, cv=cv, scoring="accuracy", return_estimator=True)
    return float(np.mean(out["test_score"])), [int(e.n_iter_) for e in out["estimator"]]


def time_mode(c2st, path):
    gen = torch.Generator().manual_seed(2026)
    x = torch.randn(10000, 10, generator=gen)
    y = torch.randn(10000, 10, generator=gen) + 0.15
    save_file({"x": x.contiguous(), "y": y.contiguous()}, str(path))
    start, cpu_start = time.perf_counter(), time.process_time()
    score = float(c2st(x, y, seed=1)[0])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"sbibm c2st 10000 vs 10000, 10-D (N(0,I) vs N(0.15,I)): {score:.4f} in {seconds:.1f} s"
          f" wall, {cpu:.1f} s CPU"
          f" (sklearn {sklearn.__version__}, torch threads {torch.get_num_threads()})")
    print(f"samples written to {path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sbibm-c2st", type=pathlib.Path, default=None)
    parser.add_argument("--time", type=pathlib.Path, default=None)
    args = parser.parse_args()
    c2st, source = load_c2st(args.sbibm_c2st)
    if args.time is not None:
        time_mode(c2st, args.time)
        return

    gen = torch.Generator().manual_seed(11)
    tensors, meta = {}, {"sklearn": sklearn.__version__, "torch": torch.__version__,
                         "numpy": np.__version__, "c2st_source": "sbibm 1.1.0 metrics/c2st.py",
                         "seeds": json.dumps(list(range(1, SEEDS + 1)))}
    for name, x, y in make_cases(gen):
        start = time.perf_counter()
        scores = np.array([float(c2st(x, y, seed=s)[0]) for s in range(1, SEEDS + 1)])
        score1, epochs = replica_epochs(x, y, 1)
        assert abs(score1 - scores[0]) < 1e-6, (name, score1, scores[0])
        tensors[f"{name}.x"] = x.contiguous()
        tensors[f"{name}.y"] = y.contiguous()
        tensors[f"{name}.scores"] = torch.from_numpy(scores)
        meta[f"{name}.mean"] = repr(float(scores.mean()))
        meta[f"{name}.sd"] = repr(float(scores.std(ddof=1)))
        meta[f"{name}.epochs_seed1"] = json.dumps(epochs)
        print(f"{name}: mean {scores.mean():.4f} sd {scores.std(ddof=1):.4f} "
              f"epochs(seed 1) {epochs} [{time.perf_counter() - start:.0f} s]", flush=True)
    meta["cases"] = json.dumps([c[0] for c in make_cases(torch.Generator().manual_seed(11))])
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / NAME
    save_file(tensors, str(path), metadata=meta)
    canonicalize_header(path)
    path.chmod(0o644)
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"files": {}}
    manifest["files"][NAME] = {
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size,
        "command": COMMAND, "c2st_source": source,
        "versions": {"python": sys.version.split()[0], "sklearn": sklearn.__version__,
                     "torch": torch.__version__, "numpy": np.__version__}}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
