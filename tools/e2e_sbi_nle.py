#!/usr/bin/env python3
"""The sbi side of bench/e2e's NLE workflows, timed, as JSON on stdout.

    pip install sbi
    python tools/e2e_sbi_nle.py [--device cpu|cuda] [--threads 2] [--repeats 3]
                                [--batched-obs 10] [--throughput 10,100,1000,10000]
                                [--throughput-calls 100] [--throughput-budget-s 60]

Workflows (the prior is BoxUniform(-3, 3)^2 and the simulator x = theta + 0.1 noise, as in
seed/18_training_interface.md):
  tutorial    the tutorial's NLE section: 1000 simulations, build_nsf(x, theta), 100 full-batch
              Adam steps at lr 5e-4 on mean loss(x, condition=theta) (train_s), then
              likelihood_estimator_based_potential(estimator, prior, x_o) and
              MCMCPosterior(num_chains=50, thin=1, slice_np_vectorized) with the default
              "resample" init (10,000 candidates per chain) and sample((1000,), x=x_o)
              (mcmc_sample_s, sbi's own sample call, init included). Separately: the init alone
              (init_s: the posterior's _get_initial_params("resample", 50), as sample calls it)
              and the sampling alone (sampling_s: sample with init_strategy="proposal", whose
              init is 50 prior draws). pairplot is left out.
  batched     posterior.sample_batched((1000,), xs) for --batched-obs observations with the
              posterior's 50 chains per observation and the resample init per observation
              (sbi warns about the many chains; its Python loop over chains makes this slow, so
              the compare script uses fewer observations than cusbi's GPU run; 0 skips it).
  throughput  (with --throughput C1,C2,..) sbi's SliceSamplerVectorized on the tutorial's
              trained potential (in the transformed space, as MCMCPosterior runs it), started
              from prior draws, at each chain count: lockstep potential calls are counted and
              the run is stopped after --throughput-calls calls or --throughput-budget-s
              seconds, whichever comes first; evals_per_s = calls x chains / seconds.
Medians over repeats; bench/e2e/nle.cpp prints the same keys for cusbi and
scripts/e2e_compare_nle.sh puts the two side by side.
"""
import argparse
import os
import sys
import time
import warnings
from functools import partial

import torch

warnings.filterwarnings("ignore")

try:
    from sbi.inference import MCMCPosterior, likelihood_estimator_based_potential
    from sbi.inference.potentials.base_potential import BasePotential  # noqa: F401
    from sbi.samplers.mcmc import SliceSamplerVectorized
    from sbi.utils.potentialutils import transformed_potential
except ImportError as error:
    sys.exit(f"sbi is not installed or too different ({error}): pip install sbi")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (Timer, add_common_args, medians, print_json, prior_on,  # noqa: E402
                        result_header, setup_device, simulator, train_tutorial_flow,
                        tutorial_data, x_o_on)


def train(device, seed):
    """The tutorial's NLE training: returns (estimator, prior, seconds)."""
    prior, theta, x = tutorial_data(device, seed)
    with Timer(device) as t:
        estimator = train_tutorial_flow(x, theta, device)
    return estimator, prior, t.seconds


def make_posterior(estimator, prior, device):
    potential, tf = likelihood_estimator_based_potential(estimator, prior, x_o_on(device))
    return MCMCPosterior(potential, proposal=prior, theta_transform=tf, num_chains=50, thin=1,
                         method="slice_np_vectorized", device=str(device))


def tutorial(device, seed):
    estimator, prior, train_s = train(device, seed)
    out = {"train_s": train_s}
    x_o = x_o_on(device)
    with Timer(device) as t:
        posterior = make_posterior(estimator, prior, device)
        samples = posterior.sample((1000,), x=x_o, show_progress_bars=False)
    out["mcmc_sample_s"] = t.seconds
    out["posterior_mean"] = samples.mean(0).tolist()
    # The init alone, as sample() calls it (the potential set to x_o first, as sample does).
    posterior.potential_fn.set_x(x_o, x_is_iid=True)
    with Timer(device) as t:
        posterior._get_initial_params("resample", 50, 1, False)
    out["init_s"] = t.seconds
    with Timer(device) as t:
        posterior.sample((1000,), x=x_o, init_strategy="proposal", show_progress_bars=False)
    out["sampling_s"] = t.seconds
    out["total_s"] = out["train_s"] + out["mcmc_sample_s"]
    return out, posterior


def batched(device, posterior, seed, num_obs):
    torch.manual_seed(seed)
    xs = simulator(prior_on(device).sample((num_obs,)))
    with Timer(device) as t:
        posterior.sample_batched((1000,), x=xs, show_progress_bars=False)
    return {"sample_batched_s": t.seconds, "observations": num_obs}


class Stop(Exception):
    pass


def throughput(device, posterior, chains, max_calls, budget_s, seed):
    """sbi's vectorized slice sampler on the posterior's transformed potential."""
    torch.manual_seed(seed)
    posterior.potential_fn.set_x(x_o_on(device), x_is_iid=True)
    prepared = partial(transformed_potential, potential_fn=posterior.potential_fn,
                       theta_transform=posterior.theta_transform, device=str(device),
                       track_gradients=False)
    init = posterior.theta_transform(posterior.proposal.sample((chains,))).cpu().numpy()
    state = {"calls": 0, "start": None}

    def log_prob(params):
        if state["calls"] >= max_calls or time.perf_counter() - state["start"] > budget_s:
            raise Stop()
        state["calls"] += 1
        return prepared(params).flatten()

    sampler = SliceSamplerVectorized(log_prob_fn=log_prob, init_params=init, num_chains=chains,
                                     thin=1, verbose=False)
    state["start"] = time.perf_counter()
    with torch.no_grad():
        try:
            sampler.run(10**6)  # stopped by the call budget long before
        except Stop:
            pass
    seconds = time.perf_counter() - state["start"]
    return {"chains": chains, "lockstep_calls": state["calls"], "seconds": seconds,
            "evals_per_s": state["calls"] * chains / seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--batched-obs", type=int, default=10)
    parser.add_argument("--throughput", default="")
    parser.add_argument("--throughput-calls", type=int, default=100)
    parser.add_argument("--throughput-budget-s", type=float, default=60.0)
    parser.add_argument("--skip-tutorial", action="store_true",
                        help="train once and only run the throughput mode")
    args = parser.parse_args()
    device = setup_device(args)

    result = result_header(device, args.repeats)
    posterior = None
    if not args.skip_tutorial:
        runs = []
        for r in range(args.repeats):
            run, posterior = tutorial(device, args.seed + r)
            runs.append(run)
        result["workflows"]["tutorial"] = {**medians(runs), "runs": runs}
        if args.batched_obs > 0:
            runs = [batched(device, posterior, args.seed + r, args.batched_obs)
                    for r in range(args.repeats)]
            result["workflows"]["batched"] = {**medians(runs), "runs": runs}
    if args.throughput:
        if posterior is None:
            estimator, prior, _ = train(device, args.seed)
            posterior = make_posterior(estimator, prior, device)
        result["throughput"] = [
            throughput(device, posterior, int(c), args.throughput_calls,
                       args.throughput_budget_s, args.seed)
            for c in args.throughput.split(",") if c]
    print_json(result)


if __name__ == "__main__":
    main()
