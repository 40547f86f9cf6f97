#!/usr/bin/env python3
"""Golden trajectories of sbi's own vectorized slice sampler, for tests/golden/test_slice_golden.cpp.

    python tools/sbi_slice_trajectory.py        (needs sbi, torch, numpy, safetensors)

Runs sbi.samplers.mcmc.slice_numpy.SliceSamplerVectorized itself (not a copy) on analytic
log-densities, with numpy's global RNG functions that it calls replaced:
- np.random.rand() returns the next number of a recorded stream of uniforms drawn from
  np.random.default_rng(seed), and notes which chain drew it (the sampler's state dict is wrapped
  so that state[c] marks chain c as the one working) and in which iteration (one iteration = one
  batched potential call; -1 = the shuffles at run start);
- np.random.shuffle(order) applies kernels/slice.h's slice_shuffle rule to the 0..D-1 list sbi
  just reset: for i = D-1 down to 1, j = min(int(u (i+1)), i) with the next uniform, swap.
The potential is evaluated in float64 at the float32 rounding of each batch row and returned as a
float32 torch tensor, as sbi's transformed_potential does. Each case is also rerun with a numpy
float32 return (slice level lp + log(1-u) in float64, as cusbi computes it, instead of torch's
float32): the script asserts both runs give the same trajectory, so the fixture does not depend
on that difference.

Writes tests/data/golden/slice_*.safetensors and their MANIFEST.json entries. Tensors:
  init (C, D) f32; uniforms (U,) f64; uniform_chain, uniform_iter (U,) i32;
  batches (I, C, D) f32 = what the potential received; lp (I, C) f32 = what it returned;
  accepted (C, S*D, D) f64 = chain's x after each completed coordinate update (S = sweeps);
  accepted_iter (C, S*D) i32 = the iteration whose processing accepted it;
  samples (C, kept, D) f64 = run()'s return value (already thinned);
  draws_until_done (C,) i32 = uniforms chain c drew until its last sweep completed (sbi then
  shuffles once more and makes one extra, discarded coordinate update: cusbi does neither).
Metadata: dim, chains, tuning, n_run, thin, init_width (repr), iterations, density, versions.
"""
import datetime
import hashlib
import importlib.metadata
import json
import pathlib
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

from fixture_files import canonicalize_header  # tools/ is the script's folder

from sbi.samplers.mcmc.slice_numpy import SliceSamplerVectorized  # the real thing

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "golden"
COMMAND = "python tools/sbi_slice_trajectory.py"


def banana3(x):
    """3-D banana: x0 ~ N(0, 1.5^2); x1 | x0 curved around 0.8 (x0^2 - 2.25); x2 tied to x1."""
    x0, x1, x2 = x[:, 0], x[:, 1], x[:, 2]
    return -0.5 * ((x0 / 1.5) ** 2 + ((x1 - 0.8 * (x0 ** 2 - 2.25)) / 0.6) ** 2 +
                   ((x2 - 0.5 * x1) / 0.4) ** 2)


def gauss2(x):
    """2-D Gaussian, scales 1 and 2, correlation 0.9."""
    a, b, rho = x[:, 0], x[:, 1] / 2.0, 0.9
    return -0.5 * (a * a - 2 * rho * a * b + b * b) / (1 - rho * rho)


DENSITIES = {"banana3": banana3, "gauss2": gauss2}

# Width 0.01 against unit scales: every update steps out tens of times at first. Width 50 with
# no tuning keeps the huge brackets: every update is dominated by shrinkage (and thin 2 checks
# thinning). The 2-D case uses sbi's default tuning of 50 sweeps.
CASES = {
    "slice_banana3_w0.01": dict(density="banana3", dim=3, chains=4, tuning=5, n_run=20, thin=1,
                                init_width=0.01, seed=11),
    "slice_banana3_w50": dict(density="banana3", dim=3, chains=4, tuning=0, n_run=20, thin=2,
                              init_width=50.0, seed=12),
    "slice_gauss2_w0.01": dict(density="gauss2", dim=2, chains=4, tuning=50, n_run=20, thin=1,
                               init_width=0.01, seed=13),
}


class Recorder:
    """Replaces np.random.rand / np.random.shuffle and wraps the potential; records everything."""

    def __init__(self, case, torch_potential):
        self.case = case
        self.density = DENSITIES[case["density"]]
        self.torch_potential = torch_potential
        self.rng = np.random.default_rng(case["seed"])
        self.uniforms, self.uniform_chain, self.uniform_iter = [], [], []
        self.batches, self.lps = [], []
        self.chain = -1  # the chain whose state sbi touched last
        self.iteration = -1
        self.sampler = None
        self.sweeps = case["tuning"] + case["n_run"]
        C = case["chains"]
        self.done_draws = [None] * C
        self.counts = [0] * C
        self.accepted = [[] for _ in range(C)]
        self.accepted_iter = [[] for _ in range(C)]

    def rand(self, *args):
        assert not args, "the sampler asked for an array of uniforms"
        u = float(self.rng.random())
        self.uniforms.append(u)
        self.uniform_chain.append(self.chain)
        self.uniform_iter.append(self.iteration)
        return u

    def shuffle(self, order):
        D = len(order)
        assert list(order) == list(range(D)), "sbi shuffles a fresh 0..D-1 list"
        st = dict.__getitem__(self.sampler.state, self.chain)
        if st["t"] == self.sweeps and self.done_draws[self.chain] is None:
            self.done_draws[self.chain] = sum(1 for c in self.uniform_chain if c == self.chain)
        for i in range(D - 1, 0, -1):
            j = min(int(self.rand() * (i + 1)), i)
            order[i], order[j] = order[j], order[i]

    def note_acceptances(self):
        """Called between iterations: a chain whose t*D + i grew accepted in the last one."""
        D = self.case["dim"]
        for c in range(self.case["chains"]):
            st = dict.__getitem__(self.sampler.state, c)
            count = st["t"] * D + st["i"]
            if count != self.counts[c]:
                assert count == self.counts[c] + 1, "at most one acceptance per iteration"
                self.counts[c] = count
                self.accepted[c].append(np.array(st["x"], dtype=np.float64))
                self.accepted_iter[c].append(self.iteration)

    def log_prob(self, params):
        self.note_acceptances()
        self.iteration += 1
        p32 = np.asarray(params).astype(np.float32)
        lp = self.density(p32.astype(np.float64)).astype(np.float32)
        self.batches.append(p32)
        self.lps.append(lp)
        return torch.from_numpy(lp.copy()) if self.torch_potential else lp.copy()


class ChainTracingDict(dict):
    """sbi's state dict; state[c] tells the recorder that chain c is the one drawing now."""

    def __init__(self, data, recorder):
        super().__init__(data)
        self.recorder = recorder

    def __getitem__(self, c):
        self.recorder.chain = c
        return super().__getitem__(c)


def run_case(case, torch_potential):
    C, D = case["chains"], case["dim"]
    rec = Recorder(case, torch_potential)
    # Fixed, float32-representable starts spread around the mode (sbi passes float32 inits).
    init = (np.linspace(-1.0, 1.0, C * D).reshape(C, D) * np.array([1.3, -0.7, 0.9][:D]) +
            0.25).astype(np.float32)
    saved = np.random.rand, np.random.shuffle
    np.random.rand, np.random.shuffle = rec.rand, rec.shuffle
    try:
        sampler = SliceSamplerVectorized(log_prob_fn=rec.log_prob, init_params=init,
                                         num_chains=C, thin=case["thin"], tuning=case["tuning"],
                                         verbose=False, init_width=case["init_width"])
        sampler.state = ChainTracingDict(sampler.state, rec)
        rec.sampler = sampler
        samples = sampler.run(case["n_run"])
        rec.note_acceptances()
    finally:
        np.random.rand, np.random.shuffle = saved
    assert all(d is not None for d in rec.done_draws)
    for c in range(C):  # the samples are the x after the last coordinate of kept sweeps
        assert len(rec.accepted[c]) == rec.sweeps * D
        for k in range(samples.shape[1]):
            t = case["tuning"] + k * case["thin"]
            assert np.array_equal(samples[c, k], rec.accepted[c][(t + 1) * D - 1])
    return init, samples, rec


def make_case(name, case):
    init, samples, rec = run_case(case, torch_potential=True)
    _, samples64, rec64 = run_case(case, torch_potential=False)
    assert rec.uniforms == rec64.uniforms and np.array_equal(samples, samples64)
    assert all(np.array_equal(a, b) for a, b in zip(rec.batches, rec64.batches))
    C, D = case["chains"], case["dim"]
    tensors = {
        "init": init,
        "uniforms": np.array(rec.uniforms, dtype=np.float64),
        "uniform_chain": np.array(rec.uniform_chain, dtype=np.int32),
        "uniform_iter": np.array(rec.uniform_iter, dtype=np.int32),
        "batches": np.stack(rec.batches).astype(np.float32),
        "lp": np.stack(rec.lps).astype(np.float32),
        "accepted": np.stack([np.stack(a) for a in rec.accepted]).astype(np.float64),
        "accepted_iter": np.array(rec.accepted_iter, dtype=np.int32),
        "samples": np.ascontiguousarray(samples, dtype=np.float64),
        "draws_until_done": np.array(rec.done_draws, dtype=np.int32),
    }
    meta = {k: str(case[k]) for k in ("density", "dim", "chains", "tuning", "n_run", "thin")}
    meta["init_width"] = repr(float(case["init_width"]))
    meta["iterations"] = str(len(rec.batches))
    meta["kept"] = str(samples.shape[1])
    stats = {"iterations": len(rec.batches), "uniforms": len(rec.uniforms),
             "max_evaluations_per_update": None}
    iters = np.array(rec.accepted_iter)
    gaps = np.diff(np.concatenate([np.full((C, 1), -1), iters], axis=1), axis=1)
    stats["max_evaluations_per_update"] = int(gaps.max())
    stats["mean_evaluations_per_update"] = float(gaps.mean())
    return tensors, meta, stats


def main():
    versions = {p: importlib.metadata.version(p) for p in ("sbi", "numpy", "torch", "safetensors")}
    versions["python"] = sys.version.split()[0]
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"files": {}}
    for name, case in CASES.items():
        tensors, meta, stats = make_case(name, case)
        meta["versions"] = json.dumps(versions, sort_keys=True)
        path = OUT / f"{name}.safetensors"
        save_file(tensors, str(path), metadata=meta)
        canonicalize_header(path)
        manifest["files"][path.name] = {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "bytes": path.stat().st_size, "command": COMMAND, "versions": versions,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "stats": stats}
        print(name, stats)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
