#!/usr/bin/env python3
"""Extracts four sbibm tasks (two_moons, gaussian_linear, slcp, bernoulli_glm) into the compact
files cusbi::tasks reads, and makes the simulator fixtures its tests compare against.

    pip install --no-deps sbibm==1.1.0 pyro-ppl pyro-api opt_einsum   (with torch, safetensors)
    python tools/extract_sbibm_tasks.py [WHEEL_DIR]

WHEEL_DIR holds the unpacked sbibm package (WHEEL_DIR/sbibm/tasks/...); default
/work/sbibm_dl/wheel, else `pip download --no-deps sbibm==1.1.0` into a temporary folder.
Writes, all float32:
- bench/validation/data/sbibm_<task>.safetensors: observations (10, dim_x) and true_parameters
  (10, dim_theta) in sbibm's order (row k = num_observation k + 1); for slcp and bernoulli_glm
  also reference_posterior_samples (10, 10000, dim_theta) (two_moons and gaussian_linear have
  closed forms, implemented in C++); bernoulli_glm also design_matrix (100, 10).
- tests/data/tasks/<task>_simulator.safetensors: "exact.*" = sbibm's simulator arithmetic on 64
  prior draws with the noise given (exact.theta, the noise tensors, exact.x), and "draws.*" =
  sbibm's own simulator on 10 prior draws, each repeated 100 times (draws.theta (10, D),
  draws.x (10, 100, dim_x)). two_moons adds reference_obs1 (2000, 2), the first rows of sbibm's
  shipped reference samples for observation 1; bernoulli_glm adds prior_covariance (10, 10).
Headers are canonicalised (tools/fixture_files.py) so reruns give the same bytes, except draws.*,
which depend on pyro's seeded RNG (seeded here). Writes tests/data/tasks/MANIFEST.json.
"""
import bz2
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
from safetensors.torch import save_file

from fixture_files import canonicalize_header  # tools/ is the script's folder

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA_OUT = ROOT / "bench" / "validation" / "data"
FIXTURE_OUT = ROOT / "tests" / "data" / "tasks"
COMMAND = "python tools/extract_sbibm_tasks.py"
TASKS = ["two_moons", "gaussian_linear", "slcp", "bernoulli_glm"]
WITH_SAMPLES = {"slcp", "bernoulli_glm"}
DEFAULT_WHEEL = pathlib.Path("/work/sbibm_dl/wheel")


def find_wheel(argv):
    if len(argv) > 1:
        return pathlib.Path(argv[1])
    if (DEFAULT_WHEEL / "sbibm").is_dir():
        return DEFAULT_WHEEL
    tmp = pathlib.Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "sbibm==1.1.0",
                    "-d", str(tmp)], check=True)
    whl = next(tmp.glob("sbibm-*.whl"))
    zipfile.ZipFile(whl).extractall(tmp / "wheel")
    return tmp / "wheel"


def read_csv(path):
    """sbibm's csv files: one header line, then comma-separated floats."""
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rt") as f:
        return np.atleast_2d(np.loadtxt(f, delimiter=",", skiprows=1, dtype=np.float32))


def save(path, tensors, meta):
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.float().contiguous() for k, v in tensors.items()}
    save_file(tensors, str(path), metadata=meta)
    canonicalize_header(path)
    path.chmod(0o644)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


def extract_task_data(wheel, name, version):
    files = wheel / "sbibm" / "tasks" / name / "files"
    obs, truth, samples = [], [], []
    for k in range(1, 11):
        folder = files / f"num_observation_{k}"
        obs.append(read_csv(folder / "observation.csv"))
        truth.append(read_csv(folder / "true_parameters.csv"))
        if name in WITH_SAMPLES:
            s = read_csv(folder / "reference_posterior_samples.csv.bz2")
            assert s.shape[0] == 10000, (name, k, s.shape)
            samples.append(s)
    tensors = {"observations": torch.from_numpy(np.concatenate(obs)),
               "true_parameters": torch.from_numpy(np.concatenate(truth))}
    if samples:
        tensors["reference_posterior_samples"] = torch.from_numpy(np.stack(samples))
    if name == "bernoulli_glm":
        tensors["design_matrix"] = torch.load(files / "design_matrix.pt")
    meta = {"sbibm": version, "task": name, "source": f"sbibm {version} wheel, "
            f"sbibm/tasks/{name}/files/num_observation_<k>/*.csv(.bz2)", "command": COMMAND}
    save(DATA_OUT / f"sbibm_{name}.safetensors", tensors, meta)


def exact_two_moons(task, theta, gen):
    n = theta.shape[0]
    a = (torch.rand(n, 1, generator=gen) - 0.5) * np.float32(np.pi)
    r = 0.1 + 0.01 * torch.randn(n, 1, generator=gen)
    p = torch.cat((torch.cos(a) * r + 0.25, torch.sin(a) * r), dim=1)  # sbibm's simulator body
    return {"exact.a": a, "exact.r": r, "exact.x": task._map_fun(theta, p)}


def exact_gaussian_linear(task, theta, gen):
    z = torch.randn(theta.shape, generator=gen)
    dist = torch.distributions.MultivariateNormal(
        theta, precision_matrix=task.simulator_params["precision_matrix"])
    return {"exact.z": z, "exact.x": dist.loc + (dist.scale_tril @ z.unsqueeze(-1)).squeeze(-1)}


def exact_slcp(task, theta, gen):
    """sbibm's covariance S, then pyro's rsample loc + cholesky(S) @ z, with z given."""
    n = theta.shape[0]
    s1, s2, rho = theta[:, 2] ** 2, theta[:, 3] ** 2, torch.tanh(theta[:, 4])
    S = torch.empty((n, 2, 2))
    S[:, 0, 0] = s1 ** 2 + 1e-6
    S[:, 0, 1] = S[:, 1, 0] = rho * s1 * s2
    S[:, 1, 1] = s2 ** 2 + 1e-6
    z = torch.randn(n, 4, 2, generator=gen)
    dist = torch.distributions.MultivariateNormal(theta[:, None, :2], S[:, None])
    x = dist.loc + (dist.scale_tril @ z.unsqueeze(-1)).squeeze(-1)
    return {"exact.z": z.reshape(n, 8), "exact.x": x.reshape(n, 8)}


def exact_bernoulli_glm(task, theta, gen):
    """sbibm's simulator loop with torch.rand replaced by the given u (its conv1d summary)."""
    files = task.path / "files"
    X, stim = torch.load(files / "design_matrix.pt"), torch.load(files / "stimulus_I.pt")
    u = torch.rand(theta.shape[0], X.shape[0], generator=gen)
    xs = []
    for b in range(theta.shape[0]):
        z = 1 / (1 + torch.exp(-torch.matmul(X, theta[b])))
        y = (u[b] < z).float()
        sta = torch.nn.functional.conv1d(y.reshape(1, 1, -1), stim.reshape(1, 1, -1),
                                         padding=8).squeeze()[-9:]
        xs.append(torch.cat((y.sum().unsqueeze(0), sta)))
    return {"exact.u": u, "exact.x": torch.stack(xs)}


EXACT = {"two_moons": exact_two_moons, "gaussian_linear": exact_gaussian_linear,
         "slcp": exact_slcp, "bernoulli_glm": exact_bernoulli_glm}


def make_simulator_fixture(sbibm, name, seed):
    import pyro
    task = sbibm.get_task(name)
    pyro.set_rng_seed(seed)  # seeds torch, numpy and random
    gen = torch.Generator().manual_seed(seed)
    theta = task.get_prior()(num_samples=64)
    tensors = {"exact.theta": theta, **EXACT[name](task, theta, gen)}
    draws_theta = task.get_prior()(num_samples=10)
    x = task.get_simulator()(draws_theta.repeat_interleave(100, dim=0))
    tensors["draws.theta"] = draws_theta
    tensors["draws.x"] = x.reshape(10, 100, task.dim_data)
    if name == "two_moons":
        tensors["reference_obs1"] = task.get_reference_posterior_samples(1)[:2000]
    if name == "bernoulli_glm":
        tensors["prior_covariance"] = torch.inverse(task.prior_params["precision_matrix"])
    meta = {"sbibm": sbibm.__version__, "torch": torch.__version__, "task": name,
            "seed": str(seed), "command": COMMAND}
    path = FIXTURE_OUT / f"{name}_simulator.safetensors"
    save(path, tensors, meta)
    return path


def main():
    wheel = find_wheel(sys.argv)
    sys.path.insert(0, str(wheel))
    import sbibm
    assert sbibm.__version__ == "1.1.0", sbibm.__version__
    torch.set_num_threads(1)
    manifest = {"command": COMMAND, "versions": {"sbibm": sbibm.__version__,
                "torch": torch.__version__, "numpy": np.__version__}, "files": {}}
    for i, name in enumerate(TASKS):
        extract_task_data(wheel, name, sbibm.__version__)
        path = make_simulator_fixture(sbibm, name, 2026 + i)
        manifest["files"][path.name] = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                        "bytes": path.stat().st_size}
    (FIXTURE_OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
