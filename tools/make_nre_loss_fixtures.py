#!/usr/bin/env python3
"""Makes tests/data/golden/nre_losses.safetensors: sbi's NRE losses on fixed logits, which
cusbi::nre_a_loss / bnre_loss / nre_b_loss / nre_c_loss must reproduce
(tests/golden/test_nre_loss_golden.cpp).

    pip install sbi==0.27.0   (with torch, safetensors)
    python tools/make_nre_loss_fixtures.py

Each case runs the trainer's own `_loss(theta, x, num_atoms, ...)` (NRE_A, BNRE, NRE_B, NRE_C of
sbi 0.27.0) with the classifier replaced by a stub that returns fixed logits (leaf tensors), so
sbi's atom draw runs but the logits are ours; torch autograd gives d loss / d logits. NRE_B also
checks the tutorial's expression -mean(f[:, 0] - logsumexp(f, -1)) against the trainer. Computed
in float64 (torch default dtype set to float64 so sbi's labels match): sbi's float32 path takes
sigmoid before BCELoss, which loses digits of log(1 - sigmoid(z)) for large z, so float64 is the
reference; the float32 results are recorded as metadata f32_vs_f64_* for information.
Tensors per case: <case>.logits (float32, as cusbi reads them; NRE_C: <case>.marginal_logits
(B, K+1), <case>.joint_logits (B, K)), <case>.loss (), <case>.grad (or .grad_marginal,
.grad_joint), rounded to float32 when saved. Updates only this script's MANIFEST.json entry.
"""
import hashlib
import json
import pathlib
import warnings

import torch
from safetensors.torch import save_file

import sbi
from sbi.inference import BNRE, NRE_A, NRE_B, NRE_C
from fixture_files import canonicalize_header  # tools/ is the script's folder

warnings.simplefilter("ignore")
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "golden"
NAME = "nre_losses.safetensors"
COMMAND = "python tools/make_nre_loss_fixtures.py"


class StubClassifier(torch.nn.Module):
    """Stands in for sbi's RatioEstimator: returns the queued logits, one tensor per call."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = list(outputs)

    def forward(self, theta, x):
        assert theta.shape[0] == self.outputs[0].shape[0], "atom count mismatch"
        return self.outputs.pop(0)


def run_trainer(trainer, batch, outputs, num_atoms, **loss_args):
    """sbi's trainer._loss on the stub's logits -> loss and the logits' gradients."""
    leaves = [o.clone().requires_grad_(True) for o in outputs]
    trainer._neural_net = StubClassifier(leaves)
    trainer._device = "cpu"
    theta = torch.zeros(batch, 2)
    x = torch.zeros(batch, 3)
    loss = trainer._loss(theta, x, num_atoms, **loss_args)
    loss.backward()
    return loss.detach(), [leaf.grad.detach() for leaf in leaves]


def in_dtype(dtype, fn):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        return fn(dtype)
    finally:
        torch.set_default_dtype(previous)


def make_cases(gen):
    """(name, kind, trainer factory, logits list of flat tensors, num_atoms, loss args, shapes)."""
    def randn(n, scale):
        return (torch.randn(n, generator=gen, dtype=torch.float64) * scale).float().double()

    cases = []
    for b, k, scale in [(12, 10, 3.0), (2, 2, 1.0), (33, 3, 8.0)]:
        cases.append((f"nre_b_b{b}_k{k}", "nre_b", NRE_B, [randn(b * k, scale)], k, {}, [(b, k)]))
    for b, scale in [(9, 4.0), (2, 0.5)]:
        cases.append((f"nre_a_b{b}", "nre_a", NRE_A, [randn(2 * b, scale)], 2, {}, [(b, 2)]))
    for b, lam, scale in [(9, 100.0, 4.0), (5, 3.5, 1.0)]:
        cases.append((f"bnre_b{b}_l{lam:g}", "bnre", BNRE, [randn(2 * b, scale)], 2,
                      {"regularization_strength": lam}, [(b, 2)]))
    for b, k, gamma, scale in [(6, 5, 1.0, 3.0), (4, 3, 2.5, 2.0), (5, 2, 0.3, 2.0)]:
        # sbi's _loss gets num_atoms = num_classes + 1 and draws K+1 then K atoms.
        cases.append((f"nre_c_b{b}_k{k}_g{gamma:g}", "nre_c", NRE_C,
                      [randn(b * (k + 1), scale), randn(b * k, scale)], k + 1, {"gamma": gamma},
                      [(b, k + 1), (b, k)]))
    return cases


def main():
    torch.manual_seed(0)  # sbi's atom draws (they do not change the losses: atoms are stubbed)
    gen = torch.Generator().manual_seed(1010)
    tensors, meta = {}, {"sbi": sbi.__version__, "torch": torch.__version__}
    for name, kind, factory, logits, num_atoms, args, shapes in make_cases(gen):
        batch = shapes[0][0]

        def run(dtype):
            return run_trainer(factory(), batch, [z.to(dtype) for z in logits], num_atoms, **args)

        loss64, grads64 = in_dtype(torch.float64, run)
        loss32, grads32 = in_dtype(torch.float32, run)
        if kind == "nre_b":  # the tutorial's loop expression is the same number
            f = logits[0].reshape(shapes[0])
            tutorial = -torch.mean(f[:, 0] - torch.logsumexp(f, dim=-1))
            assert abs(float(tutorial) - float(loss64)) < 1e-12, (name, tutorial, loss64)
        meta[f"{name}.kind"] = kind
        meta[f"{name}.args"] = json.dumps(args)
        meta[f"{name}.f32_vs_f64_loss_abs"] = repr(abs(float(loss32) - float(loss64)))
        names = ["logits"] if kind != "nre_c" else ["marginal_logits", "joint_logits"]
        grad_names = ["grad"] if kind != "nre_c" else ["grad_marginal", "grad_joint"]
        for z, g, shape, zn, gn in zip(logits, grads64, shapes, names, grad_names):
            tensors[f"{name}.{zn}"] = z.float().reshape(shape).contiguous()
            tensors[f"{name}.{gn}"] = g.float().reshape(shape).contiguous()
        tensors[f"{name}.loss"] = loss64.float().reshape(())
        print(f"{name}: loss {float(loss64):.9g} (float32 path off by "
              f"{meta[f'{name}.f32_vs_f64_loss_abs']})")
    meta["cases"] = json.dumps(sorted({k.rsplit(".", 1)[0] for k in meta if k.endswith(".kind")}))
    path = OUT / NAME
    save_file(tensors, str(path), metadata=meta)
    canonicalize_header(path)
    path.chmod(0o644)
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][NAME] = {
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size,
        "command": COMMAND, "versions": {"sbi": sbi.__version__, "torch": torch.__version__}}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
