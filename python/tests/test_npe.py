"""sbi's tutorial 18, NPE section, with cusbi: build_nsf and a hand-written Adam loop, the NPE
trainer, and DirectPosterior. Task: BoxUniform(-3, 3)^2, x = theta + 0.1 * noise, so the
posterior at x_o = [1, 1] is N(x_o, 0.1^2 I) (the prior's box truncates nothing there)."""

import numpy as np
import pytest
import torch

import cusbi

X_O = torch.tensor([[1.0, 1.0]])


@pytest.fixture(scope="module")
def prior():
    return cusbi.BoxUniform(-3 * torch.ones(2), 3 * torch.ones(2), device="cpu")


@pytest.fixture(scope="module")
def data(prior):
    cusbi.manual_seed(0)
    theta = prior.sample((2000,))
    x = theta + 0.1 * torch.randn(theta.shape, generator=torch.Generator().manual_seed(0))
    return theta, x


@pytest.fixture(scope="module")
def trained(prior, data):
    """NPE trained for a bounded number of epochs (~2 s on 2 cores)."""
    theta, x = data
    npe = cusbi.NPE(prior, device="cpu", show_progress_bars=False)
    with pytest.warns(UserWarning, match="max_num_epochs"):
        npe.append_simulations(theta, x).train(
            max_num_epochs=60, training_batch_size=100, learning_rate=1e-3, seed=0
        )
    return npe, npe.build_posterior()


def test_custom_loop_shapes_and_zero_copy(data):
    theta, x = data
    est = cusbi.build_nsf(theta, x, seed=0)
    assert isinstance(est, cusbi.NeuralSplineFlow)
    assert (est.input_features, est.condition_features, est.device) == (2, 2, "cpu")
    params, grads = est.parameters(), est.gradients()
    # Zero-copy: every call views the same flat buffers, so Adam updates the model in place.
    assert params.data_ptr() == est.parameters().data_ptr()
    assert grads.data_ptr() == est.gradients().data_ptr()
    assert params.shape == grads.shape and params.dim() == 1

    probe_before = est.log_prob(theta[:5], x[:5]).clone()
    opt = cusbi.Adam(params, grads, lr=5e-4)
    first = None
    for _ in range(30):
        opt.zero_grad()
        losses = est.loss(theta, x)
        assert losses.shape == (2000,)
        est.backward(torch.full_like(losses, 1 / len(losses)))
        opt.step()
        first = losses.mean().item() if first is None else first
    assert opt.step_count == 30
    # The steps reached the model: its output moved and the training loss went down.
    assert not torch.equal(est.log_prob(theta[:5], x[:5]), probe_before)
    assert est.loss(theta, x).mean().item() < first - 0.1

    samples = est.sample((1000,), X_O)
    assert samples.shape == (1000, 1, 2)
    assert est.log_prob(samples, X_O).shape == (1000, 1)  # (S, B, D) -> (S, B)
    assert est.log_prob(theta[:7], x[:7]).shape == (7,)  # (B, D) -> (B,)


def test_loss_and_backward_matches_the_two_calls(data):
    theta, x = data
    est = cusbi.build_nsf(theta[:300], x[:300], seed=1, hidden_features=16, num_transforms=2)
    est.zero_grad()
    losses = est.loss(theta[:300], x[:300])
    est.backward(torch.full_like(losses, 1 / 300))
    expected = est.gradients().clone()
    assert expected.abs().sum() > 0
    est.zero_grad()
    assert est.gradients().abs().sum() == 0
    mean = est.loss_and_backward(theta[:300], x[:300])
    assert mean == pytest.approx(losses.mean().item(), rel=1e-5)  # float32 sum orders differ
    torch.testing.assert_close(est.gradients(), expected)


def test_adam_of_estimator_and_clip_grad_norm(data):
    theta, x = data
    est = cusbi.build_nsf(theta[:200], x[:200], seed=2, hidden_features=8, num_transforms=1)
    opt = cusbi.Adam(est, lr=1e-3)  # shorthand for Adam(est.parameters(), est.gradients())
    assert opt.lr == 1e-3
    est.loss_and_backward(theta[:200], x[:200])
    grads = est.gradients()
    norm = torch.linalg.vector_norm(grads.double()).item()
    returned = cusbi.clip_grad_norm(grads, max_norm=0.5 * norm)
    assert returned == pytest.approx(norm, rel=1e-5)
    # Clipped in place in the model's own gradient buffer.
    assert torch.linalg.vector_norm(est.gradients()).item() == pytest.approx(0.5 * norm, rel=1e-4)
    with pytest.raises(cusbi.Error, match="updated in place"):
        cusbi.Adam(est.parameters().double(), est.gradients())


def test_npe_posterior_moments_match_the_analytic_posterior(trained):
    npe, posterior = trained
    summary = npe.summary
    assert summary["epochs_trained"] == [61]
    assert len(summary["training_loss"]) == 61
    samples = posterior.sample((4000,), x=X_O, show_progress_bars=False)
    assert samples.shape == (4000, 2)
    # Analytic posterior N([1, 1], 0.1^2). Tolerances: over seeds this budget gives means within
    # 0.03 and robust scales (IQR / 1.349) within 0.01 of the truth; 0.06 and [0.075, 0.135]
    # leave room for that spread, while a flow that ignored x (mean 0, scale ~1.7), an
    # untrained one, or one with a wrong z-scoring (scale off by the prior's std) fails.
    mean = samples.mean(0)
    q25, q75 = torch.quantile(samples, torch.tensor([0.25, 0.75]), dim=0)
    scale = (q75 - q25) / 1.349
    assert torch.all((mean - 1).abs() < 0.06), mean
    assert torch.all((scale > 0.075) & (scale < 0.135)), scale
    # Tails heavier than a Gaussian are fine for this budget; the plain std stays far below the
    # prior's 1.73.
    assert torch.all(samples.std(0) < 0.2)
    # MAP of a Gaussian posterior: its mean.
    theta_map = posterior.map(x=X_O, num_iter=100, num_to_optimize=10, num_init_samples=100)
    assert theta_map.shape == (1, 2)
    assert torch.all((theta_map - 1).abs() < 0.06)
    torch.testing.assert_close(posterior.default_x, X_O)


def test_chaining_and_density_estimator(trained, prior, data):
    npe, _ = trained
    assert isinstance(npe.density_estimator, cusbi.NeuralSplineFlow)
    assert npe.num_simulations == 2000
    fresh = cusbi.NPE(prior, device="cpu", show_progress_bars=False)
    assert fresh.append_simulations(*data) is fresh
    # exclude_invalid_x (sbi's default): a NaN row is dropped with a Python warning.
    theta, x = data[0][:10], data[1][:10].clone()
    x[3, 1] = float("nan")
    with pytest.warns(UserWarning):
        fresh.append_simulations(theta, x, proposal=prior)
    assert fresh.num_simulations == 2000 + 9


def test_direct_posterior_rejects_outside_the_prior(data):
    theta, x = data
    theta, x = theta[:1000], x[:1000]
    est = cusbi.build_nsf(theta, x, seed=3, hidden_features=20, num_transforms=2)
    opt = cusbi.Adam(est.parameters(), est.gradients(), lr=1e-3)
    for _ in range(30):
        opt.zero_grad()
        est.loss_and_backward(theta, x)
        opt.step()
    # A prior that cuts the flow's mass at x_o: the raw flow puts samples below 0.9, the
    # posterior must not.
    narrow = cusbi.BoxUniform(torch.tensor([0.9, 0.9]), torch.tensor([3.0, 3.0]), device="cpu")
    raw = est.sample((2000,), X_O)[:, 0]
    assert (raw < 0.9).any(dim=1).float().mean() > 0.1  # the test is not vacuous
    posterior = cusbi.DirectPosterior(est, narrow)
    samples = posterior.sample((2000,), x=X_O, show_progress_bars=False)
    assert samples.shape == (2000, 2)
    assert torch.all(samples >= 0.9) and torch.all(samples <= 3.0)
    log_prob = posterior.log_prob(torch.tensor([[1.5, 1.5], [0.0, 1.5]]), x=X_O)
    assert torch.isfinite(log_prob[0]) and log_prob[1] == -np.inf
    batched = posterior.sample_batched((10,), torch.tensor([[1.5, 1.5], [2.0, 2.0]]),
                                       show_progress_bars=False)
    assert batched.shape == (10, 2, 2)


def test_numpy_inputs_give_numpy_outputs(trained, data):
    npe, posterior = trained
    x_o = np.array([1.0, 1.0], dtype=np.float32)
    samples = posterior.sample((10,), x=x_o, show_progress_bars=False)
    assert isinstance(samples, np.ndarray) and samples.shape == (10, 2)
    assert isinstance(posterior.log_prob(samples, x=x_o), np.ndarray)
    est = npe.density_estimator
    theta, x = (t.numpy() for t in data)
    assert isinstance(est.loss(theta[:4], x[:4]), np.ndarray)
    assert isinstance(est.sample((3,), x[:1]), np.ndarray)
    # float64 input is converted (a copy), the output is still float32 NumPy.
    assert est.log_prob(theta[:4].astype(np.float64), x[:4]).dtype == np.float32


def test_errors_carry_cusbi_messages(trained, prior, data):
    _, posterior = trained
    theta, x = data
    with pytest.raises(cusbi.Error, match="observation has 3 elements"):
        posterior.sample((5,), x=torch.zeros(3), show_progress_bars=False)
    with pytest.raises(cusbi.Error, match="needs a prior"):
        cusbi.NPE()
    with pytest.raises(cusbi.Error, match="nsf"):
        cusbi.NPE(prior, density_estimator="maf")
    with pytest.raises(cusbi.Error, match="embedding"):
        cusbi.build_nsf(theta, x, embedding_net=object())
    with pytest.raises(cusbi.Error, match="z_score_x"):
        cusbi.build_nsf(theta, x, z_score_x="transform_to_unconstrained")
    npe = cusbi.NPE(prior, device="cpu", show_progress_bars=False)
    with pytest.raises(cusbi.Error):
        npe.append_simulations(torch.zeros(10, 3), x[:10])  # theta (N, 3) for a 2-D prior
    with pytest.raises(cusbi.Error):
        npe.build_posterior()  # not trained yet


def test_numpy_parameters_are_views_too(data):
    theta, x = (t.numpy() for t in data)
    est = cusbi.build_nsf(theta[:200], x[:200], seed=4, hidden_features=8, num_transforms=1)
    previous = cusbi.array_kind()
    cusbi.set_array_kind("numpy")
    try:
        params = est.parameters()
        assert isinstance(params, np.ndarray)
        assert params.ctypes.data == est.parameters().ctypes.data
        opt = cusbi.Adam(params, est.gradients(), lr=1e-2)
    finally:
        cusbi.set_array_kind(previous)
    before = est.log_prob(theta[:3], x[:3]).copy()
    est.loss_and_backward(theta[:200], x[:200])
    opt.step()
    assert not np.array_equal(est.log_prob(theta[:3], x[:3]), before)
