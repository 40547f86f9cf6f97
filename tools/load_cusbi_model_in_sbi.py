#!/usr/bin/env python3
"""Load a cusbi model file (cusbi::save of a NeuralSplineFlow, DirectPosterior or RatioClassifier) into sbi.

    pip install sbi
    python tools/load_cusbi_model_in_sbi.py model.safetensors [--check values.json]

The file's "net.*" tensors are the state_dict of sbi's build_nsf estimator with the
architecture stored in the metadata ("estimator" JSON). This script builds that estimator,
loads the tensors with load_state_dict(strict=True) and, for a posterior file, the BoxUniform or
MultivariateNormal prior, and returns/prints them. With --check, a JSON file holding "theta"
(N*D values), "x" (N*C values) and "log_prob" (N values, as cusbi computed them) is compared
with sbi's log_prob on the loaded estimator.

A ratio classifier file (kind "ratio_classifier") holds the whole state_dict of sbi's
build_{resnet,mlp,linear}_classifier (z-score buffers included); the "estimator" JSON names the
builder ("classifier"), the sizes and options. It is built and loaded the same way; with
--check, the JSON holds "theta", "x" and "logits" (cusbi's) and is compared with sbi's
estimator(theta, x).
"""
import argparse
import json
import sys

import torch
from safetensors import safe_open

try:
    from sbi.neural_nets.net_builders import build_nsf
    from sbi.neural_nets.net_builders.classifier import (
        build_linear_classifier, build_mlp_classifier, build_resnet_classifier)
    from sbi.utils import BoxUniform
except ImportError:
    sys.exit("sbi is not installed: pip install sbi")


ZSCORE = {"none": None, "independent": "independent", "structured": "structured"}


def _read(path):
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("format") != "cusbi.model":
        sys.exit(f"{path} is not a cusbi model file (metadata format != cusbi.model)")
    return meta, tensors


def load_classifier(path):
    """sbi's RatioEstimator with a cusbi-saved classifier's weights; (estimator, D, C)."""
    meta, tensors = _read(path)
    if meta.get("kind") != "ratio_classifier":
        sys.exit(f"{path} holds a {meta.get('kind')}, not a ratio classifier")
    est = json.loads(meta["estimator"])
    d, c = est["theta_features"], est["x_features"]
    builder = {"resnet": build_resnet_classifier, "mlp": build_mlp_classifier,
               "linear": build_linear_classifier}[est["classifier"]]
    kwargs = dict(z_score_x=ZSCORE[est["z_score_theta"]], z_score_y=ZSCORE[est["z_score_x"]])
    if est["classifier"] != "linear":
        kwargs["hidden_features"] = est["hidden_features"]
    if est["classifier"] == "resnet":
        kwargs.update(num_blocks=est["num_blocks"], dropout_probability=est["dropout_probability"],
                      use_batch_norm=est["use_batch_norm"])
    # The builder needs example batches (2 rows: a structured std); statistics come from the file.
    estimator = builder(torch.randn(10, d), torch.randn(10, c), **kwargs)
    estimator.load_state_dict(tensors, strict=True)
    estimator.eval()
    return estimator, d, c


def load(path):
    meta, tensors = _read(path)
    est = json.loads(meta["estimator"])
    d, c = est["input_features"], est["condition_features"]
    # build_nsf needs example batches; z-score statistics come from the file afterwards.
    zs = ZSCORE
    estimator = build_nsf(
        torch.randn(10, d), torch.randn(10, c),
        z_score_x=zs[est["z_score_input"]], z_score_y=zs[est["z_score_condition"]],
        hidden_features=est["hidden_features"], num_transforms=est["num_transforms"],
        num_bins=est["num_bins"], tail_bound=est["tail_bound"], num_blocks=est["num_blocks"],
        hidden_layers_spline_context=est["hidden_layers_spline_context"])
    state = {k: v for k, v in tensors.items() if k.startswith("net.")}
    # cusbi stores every tensor as float32; copy each into the dtype the module expects.
    own = estimator.state_dict()
    estimator.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)
    estimator.eval()
    prior = None
    if meta.get("kind") == "direct_posterior":
        p = json.loads(meta["prior"])
        if p["type"] == "BoxUniform":
            prior = BoxUniform(tensors["prior.low"], tensors["prior.high"])
        else:
            prior = torch.distributions.MultivariateNormal(tensors["prior.loc"],
                                                           tensors["prior.covariance"])
    return estimator, prior, d, c


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--check", help="JSON with theta, x, log_prob computed by cusbi")
    args = parser.parse_args()
    with safe_open(args.path, framework="pt") as f:
        kind = (f.metadata() or {}).get("kind")
    if kind == "ratio_classifier":
        check_classifier(args)
        return
    estimator, prior, d, c = load(args.path)
    print(f"loaded an sbi build_nsf estimator (D={d}, C={c}); prior: {prior}")
    if args.check:
        ref = json.load(open(args.check))
        theta = torch.tensor(ref["theta"]).reshape(-1, d)
        x = torch.tensor(ref["x"]).reshape(-1, c)
        with torch.no_grad():
            lp = estimator.log_prob(theta.unsqueeze(0), condition=x).squeeze(0)
        diff = (lp - torch.tensor(ref["log_prob"])).abs().max().item()
        print(f"sbi log_prob {lp.tolist()}\ncusbi log_prob {ref['log_prob']}\nmax |diff| {diff:.3g}")
        sys.exit(0 if diff < 1e-4 else 1)


def check_classifier(args):
    estimator, d, c = load_classifier(args.path)
    print(f"loaded an sbi ratio classifier (D={d}, C={c}): {type(estimator.net).__name__}")
    if args.check:
        ref = json.load(open(args.check))
        theta = torch.tensor(ref["theta"]).reshape(-1, d)
        x = torch.tensor(ref["x"]).reshape(-1, c)
        with torch.no_grad():
            logits = estimator(theta, x).reshape(-1)
        diff = (logits - torch.tensor(ref["logits"])).abs().max().item()
        print(f"sbi logits {logits.tolist()}\ncusbi logits {ref['logits']}\nmax |diff| {diff:.3g}")
        sys.exit(0 if diff < 1e-4 else 1)


if __name__ == "__main__":
    main()
