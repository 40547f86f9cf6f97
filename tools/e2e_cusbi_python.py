#!/usr/bin/env python3
"""The tutorial's workflows run with cusbi's Python package, timed, as JSON on stdout: the same
steps and keys as the sbi side (tools/e2e_sbi_npe.py, e2e_sbi_nle.py, e2e_sbi_nre.py) and the
C++ side (bench/e2e/npe.cpp, nle.cpp, nre.cpp), so that scripts/e2e_compare_python.sh can put
sbi, cusbi from Python and cusbi from C++ side by side.

    pip install .            # the cusbi package (from the repository root)
    python tools/e2e_cusbi_python.py [--device cpu|cuda] [--threads 2] [--repeats 3]

Workflows (prior BoxUniform(-3, 3)^2, simulator x = theta + 0.1 noise, x_o = [1, 1]):
  npe_tutorial   1000 simulations, build_nsf(theta, x), 100 full-batch cusbi.Adam steps at lr
                 5e-4 (train_s), 1000 flow samples at x_o (flow_sample_s), DirectPosterior and
                 1000 posterior samples (posterior_sample_s).
  npe_trainer_1000  simulate_for_sbi(1000) (batch 1000), NPE(prior).append_simulations.train()
                 with sbi's defaults, build_posterior, 1000 samples at x_o.
  nle_tutorial   1000 simulations, build_nsf(x, theta), 100 Adam steps (train_s), then
                 likelihood_estimator_based_potential and MCMCPosterior(50 chains, thin 1,
                 slice_np_vectorized) sample((1000,), x=x_o) (mcmc_sample_s).
  nre_tutorial   1000 simulations, build_resnet_classifier(x, theta), 300 Adam steps of
                 classifier_logits (10 atoms) + nre_b_loss (train_s), then
                 ratio_estimator_based_potential and MCMCPosterior(100 chains) sample((1000,))
                 (mcmc_sample_s).
The simulations are drawn outside the timed parts, as on the other two sides.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch

import cusbi


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def simulator(theta):
    return theta + 0.1 * torch.randn_like(theta)


def tutorial_data(device, n=1000):
    prior = cusbi.BoxUniform(low=-3 * torch.ones(2), high=3 * torch.ones(2), device=device)
    theta = prior.sample((n,))
    return prior, theta, simulator(theta)


def train_flow(inputs, condition):
    """The tutorial's loop: 100 full-batch Adam steps on mean(loss(inputs, condition))."""
    flow = cusbi.build_nsf(inputs, condition)
    opt = cusbi.Adam(flow.parameters(), flow.gradients(), lr=5e-4)
    grad_mean = torch.full((inputs.shape[0],), 1.0 / inputs.shape[0], device=inputs.device)
    for _ in range(100):
        opt.zero_grad()
        flow.loss(inputs, condition)
        flow.backward(grad_mean)
        opt.step()
    return flow


def npe_tutorial(device):
    prior, theta, x = tutorial_data(device)
    x_o = torch.tensor([[1.0, 1.0]], device=theta.device)
    out = {}
    out["train_s"], flow = timed(lambda: train_flow(theta, x))
    out["flow_sample_s"], _ = timed(lambda: flow.sample((1000,), x_o))

    def posterior_samples():
        posterior = cusbi.DirectPosterior(flow, prior)
        return posterior.sample((1000,), x=x_o, show_progress_bars=False)

    out["posterior_sample_s"], _ = timed(posterior_samples)
    out["total_s"] = out["train_s"] + out["flow_sample_s"] + out["posterior_sample_s"]
    return out


def npe_trainer(device, n=1000):
    prior = cusbi.BoxUniform(low=-3 * torch.ones(2), high=3 * torch.ones(2), device=device)
    x_o = torch.tensor([[1.0, 1.0]])
    out = {}
    out["simulate_s"], (theta, x) = timed(lambda: cusbi.simulate_for_sbi(
        simulator, prior, n, simulation_batch_size=1000, show_progress_bar=False))
    inference = cusbi.NPE(prior, device=device)
    out["train_s"], _ = timed(lambda: inference.append_simulations(theta, x).train())
    out["epochs"] = inference.summary["epochs_trained"][-1]
    out["epoch_s"] = out["train_s"] / max(1, out["epochs"])
    out["posterior_sample_s"], _ = timed(lambda: inference.build_posterior().sample(
        (1000,), x=x_o, show_progress_bars=False))
    out["total_s"] = out["simulate_s"] + out["train_s"] + out["posterior_sample_s"]
    return out


def nle_tutorial(device):
    prior, theta, x = tutorial_data(device)
    x_o = torch.tensor([[1.0, 1.0]], device=theta.device)
    out = {}
    out["train_s"], flow = timed(lambda: train_flow(x, theta))

    def mcmc():
        potential, transform = cusbi.likelihood_estimator_based_potential(flow, prior, x_o)
        posterior = cusbi.MCMCPosterior(potential, proposal=prior, theta_transform=transform,
                                        num_chains=50, thin=1, method="slice_np_vectorized")
        return posterior.sample((1000,), x=x_o, show_progress_bars=False)

    out["mcmc_sample_s"], _ = timed(mcmc)
    out["total_s"] = out["train_s"] + out["mcmc_sample_s"]
    return out


def nre_tutorial(device, steps=300, num_atoms=10):
    prior, theta, x = tutorial_data(device)
    x_o = torch.tensor([[1.0, 1.0]], device=theta.device)
    out = {}

    def train():
        net = cusbi.build_resnet_classifier(x, theta)
        opt = cusbi.Adam(net.parameters(), net.gradients(), lr=5e-4)
        for _ in range(steps):
            opt.zero_grad()
            logits = cusbi.classifier_logits(net, theta, x, num_atoms)
            _, grad = cusbi.nre_b_loss(logits.reshape(-1, num_atoms))
            net.backward(grad.reshape(-1))
            opt.step()
        return net

    out["train_s"], net = timed(train)

    def mcmc():
        potential, transform = cusbi.ratio_estimator_based_potential(net, prior, x_o)
        posterior = cusbi.MCMCPosterior(potential, proposal=prior, theta_transform=transform,
                                        num_chains=100, method="slice_np_vectorized")
        return posterior.sample((1000,), x=x_o, show_progress_bars=False)

    out["mcmc_sample_s"], _ = timed(mcmc)
    out["total_s"] = out["train_s"] + out["mcmc_sample_s"]
    return out


WORKFLOWS = {"npe_tutorial": npe_tutorial, "npe_trainer_1000": npe_trainer,
             "nle_tutorial": nle_tutorial, "nre_tutorial": nre_tutorial}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workflows", default=",".join(WORKFLOWS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cusbi.set_progress_enabled(False)
    cusbi.set_array_kind("torch")
    result = {"library": "cusbi-python", "device": args.device, "threads": args.threads,
              "machine": platform.processor() or platform.machine(), "repeats": args.repeats,
              "load_average_1min": os.getloadavg()[0], "workflows": {}}
    for name in args.workflows.split(","):
        runs = []
        for r in range(args.repeats):
            cusbi.manual_seed(args.seed + r)
            torch.manual_seed(args.seed + r)
            runs.append(WORKFLOWS[name](args.device))
        keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
        result["workflows"][name] = {**{k: statistics.median(r[k] for r in runs) for k in keys},
                                     "runs": runs}
        print(f"{name}: {result['workflows'][name]['total_s']:.3f} s", file=sys.stderr)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
