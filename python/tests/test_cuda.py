"""CUDA from Python (run by scripts/gpu_check.sh with CUSBI_GPU_CHECK_PYTHON=1 on a GPU machine):
a CUDA torch tensor is used where it lives (same data pointer, same device), outputs of a CUDA
model come back as CUDA tensors, and the NPE trainer on the GPU recovers the tutorial's
posterior. Skipped where cusbi or torch sees no GPU."""

import pytest
import torch

import cusbi

pytestmark = pytest.mark.skipif(
    not (cusbi.cuda_available() and torch.cuda.is_available()),
    reason="no GPU visible to cusbi and torch (" + cusbi.cuda_unavailable_reason() + ")",
)


def test_cuda_tensors_are_viewed_in_place():
    a = torch.randn(64, 3, device="cuda")
    b = cusbi.as_tensor(a)
    assert b.is_cuda and b.data_ptr() == a.data_ptr()
    # A CPU input asked onto the GPU is copied there.
    c = cusbi.as_tensor(torch.ones(4, 2), device="cuda")
    assert c.is_cuda and torch.equal(c.cpu(), torch.ones(4, 2))


def test_npe_on_the_gpu_recovers_the_tutorial_posterior(simulator):
    prior = cusbi.BoxUniform(low=-3 * torch.ones(2), high=3 * torch.ones(2), device="cuda")
    theta = prior.sample((2000,))
    assert theta.is_cuda
    x = simulator(theta)
    inference = cusbi.NPE(prior, device="cuda")
    estimator = inference.append_simulations(theta, x).train(max_num_epochs=60, seed=0)
    params = estimator.parameters()
    assert params.is_cuda and params.data_ptr() == estimator.parameters().data_ptr()
    x_o = torch.tensor([[1.0, 1.0]], device="cuda")
    samples = inference.build_posterior().sample((2000,), x=x_o)
    assert samples.is_cuda and samples.shape == (2000, 2)
    # The posterior is N([1, 1], 0.1^2 I); 60 epochs on 2000 simulations get the mean within a
    # few hundredths (test_npe.py's CPU run: within 0.03), a wrong device path would not.
    assert torch.allclose(samples.mean(0).cpu(), torch.ones(2), atol=0.06)
    assert bool(((samples.std(0) > 0.06) & (samples.std(0) < 0.2)).all())
