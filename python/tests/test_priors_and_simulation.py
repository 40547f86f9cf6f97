"""Priors with sbi's names and simulate_for_sbi with a Python simulator: shapes, values against
the closed forms, the simulator's exceptions surfacing unchanged, and cusbi.Error messages."""

import math

import numpy as np
import pytest
import torch

import cusbi


def test_box_uniform_samples_and_log_prob(prior):
    theta = prior.sample((20000,))
    assert theta.shape == (20000, 2)
    assert float(theta.min()) >= -3.0 and float(theta.max()) < 3.0
    # Uniform(-3, 3): mean 0, sd 6/sqrt(12) = 1.732; 20,000 draws give a standard error of
    # 0.012 on the mean and ~0.009 on the sd, so 0.05 is over 4 standard errors.
    assert torch.allclose(theta.mean(0), torch.zeros(2), atol=0.05)
    assert torch.allclose(theta.std(0), torch.full((2,), 6 / math.sqrt(12)), atol=0.05)
    lp = prior.log_prob(torch.tensor([[0.0, 0.0], [3.5, 0.0]]))
    assert lp[0].item() == pytest.approx(-math.log(36.0), rel=1e-6)
    assert lp[1].item() == -math.inf
    assert prior.event_shape == (2,)


def test_multivariate_normal_log_prob_matches_torch():
    cov = torch.tensor([[1.0, 0.3], [0.3, 0.5]])
    mean = torch.tensor([0.5, -1.0])
    ours = cusbi.MultivariateNormal(mean, covariance_matrix=cov)
    theirs = torch.distributions.MultivariateNormal(mean, covariance_matrix=cov)
    theta = theirs.sample((50,))
    # float32 Cholesky and log-density on both sides: agreement to ~1e-5 relative.
    assert torch.allclose(ours.log_prob(theta), theirs.log_prob(theta), rtol=1e-5, atol=1e-5)
    tril = torch.linalg.cholesky(cov)
    by_tril = cusbi.MultivariateNormal(mean, scale_tril=tril)
    assert torch.allclose(by_tril.log_prob(theta), theirs.log_prob(theta), rtol=1e-5, atol=1e-5)
    with pytest.raises(cusbi.Error, match="exactly one"):
        cusbi.MultivariateNormal(mean)


def test_simulate_for_sbi_calls_the_python_simulator_in_batches(prior, simulator):
    calls = []

    def counted(theta):
        calls.append(theta.shape[0])
        return simulator(theta)

    theta, x = cusbi.simulate_for_sbi(counted, prior, 2500, simulation_batch_size=1000)
    assert calls == [1000, 1000, 500]
    assert theta.shape == (2500, 2) and x.shape == (2500, 2)
    # x - theta is 0.1 * N(0, 1): its sd over 5,000 numbers is within 0.005 of 0.1 (5 se).
    assert abs(float((x - theta).std()) - 0.1) < 0.005


def test_simulate_for_sbi_numpy_simulator(prior):
    cusbi.set_array_kind("numpy")
    rng = np.random.default_rng(1)
    theta, x = cusbi.simulate_for_sbi(
        lambda th: th + 0.1 * rng.standard_normal(th.shape), prior, 300, seed=3
    )
    assert isinstance(theta, np.ndarray) and isinstance(x, np.ndarray)
    assert x.dtype == np.float32  # the simulator's float64 output is converted
    # seed= makes theta reproducible.
    theta2, _ = cusbi.simulate_for_sbi(lambda th: th, prior, 300, seed=3)
    np.testing.assert_array_equal(theta, theta2)


def test_simulator_exceptions_surface_with_their_traceback(prior):
    def broken(theta):
        raise ValueError("the simulator failed on purpose")

    with pytest.raises(ValueError, match="on purpose") as info:
        cusbi.simulate_for_sbi(broken, prior, 10)
    assert any(entry.name == "broken" for entry in info.traceback)


def test_simulator_output_errors_are_cusbi_errors(prior):
    with pytest.raises(cusbi.Error, match="rows"):
        cusbi.simulate_for_sbi(lambda th: th[:1], prior, 10)
    with pytest.raises(cusbi.Error, match="None"):
        cusbi.simulate_for_sbi(lambda th: None, prior, 10)


def test_cusbi_errors_carry_the_message(prior):
    with pytest.raises(cusbi.Error, match="3 columns.*2 dimensions"):
        prior.log_prob(torch.ones(4, 3))
    with pytest.raises(cusbi.Error, match="device"):
        cusbi.BoxUniform(low=[0.0], high=[1.0], device="tpu")
    assert issubclass(cusbi.Error, RuntimeError)
