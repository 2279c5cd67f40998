"""Layers: shapes, the backward pass against finite differences, stability at extremes."""
import math

import numpy as np
import pytest

from miniae import gradcheck
from miniae.layers import (
    ACTIVATIONS,
    Dense,
    Identity,
    LeakyReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
    make_activation,
)

SHAPES = [(1, 1, 1), (3, 4, 2), (7, 5, 9), (16, 12, 3)]  # (batch, n_in, n_out)
ACTIVATION_NAMES = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"]


@pytest.mark.parametrize("batch,n_in,n_out", SHAPES)
@pytest.mark.parametrize("init", ["glorot", "he"])
def test_dense_gradients(batch, n_in, n_out, init):
    rng = np.random.default_rng(batch * 100 + n_in)
    layer = Dense(n_in, n_out, init=init, rng=rng)
    layer.params["b"][:] = rng.standard_normal(n_out)
    report = gradcheck.check_layer(layer, rng.standard_normal((batch, n_in)), threshold=1e-7)
    assert report, str(report)
    assert [e.name for e in report.entries] == ["W", "b", "x (input)"]


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (10, 7)])
def test_activation_gradients(name, shape):
    rng = np.random.default_rng(sum(shape))
    report = gradcheck.check_layer(make_activation(name), 2 * rng.standard_normal(shape), threshold=1e-7)
    assert report, str(report)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_second_derivative_matches_finite_difference_of_derivative(name):
    act = make_activation(name)
    x = np.linspace(-3, 3, 13).reshape(1, -1) + 0.05  # off the kink at 0
    h = 1e-6
    d_plus = act.derivative(x + h, act.function(x + h))
    d_minus = act.derivative(x - h, act.function(x - h))
    numeric = (d_plus - d_minus) / (2 * h)
    analytic = act.second_derivative(x, act.function(x))
    assert np.allclose(analytic, numeric, atol=1e-7)


def test_dense_forward_is_affine_map():
    layer = Dense(3, 2, rng=0)
    x = np.arange(6.0).reshape(2, 3)
    assert np.allclose(layer.forward(x), x @ layer.params["W"] + layer.params["b"])
    assert layer.forward(x).shape == (2, 2)


def test_dense_backward_writes_into_existing_grad_arrays():
    layer = Dense(4, 3, rng=0)
    grad_W = layer.grads["W"]
    layer.forward(np.ones((5, 4)))
    layer.backward(np.ones((5, 3)))
    assert layer.grads["W"] is grad_W
    assert np.allclose(grad_W, 5.0)  # each entry sums 5 samples of x * dy = 1


@pytest.mark.parametrize("init,expected_std", [("glorot", np.sqrt(2.0 / (400 + 300))), ("he", np.sqrt(2.0 / 400))])
def test_initialisation_scale(init, expected_std):
    W = Dense(400, 300, init=init, rng=1).params["W"]
    assert abs(W.std() - expected_std) / expected_std < 0.02
    assert abs(W.mean()) < 0.01


def test_initialisation_is_seeded():
    assert np.array_equal(Dense(5, 4, rng=3).params["W"], Dense(5, 4, rng=3).params["W"])
    assert not np.array_equal(Dense(5, 4, rng=3).params["W"], Dense(5, 4, rng=4).params["W"])


def test_bad_init_and_sizes_are_refused():
    with pytest.raises(ValueError, match="init"):
        Dense(3, 2, init="zeros")
    with pytest.raises(ValueError, match="positive"):
        Dense(0, 2)
    with pytest.raises(ValueError, match="activation must be one of"):
        make_activation("swish")


@pytest.mark.parametrize("cls", [Sigmoid, Softplus, Tanh])
def test_extreme_inputs_stay_finite_without_warnings(cls):
    x = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    layer = cls()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # any overflow would raise here
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(x))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_sigmoid_and_softplus_limits():
    x = np.array([[-1000.0, 1000.0]])
    assert np.allclose(Sigmoid().forward(x), [[0.0, 1.0]])
    assert np.allclose(Softplus().forward(x), [[0.0, 1000.0]])


def test_relu_family_values():
    x = np.array([[-2.0, 0.5]])
    assert np.allclose(ReLU().forward(x), [[0.0, 0.5]])
    assert np.allclose(LeakyReLU(0.1).forward(x), [[-0.2, 0.5]])
    assert np.array_equal(Identity().forward(x), x)


@pytest.mark.parametrize("shape", [(2, 5), (6, 3)])
def test_sequential_gradients(shape):
    rng = np.random.default_rng(shape[0])
    net = Sequential(Dense(shape[1], 4, rng=rng), Tanh(), Dense(4, 3, rng=rng), Softplus())
    report = gradcheck.check_layer(net, rng.standard_normal(shape), threshold=1e-7)
    assert report, str(report)
    assert {e.name for e in report.entries} == {"0.W", "0.b", "2.W", "2.b", "x (input)"}


def test_sequential_refuses_non_layers():
    with pytest.raises(TypeError, match="Layer"):
        Sequential(Dense(2, 2), np.tanh)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_float32_stays_float32(name):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    layer = Sequential(Dense(3, 5, rng=0, dtype=np.float32), ACTIVATIONS[name]())
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == np.float32 and dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


def _grads_after(layer, x, dy, method):
    layer.forward(x)
    result = getattr(layer, method)(dy)
    return result, {name: grad.copy() for name, grad in layer.grads.items()}


@pytest.mark.parametrize("batch,n_in,n_out", [(1, 1, 1), (3, 4, 2), (7, 5, 9), (16, 12, 3)])
def test_without_input_grad_dense_fills_the_same_grads_and_returns_nothing(batch, n_in, n_out):
    rng = np.random.default_rng(batch + 10 * n_out)
    x, dy = rng.standard_normal((batch, n_in)), rng.standard_normal((batch, n_out))
    layer = Dense(n_in, n_out, rng=rng)
    layer.forward(x)
    dx = layer.backward(dy)
    full = {name: grad.copy() for name, grad in layer.grads.items()}
    layer.input_grad = False
    assert layer.backward(dy) is None and dx.shape == x.shape
    for name in full:
        assert np.array_equal(full[name], layer.grads[name]), name


def test_tanh_derivative_is_accurate_in_the_tails():
    """1 - tanh(x)^2 cancels near y = -1 or 1 (at x = -10 it was 2.1e-9 off, a quarter of f'); the
    derivative is computed from x instead, and agrees with 1 / cosh(x)^2 to the last digits."""
    x = np.array([[-300.0, -20.0, -10.0, -3.0, -0.5, 0.0, 1e-9, 0.5, 3.0, 10.0, 20.0, 300.0]])
    exact = np.array([[1 / math.cosh(v) ** 2 for v in x[0]]])
    layer = Tanh()
    layer.forward(x)
    slope = layer.backward(np.ones_like(x))
    assert np.allclose(slope, exact, rtol=1e-13, atol=0)
    assert Tanh().derivative(np.float32([-10.0]), None).dtype == np.float32
    assert np.allclose(Tanh().second_derivative(x, np.tanh(x)), -2 * np.tanh(x) * exact, rtol=1e-13, atol=0)
