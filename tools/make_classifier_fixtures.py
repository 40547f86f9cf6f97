#!/usr/bin/env python3
"""Makes tests/data/golden/classifier_*.safetensors: sbi's ratio classifiers, built by sbi's own
build_resnet_classifier / build_mlp_classifier / build_linear_classifier, which cusbi's builders
must reproduce (tests/golden/test_classifier_golden.cpp).

    pip install -r tools/requirements-golden.txt      (sbi, which brings nflows and torch)
    python tools/make_classifier_fixtures.py

Each case builds a classifier from random training data (columns with means in [-4, 4] and stds
in [0.3, 3], so z-scoring is far from identity), then adds N(0, 0.1^2) to every parameter: the
+-1e-3 init of each residual block's second Linear and LayerNorm's weight 1 / bias 0 would
otherwise hide transposed or mis-ordered weights. Tensors in each file:
  net.*, embedding_net_*.0._mean/_std   the estimator's full state_dict under its PyTorch names
  batch_theta (N, D), batch_x (N, C)    the builder's data (cusbi fits its z-scoring on it)
  theta (B, D), x (B, C), logits (B,)   estimator(theta, x)
  weights (B,), grad.<name>             autograd gradients of sum(weights * logits) w.r.t. every
                                        parameter (named_parameters() order: metadata
                                        param_names)
  grad_theta (B, D)                     d sum(weights * logits) / d theta
Metadata: kind, theta_features, x_features, the builder options, param_names, state_dict_keys and
f32_vs_f64_<q>_max_rel = max |float32 - float64| / max |float64| when the same float32 weights
and data are rerun in float64 (the scale of float32 rounding the C++ tolerances are argued from).
CPU, float32, one thread, fixed seeds, sorted headers: reruns give the same bytes. Updates only
this script's entries of tests/data/golden/MANIFEST.json.
"""
import copy
import hashlib
import importlib.metadata
import json
import pathlib
import sys

import torch
from safetensors.torch import save_file

from fixture_files import canonicalize_header  # tools/ is the script's folder

try:
    from sbi.neural_nets.net_builders.classifier import (  # the real thing, not a copy
        build_linear_classifier, build_mlp_classifier, build_resnet_classifier)
except ImportError as e:  # pragma: no cover
    sys.exit(f"sbi is needed ({e}); run: pip install -r tools/requirements-golden.txt")

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "golden"
COMMAND = "python tools/make_classifier_fixtures.py"
N = 200  # builder rows
PERTURB = 0.1
BUILDERS = {"resnet": build_resnet_classifier, "mlp": build_mlp_classifier,
            "linear": build_linear_classifier}

# name: (kind, D, C, B, builder keyword arguments). sbi's defaults in one case per kind; every
# z-score mode; B = 150 runs cusbi's CPU path in two row parts (gradient partials).
CASES = {
    "classifier_resnet_d3_c4": ("resnet", 3, 4, 37, {}),
    "classifier_resnet_d2_c5_b150": ("resnet", 2, 5, 150,
                                     dict(hidden_features=16, num_blocks=1,
                                          z_score_x="structured", z_score_y="none")),
    "classifier_mlp_d3_c4": ("mlp", 3, 4, 37, {}),
    "classifier_mlp_d1_c8_b150": ("mlp", 1, 8, 150,
                                  dict(hidden_features=20, z_score_x="none",
                                       z_score_y="structured")),
    "classifier_linear_d3_c4": ("linear", 3, 4, 37, {}),
    "classifier_linear_d2_c3": ("linear", 2, 3, 37,
                                dict(z_score_x="structured", z_score_y="none")),
}


def training_data(gen, n, dim):
    mean = (torch.rand(dim, generator=gen) * 2 - 1) * 4
    std = 0.3 + torch.rand(dim, generator=gen) * 2.7
    return mean + std * torch.randn(n, dim, generator=gen)


def evaluate(est, data, dtype):
    est = copy.deepcopy(est).to(dtype)
    d = {k: v.to(dtype) for k, v in data.items()}
    est.zero_grad(set_to_none=True)
    theta = d["theta"].clone().requires_grad_(True)
    logits = est(theta, d["x"])
    (d["weights"] * logits).sum().backward()
    res = {"logits": logits.detach(), "grad_theta": theta.grad.detach()}
    res.update({f"grad.{n}": p.grad.clone() for n, p in est.named_parameters()})
    return res


def drift_of(res32, res64):
    def rel(a, b):
        scale = b.abs().max().item()
        return (a.double() - b).abs().max().item() / scale if scale > 0 else 0.0
    drift = {f"f32_vs_f64_{k}_max_rel": rel(res32[k], res64[k]) for k in ("logits", "grad_theta")}
    drift["f32_vs_f64_grad_max_rel"] = max(rel(res32[k], res64[k]) for k in res32
                                           if k.startswith("grad."))
    return drift


def make_case(kind, dim, cdim, batch, kwargs, seed):
    gen = torch.Generator().manual_seed(seed)
    batch_theta = training_data(gen, N, dim)
    batch_x = training_data(gen, N, cdim)
    torch.manual_seed(seed)
    est = BUILDERS[kind](batch_theta, batch_x, **kwargs)
    with torch.no_grad():
        for p in est.parameters():
            p.add_(PERTURB * torch.randn(p.shape, generator=gen))
    est.eval()
    rows = torch.randint(0, N, (batch,), generator=gen)
    data = {"theta": batch_theta[rows] + 0.5 * torch.randn(batch, dim, generator=gen),
            "x": batch_x[rows] + 0.5 * torch.randn(batch, cdim, generator=gen),
            "weights": torch.randn(batch, generator=gen)}
    res32 = evaluate(est, data, torch.float32)
    res64 = evaluate(est, data, torch.float64)
    drift = drift_of(res32, res64)
    state = {k: v.detach().clone() for k, v in est.state_dict().items()}
    meta = dict(kind=kind, theta_features=dim, x_features=cdim, seed=seed, perturbation=PERTURB,
                hidden_features=kwargs.get("hidden_features", 50),
                num_blocks=kwargs.get("num_blocks", 2),
                z_score_theta=kwargs.get("z_score_x", "independent"),
                z_score_x=kwargs.get("z_score_y", "independent"),
                param_names=[n for n, _ in est.named_parameters()], state_dict_keys=list(state),
                **drift, description=f"sbi build_{kind}_classifier, perturbed; logits, autograd "
                "gradients of sum(weights * logits) w.r.t. parameters and theta")
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}
    tensors = {**state, "batch_theta": batch_theta, "batch_x": batch_x, **data, **res32}
    return tensors, meta, drift, est


def save(tensors, meta, path):
    out = {k: v.detach().clone().contiguous().float() for k, v in tensors.items()}
    save_file(out, str(path), metadata=meta)
    canonicalize_header(path)
    path.chmod(0o644)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"files": {}}
    versions = {p: importlib.metadata.version(p) for p in ("sbi", "nflows", "torch")}
    for seed, (name, (kind, dim, cdim, batch, kwargs)) in enumerate(CASES.items(), start=5000):
        tensors, meta, drift, est = make_case(kind, dim, cdim, batch, kwargs, seed)
        path = OUT / f"{name}.safetensors"
        save(tensors, meta, path)
        manifest["files"][path.name] = {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "bytes": path.stat().st_size, "command": COMMAND, "versions": versions,
            "f32_vs_f64": {k: repr(v) for k, v in drift.items()}}
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes); drift {drift}")
        print("  state_dict keys:", ", ".join(f"{k} {tuple(v.shape)}"
                                             for k, v in est.state_dict().items()))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
