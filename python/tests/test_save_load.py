"""Saving and loading cusbi model files from Python, and the same files read and written by the
C++ library (examples/model_roundtrip, found through $CUSBI_CPP_BUILD)."""

import os
import pathlib
import subprocess

import numpy as np
import pytest
import torch

import cusbi


@pytest.fixture(scope="module")
def prior():
    return cusbi.BoxUniform(-3 * torch.ones(2), 3 * torch.ones(2), device="cpu")


@pytest.fixture(scope="module")
def flow(prior):
    """A small flow after a few Adam steps (so that its weights are not the initial ones)."""
    cusbi.manual_seed(5)
    theta = prior.sample((500,))
    x = theta + 0.1 * torch.randn(theta.shape, generator=torch.Generator().manual_seed(5))
    est = cusbi.build_nsf(theta, x, seed=5, hidden_features=16, num_transforms=2)
    opt = cusbi.Adam(est, lr=1e-3)
    for _ in range(5):
        opt.zero_grad()
        est.loss_and_backward(theta, x)
        opt.step()
    return est, theta[:8], x[:8]


def test_flow_round_trip(flow, tmp_path):
    est, theta, x = flow
    path = tmp_path / "flow.cusbi"
    cusbi.save(est, path)  # a pathlib.Path ...
    loaded = cusbi.load(str(path), device="cpu")  # ... or a str
    assert isinstance(loaded, cusbi.NeuralSplineFlow)
    # Same weights, bit for bit; the z-scoring goes through sbi's state_dict layout (the file's
    # format) and back, which rounds in float: log_prob agrees to ~1e-6, hence 1e-5.
    torch.testing.assert_close(loaded.log_prob(theta, x), est.log_prob(theta, x), rtol=1e-5,
                               atol=1e-5)
    assert torch.equal(cusbi.load_nsf(path, device="cpu").parameters(), est.parameters())
    info = cusbi.inspect_model(path)
    assert info["kind"] == "neural_spline_flow" and info["format_version"] == 1
    assert info["estimator"]["hidden_features"] == 16 and info["prior"] is None


def test_posterior_round_trip_keeps_prior_and_default_x(flow, prior, tmp_path):
    est, theta, _ = flow
    posterior = cusbi.DirectPosterior(est, prior).set_default_x(torch.tensor([1.0, 1.0]))
    path = tmp_path / "posterior.cusbi"
    cusbi.save(posterior, path)
    loaded = cusbi.load(path, device="cpu")
    assert isinstance(loaded, cusbi.DirectPosterior)
    assert isinstance(cusbi.load_direct_posterior(path, device="cpu"), cusbi.DirectPosterior)
    torch.testing.assert_close(loaded.default_x, torch.tensor([[1.0, 1.0]]), rtol=0, atol=0)
    assert repr(loaded.prior) == repr(prior)
    # norm_posterior=False: the leakage factor is a Monte Carlo estimate, not part of the file.
    expected = posterior.log_prob(theta, norm_posterior=False)
    # Tolerance as in test_flow_round_trip (z-scoring rounded through the file).
    torch.testing.assert_close(loaded.log_prob(theta, norm_posterior=False), expected, rtol=1e-5,
                               atol=1e-5)
    # A posterior file also holds a flow.
    assert isinstance(cusbi.load_nsf(path, device="cpu"), cusbi.NeuralSplineFlow)


def test_wrong_kind_and_bad_files_raise(flow, tmp_path):
    est, _, _ = flow
    cusbi.save(est, tmp_path / "flow.cusbi")
    with pytest.raises(cusbi.Error, match="without a prior"):
        cusbi.load_direct_posterior(tmp_path / "flow.cusbi")
    (tmp_path / "junk.cusbi").write_bytes(b"not a model file at all")
    with pytest.raises(cusbi.Error, match="junk.cusbi"):
        cusbi.load(tmp_path / "junk.cusbi")
    with pytest.raises(cusbi.Error):
        cusbi.load(tmp_path / "missing.cusbi")


def test_ratio_classifier_round_trip(flow, tmp_path):
    _, theta, x = flow
    net = cusbi.build_resnet_classifier(x, theta)
    cusbi.save(net, tmp_path / "net.cusbi")
    loaded = cusbi.load(tmp_path / "net.cusbi", device="cpu")
    assert type(loaded).__name__ == "RatioClassifier"
    assert cusbi.inspect_model(tmp_path / "net.cusbi")["kind"] == "ratio_classifier"
    assert isinstance(cusbi.load_ratio_classifier(tmp_path / "net.cusbi"), type(loaded))


def fixed_batch(d, c, b=4):
    """The batch examples/model_roundtrip.cpp evaluates (see its header comment)."""
    i = np.arange(b, dtype=np.float32)[:, None]
    inputs = 0.25 * i - 0.5 + 0.1 * np.arange(d, dtype=np.float32)[None, :]
    condition = 0.5 - 0.2 * i + 0.05 * np.arange(c, dtype=np.float32)[None, :]
    return inputs.astype(np.float32), condition.astype(np.float32)


def test_cpp_reads_and_writes_python_model_files(flow, tmp_path):
    build = os.environ.get("CUSBI_CPP_BUILD")
    if not build:
        pytest.skip("set CUSBI_CPP_BUILD to a C++ build folder (with examples) to run the "
                    "Python <-> C++ model-file test")
    program = pathlib.Path(build) / "examples" / "model_roundtrip"
    if not program.exists():
        pytest.skip(f"{program} is not built (configure with -DCUSBI_BUILD_EXAMPLES=ON)")
    est, _, _ = flow
    cusbi.save(est, tmp_path / "from_python.cusbi")
    run = subprocess.run(
        [str(program), str(tmp_path / "from_python.cusbi"), str(tmp_path / "from_cpp.cusbi")],
        capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    words = run.stdout.split()
    assert words[0] == "log_prob"
    cpp_values = np.array([float(w) for w in words[1:]])
    inputs, condition = fixed_batch(est.input_features, est.condition_features)
    python_values = est.log_prob(inputs, condition)
    # Each load rounds the z-scoring through the file's sbi layout (see test_flow_round_trip):
    # agreement to ~1e-6, hence 1e-5; a wrong weight or statistic changes log_prob by far more.
    np.testing.assert_allclose(cpp_values, python_values, rtol=1e-5, atol=1e-5)
    back = cusbi.load(tmp_path / "from_cpp.cusbi", device="cpu")
    np.testing.assert_allclose(back.log_prob(inputs, condition), python_values, rtol=1e-5,
                               atol=1e-5)
