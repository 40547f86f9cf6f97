#!/usr/bin/env python3
"""Exports a density estimator made by sbi's build_nsf (e.g. NPE(density_estimator="nsf")) to a
safetensors file that cusbi reads with cusbi::load_sbi_nsf(path, device).

    python tools/export_sbi_nsf.py estimator.pt flow.safetensors
        estimator.pt: torch.save(density_estimator) or torch.save(posterior) of a DirectPosterior
    or, in Python:  from export_sbi_nsf import export_sbi_nsf
                    export_sbi_nsf(density_estimator, "flow.safetensors")

The file holds the estimator's state_dict under its PyTorch names (buffers included: the input's
PointwiseAffineTransform _shift/_scale and the condition's Standardize _mean/_std), and string
metadata read off the modules themselves: format, input_features (D), condition_features (C),
num_bins, hidden_features, num_transforms, num_blocks, tail_bound, hidden_layers_spline_context,
z_score_x / z_score_y (none, independent or structured; sbi's names: x = input, y = condition)
and the sbi / nflows / torch versions. Only what cusbi's NeuralSplineFlow can represent is
accepted: linear tails, no batch norm, and no embedding net beyond sbi's z-scoring (embed x
yourself and train on the embedding if you need one); anything else raises with the reason.
"""
import importlib.metadata
import math
import sys

import torch
from safetensors.torch import save_file

FORMAT = "cusbi.sbi_nsf"


def _fail(message):
    raise ValueError(f"cannot export this estimator for cusbi: {message}")


def _estimator_of(obj):
    """The NFlowsFlow inside a posterior, or obj itself."""
    for attr in ("posterior_estimator", "likelihood_estimator"):
        if hasattr(obj, attr):
            return getattr(obj, attr)
    return obj


def _z_score_mode(scale_like):
    """sbi stores (D,) statistics for "independent" and 0-dim ones for "structured"."""
    return "structured" if scale_like.dim() == 0 else "independent"


def _condition_zscore(flow):
    from sbi.utils.sbiutils import Standardize

    embedding = flow._embedding_net
    if isinstance(embedding, torch.nn.Identity):
        return "none"
    mods = list(embedding) if isinstance(embedding, torch.nn.Sequential) else [embedding]
    if (len(mods) == 2 and isinstance(mods[0], Standardize)
            and isinstance(mods[1], torch.nn.Identity)):
        return _z_score_mode(mods[0]._std)
    _fail(f"its embedding net ({type(embedding).__name__}) is more than sbi's z-scoring; "
          "cusbi supports only the identity embedding")


def _coupling_options(couplings):
    from nflows.nn.nets import ResidualNet

    first = couplings[0]
    net = first.transform_net
    opts = dict(num_bins=first.num_bins, tail_bound=float(first.tail_bound),
                hidden_features=net.hidden_features, num_blocks=2, hidden_layers_spline_context=1)
    if first.tails != "linear":
        _fail(f"its splines have tails={first.tails!r}; cusbi implements tails='linear'")
    if isinstance(net, ResidualNet):
        opts["num_blocks"] = len(net.blocks)
        if any(b.use_batch_norm for b in net.blocks):
            _fail("its conditioners use batch norm (use_batch_norm=True)")
    else:  # ContextSplineMap (D == 1): Linear, ReLU, [shared Linear, ReLU] x h, Linear
        opts["hidden_layers_spline_context"] = (len(net.spline_predictor) - 3) // 2
    for c in couplings[1:]:
        if (c.num_bins, float(c.tail_bound)) != (opts["num_bins"], opts["tail_bound"]):
            _fail("its coupling layers differ in num_bins or tail_bound")
    return opts


def describe(estimator):
    """Architecture metadata of an sbi build_nsf estimator, as strings."""
    from nflows.transforms import (LULinear, PiecewiseRationalQuadraticCouplingTransform,
                                   PointwiseAffineTransform)

    est = _estimator_of(estimator)
    flow = est.net
    transforms = list(flow._transform._transforms)
    z_x = "none"
    if transforms and isinstance(transforms[0], PointwiseAffineTransform):
        z_x = _z_score_mode(transforms.pop(0)._scale)
    coupling_type = PiecewiseRationalQuadraticCouplingTransform
    couplings = [t for t in transforms if isinstance(t, coupling_type)]
    others = [t for t in transforms if not isinstance(t, (coupling_type, LULinear))]
    if not couplings or others:
        _fail("it is not a neural spline flow from sbi's build_nsf (transforms: "
              f"{[type(t).__name__ for t in flow._transform._transforms]})")
    meta = dict(format=FORMAT, format_version="1",
                input_features=math.prod(est.input_shape),
                condition_features=math.prod(est.condition_shape),
                num_transforms=len(couplings), z_score_x=z_x, z_score_y=_condition_zscore(flow),
                **_coupling_options(couplings))
    for pkg in ("sbi", "nflows", "torch"):
        meta[f"{pkg}_version"] = importlib.metadata.version(pkg)
    return {k: str(v) for k, v in meta.items()}


def export_sbi_nsf(estimator, path):
    """Writes estimator's state_dict (float32; index buffers stay int64) and its metadata."""
    est = _estimator_of(estimator)
    meta = describe(est)
    tensors = {}
    for k, v in est.state_dict().items():  # clone: shared layers would otherwise alias
        v = v.detach().to("cpu").clone().contiguous()
        tensors[k] = v if v.dtype == torch.int64 else v.float()
    save_file(tensors, str(path), metadata=meta)
    return meta


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    obj = torch.load(argv[1], map_location="cpu", weights_only=False)
    meta = export_sbi_nsf(obj, argv[2])
    print(f"wrote {argv[2]}: " + ", ".join(f"{k}={v}" for k, v in meta.items()))


if __name__ == "__main__":
    main(sys.argv)
