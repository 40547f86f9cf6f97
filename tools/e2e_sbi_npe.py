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
import os
import sys
import warnings

import torch

warnings.filterwarnings("ignore")

try:
    from sbi.inference import NPE, DirectPosterior
except ImportError:
    sys.exit("sbi is not installed: pip install sbi")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (  # noqa: E402
    Timer, add_common_args, add_trainer_args, add_trainer_workflows, chdir_to_temp, medians,
    prior_on, print_json, result_header, setup_device, simulator, train_tutorial_flow,
    tutorial_data, x_o_on)


def tutorial(device, seed):
    prior, theta, x = tutorial_data(device, seed)
    out = {}
    with Timer(device) as t:
        estimator = train_tutorial_flow(theta, x, device)
    out["train_s"] = t.seconds
    x_o = x_o_on(device)
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


def batched(device, posterior, seed):
    torch.manual_seed(seed)
    xs = simulator(prior_on(device).sample((1000,)))
    with Timer(device) as t:
        posterior.sample_batched((1000,), x=xs, show_progress_bars=False)
    return {"sample_batched_s": t.seconds}


def make_npe(device):
    # The same model as cusbi's NPE trains: sbi's own default would be a MAF.
    return lambda prior: NPE(prior=prior, density_estimator="nsf", device=str(device),
                             show_progress_bars=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    add_trainer_args(parser)
    parser.add_argument("--batched", action="store_true")
    args = parser.parse_args()
    device = setup_device(args)
    chdir_to_temp("e2e_sbi_npe_")

    result = result_header(device, args.repeats)
    runs, posterior = [], None
    for r in range(args.repeats):
        run, posterior = tutorial(device, args.seed + r)
        runs.append(run)
    result["workflows"]["tutorial"] = {**medians(runs), "runs": runs}
    if args.batched:
        runs = [batched(device, posterior, args.seed + r) for r in range(args.repeats)]
        result["workflows"]["batched"] = {**medians(runs), "runs": runs}
    add_trainer_workflows(result, device, args, make_npe(device))
    print_json(result)


if __name__ == "__main__":
    main()
