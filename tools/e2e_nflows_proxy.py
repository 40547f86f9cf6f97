#!/usr/bin/env python3
"""sbi's NSF training and inference costs on a machine without sbi: the same network from
nflows + torch, timed, as JSON on stdout (the GPU machines lent to this project have torch but
no sbi and no network; scripts/stage_pyrefs.sh copies the pure-Python nflows next to a build).

    python tools/e2e_nflows_proxy.py [--device cuda] [--check-against-sbi]

The network is sbi's build_nsf for D > 1 (seed/18's flow: D = C = 2, hidden 50, 5 transforms,
10 bins, tail bound 3, 2 blocks): an affine z-score of theta, then 5 x (rational-quadratic
coupling with a ResidualNet conditioner and alternating masks, LULinear with identity init),
standard normal base, and x z-scored by a (mean, std) module as sbi's embedding. With
--check-against-sbi (needs sbi, e.g. on the build machine) it loads sbi's own build_nsf weights
and asserts the log_prob agrees, so the timings are sbi's network's. The training step is
sbi's: loss = mean(-log q), backward, clip_grad_norm_(5), Adam(lr 5e-4) step.
Timed (median of repeats, device synchronised around each):
  tutorial_train_s  100 full-batch steps on 1000 simulations (seed/18's loop)
  step_200_ms       one training step at batch 200 (sbi's trainer default)
  log_prob_per_s    log_prob at batch --big (default 10^6), samples per second
  sample_per_s      sampling --big samples for one condition, samples per second
bench/e2e/step.cpp prints the same keys for cusbi; scripts/e2e_compare_proxy.sh compares.
"""
import argparse
import os
import statistics
import sys
import time
import types

import torch
from torch import nn

try:
    import matplotlib  # noqa: F401  (nflows' MADE module imports pyplot at import time)
except ImportError:  # a bare GPU machine: nothing here plots
    stub = types.ModuleType("matplotlib")
    stub.pyplot = types.ModuleType("matplotlib.pyplot")
    sys.modules["matplotlib"], sys.modules["matplotlib.pyplot"] = stub, stub.pyplot
from nflows import distributions, flows, transforms
from nflows.nn import nets
from nflows.utils import torchutils

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import device_name, print_json, synchronize  # noqa: E402  (imports no sbi)


class ZScore(nn.Module):
    """x -> (x - mean) / std with sbi's buffer names (_mean, _std)."""

    def __init__(self, data, min_std):
        super().__init__()
        self.register_buffer("_mean", data.mean(0))
        self.register_buffer("_std", data.std(0).clamp(min=min_std))

    def forward(self, x):
        return (x - self._mean) / self._std


def build(theta, x, hidden=50, num_transforms=5, num_bins=10, tail_bound=3.0, num_blocks=2):
    """sbi's build_nsf(theta, x) network for theta of width > 1 (see the module docstring)."""
    d, c = theta.shape[1], x.shape[1]
    mean, std = theta.mean(0), theta.std(0).clamp(min=1e-14)
    layers = [transforms.PointwiseAffineTransform(shift=-mean / std, scale=1 / std)]
    for i in range(num_transforms):
        layers.append(transforms.PiecewiseRationalQuadraticCouplingTransform(
            mask=torchutils.create_alternating_binary_mask(d, even=(i % 2 == 0)),
            transform_net_create_fn=lambda n_in, n_out: nets.ResidualNet(
                n_in, n_out, hidden_features=hidden, context_features=c, num_blocks=num_blocks,
                activation=torch.relu, dropout_probability=0.0, use_batch_norm=False),
            num_bins=num_bins, tails="linear", tail_bound=tail_bound,
            apply_unconditional_transform=False))
        layers.append(transforms.LULinear(d, identity_init=True))
    embedding = nn.Sequential(ZScore(x, 1e-7), nn.Identity())
    return flows.Flow(transforms.CompositeTransform(layers),
                      distributions.StandardNormal((d,)), embedding)


def check_against_sbi():
    from sbi.neural_nets.net_builders import build_nsf
    torch.manual_seed(0)
    theta, x = torch.randn(500, 2) * 2 + 1, torch.randn(500, 2) * 0.5 - 3
    reference = build_nsf(theta, x)
    proxy = build(theta, x)
    state = {k[len("net."):]: v for k, v in reference.state_dict().items() if k.startswith("net.")}
    proxy.load_state_dict(state, strict=True)
    with torch.no_grad():
        for p in reference.parameters():  # move off the identity/near-zero inits
            p.add_(0.1 * torch.randn_like(p))
        proxy.load_state_dict({k[len("net."):]: v for k, v in reference.state_dict().items()
                               if k.startswith("net.")}, strict=True)
        a = reference.log_prob(theta[:64].unsqueeze(0), condition=x[:64]).squeeze(0)
        b = proxy.log_prob(theta[:64], context=x[:64])
    diff = (a - b).abs().max().item()
    assert diff < 1e-5, f"the proxy is not sbi's network: log_prob differs by {diff}"
    return diff


def timed(device, f, repeats):
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        f()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def simulations(n, device, generator_seed):
    g = torch.Generator(device="cpu").manual_seed(generator_seed)
    theta = (torch.rand(n, 2, generator=g) * 6 - 3).to(device)
    return theta, theta + 0.1 * torch.randn(n, 2, generator=g).to(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--check-against-sbi", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    result = {"library": "nflows proxy of sbi's build_nsf", "torch_version": torch.__version__,
              "device": device_name(device),
              "threads": torch.get_num_threads()}
    if args.check_against_sbi:
        result["max_log_prob_diff_vs_sbi"] = check_against_sbi()

    theta, x = simulations(1000, device, 0)
    flow = build(theta.cpu(), x.cpu()).to(device)

    opt = torch.optim.Adam(flow.parameters(), lr=5e-4)

    def train(steps, th, xx, clip):  # seed/18's loop does not clip; sbi's trainer does
        for _ in range(steps):
            opt.zero_grad()
            loss = -flow.log_prob(th, context=xx).mean()
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(flow.parameters(), 5.0)
            opt.step()

    result["tutorial_train_s"] = timed(device, lambda: train(100, theta, x, False), args.repeats)
    t200, x200 = theta[:200], x[:200]
    train(5, t200, x200, True)  # warm-up
    result["step_200_ms"] = 1e3 * timed(device, lambda: train(50, t200, x200, True),
                                        args.repeats) / 50
    big_theta, big_x = simulations(args.big, device, 1)
    with torch.no_grad():
        seconds = timed(device, lambda: flow.log_prob(big_theta, context=big_x), args.repeats)
        result["log_prob_per_s"] = args.big / seconds
        x_o = torch.tensor([[1.0, 1.0]], device=device)
        seconds = timed(device, lambda: flow.sample(args.big, context=x_o), args.repeats)
        result["sample_per_s"] = args.big / seconds
    print_json(result)


if __name__ == "__main__":
    main()
