"""Shared pytest setup: quiet progress lines, a fixed seed per test, and the tutorial's toy
problem (BoxUniform(-3, 3)^2, x = theta + 0.1 noise) whose posterior at x_o is close to
N(x_o, 0.1^2 I) for x_o well inside the box."""

import pytest

import cusbi

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _quiet_and_seeded():
    cusbi.set_progress_enabled(False)
    cusbi.set_array_kind("torch")
    cusbi.manual_seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture
def prior():
    return cusbi.BoxUniform(low=-3 * torch.ones(2), high=3 * torch.ones(2))


def linear_gaussian(theta):
    """The tutorial's simulator, vectorised: x = theta + 0.1 * noise."""
    return theta + 0.1 * torch.randn_like(theta)


@pytest.fixture
def simulator():
    return linear_gaussian


@pytest.fixture
def x_o():
    return torch.tensor([[1.0, 1.0]])
