"""sbi's tutorial 18 (training interface), NRE section, with cusbi: build_resnet_classifier, the
tutorial's classifier_logits and NRE_B loss in a custom loop with cusbi.Adam,
ratio_estimator_based_potential and MCMCPosterior; then the trainers NRE (= NRE_B), NRE_A,
NRE_C and BNRE with sbi's train() keywords; the classifier's zero-copy parameters, the losses'
formulas, errors, and the GIL released while sampling.

The task: prior BoxUniform(-3, 3)^2, x = theta + 0.1 noise, x_o = [1, 1]: posterior
N([1, 1], 0.1^2 I) (the box's edges are 20 sd away).
"""

import threading
import time

import numpy as np
import pytest

import cusbi

from toy_problem import X_O, as_numpy, check_moments, numpy_data, numpy_prior


@pytest.fixture(scope="module")
def prior():
    return numpy_prior()


@pytest.fixture(scope="module")
def data():
    return numpy_data()


def test_classifier_forward_backward_and_zero_copy(data):
    theta, x = data
    net = cusbi.build_resnet_classifier(theta, x, seed=0)
    assert (net.kind, net.theta_features, net.x_features) == ("resnet", 2, 2)
    logits = net(theta[:5], x[:5])
    assert isinstance(logits, np.ndarray) and logits.shape == (5,)  # NumPy in -> NumPy out
    np.testing.assert_array_equal(logits, net.forward(theta[:5], x[:5]))

    # parameters() / gradients() view the network's memory: what Adam writes is what forward
    # uses (a copy would leave the output unchanged).
    params, grads = as_numpy(net.parameters()), as_numpy(net.gradients())
    assert as_numpy(net.parameters()).ctypes.data == params.ctypes.data
    net.zero_grad()
    net.forward(theta[:5], x[:5])
    net.backward(np.ones(5, np.float32))
    assert np.any(grads != 0)
    net.zero_grad()
    assert np.all(grads == 0)
    params += 0.1
    assert np.all(net(theta[:5], x[:5]) != logits)

    linear = cusbi.build_linear_classifier(theta, x, z_score_x="none", z_score_y=None, seed=0)
    assert as_numpy(linear.parameters()).size == 2 + 2 + 1  # one Linear(4 -> 1)
    mlp = cusbi.build_mlp_classifier(theta, x, hidden_features=8, seed=0)
    assert mlp.kind == "mlp" and mlp(theta[:3], x[:3]).shape == (3,)
    with pytest.raises(cusbi.Error, match="embedding"):
        cusbi.build_resnet_classifier(theta, x, embedding_net_x=object())


def test_losses_and_atoms(data):
    theta, x = data
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 4)).astype(np.float32)
    # NRE_B: -mean(f_i0 - logsumexp_k f_ik), grad (softmax - onehot_0) / B. float32 rounding of
    # a few terms of size ~1: 1e-5.
    lse = np.log(np.exp(logits.astype(np.float64)).sum(axis=1))
    loss, grad = cusbi.nre_b_loss(logits)
    assert np.asarray(loss).shape == ()
    np.testing.assert_allclose(loss, -np.mean(logits[:, 0] - lse), rtol=1e-5, atol=1e-5)
    expected = np.exp(logits - lse[:, None])
    expected[:, 0] -= 1
    np.testing.assert_allclose(grad, expected / 6, rtol=1e-5, atol=1e-6)
    # NRE_A: BCE of [joint, marginal] against [1, 0], mean over the 2B items.
    pair = logits[:, :2]
    sig = 1 / (1 + np.exp(-pair.astype(np.float64)))
    bce = -np.mean(np.log(sig[:, 0])) / 2 - np.mean(np.log(1 - sig[:, 1])) / 2
    np.testing.assert_allclose(cusbi.nre_a_loss(pair)[0], bce, rtol=1e-5)
    loss_c, grad_marginal, grad_joint = cusbi.nre_c_loss(logits, logits[:, :3], gamma=1.0)
    assert grad_marginal.shape == (6, 4) and grad_joint.shape == (6, 3)
    assert np.all(grad_marginal[:, 0] == 0)  # the joint column of the marginal draw is unused
    assert np.isfinite(cusbi.bnre_loss(pair, regularization_strength=100.0)[0])

    # Atoms: row i = [i, 2 distinct others]; classifier_logits' column 0 is the true pair.
    indices = as_numpy(cusbi.contrasting_indices(8, 3, device="cpu", seed=1))
    assert indices.dtype == np.int64 and indices.shape == (8, 3)
    assert np.all(indices[:, 0] == np.arange(8))
    assert all(len(set(row)) == 3 for row in indices.tolist())
    net = cusbi.build_linear_classifier(theta, x, seed=0)
    atoms = cusbi.classifier_logits(net, theta[:8], x[:8], num_atoms=3, seed=1)
    assert atoms.shape == (24,)
    np.testing.assert_allclose(atoms.reshape(8, 3)[:, 0], net(theta[:8], x[:8]), rtol=1e-5)


def test_tutorial_custom_loop(prior, data):
    theta, x = data
    net = cusbi.build_resnet_classifier(x, theta, seed=0)  # the tutorial's argument order
    opt = cusbi.Adam(net.parameters(), net.gradients(), lr=5e-3)
    # The tutorial: 300 full-batch steps of 1000 x 10 atoms at lr 5e-4. Here 150 steps of
    # minibatches of 200 at lr 5e-3 (a tenth of the work, for CI) reach a posterior as good.
    rng = np.random.default_rng(2)
    num_atoms, batch_size = 10, 200
    losses = []
    for _ in range(150):
        rows = rng.choice(len(theta), batch_size, replace=False)
        opt.zero_grad()
        logits = cusbi.classifier_logits(net, theta[rows], x[rows], num_atoms=num_atoms, seed=3)
        loss, grad = cusbi.nre_b_loss(logits.reshape(batch_size, num_atoms))
        net.backward(grad)
        opt.step()
        losses.append(float(loss))
    # log(10) = 2.30 at chance; a trained classifier finds the true pair almost always.
    assert losses[0] > 1.5 and np.mean(losses[-10:]) < 0.3

    potential_fn, theta_transform = cusbi.ratio_estimator_based_potential(net, prior, X_O)
    cusbi.manual_seed(4)
    posterior = cusbi.MCMCPosterior(
        potential_fn,
        proposal=prior,
        theta_transform=theta_transform,
        num_chains=20,  # the tutorial's 100, fewer for CI
        warmup_steps=50,
        method="slice_np_vectorized",
    )
    samples = posterior.sample((1000,), x=X_O, show_progress_bars=False)
    assert isinstance(samples, np.ndarray) and samples.shape == (1000, 2)
    # The classifier's error dominates (sd 0.085-0.13 seen across seeds and learning rates):
    # 0.1 on the mean and [0.05, 0.2] on the sd fail a potential that ignores x_o, a flipped
    # logit sign, or a sampler that stays at its init.
    check_moments(samples, 0.1, (0.05, 0.2))


def test_trainers(prior, data):
    theta, x = data
    cusbi.manual_seed(5)
    inference = cusbi.NRE(prior, classifier="resnet", device="cpu")
    assert isinstance(inference, cusbi.NRE_B)  # sbi's alias
    assert inference.append_simulations(theta, x) is inference
    kwargs = dict(training_batch_size=100, learning_rate=5e-3, max_num_epochs=25)
    net = inference.train(num_atoms=5, **kwargs)  # sbi passes num_atoms to train()
    assert inference.num_atoms == 5 and net.kind == "resnet"
    # sbi's loop counts epochs 0..max_num_epochs, so up to max_num_epochs + 1 run.
    assert 1 <= inference.summary["epochs_trained"][0] <= 26
    with pytest.raises(cusbi.Error, match="retrain_from_scratch"):
        inference.train(num_atoms=4, **kwargs)
    posterior = inference.build_posterior(mcmc_parameters={"num_chains": 20, "warmup_steps": 50})
    samples = posterior.sample((1000,), x=X_O[0], show_progress_bars=False)
    assert isinstance(samples, np.ndarray) and samples.shape == (1000, 2)
    check_moments(samples, 0.1, (0.05, 0.2))  # as the custom loop's

    # NRE_A (2 atoms): sd 0.12-0.15 seen at this budget; same bounds, a little wider on top.
    nre_a = cusbi.NRE_A(prior, classifier="mlp").append_simulations(theta, x)
    nre_a.train(**kwargs)
    assert nre_a.num_atoms == 2
    samples = nre_a.build_posterior(mcmc_parameters={"num_chains": 20, "warmup_steps": 50}).sample(
        (1000,), x=X_O, show_progress_bars=False
    )
    check_moments(samples, 0.15, (0.05, 0.25))

    # NRE_C and BNRE: their keywords reach the C++ options (train's override the
    # constructor's); their posteriors' accuracy is the C++ suite's business.
    nre_c = cusbi.NRE_C(prior, classifier="linear", num_classes=3)
    nre_c.append_simulations(theta, x).train(num_classes=4, gamma=2.0, max_num_epochs=2)
    assert nre_c.num_atoms == 4
    bnre = cusbi.BNRE(prior, classifier="linear", regularization_strength=10.0)
    bnre.append_simulations(theta, x).train(max_num_epochs=2)
    assert bnre.build_posterior().sample((20,), x=X_O, num_chains=4, warmup_steps=5,
                                         show_progress_bars=False).shape == (20, 2)


def test_ratio_potential(prior, data):
    # A linear classifier's potential is linear in theta inside the box: f = w . [z(theta),
    # z(x_o)] + b (+ the constant log prior), so its gradient is constant and central
    # differences match it up to float32 rounding of values ~1 (1e-3 relative + 1e-3).
    theta, x = data
    net = cusbi.build_linear_classifier(theta, x, seed=0)
    potential_fn, _ = cusbi.ratio_estimator_based_potential(net, prior, X_O)
    assert potential_fn.dim == 2 and potential_fn.has_gradient
    at = np.array([[0.5, -1.0], [2.0, 1.0]], np.float32)
    value, grad = potential_fn.gradient(at)
    assert value.shape == (2,) and grad.shape == (2, 2)
    h = 0.05
    for d in range(2):
        step = np.zeros_like(at)
        step[:, d] = h
        numeric = (potential_fn(at + step) - potential_fn(at - step)) / (2 * h)
        np.testing.assert_allclose(grad[:, d], numeric, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(grad[0], grad[1], rtol=1e-5)  # constant
    # Two iid trials sum two ratios: the x-independent part of the gradient doubles.
    potential_fn.set_x(np.concatenate([X_O, X_O]))
    np.testing.assert_allclose(potential_fn.gradient(at)[1], 2 * grad, rtol=1e-5)
    assert potential_fn.x_o.shape == (2, 2)


def test_errors(prior, data):
    theta, x = data
    net = cusbi.build_linear_classifier(theta, x, seed=0)
    potential_fn, theta_transform = cusbi.ratio_estimator_based_potential(net, prior, X_O)
    with pytest.raises(cusbi.Error, match="x_o has shape"):
        potential_fn.set_x(np.ones(3, np.float32))
    with pytest.raises(cusbi.Error, match="unknown init_strategy 'bogus'"):
        cusbi.MCMCPosterior(potential_fn, prior, theta_transform, init_strategy="bogus")
    posterior = cusbi.MCMCPosterior(potential_fn, prior, theta_transform, num_chains=4)
    with pytest.raises(cusbi.Error, match="features"):
        posterior.sample((10,), x=np.ones((1, 3), np.float32), show_progress_bars=False)
    with pytest.raises(cusbi.Error, match="classifier 'maf'"):
        cusbi.NRE(prior, classifier="maf")
    with pytest.raises(cusbi.Error, match="train"):
        cusbi.NRE(prior).build_posterior()
    with pytest.raises(cusbi.Error, match="sample_with='vi'"):
        cusbi.NRE(prior).build_posterior(sample_with="vi")
    with pytest.raises(cusbi.Error, match="num_classes and gamma"):
        cusbi.NRE_C(prior, num_atoms=3)


def test_gil_released_while_sampling(prior, data):
    # A Python thread keeps counting while posterior.sample runs in C++ (a C++ potential, so
    # the sampler never needs the GIL). With the GIL held for the whole call, it could not
    # count at all; 3 ticks is far below what a released GIL allows.
    theta, x = data
    net = cusbi.build_resnet_classifier(theta, x, seed=0)
    potential_fn, theta_transform = cusbi.ratio_estimator_based_potential(net, prior, X_O)
    posterior = cusbi.MCMCPosterior(potential_fn, prior, theta_transform, num_chains=50,
                                    warmup_steps=200)
    ticks, stop, during = [0], threading.Event(), []

    def count():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.0005)

    worker = threading.Thread(target=count)
    worker.start()
    try:
        time.sleep(0.01)
        start = ticks[0]
        posterior.sample((5000,), show_progress_bars=False)
        during.append(ticks[0] - start)
    finally:
        stop.set()
        worker.join()
    assert during[0] >= 3, during
