#!/usr/bin/env python3
"""Makes tests/data/golden/rq_spline_K{4,10}.safetensors: nflows' rational-quadratic spline with
linear tails that kernels/rq_spline.h must reproduce (tests/golden/test_rq_spline_golden.cpp).

    pip install -r tools/requirements-golden.txt
    python tools/make_spline_fixtures.py

Calls nflows.transforms.splines.unconstrained_rational_quadratic_spline itself (tails="linear",
tail_bound 3, nflows' default min bin width/height/derivative 1e-3), after dividing the widths and
heights by the conditioner's sqrt(hidden_features) in place, as PiecewiseRationalQuadratic-
CouplingTransform._piecewise_cdf does (K=10: sqrt(50), sbi's NSF default; K=4: no division, as
for a conditioner without `hidden_features`). Tensors (N rows, one spline dimension per row):
  params (N, 3K-1)   raw conditioner outputs: widths | heights | interior derivatives
  inputs (N,)        forward inputs: inside [-3, 3], exactly +-3, and outside
  outputs, logdet    forward results
  dvalue, dlogdet    upstream weights; grad_inputs (N,), grad_params (N, 3K-1) are torch autograd's
                     gradients of sum(dvalue * outputs + dlogdet * logdet) w.r.t. inputs and params
  inv_inputs (N,)    inverse inputs (same mix); inv_outputs, inv_logdet the inverse results
  f64.<name>         the same results from a float64 rerun on the same (float32) data, rounded to
                     float32: the reference for cusbi's double path
Rows draw their parameters at several scales, so some have min-width/height bins and derivative
logits beyond softplus's threshold 20. Runs on the CPU in float32 with one thread and fixed seeds;
metadata "f32_vs_f64_*" records the float32 drift from a float64 rerun. Updates only this
script's entries of tests/data/golden/MANIFEST.json.
"""
import hashlib
import json
import pathlib
import sys

import numpy as np
import torch
from safetensors.torch import save_file

from fixture_files import canonicalize_header  # tools/ is the script's folder

try:
    from nflows.transforms.splines.rational_quadratic import (
        unconstrained_rational_quadratic_spline,  # the real thing, not a copy
    )
except ImportError as e:  # pragma: no cover
    sys.exit(f"nflows is needed ({e}); run: pip install -r tools/requirements-golden.txt")

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "golden"
COMMAND = "python tools/make_spline_fixtures.py"
TAIL_BOUND = 3.0
ROWS = 256
CASES = {  # name: (num_bins, hidden_features or None for no division)
    "rq_spline_K4": (4, None),
    "rq_spline_K10": (10, 50),
}


def make_inputs(gen, n):
    """Mostly inside the bound, with both ends exactly and a tail on each side."""
    x = (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * TAIL_BOUND
    x[:4] = torch.tensor([-TAIL_BOUND, TAIL_BOUND, -TAIL_BOUND, TAIL_BOUND], dtype=torch.float64)
    n_out = n // 10
    side = torch.where(torch.rand(n_out, generator=gen) < 0.5, -1.0, 1.0).double()
    x[4:4 + n_out] = side * (TAIL_BOUND + 2 * torch.rand(n_out, generator=gen).double())
    return x[torch.randperm(n, generator=gen)].float()


def make_params(gen, n, num_bins):
    """Raw conditioner outputs; per-row scale 0.5 (near uniform bins) to 60 (min-width bins after
    the sqrt(50) division), and derivative logits beyond +-20 in some rows."""
    p = torch.randn(n, 3 * num_bins - 1, generator=gen, dtype=torch.float64)
    scales = torch.tensor([0.5, 2.0, 8.0, 60.0], dtype=torch.float64)
    p *= scales[torch.randint(0, len(scales), (n, 1), generator=gen)]
    big = torch.rand(n, num_bins - 1, generator=gen) < 0.05
    p[:, 2 * num_bins:][big] = 25.0 * torch.sign(p[:, 2 * num_bins:][big])
    return p.float()


def spline(inputs, params, num_bins, hidden, inverse):
    tp = params.clone()  # the conditioner's output: a non-leaf, divided in place as nflows does
    widths, heights, derivs = tp[..., :num_bins], tp[..., num_bins:2 * num_bins], tp[..., 2 * num_bins:]
    if hidden is not None:
        widths /= np.sqrt(hidden)
        heights /= np.sqrt(hidden)
    return unconstrained_rational_quadratic_spline(
        inputs, widths, heights, derivs, inverse=inverse, tails="linear", tail_bound=TAIL_BOUND)


def run(data, num_bins, hidden, dtype):
    x = data["inputs"].to(dtype).clone().requires_grad_(True)  # fresh leaves, data untouched
    p = data["params"].to(dtype).clone().requires_grad_(True)
    out, logdet = spline(x, p, num_bins, hidden, inverse=False)
    (data["dvalue"].to(dtype) * out + data["dlogdet"].to(dtype) * logdet).sum().backward()
    with torch.no_grad():
        inv_out, inv_logdet = spline(data["inv_inputs"].to(dtype), p, num_bins, hidden, True)
    return {"outputs": out.detach(), "logdet": logdet.detach(), "grad_inputs": x.grad,
            "grad_params": p.grad, "inv_outputs": inv_out, "inv_logdet": inv_logdet}


def make_case(num_bins, hidden, seed):
    gen = torch.Generator().manual_seed(seed)
    data = {"inputs": make_inputs(gen, ROWS), "params": make_params(gen, ROWS, num_bins),
            "dvalue": torch.randn(ROWS, generator=gen), "dlogdet": torch.randn(ROWS, generator=gen),
            "inv_inputs": make_inputs(gen, ROWS)}
    res = run(data, num_bins, hidden, torch.float32)
    res64 = run(data, num_bins, hidden, torch.float64)
    drift = {f"f32_vs_f64_{k}_max_abs": float((res[k].double() - res64[k]).abs().max())
             for k in res}
    inside = (data["inputs"].abs() <= TAIL_BOUND).sum().item()
    meta = dict(num_bins=num_bins, tail_bound=TAIL_BOUND, rows=ROWS, seed=seed,
                hidden_features=hidden if hidden is not None else "none",
                divisor=repr(float(np.sqrt(hidden))) if hidden is not None else "1.0",
                inside_rows=inside, tails="linear", min_bin_width=1e-3, min_bin_height=1e-3,
                min_derivative=1e-3, **drift,
                description="nflows unconstrained_rational_quadratic_spline, forward + autograd "
                            "and inverse, widths/heights divided by sqrt(hidden_features)")
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}
    ref64 = {f"f64.{k}": v for k, v in res64.items()}  # rounded to float32 when saved
    return {**data, **res, **ref64}, meta, drift


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"files": {}}
    for seed, (name, (num_bins, hidden)) in enumerate(CASES.items(), start=2000):
        tensors, meta, drift = make_case(num_bins, hidden, seed)
        path = OUT / f"{name}.safetensors"
        save_file({k: v.detach().float().contiguous() for k, v in tensors.items()}, str(path),
                  metadata=meta)
        canonicalize_header(path)
        path.chmod(0o644)
        manifest["files"][path.name] = {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "bytes": path.stat().st_size, "command": COMMAND,
            "f32_vs_f64": {k: repr(v) for k, v in drift.items()}}
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes); drift {drift}")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
