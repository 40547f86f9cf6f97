#!/usr/bin/env python3
"""Exports a ratio classifier made by sbi's build_resnet_classifier / build_mlp_classifier /
build_linear_classifier (e.g. NRE(classifier="resnet")) to a safetensors file that cusbi reads
with cusbi::load_sbi_classifier(path, device).

    python tools/export_sbi_classifier.py classifier.pt classifier.safetensors
        classifier.pt: torch.save(ratio_estimator) or torch.save(posterior) of a RatioBasedPosterior
    or, in Python:  from export_sbi_classifier import export_sbi_classifier
                    export_sbi_classifier(ratio_estimator, "classifier.safetensors")

The file holds the RatioEstimator's state_dict under its PyTorch names (net.* and, unless a side
is not z-scored, the Standardize buffers embedding_net_theta.0._mean/_std and
embedding_net_x.0._mean/_std; "structured" z-scoring stores 0-dim ones) and string metadata read
off the modules: format, format_version, kind (resnet, mlp or linear), theta_features,
x_features, hidden_features, num_blocks, z_score_theta / z_score_x (none, independent or
structured: the builder's z_score_x and z_score_y, which z-score its first input theta and its
second input x), state_dict_keys (JSON list) and the sbi / torch versions. Only what cusbi can
represent is accepted: no batch norm, no dropout, ReLU, and no embedding net beyond sbi's
z-scoring; anything else raises with the reason.
"""
import importlib.metadata
import json
import math
import sys

import torch
from safetensors.torch import save_file

FORMAT = "cusbi.sbi_classifier"


def _fail(message):
    raise ValueError(f"cannot export this classifier for cusbi: {message}")


def _estimator_of(obj):
    """The RatioEstimator inside a posterior or potential, or obj itself."""
    for attr in ("ratio_estimator", "classifier"):
        if hasattr(obj, attr) and isinstance(getattr(obj, attr), torch.nn.Module):
            return getattr(obj, attr)
    if hasattr(obj, "potential_fn") and hasattr(obj.potential_fn, "ratio_estimator"):
        return obj.potential_fn.ratio_estimator
    return obj


def _zscore(embedding, side):
    from sbi.utils.sbiutils import Standardize

    if isinstance(embedding, torch.nn.Identity):
        return "none"
    mods = list(embedding) if isinstance(embedding, torch.nn.Sequential) else [embedding]
    if (len(mods) == 2 and isinstance(mods[0], Standardize)
            and isinstance(mods[1], torch.nn.Identity)):
        return "structured" if mods[0]._std.dim() == 0 else "independent"
    _fail(f"its {side} embedding net ({type(embedding).__name__}) is more than sbi's z-scoring; "
          "cusbi supports only the identity embedding")


def _trunk(net):
    """(kind, hidden_features, num_blocks) of sbi's classifier trunk."""
    from nflows.nn.nets import ResidualNet

    if isinstance(net, ResidualNet):
        block = net.blocks[0] if len(net.blocks) else None
        if block is not None and block.use_batch_norm:
            _fail("its ResidualNet uses batch norm (use_batch_norm=True)")
        if block is not None and block.dropout.p != 0:
            _fail(f"its ResidualNet has dropout_probability {block.dropout.p}; cusbi supports 0")
        if net.context_features is not None:
            _fail("its ResidualNet takes a context")
        act = block.activation if block is not None else torch.nn.functional.relu
        if not (act in (torch.nn.functional.relu, torch.relu) or isinstance(act, torch.nn.ReLU)):
            _fail(f"its ResidualNet's activation is {act}; cusbi implements ReLU")
        return "resnet", net.hidden_features, len(net.blocks)
    if isinstance(net, torch.nn.Linear):
        return "linear", 0, 0
    types = [type(m) for m in net] if isinstance(net, torch.nn.Sequential) else []
    nn = torch.nn
    if types == [nn.Linear, nn.LayerNorm, nn.ReLU, nn.Linear, nn.LayerNorm, nn.ReLU, nn.Linear]:
        return "mlp", net[0].out_features, 0
    _fail(f"its trunk ({type(net).__name__}) is not sbi's resnet, mlp (Linear, LayerNorm, ReLU "
          "twice, Linear) or linear classifier")


def describe(estimator):
    """Architecture metadata of an sbi classifier, as strings."""
    est = _estimator_of(estimator)
    kind, hidden, blocks = _trunk(est.net)
    meta = dict(format=FORMAT, format_version="1", kind=kind,
                theta_features=math.prod(est.theta_shape), x_features=math.prod(est.x_shape),
                hidden_features=hidden if kind != "linear" else 50,
                num_blocks=blocks if kind == "resnet" else 2,
                z_score_theta=_zscore(est.embedding_net_theta, "theta"),
                z_score_x=_zscore(est.embedding_net_x, "x"),
                state_dict_keys=json.dumps(list(est.state_dict())))
    for pkg in ("sbi", "torch"):
        meta[f"{pkg}_version"] = importlib.metadata.version(pkg)
    return {k: str(v) for k, v in meta.items()}


def export_sbi_classifier(estimator, path):
    """Writes the classifier's state_dict (float32) and its metadata; returns the metadata."""
    est = _estimator_of(estimator)
    meta = describe(est)
    tensors = {k: v.detach().to("cpu").float().clone().contiguous()
               for k, v in est.state_dict().items()}
    save_file(tensors, str(path), metadata=meta)
    return meta


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    obj = torch.load(argv[1], map_location="cpu", weights_only=False)
    meta = export_sbi_classifier(obj, argv[2])
    print(f"wrote {argv[2]}: " + ", ".join(f"{k}={v}" for k, v in meta.items()))


if __name__ == "__main__":
    main(sys.argv)
