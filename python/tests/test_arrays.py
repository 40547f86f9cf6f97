"""Arrays in and out of cusbi: zero-copy (same data pointer) for float32 contiguous torch CPU
tensors and NumPy arrays, converted copies for float64 and non-contiguous inputs, the output
kind following the input kind, and outputs that keep cusbi's memory alive."""

import gc

import numpy as np
import pytest
import torch

import cusbi


def test_torch_float32_contiguous_is_viewed_in_place():
    a = torch.randn(5, 3)
    b = cusbi.as_tensor(a)
    assert isinstance(b, torch.Tensor)
    assert b.data_ptr() == a.data_ptr()


def test_numpy_float32_contiguous_is_viewed_in_place():
    a = np.random.default_rng(0).random((5, 3), dtype=np.float32)
    b = cusbi.as_tensor(a)
    assert isinstance(b, np.ndarray)
    assert b.__array_interface__["data"][0] == a.__array_interface__["data"][0]
    a[0, 0] = 42.0  # a view: the change is visible through b
    assert b[0, 0] == 42.0


def test_float64_is_converted_to_float32():
    a = np.linspace(0.0, 1.0, 6).reshape(2, 3)  # float64
    b = cusbi.as_tensor(a)
    assert b.dtype == np.float32
    np.testing.assert_allclose(b, a.astype(np.float32), rtol=0, atol=0)
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    assert cusbi.as_tensor(t).dtype == torch.float32


def test_non_contiguous_inputs_are_made_contiguous():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()
    out = cusbi.as_tensor(t)
    assert out.is_contiguous()
    assert torch.equal(out, t)
    n = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(cusbi.as_tensor(n), n)


def test_tensors_requiring_grad_are_detached():
    t = torch.randn(3, 2, requires_grad=True)
    out = cusbi.as_tensor(t)
    assert not out.requires_grad
    assert out.data_ptr() == t.data_ptr()


def test_lists_are_accepted():
    out = cusbi.as_tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(out, np.array([[1, 2], [3, 4]], dtype=np.float32))


def test_outputs_keep_cusbi_memory_alive(prior):
    samples = prior.sample((1000,))
    copy = samples.clone()
    gc.collect()
    del prior
    gc.collect()
    assert torch.equal(samples, copy)  # still readable after the prior is gone
    assert samples.shape == (1000, 2)


def test_default_array_kind_switches_outputs(prior):
    cusbi.set_array_kind("numpy")
    assert isinstance(prior.sample((3,)), np.ndarray)
    cusbi.set_array_kind("torch")
    assert isinstance(prior.sample((3,)), torch.Tensor)
    with pytest.raises(cusbi.Error, match="torch.*numpy"):
        cusbi.set_array_kind("jax")


def test_unreadable_input_names_the_argument():
    with pytest.raises(cusbi.Error, match="theta"):
        cusbi.BoxUniform(low=[0.0], high=[1.0]).log_prob(object())
