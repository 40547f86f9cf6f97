"""sbi's tutorial 18 (training interface), NLE section, with cusbi: a custom loop over build_nsf
with cusbi.Adam, likelihood_estimator_based_potential and MCMCPosterior, then the NLE trainer;
plus the MCMC sampler on an analytic potential and sbi's MCMC keyword checks.

The task: prior BoxUniform(-3, 3)^2, x = theta + 0.1 noise, x_o = [1, 1]. The posterior is
N(x_o, 0.1^2 I) truncated to the box, which at x_o = [1, 1] (20 sd from the edges) is
N([1, 1], 0.1^2 I): mean 1, sd 0.1 per dimension.
"""

import gc
import weakref

import numpy as np
import pytest

import cusbi

from toy_problem import TRUE_SD, X_O, as_numpy, check_moments, numpy_data, numpy_prior


@pytest.fixture(scope="module")
def prior():
    return numpy_prior()


@pytest.fixture(scope="module")
def data():
    return numpy_data()


def test_mcmc_on_an_analytic_potential(prior):
    # The sampler alone, on the exact log posterior as a Python function: no estimator error.
    def potential(theta):
        theta = as_numpy(theta)
        return -0.5 * np.sum((theta - X_O) ** 2, axis=1) / TRUE_SD**2

    cusbi.manual_seed(1)
    posterior = cusbi.MCMCPosterior(
        potential,
        proposal=prior,
        theta_transform=cusbi.mcmc_transform(prior),
        num_chains=20,
        warmup_steps=50,
        thin=1,
        method="slice_np_vectorized",
    )
    samples = posterior.sample((1000,), show_progress_bars=False)
    assert tuple(samples.shape) == (1000, 2)
    # 1000 draws of 20 chains (ESS several hundred): the mean's standard error is ~0.005 and
    # the sd's ~4% (0.004); 0.03 and [0.085, 0.115] are > 5 standard errors wide, while a sampler
    # that does not move (sd from the init spread), samples the prior (sd 1.7) or drops the
    # Jacobian of the logit transform far from the mode fails them.
    check_moments(samples, 0.03, (0.085, 0.115))
    # Chains after warm-up, (num_chains, n, D); the diagnostics of a healthy run: R-hat near 1
    # (1.1 is the common "not converged" line; a stuck or diverged chain gives far more).
    chains = as_numpy(posterior.get_chains())
    assert chains.shape[0] == 20 and chains.shape[2] == 2 and chains.shape[1] >= 50
    diagnostics = posterior.diagnostics()
    assert set(diagnostics) == {"rhat", "ess_bulk", "ess_tail"}
    assert np.all(diagnostics["rhat"] < 1.1), diagnostics
    assert np.all(diagnostics["ess_bulk"] > 100), diagnostics
    assert posterior.last_run()["num_chains"] == 20


def test_theta_transform_and_torch_arrays(prior):
    # The box prior's transform: logit of the rescaled theta; inv undoes it, and
    # log|dz/dtheta| = -log|dtheta/dz|.
    tf = cusbi.mcmc_transform(prior)
    theta = np.array([[0.0, 1.5], [-2.9, 2.0]], np.float32)
    z = tf(theta)
    u = (theta + 3) / 6
    np.testing.assert_allclose(z, np.log(u / (1 - u)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tf.inv(z), theta, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        tf.log_abs_det_jacobian(theta, z), -tf.inverse_log_abs_det_jacobian(z), rtol=1e-6
    )
    assert cusbi.ThetaTransform().is_identity and not tf.is_identity
    assert cusbi.mcmc_transform(prior, enable_transform=False).is_identity

    # torch in -> torch out (sbi's habit), through a potential written with torch ops.
    torch = pytest.importorskip("torch")

    def potential(theta):
        return -0.5 * ((theta - torch.as_tensor(X_O)) ** 2).sum(dim=1) / TRUE_SD**2

    cusbi.manual_seed(5)
    posterior = cusbi.MCMCPosterior(potential, prior, tf, num_chains=10, warmup_steps=20)
    posterior.set_default_x(torch.as_tensor(X_O))  # no observation needed; sets the kind
    samples = posterior.sample((100,), show_progress_bars=False)
    assert isinstance(samples, torch.Tensor) and samples.shape == (100, 2)
    assert isinstance(posterior.default_x, torch.Tensor)


def test_python_potential_errors_and_garbage_collection(prior):
    def failing(theta):
        raise ValueError("boom from the potential")

    posterior = cusbi.MCMCPosterior(failing, prior, num_chains=4, warmup_steps=5)
    with pytest.raises(ValueError, match="boom from the potential"):  # unchanged, as raised
        posterior.sample((10,), show_progress_bars=False)

    # A potential that sees its own posterior (as a module-level function does through its
    # globals; here through an attribute) forms a cycle through C++; the garbage collector must
    # still free it.
    def potential(theta):
        return -np.sum(as_numpy(theta) ** 2, axis=1)

    potential.posterior = cusbi.MCMCPosterior(potential, prior, num_chains=4, warmup_steps=5)
    potential.posterior.sample((10,), show_progress_bars=False)
    alive = weakref.ref(potential)
    del potential
    gc.collect()
    assert alive() is None


def test_mcmc_keyword_errors(prior):
    def potential(theta):
        return -np.sum(as_numpy(theta) ** 2, axis=1)

    with pytest.raises(cusbi.Error, match="init_strategy 'bogus'"):
        cusbi.MCMCPosterior(potential, prior, init_strategy="bogus")
    with pytest.raises(cusbi.Error, match="slice_np_vectorized"):
        cusbi.MCMCPosterior(potential, prior, method="nuts_pyro")
    with pytest.raises(cusbi.Error, match="num_candidate_samples"):
        cusbi.MCMCPosterior(potential, prior, init_strategy_parameters={"bogus": 1})
    posterior = cusbi.MCMCPosterior(potential, prior, num_chains=4, warmup_steps=5)
    with pytest.raises(cusbi.Error, match="unknown MCMC parameter 'bogus'"):
        posterior.sample((10,), bogus=1)
    with pytest.raises(cusbi.Error, match="thin"):
        posterior.sample((10,), thin=0, show_progress_bars=False)
    # A per-call override (sbi's sample(num_chains=...)) is used for that call.
    posterior.sample((10,), num_chains=2, init_strategy="proposal", show_progress_bars=False)
    assert posterior.last_run()["num_chains"] == 2
    with pytest.raises(cusbi.Error, match="nsf"):
        cusbi.NLE(prior, density_estimator="maf")


def test_tutorial_custom_loop(prior, data):
    theta, x = data
    density_estimator = cusbi.build_nsf(x, theta, seed=0)  # x and theta swapped, as in NLE

    # The tutorial's loop. lr 5e-3 instead of its 5e-4 (x 10) so that 200 full-batch steps get
    # close to the true likelihood; cusbi has no autograd, so the loop hands backward()
    # d mean(losses) / d losses = 1/B itself.
    opt = cusbi.Adam(density_estimator.parameters(), density_estimator.gradients(), lr=5e-3)
    grad = np.full(len(x), 1.0 / len(x), dtype=np.float32)
    first = None
    for _ in range(200):
        opt.zero_grad()
        losses = density_estimator.loss(x, theta)
        density_estimator.backward(grad)
        opt.step()
        first = float(np.mean(as_numpy(losses))) if first is None else first
    assert float(np.mean(as_numpy(losses))) < first - 1.0  # it trained (nats per sample)

    potential_fn, theta_transform = cusbi.likelihood_estimator_based_potential(
        density_estimator, prior, X_O
    )
    points = np.array([[1.0, 1.0], [0.0, 0.0], [4.0, 0.0]], np.float32)
    values = as_numpy(potential_fn(points))
    assert values.shape == (3,)
    assert values[0] > values[1] and values[2] == -np.inf  # mode, 10 sd away, outside the box
    # The gradient (through the flow's backward w.r.t. its condition) against central
    # differences of the potential; float32 potentials of size ~1 with h = 1e-2: 2% + 0.05.
    at = np.array([[0.9, 1.05], [1.1, 0.8]], np.float32)
    value, grad = potential_fn.gradient(at)
    np.testing.assert_allclose(value, potential_fn(at), rtol=1e-5)
    h = 1e-2
    for d in range(2):
        step = np.zeros_like(at)
        step[:, d] = h
        numeric = (as_numpy(potential_fn(at + step)) - as_numpy(potential_fn(at - step))) / (2 * h)
        np.testing.assert_allclose(as_numpy(grad)[:, d], numeric, rtol=0.02, atol=0.05)
    # NPE's potential through the same flow class: log q(theta | x_o), -inf outside the box.
    npe_potential, _ = cusbi.posterior_estimator_based_potential(density_estimator, prior, X_O)
    npe_values = as_numpy(npe_potential(points))
    assert np.all(np.isfinite(npe_values[:2])) and npe_values[2] == -np.inf

    cusbi.manual_seed(2)
    posterior = cusbi.MCMCPosterior(
        potential_fn,
        proposal=prior,
        theta_transform=theta_transform,
        num_chains=20,
        warmup_steps=50,
        thin=1,
        method="slice_np_vectorized",
    )
    samples = posterior.sample((1000,), x=X_O, show_progress_bars=False)
    assert isinstance(samples, np.ndarray) and samples.shape == (1000, 2)  # NumPy x -> NumPy
    # The flow's own error (a few hundredths on the mean, sd 0.1-0.16 seen) dominates the
    # Monte Carlo error (1000 draws of 20 chains): 0.1 (one posterior sd) on the mean and
    # [0.05, 0.2] on the sd still fail a potential that ignores x_o (mean 0), a wrong
    # sign (samples at the box's edges) or a flow that did not learn (sd ~1).
    check_moments(samples, 0.1, (0.05, 0.2))


def test_nle_trainer(prior, data):
    theta, x = data
    cusbi.manual_seed(3)
    inference = cusbi.NLE(prior, density_estimator="nsf", device="cpu")
    assert inference.append_simulations(theta, x) is inference
    # 40 epochs at lr 5e-3 (sbi's 5e-4 needs ~10x more): enough for this likelihood.
    flow = inference.train(training_batch_size=100, learning_rate=5e-3, max_num_epochs=40)
    assert flow.input_features == 2 and flow.condition_features == 2
    summary = inference.summary
    assert len(summary["epochs_trained"]) == 1 and 1 <= summary["epochs_trained"][0] <= 41  # +1: sbi's count
    assert len(summary["training_loss"]) == summary["epochs_trained"][0]

    posterior = inference.build_posterior(
        mcmc_parameters={"num_chains": 20, "warmup_steps": 50, "init_strategy": "sir"}
    )
    assert posterior.set_default_x(X_O[0]) is posterior
    samples = posterior.sample((2, 500), show_progress_bars=False)
    assert isinstance(samples, np.ndarray) and samples.shape == (2, 500, 2)
    check_moments(samples.reshape(-1, 2), 0.1, (0.05, 0.2))  # as the custom loop's

    log_probs = posterior.log_prob(np.array([[1.0, 1.0], [-1.0, -1.0]], np.float32))
    assert isinstance(log_probs, np.ndarray) and log_probs.shape == (2,)
    assert log_probs[0] > log_probs[1]

    # Two observations at once: (*sample_shape, B, D), each near its own x.
    xs = np.array([[1.0, 1.0], [-1.0, 0.5]], np.float32)
    batched = posterior.sample_batched((100,), x=xs, num_chains=10, show_progress_bars=False)
    assert batched.shape == (100, 2, 2)
    assert np.all(np.abs(batched.mean(axis=0) - xs) < 0.1)

    with pytest.raises(cusbi.Error, match="features"):
        posterior.sample((10,), x=np.ones(3, np.float32))

    # build_posterior over a given estimator (here the trained flow itself) and a given prior:
    # the same posterior, so its MAP lands at x_o (the MAP of N(x_o, 0.1^2 I) is x_o; 0.1 =
    # one posterior sd, which a potential of the wrong network or prior would miss).
    explicit = inference.build_posterior(
        density_estimator=flow, prior=prior, mcmc_parameters={"num_chains": 10}
    )
    theta_map = explicit.map(x=X_O, num_iter=100, num_to_optimize=10, num_init_samples=100)
    assert theta_map.shape == (1, 2)
    assert np.all(np.abs(theta_map - X_O) < 0.1), theta_map
