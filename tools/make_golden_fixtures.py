#!/usr/bin/env python3
"""Makes the golden fixtures of tests/golden/: PyTorch + nflows results that cusbi must reproduce.

    pip install -r tools/requirements-golden.txt
    python tools/make_golden_fixtures.py

Writes tests/data/golden/*.safetensors and tests/data/golden/MANIFEST.json (versions, command,
date, sha256 of every file). Everything runs on the CPU in float32 with one thread and fixed
seeds, and headers are written with sorted keys, so a rerun with the pinned versions reproduces
the files bit for bit (MANIFEST.json differs only in its date).

resnet_*.safetensors -- one nflows ResidualNet each: its state_dict under the torch names, and
    inputs, context, grad_output, outputs, grad_inputs, grad_context, grad.<param name>.
adam_*.safetensors -- 10 steps of clip_grad_norm_ + torch.optim.Adam on an MSE regression with a
    ResidualNet: p0 (flat parameters), grads (10, P) raw loss gradients before clipping (Adam adds
    the weight-decay term itself), norms (10,)
    (the total norm clip_grad_norm_ returned), params (10, P) after each step, losses (10,), and
    the data (inputs, context, targets). The flat vector concatenates the parameters in
    net.named_parameters() order, each row-major; that order is nflows' module registration
    order: initial_layer.{weight,bias}, then per block blocks.{i}.context_layer.{weight,bias}
    (when there is a context), blocks.{i}.linear_layers.{0,1}.{weight,bias}, then
    final_layer.{weight,bias}. Metadata "param_names" lists it.
Metadata "f32_vs_f64*" records how far float32 drifts from a float64 rerun of the same
computation: the scale of rounding error the C++ tolerances are justified against.
"""
import datetime
import hashlib
import importlib.metadata
import json
import pathlib
import platform
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from fixture_files import canonicalize_header  # tools/ is the script's folder

try:
    from nflows.nn.nets import ResidualNet  # the real thing, not a copy
except ImportError as e:  # pragma: no cover
    sys.exit(f"nflows is needed ({e}); run: pip install -r tools/requirements-golden.txt")

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "golden"
BATCH = 33  # awkward on purpose: not a multiple of any tile or vector width

RESNET_CASES = {
    "resnet_in1_out29_ctx2": dict(in_features=1, out_features=29, context_features=2,
                                  hidden_features=50, num_blocks=2),
    "resnet_in3_out58_ctx8": dict(in_features=3, out_features=58, context_features=8,
                                  hidden_features=50, num_blocks=2),
    "resnet_in2_out5_noctx": dict(in_features=2, out_features=5, context_features=0,
                                  hidden_features=64, num_blocks=1),
}

# The 5.0 case clips in some steps only (1 and 8-10: the norm dips below 5.0, then rises), so
# both branches of the clip factor are recorded; the tiny one clips every step and also
# exercises weight decay (L2 added to the gradient inside Adam, torch.optim.Adam semantics).
ADAM_CASES = {
    "adam_lr1e-2_clip5": dict(lr=1e-2, max_norm=5.0, weight_decay=0.0, target_scale=9.5),
    "adam_lr5e-4_clip0.05_wd": dict(lr=5e-4, max_norm=0.05, weight_decay=1e-2, target_scale=1.0),
}
ADAM_NET = dict(in_features=3, out_features=4, context_features=2, hidden_features=16,
                num_blocks=2)
ADAM_STEPS = 10
ADAM_BATCH = 40


def make_net(opts, seed):
    torch.manual_seed(seed)
    ctx = opts["context_features"] or None  # nflows: None means no context
    return ResidualNet(opts["in_features"], opts["out_features"], opts["hidden_features"],
                       context_features=ctx, num_blocks=opts["num_blocks"])


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])


def str_meta(d):
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in d.items()}


def rel_dev(a32, a64):
    """max |a32 - a64| / max |a64|: float32 error relative to the tensor's own scale."""
    return float((a32.double() - a64).abs().max() / a64.abs().max().clamp_min(1e-30))


def resnet_pass(net, x, ctx, grad_output):
    """Forward and backward; returns outputs and gradients keyed as in the fixture."""
    x = x.clone().requires_grad_(True)
    ctx = None if ctx is None else ctx.clone().requires_grad_(True)
    net.zero_grad()
    out = net(x, context=ctx)
    out.backward(grad_output)
    res = {"outputs": out.detach(), "grad_inputs": x.grad}
    if ctx is not None:
        res["grad_context"] = ctx.grad
    for name, p in net.named_parameters():
        res["grad." + name] = p.grad.clone()
    return res


def make_resnet_case(name, opts, seed):
    net = make_net(opts, seed)
    # nflows initialises each block's second Linear to U(+-1e-3), which makes the residual
    # branches nearly invisible in the outputs; re-draw them with the default nn.Linear init so
    # every term of the forward and backward contributes at O(1) and a bug there shows.
    for block in net.blocks:
        block.linear_layers[1].reset_parameters()
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(BATCH, opts["in_features"], generator=gen)
    c = opts["context_features"]
    ctx = torch.randn(BATCH, c, generator=gen) if c else None
    grad_output = torch.randn(BATCH, opts["out_features"], generator=gen)

    res = resnet_pass(net, x, ctx, grad_output)
    net64 = make_net(opts, seed).double()
    net64.load_state_dict({k: v.double() for k, v in net.state_dict().items()})
    res64 = resnet_pass(net64, x.double(), None if ctx is None else ctx.double(),
                        grad_output.double())
    worst = max(rel_dev(res[k], res64[k]) for k in res)

    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    tensors.update(inputs=x, grad_output=grad_output, **res)
    if ctx is not None:
        tensors["context"] = ctx
    meta = dict(opts, batch=BATCH, seed=seed, param_names=[n for n, _ in net.named_parameters()],
                f32_vs_f64_max_rel=worst,
                description="nflows ResidualNet forward/backward; linear_layers.1 re-drawn with "
                            "the default nn.Linear init")
    return tensors, str_meta(meta)


def train(net, x, ctx, y, case, dtype):
    net = net.to(dtype)
    x, ctx, y = x.to(dtype), ctx.to(dtype), y.to(dtype)
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=case["lr"], weight_decay=case["weight_decay"])
    rec = {"grads": [], "norms": [], "params": [], "losses": []}
    for _ in range(ADAM_STEPS):
        opt.zero_grad()
        loss = F.mse_loss(net(x, context=ctx), y)
        loss.backward()
        rec["grads"].append(flat(p.grad for p in params).detach().clone())
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm=case["max_norm"])
        opt.step()
        rec["norms"].append(norm.detach().reshape(()))
        rec["params"].append(flat(params).detach().clone())
        rec["losses"].append(loss.detach())
    return {k: torch.stack(v) for k, v in rec.items()}


def make_adam_case(name, case, seed):
    net = make_net(ADAM_NET, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(ADAM_BATCH, ADAM_NET["in_features"], generator=gen)
    ctx = torch.randn(ADAM_BATCH, ADAM_NET["context_features"], generator=gen)
    mix = torch.randn(ADAM_NET["in_features"] + ADAM_NET["context_features"],
                      ADAM_NET["out_features"], generator=gen)
    y = case["target_scale"] * torch.sin(torch.cat([x, ctx], dim=1) @ mix)
    p0 = flat(net.parameters()).detach().clone()
    names = [n for n, _ in net.named_parameters()]
    net64 = make_net(ADAM_NET, seed)
    net64.load_state_dict(net.state_dict())

    rec = train(net, x, ctx, y, case, torch.float32)
    rec64 = train(net64, x, ctx, y, case, torch.float64)
    clipped = (rec["norms"] > case["max_norm"]).tolist()
    # Absolute drift of the final parameters; Adam steps are O(lr) whatever the gradient scale.
    drift = float((rec["params"][-1].double() - rec64["params"][-1]).abs().max())
    print(f"  {name}: norms {[round(v, 3) for v in rec['norms'].tolist()]} clipped {clipped}")
    tensors = dict(p0=p0, inputs=x, context=ctx, targets=y, **rec)
    meta = dict(ADAM_NET, **case, batch=ADAM_BATCH, steps=ADAM_STEPS, seed=seed, param_names=names,
                beta1=0.9, beta2=0.999, eps=1e-8, clipped=clipped, loss="F.mse_loss (mean)",
                f32_vs_f64_final_params_max_abs=drift,
                description="clip_grad_norm_ then torch.optim.Adam.step, 10 steps")
    return tensors, str_meta(meta)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    torch.set_num_threads(1)  # fixed summation order in the CPU kernels
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    files = {}
    cases = [(n, make_resnet_case, o) for n, o in RESNET_CASES.items()]
    cases += [(n, make_adam_case, o) for n, o in ADAM_CASES.items()]
    for seed, (name, make, opts) in enumerate(cases, start=1000):
        tensors, meta = make(name, opts, seed)
        path = OUT / f"{name}.safetensors"
        save_file({k: v.detach().float().contiguous() for k, v in tensors.items()}, str(path),
                  metadata=meta)
        canonicalize_header(path)
        path.chmod(0o644)
        files[path.name] = {"sha256": sha256(path), "bytes": path.stat().st_size,
                            "f32_vs_f64": {k: v for k, v in meta.items() if "f32_vs_f64" in k}}
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    manifest_path = OUT / "MANIFEST.json"
    previous_files = (json.loads(manifest_path.read_text()).get("files", {})
                      if manifest_path.exists() else {})
    manifest = {
        "command": "python tools/make_golden_fixtures.py",
        "requirements": "tools/requirements-golden.txt",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "numpy": np.__version__, "nflows": importlib.metadata.version("nflows"),
                     "safetensors": importlib.metadata.version("safetensors")},
        "settings": "CPU, float32, torch.set_num_threads(1), deterministic algorithms",
        "parameter_order": "net.named_parameters() = nflows module registration order",
        # Entries of the other fixture scripts (e.g. make_spline_fixtures.py) are kept.
        "files": {**previous_files, **files},
    }
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"total {sum(f['bytes'] for f in files.values())} bytes")


if __name__ == "__main__":
    main()
