#!/usr/bin/env python3
"""The sbi side of bench/e2e's NRE workflows, timed, as JSON on stdout.

    pip install sbi
    python tools/e2e_sbi_nre.py [--device cpu|cuda] [--threads 2] [--repeats 3]
                                [--trainer-sims 1000,100000] [--large-max-epochs 5]
                                [--skip-tutorial]

Workflows (the prior is BoxUniform(-3, 3)^2 and the simulator x = theta + 0.1 noise, as in
seed/18_training_interface.md):
  tutorial    the tutorial's NRE section: 1000 simulations, build_resnet_classifier(x, theta),
              300 full-batch Adam steps at lr 5e-4 of the tutorial's own classifier_logits
              (num_atoms 10, torch.multinomial contrasting choices) and its NRE_B loss
              (train_s), then ratio_estimator_based_potential(net, prior, x_o) and
              MCMCPosterior(num_chains=100, slice_np_vectorized) with the default "resample"
              init and sample((1000,), x=x_o) (mcmc_sample_s, sbi's own sample call, init
              included). Separately: the init alone (init_s: _get_initial_params("resample",
              100), as sample calls it) and the sampling alone (sampling_s: sample with
              init_strategy="proposal", whose init is 100 prior draws). pairplot is left out.
  trainer_N   simulate_for_sbi(N) (batch 1000), NRE(prior) (= NRE_B, resnet classifier)
              .append_simulations.train() with sbi's defaults (10 atoms, batch 200, early
              stopping), then build_posterior() (MCMC, sbi's defaults: 20 chains, resample init)
              and sample((1000,), x=x_o) (posterior_sample_s). For N > 10000, max_num_epochs
              caps training (--large-max-epochs), and epoch_s is reported too.
Medians over repeats; bench/e2e/nre.cpp prints the same keys for cusbi and
scripts/e2e_compare_nre.sh puts the two side by side.
"""
import argparse
import os
import sys
import warnings

import torch

warnings.filterwarnings("ignore")

try:
    from sbi import utils
    from sbi.inference import NRE, MCMCPosterior, ratio_estimator_based_potential
except ImportError as error:
    sys.exit(f"sbi is not installed or too different ({error}): pip install sbi")
try:
    from sbi.neural_nets.net_builders import build_resnet_classifier
except ImportError:
    from sbi.neural_nets.classifier import build_resnet_classifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (  # noqa: E402
    Timer, add_common_args, add_trainer_args, add_trainer_workflows, chdir_to_temp, medians,
    print_json, result_header, setup_device, tutorial_data, x_o_on)


def classifier_logits(net, theta, x, num_atoms):
    """The tutorial's function, tensors created on theta's device."""
    batch_size = theta.shape[0]
    repeated_x = utils.repeat_rows(x, num_atoms)
    eye = torch.eye(batch_size, device=theta.device)
    probs = torch.ones(batch_size, batch_size, device=theta.device) * (1 - eye) / (batch_size - 1)
    choices = torch.multinomial(probs, num_samples=num_atoms - 1, replacement=False)
    contrasting_theta = theta[choices]
    atomic_theta = torch.cat((theta[:, None, :], contrasting_theta), dim=1).reshape(
        batch_size * num_atoms, -1
    )
    return net(atomic_theta, repeated_x)


def tutorial(device, seed):
    prior, theta, x = tutorial_data(device, seed)
    out = {}
    num_atoms = 10
    with Timer(device) as t:
        net = build_resnet_classifier(x, theta).to(device)
        opt = torch.optim.Adam(list(net.parameters()), lr=5e-4)
        for _ in range(300):
            opt.zero_grad()
            batch_size = theta.shape[0]
            logits = classifier_logits(net, theta, x, num_atoms=num_atoms)
            logits = logits.reshape(batch_size, num_atoms)
            log_probs = logits[:, 0] - torch.logsumexp(logits, dim=-1)
            loss = -torch.mean(log_probs)
            loss.backward()
            opt.step()
    out["train_s"] = t.seconds
    out["final_loss"] = loss.item()
    x_o = x_o_on(device)
    with Timer(device) as t:
        potential, tf = ratio_estimator_based_potential(net, prior, x_o)
        posterior = MCMCPosterior(potential, proposal=prior, theta_transform=tf, num_chains=100,
                                  method="slice_np_vectorized", device=str(device))
        samples = posterior.sample((1000,), x=x_o, show_progress_bars=False)
    out["mcmc_sample_s"] = t.seconds
    out["posterior_mean"] = samples.mean(0).tolist()
    # The init alone, as sample() calls it (the potential set to x_o first, as sample does).
    posterior.potential_fn.set_x(x_o, x_is_iid=True)
    with Timer(device) as t:
        posterior._get_initial_params("resample", 100, 1, False)
    out["init_s"] = t.seconds
    with Timer(device) as t:
        posterior.sample((1000,), x=x_o, init_strategy="proposal", show_progress_bars=False)
    out["sampling_s"] = t.seconds
    out["total_s"] = out["train_s"] + out["mcmc_sample_s"]
    return out


def make_nre(device):
    return lambda prior: NRE(prior=prior, device=str(device), show_progress_bars=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    add_trainer_args(parser)
    parser.add_argument("--skip-tutorial", action="store_true")
    args = parser.parse_args()
    device = setup_device(args)
    chdir_to_temp("e2e_sbi_nre_")

    result = result_header(device, args.repeats)
    if not args.skip_tutorial:
        runs = [tutorial(device, args.seed + r) for r in range(args.repeats)]
        result["workflows"]["tutorial"] = {**medians(runs), "runs": runs}
    add_trainer_workflows(result, device, args, make_nre(device), uncapped=0)
    print_json(result)


if __name__ == "__main__":
    main()
