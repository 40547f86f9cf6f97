#!/usr/bin/env python3
"""Makes tests/data/io/sbi_classifier_*.safetensors: sbi's ratio classifiers (one per builder,
small) exported with the user-facing tools/export_sbi_classifier.py, plus
sbi_classifier_checks.safetensors holding <kind>.theta (B, D), <kind>.x (B, C) and
<kind>.logits (B,) = estimator(theta, x) computed by sbi, which cusbi must reproduce after
load_sbi_classifier (tests/unit/test_sbi_classifier_interop.cpp). The exports' metadata records
sbi's state_dict keys, which the file cusbi saves must match exactly.

    pip install -r tools/requirements-golden.txt      (sbi, which brings nflows and torch)
    python tools/make_classifier_io_fixtures.py

Weights get N(0, 0.1^2) added (LayerNorm's 1/0 init and the resnet's +-1e-3 last layers would
hide transposed or mis-ordered weights); training data have column means in [-4, 4] and stds in
[0.3, 3], so z-scoring is far from identity. CPU, float32, one thread, fixed seeds, sorted
headers: reruns give the same bytes. Writes tests/data/io/MANIFEST.json (sha256 of each file).
"""
import hashlib
import importlib.metadata
import json
import pathlib
import sys

import torch
from safetensors.torch import save_file

from export_sbi_classifier import export_sbi_classifier  # the user-facing exporter, end to end
from fixture_files import canonicalize_header

try:
    from sbi.neural_nets.net_builders.classifier import (
        build_linear_classifier, build_mlp_classifier, build_resnet_classifier)
except ImportError as e:  # pragma: no cover
    sys.exit(f"sbi is needed ({e}); run: pip install -r tools/requirements-golden.txt")

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "io"
COMMAND = "python tools/make_classifier_io_fixtures.py"
N, B, PERTURB = 100, 5, 0.1
# kind: (builder, D, C, keyword arguments); every z-score mode appears on each side once.
CASES = {
    "resnet": (build_resnet_classifier, 2, 3,
               dict(hidden_features=8, num_blocks=1, z_score_x="independent",
                    z_score_y="structured")),
    "mlp": (build_mlp_classifier, 3, 2,
            dict(hidden_features=6, z_score_x="structured", z_score_y="independent")),
    "linear": (build_linear_classifier, 2, 4, dict(z_score_x="none", z_score_y="none")),
}


def training_data(gen, n, dim):
    mean = (torch.rand(dim, generator=gen) * 2 - 1) * 4
    std = 0.3 + torch.rand(dim, generator=gen) * 2.7
    return mean + std * torch.randn(n, dim, generator=gen)


def finish(path, manifest, versions):
    canonicalize_header(path)
    path.chmod(0o644)
    manifest["files"][path.name] = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                    "bytes": path.stat().st_size, "command": COMMAND,
                                    "versions": versions}
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    versions = {p: importlib.metadata.version(p) for p in ("sbi", "torch", "safetensors")}
    manifest = {"description": "sbi classifier exports and sbi's logits on them "
                "(interop fixtures; python_written.safetensors: tools/make_io_fixtures.py)",
                "settings": "CPU, float32, torch.set_num_threads(1), deterministic algorithms",
                "files": {}}
    checks = {}
    for seed, (kind, (builder, dim, cdim, kwargs)) in enumerate(CASES.items(), start=7000):
        gen = torch.Generator().manual_seed(seed)
        batch_theta, batch_x = training_data(gen, N, dim), training_data(gen, N, cdim)
        torch.manual_seed(seed)
        est = builder(batch_theta, batch_x, **kwargs)
        with torch.no_grad():
            for p in est.parameters():
                p.add_(PERTURB * torch.randn(p.shape, generator=gen))
        est.eval()
        rows = torch.randint(0, N, (B,), generator=gen)
        theta = batch_theta[rows] + 0.5 * torch.randn(B, dim, generator=gen)
        x = batch_x[rows] + 0.5 * torch.randn(B, cdim, generator=gen)
        with torch.no_grad():
            logits = est(theta, x).reshape(B)
        checks.update({f"{kind}.theta": theta, f"{kind}.x": x, f"{kind}.logits": logits})
        path = OUT / f"sbi_classifier_{kind}.safetensors"
        export_sbi_classifier(est, path)
        finish(path, manifest, versions)
    path = OUT / "sbi_classifier_checks.safetensors"
    save_file({k: v.float().contiguous() for k, v in checks.items()}, str(path),
              metadata={"description": "sbi's logits = estimator(theta, x) for each "
                        "sbi_classifier_<kind>.safetensors", "command": COMMAND})
    finish(path, manifest, versions)
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
