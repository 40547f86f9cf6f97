#!/usr/bin/env python3
"""Makes tests/data/golden/mcmc_diagnostics_*.safetensors: arviz's rank-normalised split R-hat,
bulk ESS and tail ESS of fixed chains, which cusbi::mcmc_diagnostics must reproduce
(tests/golden/test_mcmc_diagnostics_golden.cpp).

    pip install arviz==0.23.4   (with numpy 2.4.6, scipy 1.17.1, safetensors 0.8.0 / torch)
    python tools/make_diagnostics_fixture.py

Cases (chains drawn with numpy.random.default_rng(seed), rounded to float32 first so that arviz
sees exactly the values cusbi reads):
  c4_n300_d5  4 chains x 300 draws: iid N(0,1); AR(1) rho 0.9; AR(1) rho 0.5 with chain 3 shifted
              by +1 (not converged, rhat > 1.01); student-t df 3 rounded to 1 decimal (rank ties);
              AR(1) rho -0.7 (antithetic: tau hits arviz's floor, ESS = S log10(S))
  c3_n101_d2  3 x 101 (odd: the middle draw is dropped by the split): iid N(0,1); AR(1) rho 0.7
              rounded to 1 decimal
  c1_n200_d2  1 x 200: AR(1) rho 0.3; student-t df 3 rounded to 1 decimal
Tensors: chains (C, N, D); rhat, ess_bulk, ess_tail (D,) from arviz.rhat(method="rank") and
arviz.ess(method="bulk" / "tail"), computed in float64 and rounded to float32 when saved. With one
chain arviz.rhat declines (NaN, it wants 2 chains before splitting); for that case "rhat" holds
arviz's own rank R-hat steps (_split_chains, _z_scale, _rhat, fold at the median) applied to the
two halves, and metadata arviz_rhat records the NaN. Updates only this script's entries of
tests/data/golden/MANIFEST.json.
"""
import hashlib
import json
import logging
import pathlib
import warnings

import numpy as np
import scipy
import torch
from safetensors.torch import save_file

from fixture_files import canonicalize_header  # tools/ is the script's folder

warnings.simplefilter("ignore", FutureWarning)  # arviz 0.23's notice about its refactor
logging.getLogger("arviz").setLevel(logging.ERROR)  # its "Shape validation failed" for 1 chain
import arviz  # noqa: E402
from arviz.stats import diagnostics as adiag  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "golden"
COMMAND = "python tools/make_diagnostics_fixture.py"


def ar1(rng, chains, draws, rho):
    x = np.empty((chains, draws))
    x[:, 0] = rng.standard_normal(chains)
    scale = np.sqrt(1.0 - rho * rho)  # stationary: unit marginal variance
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + scale * rng.standard_normal(chains)
    return x


def case_c4(rng):
    c, n = 4, 300
    shifted = ar1(rng, c, n, 0.5)
    shifted[3] += 1.0
    dims = [rng.standard_normal((c, n)), ar1(rng, c, n, 0.9), shifted,
            np.round(rng.standard_t(3, (c, n)), 1), ar1(rng, c, n, -0.7)]
    return np.stack(dims, axis=-1)


def case_c3(rng):
    c, n = 3, 101
    return np.stack([rng.standard_normal((c, n)), np.round(ar1(rng, c, n, 0.7), 1)], axis=-1)


def case_c1(rng):
    c, n = 1, 200
    return np.stack([ar1(rng, c, n, 0.3), np.round(rng.standard_t(3, (c, n)), 1)], axis=-1)


CASES = {"mcmc_diagnostics_c4_n300_d5": (case_c4, 3100),
         "mcmc_diagnostics_c3_n101_d2": (case_c3, 3101),
         "mcmc_diagnostics_c1_n200_d2": (case_c1, 3102)}


def rank_rhat_of_halves(ary):
    """arviz's _rhat_rank body without its two-chain gate (for a single chain)."""
    split = adiag._split_chains(ary)
    bulk = adiag._rhat(adiag._z_scale(split))
    tail = adiag._rhat(adiag._z_scale(abs(split - np.median(split))))
    return max(bulk, tail)


def make_case(make, seed):
    chains = make(np.random.default_rng(seed)).astype(np.float32)
    x = chains.astype(np.float64)
    ds = arviz.convert_to_dataset(x)  # dims (chain, draw, x_dim_0), variable "x"
    rhat = np.asarray(arviz.rhat(ds, method="rank")["x"])
    bulk = np.asarray(arviz.ess(ds, method="bulk")["x"])
    tail = np.asarray(arviz.ess(ds, method="tail")["x"])
    meta = dict(seed=seed, chains=x.shape[0], draws=x.shape[1], dims=x.shape[2],
                arviz_rhat=[repr(float(v)) for v in rhat],
                arviz_ess_bulk=[repr(float(v)) for v in bulk],
                arviz_ess_tail=[repr(float(v)) for v in tail],
                versions=versions(),
                description="arviz.rhat(method='rank'), arviz.ess(method='bulk'/'tail') of chains")
    if x.shape[0] == 1:
        assert np.isnan(rhat).all()
        rhat = np.array([rank_rhat_of_halves(x[:, :, j]) for j in range(x.shape[2])])
        meta["rhat_source"] = "arviz _rhat_rank steps on the two halves (arviz.rhat gives NaN)"
    else:
        meta["rhat_source"] = "arviz.rhat(method='rank')"
    tensors = {"chains": chains, "rhat": rhat, "ess_bulk": bulk, "ess_tail": tail}
    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))
            for k, v in tensors.items()}, meta, (rhat, bulk, tail)


def versions():
    return {"arviz": arviz.__version__, "numpy": np.__version__, "scipy": scipy.__version__}


def main():
    manifest_path = OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    for name, (make, seed) in CASES.items():
        tensors, meta, (rhat, bulk, tail) = make_case(make, seed)
        path = OUT / f"{name}.safetensors"
        save_file(tensors, str(path), metadata=meta)
        canonicalize_header(path)
        path.chmod(0o644)
        manifest["files"][path.name] = {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "bytes": path.stat().st_size, "command": COMMAND, "versions": versions()}
        print(f"wrote {path.relative_to(ROOT)}: rhat {rhat}, ess_bulk {bulk}, ess_tail {tail}")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
