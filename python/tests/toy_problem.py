"""The tutorial's toy problem shared by the NLE and NRE tests, as NumPy data: prior
BoxUniform(-3, 3)^2, x = theta + 0.1 noise, x_o = [1, 1]. Its posterior is N(x_o, 0.1^2 I)
truncated to the box, which at x_o (20 sd from every edge) is N([1, 1], 0.1^2 I)."""

import numpy as np

import cusbi

X_O = np.array([[1.0, 1.0]], dtype=np.float32)
TRUE_SD = 0.1


def numpy_prior():
    return cusbi.BoxUniform(-3 * np.ones(2, np.float32), 3 * np.ones(2, np.float32))


def numpy_data(num_simulations=1000, seed=0):
    """(theta, x) float32 arrays of the toy problem, theta from the prior."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-3, 3, size=(num_simulations, 2)).astype(np.float32)
    x = (theta + TRUE_SD * rng.standard_normal(theta.shape)).astype(np.float32)
    return theta, x


def as_numpy(a):
    return a.numpy() if hasattr(a, "numpy") else np.asarray(a)


def check_moments(samples, mean_tol, sd_range):
    """Each dimension's sample mean within mean_tol of x_o and its sd inside sd_range."""
    samples = as_numpy(samples)
    mean, sd = samples.mean(axis=0), samples.std(axis=0)
    assert np.all(np.abs(mean - X_O[0]) < mean_tol), (mean, sd)
    assert np.all((sd > sd_range[0]) & (sd < sd_range[1])), (mean, sd)
