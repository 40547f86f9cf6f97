#!/usr/bin/env python3
"""The sbi side of bench/e2e: tutorial 18's NPE custom loop, timed, as JSON on stdout.

    pip install sbi
    python tools/e2e_sbi_custom_loop.py [--device cpu|cuda] [--threads 2] [--repeats 3]

Exactly the tutorial's code (seed/18_training_interface.md): 1000 simulations from
BoxUniform(-3, 3)^2 with x = theta + 0.1 noise, build_nsf(theta, x), torch.optim.Adam at lr 5e-4,
100 full-batch steps of mean(loss).backward(), then 1000 samples at x_o = [[1, 1]]. The build,
the training loop and the sampling are timed separately (a CUDA run synchronises before each
clock read); each repeat starts from new simulations and a new flow, and the medians are printed
next to every repeat. bench/e2e/custom_loop.cpp prints the same keys for cusbi and
scripts/e2e_compare.sh puts the two side by side.
"""
import argparse
import os
import statistics
import sys
import time
import warnings

import torch

# nflows' LULinear inverse calls the deprecated torch.triangular_solve; its warning is noise here.
warnings.filterwarnings("ignore", message=".*triangular_solve.*")

try:
    import sbi  # noqa: F401
except ImportError:
    sys.exit("sbi is not installed: pip install sbi")
try:  # sbi >= 0.23 (the tutorial's sbi.neural_nets.flow is the older name)
    from sbi.neural_nets.net_builders import build_nsf
except ImportError:
    from sbi.neural_nets.flow import build_nsf

NUM_SIMULATIONS = 1000
NUM_STEPS = 100
NUM_SAMPLES = 1000
LEARNING_RATE = 5e-4

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (add_common_args, machine_info, print_json, setup_device,  # noqa: E402
                        synchronize, tutorial_data)


def one_run(device, seed):
    """One tutorial run; returns the timings in seconds and what the run produced."""
    _, theta, x = tutorial_data(device, seed, NUM_SIMULATIONS)
    synchronize(device)

    start = time.perf_counter()
    density_estimator = build_nsf(theta, x).to(device)
    synchronize(device)
    build_s = time.perf_counter() - start

    start = time.perf_counter()
    opt = torch.optim.Adam(list(density_estimator.parameters()), lr=LEARNING_RATE)
    for _ in range(NUM_STEPS):
        opt.zero_grad()
        losses = density_estimator.loss(theta, condition=x)
        loss = torch.mean(losses)
        loss.backward()
        opt.step()
    synchronize(device)
    train_s = time.perf_counter() - start

    x_o = torch.as_tensor([[1.0, 1.0]], device=device)
    start = time.perf_counter()
    with torch.no_grad():
        samples = density_estimator.sample((NUM_SAMPLES,), condition=x_o).detach()
    synchronize(device)
    sample_s = time.perf_counter() - start

    samples = samples.squeeze(dim=1)  # (1000, 1, 2) -> (1000, 2), as the tutorial does
    return {
        "build_s": build_s,
        "train_s": train_s,
        "sample_s": sample_s,
        "total_s": build_s + train_s + sample_s,
        "final_loss": loss.item(),
        "sample_mean": samples.mean(dim=0).tolist(),
        "sample_std": samples.std(dim=0).tolist(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser, device_help="cpu, cuda or cuda:N",
                    threads_help="torch.set_num_threads")
    args = parser.parse_args()
    device = setup_device(args)

    runs = [one_run(device, args.seed + r) for r in range(args.repeats)]
    keys = ("build_s", "train_s", "sample_s", "total_s")
    result = {
        **machine_info(device),
        "num_simulations": NUM_SIMULATIONS,
        "num_steps": NUM_STEPS,
        "num_samples": NUM_SAMPLES,
        "repeats": args.repeats,
        # Other work on the machine slows both sides: the compare script prints this too.
        "load_average_1min": os.getloadavg()[0],
        **{key: statistics.median(run[key] for run in runs) for key in keys},
        "runs": runs,
    }
    print_json(result)


if __name__ == "__main__":
    main()
