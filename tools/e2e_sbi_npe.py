#!/usr/bin/env python3
"""The sbi side of bench/e2e's NPE workflows, timed, as JSON on stdout.

    pip install sbi
    python tools/e2e_sbi_npe.py [--device cpu|cuda] [--threads 2] [--repeats 3]
                                [--trainer-sims 1000,100000] [--large-max-epochs 5]

Workflows (the prior is BoxUniform(-3, 3)^2 and the simulator x = theta + 0.1 noise, as in
seed/18_training_interface.md):
  tutorial   the tutorial's NPE section: 1000 simulations, build_nsf, 100 full-batch Adam steps
             at lr 5e-4, 1000 flow samples at x_o = [1, 1], DirectPosterior(estimator, prior) and
             1000 posterior samples (rejection); pairplot is left out of the timing.
  trainer_N  the trainer path: simulate_for_sbi(N) (batch 1000), NPE(prior,
             density_estimator="nsf").append_simulations.train() with sbi's defaults (early
             stopping), build_posterior, 1000 samples at x_o. "nsf": sbi's NPE defaults to a MAF,
             cusbi's NPE trains sbi's NSF, and the two must time the same model.
             For N > 10000, max_num_epochs caps training (--large-max-epochs; epochs differ run
             to run anyway, so the compare script also reports time per epoch).
  batched    posterior.sample_batched((1000,), xs) for 1000 observations from the tutorial
             posterior (the issue's GPU target; run with --batched).
Medians over repeats; bench/e2e/npe.cpp prints the same keys for cusbi and
scripts/e2e_compare_npe.sh puts the two side by side.
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import tempfile
import sys
import time
import warnings

import torch

warnings.filterwarnings("ignore")

try:
    import sbi
    from sbi.inference import NPE, DirectPosterior, simulate_for_sbi
    from sbi.utils import BoxUniform
except ImportError:
    sys.exit("sbi is not installed: pip install sbi")
try:
    from sbi.neural_nets.net_builders import build_nsf
except ImportError:
    from sbi.neural_nets.flow import build_nsf


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    def __init__(self, device):
        self.device = device

    def __enter__(self):
        synchronize(self.device)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *args):
        synchronize(self.device)
        self.seconds = time.perf_counter() - self.start


def prior_on(device):
    return BoxUniform(-3 * torch.ones(2, device=device), 3 * torch.ones(2, device=device))


def simulator(theta):
    return theta + torch.randn_like(theta) * 0.1


def tutorial(device, seed):
    torch.manual_seed(seed)
    prior = prior_on(device)
    theta = prior.sample((1000,))
    x = simulator(theta)
    out = {}
    with Timer(device) as t:
        estimator = build_nsf(theta, x).to(device)
        opt = torch.optim.Adam(list(estimator.parameters()), lr=5e-4)
        for _ in range(100):
            opt.zero_grad()
            loss = torch.mean(estimator.loss(theta, condition=x))
            loss.backward()
            opt.step()
    out["train_s"] = t.seconds
    x_o = torch.as_tensor([[1.0, 1.0]], device=device)
    with Timer(device) as t:
        with torch.no_grad():
            estimator.sample((1000,), condition=x_o)
    out["flow_sample_s"] = t.seconds
    with Timer(device) as t:
        posterior = DirectPosterior(estimator, prior, device=str(device))
        samples = posterior.sample((1000,), x=x_o, show_progress_bars=False)
    out["posterior_sample_s"] = t.seconds
    out["total_s"] = out["train_s"] + out["flow_sample_s"] + out["posterior_sample_s"]
    out["posterior_mean"] = samples.mean(0).tolist()
    return out, posterior


def trainer(device, seed, num_simulations, max_epochs):
    torch.manual_seed(seed)
    prior = prior_on(device)
    out = {}
    with Timer(device) as t:
        theta, x = simulate_for_sbi(simulator, prior, num_simulations,
                                    simulation_batch_size=1000, show_progress_bar=False)
    out["simulate_s"] = t.seconds
    with Timer(device) as t:
        # The same model as cusbi's NPE trains: sbi's own default would be a MAF.
        inference = NPE(prior=prior, density_estimator="nsf", device=str(device),
                        show_progress_bars=False)
        inference.append_simulations(theta, x)
        kwargs = {"max_num_epochs": max_epochs} if max_epochs else {}
        # sbi prints its "converged after n epochs" line to stdout, where the JSON goes.
        with contextlib.redirect_stdout(sys.stderr):
            inference.train(**kwargs)
    out["train_s"] = t.seconds
    summary = inference.summary
    out["epochs"] = summary["epochs_trained"][-1]
    out["epoch_s"] = t.seconds / max(1, out["epochs"])
    out["best_validation_loss"] = summary["best_validation_loss"][-1]
    with Timer(device) as t:
        posterior = inference.build_posterior()
        posterior.sample((1000,), x=torch.as_tensor([[1.0, 1.0]], device=device),
                         show_progress_bars=False)
    out["posterior_sample_s"] = t.seconds
    out["total_s"] = out["simulate_s"] + out["train_s"] + out["posterior_sample_s"]
    return out


def batched(device, posterior, seed):
    torch.manual_seed(seed)
    xs = simulator(prior_on(device).sample((1000,)))
    with Timer(device) as t:
        posterior.sample_batched((1000,), x=xs, show_progress_bars=False)
    return {"sample_batched_s": t.seconds}


def medians(runs):
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trainer-sims", default="1000,100000")
    parser.add_argument("--large-max-epochs", type=int, default=5)
    parser.add_argument("--batched", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda asked for, but torch sees no GPU")
    torch.set_num_threads(args.threads)
    # sbi's trainer writes TensorBoard logs to ./sbi-logs; keep them out of the caller's folder.
    os.chdir(tempfile.mkdtemp(prefix="e2e_sbi_npe_"))

    result = {
        "library": "sbi",
        "sbi_version": sbi.__version__,
        "torch_version": torch.__version__,
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "repeats": args.repeats,
        "load_average_1min": os.getloadavg()[0],
        "workflows": {},
    }
    runs, posterior = [], None
    for r in range(args.repeats):
        run, posterior = tutorial(device, args.seed + r)
        runs.append(run)
    result["workflows"]["tutorial"] = {**medians(runs), "runs": runs}
    if args.batched:
        runs = [batched(device, posterior, args.seed + r) for r in range(args.repeats)]
        result["workflows"]["batched"] = {**medians(runs), "runs": runs}
    for n in [int(s) for s in args.trainer_sims.split(",") if s]:
        cap = args.large_max_epochs if n > 10000 else None
        repeats = args.repeats if n <= 10000 else 1
        runs = [trainer(device, args.seed + r, n, cap) for r in range(repeats)]
        result["workflows"][f"trainer_{n}"] = {**medians(runs), "max_num_epochs": cap,
                                               "runs": runs}
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
