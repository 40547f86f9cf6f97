"""Shared by the sbi-side end-to-end benchmark scripts (tools/e2e_sbi_*.py, e2e_nflows_proxy.py):
the tutorial's prior, simulator and data, device-synchronised timing, medians of repeats, the
common options, the machine description every JSON result starts with, and sbi's trainer
workflow. sbi is imported only where used: e2e_nflows_proxy.py runs on machines without it.
"""
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time


def synchronize(device):
    import torch
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Timer:
    """`with Timer(device) as t:` -> t.seconds, the device idle before and after."""

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
    """The tutorial's prior, BoxUniform(-3, 3)^2."""
    import torch
    from sbi.utils import BoxUniform
    return BoxUniform(-3 * torch.ones(2, device=device), 3 * torch.ones(2, device=device))


def simulator(theta):
    """The tutorial's simulator, x = theta + 0.1 noise."""
    import torch
    return theta + torch.randn_like(theta) * 0.1


def x_o_on(device):
    import torch
    return torch.as_tensor([[1.0, 1.0]], device=device)


def tutorial_data(device, seed, num_simulations=1000):
    """The tutorial's seeded simulations: (prior, theta, x)."""
    import torch
    torch.manual_seed(seed)
    prior = prior_on(device)
    theta = prior.sample((num_simulations,))
    return prior, theta, simulator(theta)


def train_tutorial_flow(inputs, condition, device):
    """The tutorial's custom loop: build_nsf(inputs, condition), then 100 full-batch Adam steps
    at lr 5e-4 on mean loss(inputs, condition=condition). NPE passes (theta, x), NLE (x, theta)."""
    import torch
    try:
        from sbi.neural_nets.net_builders import build_nsf
    except ImportError:
        from sbi.neural_nets.flow import build_nsf
    estimator = build_nsf(inputs, condition).to(device)
    opt = torch.optim.Adam(list(estimator.parameters()), lr=5e-4)
    for _ in range(100):
        opt.zero_grad()
        loss = torch.mean(estimator.loss(inputs, condition=condition))
        loss.backward()
        opt.step()
    return estimator


def medians(runs):
    """The median over runs of every numeric key of the first run."""
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def add_common_args(parser, device_help=None, threads_help=None):
    """--device, --threads, --repeats and --seed, as every script takes them."""
    parser.add_argument("--device", default="cpu", help=device_help)
    parser.add_argument("--threads", type=int, default=2, help=threads_help)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)


def add_trainer_args(parser):
    """--trainer-sims and --large-max-epochs, as add_trainer_workflows reads them."""
    parser.add_argument("--trainer-sims", default="1000,100000")
    parser.add_argument("--large-max-epochs", type=int, default=5)


def chdir_to_temp(prefix):
    """sbi's trainer writes TensorBoard logs to ./sbi-logs; keep them out of the caller's folder."""
    os.chdir(tempfile.mkdtemp(prefix=prefix))


def setup_device(args):
    """The torch device of --device (exits when CUDA is asked for but absent), on --threads."""
    import torch
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda asked for, but torch sees no GPU")
    torch.set_num_threads(args.threads)
    return device


def device_name(device):
    import torch
    return str(device) if device.type == "cpu" else torch.cuda.get_device_name(device)


def machine_info(device):
    """sbi and torch versions, device, threads and machine, as every sbi result starts."""
    import sbi
    import torch
    return {
        "library": "sbi",
        "sbi_version": sbi.__version__,
        "torch_version": torch.__version__,
        "device": device_name(device),
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
    }


def result_header(device, repeats):
    """machine_info plus repeats, the load average and an empty "workflows"."""
    return {**machine_info(device), "repeats": repeats,
            "load_average_1min": os.getloadavg()[0], "workflows": {}}


def trainer(device, seed, num_simulations, max_epochs, make_inference):
    """simulate_for_sbi(N) (batch 1000), make_inference(prior).append_simulations.train()
    (max_num_epochs capped when max_epochs), build_posterior and 1000 samples at x_o."""
    import torch
    from sbi.inference import simulate_for_sbi
    torch.manual_seed(seed)
    prior = prior_on(device)
    out = {}
    with Timer(device) as t:
        theta, x = simulate_for_sbi(simulator, prior, num_simulations,
                                    simulation_batch_size=1000, show_progress_bar=False)
    out["simulate_s"] = t.seconds
    with Timer(device) as t:
        inference = make_inference(prior)
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
        posterior.sample((1000,), x=x_o_on(device), show_progress_bars=False)
    out["posterior_sample_s"] = t.seconds
    out["total_s"] = out["simulate_s"] + out["train_s"] + out["posterior_sample_s"]
    return out


def add_trainer_workflows(result, device, args, make_inference, uncapped=None):
    """trainer_N for each N of --trainer-sims: --repeats runs up to 10,000 simulations, one run
    capped at --large-max-epochs above; "max_num_epochs" is the cap, or `uncapped`."""
    for n in [int(s) for s in args.trainer_sims.split(",") if s]:
        cap = args.large_max_epochs if n > 10000 else None
        repeats = args.repeats if n <= 10000 else 1
        runs = [trainer(device, args.seed + r, n, cap, make_inference) for r in range(repeats)]
        result["workflows"][f"trainer_{n}"] = {**medians(runs),
                                               "max_num_epochs": uncapped if cap is None else cap,
                                               "runs": runs}


def print_json(result):
    json.dump(result, sys.stdout, indent=2)
    print()


def workflow_table(sbi, cus, keys, widths, counts=()):
    """The compare scripts' table (scripts/e2e_compare_*.sh): for each workflow both sides ran,
    each of `keys` both have as sbi s, cusbi s and sbi/cusbi, then each of `counts` (epochs,
    observations) side by side; `widths` are those of the workflow and measure columns."""
    w, m = widths
    print(f"| {'workflow':{w}} | {'measure':{m}} | {'sbi s':>9} | {'cusbi s':>9} | "
          f"{'sbi/cusbi':>9} |")
    print(f"|{'-' * (w + 2)}|{'-' * (m + 2)}|{'-' * 10}:|{'-' * 10}:|{'-' * 10}:|")
    for name, s in sbi["workflows"].items():
        c = cus["workflows"].get(name)
        if c is None:
            continue
        for key in keys:
            if key in s and key in c and c[key] > 0:
                print(f"| {name:{w}} | {key:{m}} | {s[key]:9.3f} | {c[key]:9.3f} | "
                      f"{s[key] / c[key]:9.1f} |")
        for key in counts:
            if key in s:
                print(f"| {name:{w}} | {key:{m}} | {s[key]:9.0f} | {c[key]:9.0f} | {'':9} |")


def read_pairs(work, devices):
    """(device, sbi result, cusbi result or None when cusbi did not run there) per device, from
    the compare scripts' $work/sbi_<device>.json and cusbi_<device>.json."""
    for device in devices:
        sbi = json.loads((work / f"sbi_{device}.json").read_text())
        path = work / f"cusbi_{device}.json"
        yield device, sbi, json.loads(path.read_text()) if path.exists() else None


def device_heading(device, sbi, cus, load=True):
    """The compare scripts' line above each device's table (with both load averages)."""
    line = (f"\n{device}: sbi {sbi['sbi_version']} (torch {sbi['torch_version']}, {sbi['device']})"
            f" vs cusbi ({cus['device']}), {sbi['threads']} threads")
    if load:
        line += (f"; load average sbi {sbi['load_average_1min']:.1f},"
                 f" cusbi {cus['load_average_1min']:.1f}")
    print(line)
