#!/usr/bin/env python3
"""Makes tests/data/golden/nsf_*.safetensors: whole flows built by sbi's own build_nsf, which
cusbi's load_sbi_nsf + NeuralSplineFlow must reproduce (tests/golden/test_nsf_golden.cpp).

    pip install -r tools/requirements-golden.txt      (sbi, which brings nflows and torch)
    python tools/make_nsf_fixtures.py

Each case builds an estimator with sbi.neural_nets.net_builders.build_nsf from random training
data (so the z-score statistics are far from mean 0 / std 1), then adds N(0, 0.1^2) to every
parameter: LULinear's identity init and the +-1e-3 init of each residual block's second Linear
would otherwise hide transposed or mis-ordered weights. Tensors in each file:
  net.*                the estimator's full state_dict under its PyTorch names (buffers too: the
                       PointwiseAffineTransform's _shift/_scale, Standardize's _mean/_std, the
                       couplings' int64 identity_features/transform_features)
  input (S, B, D), condition (B, C), log_prob (S, B)   estimator.log_prob(input, condition);
                       some inputs lie beyond the tail bound after standardisation
  loss_input (B, D), loss (B,)    estimator.loss(loss_input, condition)
  loss_weights (B,), grad.<name>  autograd gradients of sum(loss_weights * loss) w.r.t. every
                       parameter (named_parameters() order, listed in metadata param_names)
  noise (N, B, D), samples (N, B, D)   base noise and the samples sbi's flow makes from it:
                       sample j of condition b comes from noise[j, b]. nflows Flow._sample draws
                       randn(B * N, D) with row b * N + j and repeats each embedded context row N
                       times consecutively; sbi transposes (B, N, D) to (N, B, D). The noise here
                       is captured by reseeding and redrawing exactly that randn call, and the
                       script asserts estimator.sample((N,), condition) gives these samples.
  sample_shape_check   estimator.sample((2, 3), condition) under torch.manual_seed: only its
                       shape (2, 3, B, D) is meant to be compared (different random streams)
  inter.context (B, C), inter.<k>.outputs (B, D), inter.<k>.logdet (B,)   for loss_input: the
                       embedded condition and the output of each transform k of the composite,
                       for locating a mismatch layer by layer
nsf_export_<case>.safetensors: export_sbi_nsf(estimator) of some cases (see EXPORTED).
Metadata: architecture (D, C, options), param_names, state_dict_keys, and f32_vs_f64_<q>_max_rel:
max |float32 - float64| / max |float64| of each quantity when the same (float32) weights and data
are rerun in float64 -- the scale of float32 rounding the C++ tolerances are argued from.
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
    from sbi.neural_nets.net_builders import build_nsf  # the real thing, not a copy
    from nflows.utils import torchutils
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    from export_sbi_nsf import export_sbi_nsf  # the user-facing exporter, tested end to end
except ImportError as e:  # pragma: no cover
    sys.exit(f"sbi is needed ({e}); run: pip install -r tools/requirements-golden.txt")

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "golden"
COMMAND = "python tools/make_nsf_fixtures.py"
S, B, N = 3, 7, 4  # log_prob samples, batch (awkward on purpose), noise draws per condition
PERTURB = 0.1
# Cases also written by tools/export_sbi_nsf.py as nsf_export_<case>.safetensors (state_dict and
# architecture metadata only), for cusbi's load_sbi_nsf(path): one D == 1 flow with a shared
# hidden layer and one with "structured" z-scoring.
EXPORTED = ("nsf_d1_c8_k4", "nsf_d5_c2_k4")

# name: (D, C, build_nsf keyword arguments). Covers D in {1,2,3,5}, C in {1,2,8}, K in {4,10},
# sbi's defaults (hidden 50, 5 transforms) in two cases, every z-score mode, and D == 1 with
# ContextSplineMap's shared hidden layer (hidden_layers_spline_context=2).
CASES = {
    "nsf_d1_c1_k10": (1, 1, dict(num_bins=10)),
    "nsf_d1_c8_k4": (1, 8, dict(num_bins=4, hidden_features=16, num_transforms=2,
                                hidden_layers_spline_context=2)),
    "nsf_d2_c2_k10": (2, 2, dict(num_bins=10, hidden_features=16, num_transforms=3)),
    "nsf_d2_c8_k4": (2, 8, dict(num_bins=4, hidden_features=16, num_transforms=2,
                                z_score_x="none", z_score_y="none")),
    "nsf_d3_c1_k10": (3, 1, dict(num_bins=10, hidden_features=16, num_transforms=3,
                                 z_score_y="none", tail_bound=2.5)),
    "nsf_d3_c2_k4": (3, 2, dict(num_bins=4, hidden_features=16, num_transforms=3,
                                num_blocks=1)),
    "nsf_d5_c8_k10": (5, 8, dict(num_bins=10)),
    "nsf_d5_c2_k4": (5, 2, dict(num_bins=4, hidden_features=16, num_transforms=3,
                                z_score_x="structured", z_score_y="structured")),
}
DEFAULTS = dict(hidden_features=50, num_transforms=5, num_bins=10, tail_bound=3.0, num_blocks=2,
                hidden_layers_spline_context=1, z_score_x="independent", z_score_y="independent")


def training_data(gen, n, dim):
    """Columns with means in [-4, 4] and stds in [0.3, 3], so z-scoring is far from identity."""
    mean = (torch.rand(dim, generator=gen) * 2 - 1) * 4
    std = 0.3 + torch.rand(dim, generator=gen) * 2.7
    return mean + std * torch.randn(n, dim, generator=gen), mean, std


def spread_inputs(gen, shape, mean, std, tail):
    """Standardised values ~ N(0, 1.5^2) with every fifth one pushed beyond +-(tail + 0.5)."""
    u = 1.5 * torch.randn(*shape, generator=gen)
    far = torch.zeros(shape, dtype=torch.bool).flatten()
    far[::5] = True
    far = far.reshape(shape)
    u = torch.where(far, torch.sign(u) * (tail + 0.5 + torch.rand(shape, generator=gen)), u)
    return mean + std * u


def layer_outputs(est, x, cond):
    """The embedded condition and each transform's (outputs, logdet) of the composite."""
    flow = est.net
    ctx = flow._embedding_net(cond)
    out = {"inter.context": ctx}
    for k, t in enumerate(flow._transform._transforms):
        x, logdet = t(x, context=ctx)
        out[f"inter.{k}.outputs"], out[f"inter.{k}.logdet"] = x, logdet
    return out


def samples_from_noise(est, noise, cond):
    """noise (N, B, D) -> samples (N, B, D) exactly as nflows Flow._sample orders rows."""
    flow = est.net
    n = noise.shape[0]
    ctx = torchutils.repeat_rows(flow._embedding_net(cond), num_reps=n)  # row b * N + j
    rows = noise.transpose(0, 1).reshape(-1, noise.shape[-1])
    x, _ = flow._transform.inverse(rows, context=ctx)
    return x.reshape(cond.shape[0], n, -1).transpose(0, 1)


def evaluate(est, data, dtype):
    """Every compared quantity for `est` (converted to dtype) on `data`."""
    est = copy.deepcopy(est).to(dtype)
    d = {k: v.to(dtype) for k, v in data.items()}
    est.zero_grad(set_to_none=True)
    loss = est.loss(d["loss_input"], d["condition"])
    (d["loss_weights"] * loss).sum().backward()
    res = {"loss": loss.detach()}
    res.update({f"grad.{n}": p.grad.clone() for n, p in est.named_parameters()})
    with torch.no_grad():
        res["log_prob"] = est.log_prob(d["input"], d["condition"])
        res["samples"] = samples_from_noise(est, d["noise"], d["condition"])
        res.update(layer_outputs(est, d["loss_input"], d["condition"]))
    return res


def drift_of(res32, res64):
    """max |f32 - f64| / max |f64| per quantity; gradients reported as the worst parameter."""
    def rel(a, b):
        scale = b.abs().max().item()
        return (a.double() - b).abs().max().item() / scale if scale > 0 else 0.0
    drift = {}
    for k in ("log_prob", "loss", "samples"):
        drift[f"f32_vs_f64_{k}_max_rel"] = rel(res32[k], res64[k])
    drift["f32_vs_f64_grad_max_rel"] = max(rel(res32[k], res64[k]) for k in res32
                                           if k.startswith("grad."))
    return drift


def check_sampling_order(est, cond, n, seed):
    """Captures sbi's own base noise for sample((n,), cond) and checks our reordering of it."""
    torch.manual_seed(seed)
    with torch.no_grad():
        reference = est.sample((n,), cond)
    torch.manual_seed(seed)
    noise = torch.randn(cond.shape[0] * n, est.input_shape[0])  # Flow._sample's one randn call
    noise = noise.reshape(cond.shape[0], n, -1).transpose(0, 1).contiguous()  # (N, B, D)
    with torch.no_grad():
        mine = samples_from_noise(est, noise, cond)
    assert torch.equal(mine, reference), "noise capture does not reproduce estimator.sample"
    return noise


def make_case(dim, cdim, kwargs, seed):
    gen = torch.Generator().manual_seed(seed)
    opts = {**DEFAULTS, **kwargs}
    theta, t_mean, t_std = training_data(gen, 200, dim)
    x, _, _ = training_data(gen, 200, cdim)
    torch.manual_seed(seed)
    est = build_nsf(theta, x, **kwargs)
    with torch.no_grad():
        for p in est.parameters():  # parameters() visits a shared Linear once
            p.add_(PERTURB * torch.randn(p.shape, generator=gen))
    est.eval()
    tail = opts["tail_bound"]
    cond = x[:B] + 0.3 * torch.randn(B, cdim, generator=gen)
    data = {"input": spread_inputs(gen, (S, B, dim), t_mean, t_std, tail),
            "condition": cond,
            "loss_input": spread_inputs(gen, (B, dim), t_mean, t_std, tail),
            "loss_weights": torch.randn(B, generator=gen),
            "noise": check_sampling_order(est, cond, N, seed + 1)}
    res32 = evaluate(est, data, torch.float32)
    res64 = evaluate(est, data, torch.float64)
    drift = drift_of(res32, res64)
    torch.manual_seed(seed + 2)
    with torch.no_grad():
        data["sample_shape_check"] = est.sample((2, 3), cond)
    state = {k: v.detach().clone() for k, v in est.state_dict().items()}
    meta = dict(input_features=dim, condition_features=cdim, seed=seed, perturbation=PERTURB,
                **opts, param_names=[n for n, _ in est.named_parameters()],
                state_dict_keys=list(state),
                num_transform_modules=len(est.net._transform._transforms),
                **drift, description="sbi build_nsf, perturbed; log_prob, loss, autograd "
                "gradients, samples from given noise")
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}
    tensors = {**state, **data, **{k: v for k, v in res32.items()}}
    return tensors, meta, drift, est


def save(tensors, meta, path):
    out = {}
    for k, v in tensors.items():  # keep int64 buffers as I64, as a user's export would
        v = v.detach().clone().contiguous()  # identity embedding: context is condition
        out[k] = v if v.dtype == torch.int64 else v.float()
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
    total = 0
    for seed, (name, (dim, cdim, kwargs)) in enumerate(CASES.items(), start=3000):
        tensors, meta, drift, est = make_case(dim, cdim, kwargs, seed)
        path = OUT / f"{name}.safetensors"
        save(tensors, meta, path)
        paths = [path]
        if name in EXPORTED:
            paths.append(OUT / f"nsf_export_{name[4:]}.safetensors")
            export_sbi_nsf(est, paths[-1])
            canonicalize_header(paths[-1])
            paths[-1].chmod(0o644)
        for p in paths:
            total += p.stat().st_size
            manifest["files"][p.name] = {
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
                "bytes": p.stat().st_size, "command": COMMAND, "versions": versions,
                "f32_vs_f64": {k: repr(v) for k, v in drift.items()}}
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes); drift {drift}")
        print("  state_dict keys:", ", ".join(f"{k} {tuple(v.shape)}"
                                             for k, v in est.state_dict().items()))
    print(f"total {total} bytes")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
