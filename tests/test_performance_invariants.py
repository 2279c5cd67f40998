"""What speed by structure must keep true: float32 stays float32, every parameter is a view of
the model's one flat vector, nothing is reallocated, the numbers are the plain formulas'.

Correctness tests, never timings (timings live in benchmarks/).
"""
import tracemalloc

import numpy as np
import pytest

from miniae.layers import ACTIVATIONS, Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Tanh
from miniae.models import Autoencoder
from miniae.optim import SGD, Adam, Momentum
from miniae.train import fit

OPTIMIZERS = [lambda: SGD(0.1), lambda: Momentum(0.05), lambda: Momentum(0.05, nesterov=True), lambda: Adam(1e-2)]


def data(n=96, d=12, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).random((n, d)).astype(dtype)


def all_arrays_of(model, optimizer):
    arrays = [value for _, value, _ in model.named_parameters()] + [g for _, _, g in model.named_parameters()]
    arrays += [array for state in optimizer.state.values() for array in state.values()]
    for part in (model.encoder, model.decoder):
        for layer in part.layers:
            arrays += [a for a in (getattr(layer, "x", None), getattr(layer, "y", None)) if a is not None]
    return arrays


@pytest.mark.parametrize("activation", sorted(set(ACTIVATIONS) - {"linear"}))
@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
def test_float32_stays_float32_through_training(activation, make_optimizer):
    model = Autoencoder.mirrored([12, 6, 3], activation=activation, rng=0, dtype=np.float32)
    optimizer = make_optimizer()
    fit(model, data(dtype=np.float32), epochs=2, batch_size=32, optimizer=optimizer)
    arrays = all_arrays_of(model, optimizer)
    assert len(arrays) > 12
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    assert model.encode(data(8)).dtype == np.float32


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"linear"}))
def test_activation_derivatives_keep_dtype(name):
    x = data(5, 4, dtype=np.float32) - 0.5
    layer = ACTIVATIONS[name]()
    y = layer.forward(x)
    for result in (y, layer.derivative(x, y), layer.backward(np.ones_like(y))):
        assert result.dtype == np.float32


def test_every_parameter_and_gradient_is_a_view_of_the_flat_vectors():
    model = Autoencoder.mirrored([12, 6, 3], activation="tanh", rng=0)
    params = model.named_parameters()
    assert model.theta.size == sum(value.size for _, value, _ in params) == model.grad.size
    start = 0
    for name, value, grad in params:
        assert np.shares_memory(value, model.theta) and np.shares_memory(grad, model.grad), name
        assert np.array_equal(model.theta[start:start + value.size], value.ravel())
        start += value.size
    model.theta[:] = 0.5
    assert all(np.all(value == 0.5) for _, value, _ in model.named_parameters())
    model.loss_and_grads(data())
    assert np.array_equal(np.concatenate([grad.ravel() for _, _, grad in params]), model.grad)


@pytest.mark.parametrize("convert", ["astype", "deepcopy"])
def test_flat_vectors_survive_astype_and_deepcopy(convert):
    import copy
    model = Autoencoder.mirrored([12, 6, 3], activation="tanh", rng=0)
    model = model.astype(np.float32) if convert == "astype" else copy.deepcopy(model)
    model.theta[:] = 0.25
    assert all(np.all(value == 0.25) and np.shares_memory(grad, model.grad)
               for _, value, grad in model.named_parameters())


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
def test_grads_and_optimizer_state_are_reused_not_reallocated(make_optimizer):
    model = Autoencoder.mirrored([12, 6, 3], activation="tanh", rng=0)
    optimizer = make_optimizer()
    X = data()
    model.loss_and_grads(X[:32])
    optimizer.step(model)
    grads_before = [grad for _, _, grad in model.named_parameters()]
    state_before = {key: dict(value) for key, value in optimizer.state.items()}
    for start in (32, 64):
        model.loss_and_grads(X[start:start + 32])
        optimizer.step(model)
    assert all(a is b for a, b in zip(grads_before, (grad for _, _, grad in model.named_parameters())))
    assert list(optimizer.state) == (["theta"] if state_before else [])
    assert all(optimizer.state[key][name] is array for key, arrays in state_before.items()
               for name, array in arrays.items())


@pytest.mark.parametrize("shapes", [[(5, 4)], [(5, 4), (4,), (3, 2)], [(1024, 300), (300,), (300, 1024)]])
def test_adam_matches_the_textbook_formula(shapes):
    """Adam on a list of arrays: each with its own m and v, one step counter; arrays bigger than
    a chunk (300 x 1024) are updated chunk by chunk with the same numbers."""
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(shape) for shape in shapes]
    references = [value.copy() for value in values]
    moments = [(np.zeros_like(value), np.zeros_like(value)) for value in values]
    optimizer = Adam(lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-6)
    for t in range(1, 4):
        grads = [rng.standard_normal(value.shape) for value in values]
        optimizer.step([(f"p{i}", value, grad) for i, (value, grad) in enumerate(zip(values, grads))])
        for i, grad in enumerate(grads):  # the textbook formulas, one parameter at a time
            m = 0.8 * moments[i][0] + 0.2 * grad
            v = 0.99 * moments[i][1] + 0.01 * grad ** 2
            moments[i] = (m, v)
            references[i] = references[i] - 1e-2 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.99 ** t)) + 1e-6)
    for i, (value, theta) in enumerate(zip(values, references)):
        assert np.allclose(value, theta, rtol=1e-12, atol=1e-14)
        assert optimizer.state[f"p{i}"]["m"].shape == (value.size,)  # flat, like the model's theta
        assert np.allclose(optimizer.state[f"p{i}"]["m"], moments[i][0].ravel(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS)
def test_a_step_on_the_model_equals_steps_on_its_parameters(make_optimizer):
    """step(model) updates the one flat vector; the same formulas per parameter give the same numbers."""
    whole = Autoencoder.mirrored([12, 6, 3], activation="tanh", rng=0)
    pieces = Autoencoder.mirrored([12, 6, 3], activation="tanh", rng=0)
    a, b = make_optimizer(), make_optimizer()
    X = data()
    for start in (0, 32, 64):
        whole.loss_and_grads(X[start:start + 32])
        a.step(whole)
        pieces.loss_and_grads(X[start:start + 32])
        b.step(pieces.named_parameters())
    assert np.allclose(whole.theta, pieces.theta, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_and_momentum_match_their_formulas(nesterov):
    rng = np.random.default_rng(4)
    value = rng.standard_normal((3, 2))
    theta, velocity = value.copy(), np.zeros_like(value)
    sgd_value = value.copy()
    sgd_theta = value.copy()
    momentum, sgd = Momentum(0.1, 0.9, nesterov=nesterov), SGD(0.1)
    for _ in range(4):
        grad = rng.standard_normal(value.shape)
        momentum.step([("w", value, grad)])
        sgd.step([("w", sgd_value, grad)])
        velocity = 0.9 * velocity - 0.1 * grad
        theta = theta + (0.9 * velocity - 0.1 * grad if nesterov else velocity)
        sgd_theta = sgd_theta - 0.1 * grad
    assert np.array_equal(value, theta)
    assert np.array_equal(sgd_value, sgd_theta)


@pytest.mark.parametrize("layer,plain", [
    (ReLU(), lambda x, y: (x > 0).astype(x.dtype)),
    (LeakyReLU(0.1), lambda x, y: np.where(x > 0, 1.0, 0.1)),
    (Sigmoid(), lambda x, y: y * (1 - y)),
    # 1 / cosh(x)^2 in the form that is exact in the tails (1 - y^2 cancels there): t = e^(-2|x|)
    (Tanh(), lambda x, y: 4 * np.exp(-2 * np.abs(x)) / (1 + np.exp(-2 * np.abs(x))) ** 2),
])
def test_derivatives_equal_the_plain_formulas_and_leave_x_and_y_alone(layer, plain):
    x = np.random.default_rng(5).standard_normal((7, 6))
    y = layer.forward(x)
    x_copy, y_copy = x.copy(), y.copy()
    dy = np.random.default_rng(6).standard_normal(y.shape)
    dx = layer.backward(dy)
    assert np.array_equal(layer.derivative(x, y), plain(x_copy, y_copy))
    assert np.array_equal(dx, plain(x_copy, y_copy) * dy)
    # the contractive penalty reads layer.x and layer.y after backward: they must be intact
    assert layer.x is x and np.array_equal(layer.x, x_copy) and np.array_equal(layer.y, y_copy)
    assert not np.shares_memory(dx, x) and not np.shares_memory(dx, y)


def test_returned_arrays_belong_to_the_caller():
    model = Autoencoder.mirrored([12, 6, 3], activation="sigmoid", code_activation="sigmoid", rng=0)
    X = data()
    code = model.encode(X[:10])
    kept = code.copy()
    fit(model, X, epochs=2, batch_size=16)
    model.encode(X[10:20])
    assert np.array_equal(code, kept)


def test_fit_equals_the_plain_training_loop():
    """fit is the plain loop: shuffle, loss_and_grads, step, record."""
    X = data(100)
    fast = Autoencoder.mirrored([12, 6, 3], activation="relu", rng=1)
    plain = Autoencoder.mirrored([12, 6, 3], activation="relu", rng=1)
    history = fit(fast, X, epochs=3, batch_size=32, optimizer=Adam(1e-2))
    optimizer, losses = Adam(1e-2), []
    for _ in range(3):
        shuffled = X[plain.rng.permutation(len(X))]
        total = 0.0
        for start in range(0, len(X), 32):
            batch = shuffled[start:start + 32]
            total += plain.loss_and_grads(batch) * len(batch)
            optimizer.step(plain)
        losses.append(total / len(X))
    assert np.allclose(history["loss"], losses, rtol=1e-12)
    for (name, a, _), (_, b, _) in zip(fast.named_parameters(), plain.named_parameters()):
        assert np.array_equal(a, b), name


def test_dense_backward_matches_plain_products():
    rng = np.random.default_rng(7)
    layer = Dense(5, 3, rng=0)
    x, dy = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    assert np.allclose(layer.forward(x), x @ layer.params["W"] + layer.params["b"], rtol=1e-14)
    dx = layer.backward(dy)
    assert np.allclose(layer.grads["W"], x.T @ dy, rtol=1e-14)
    assert np.allclose(layer.grads["b"], dy.sum(axis=0), rtol=1e-14)
    assert np.allclose(dx, dy @ layer.params["W"].T, rtol=1e-14)


def peak_above_data(n, d=64):
    model = Autoencoder.mirrored([d, 16, 4], activation="relu", rng=0, dtype=np.float32)
    X = data(n, d, dtype=np.float32)
    tracemalloc.start()
    fit(model, X, epochs=3, batch_size=64)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak  # what fit allocated on top of the data (X was made before tracing started)


def test_fit_makes_no_copy_of_the_data():
    small, large = peak_above_data(500), peak_above_data(8000)
    extra_data = (8000 - 500) * 64 * 4
    # only the shuffled index (8 bytes a sample) grows with n: a copy of X would add extra_data
    assert large - small < 0.3 * extra_data, (small, large, extra_data)


def test_sequential_of_float32_layers_backward_keeps_dtype():
    net = Sequential(Dense(4, 3, rng=0, dtype=np.float32), LeakyReLU(0.2), Dense(3, 2, rng=0, dtype=np.float32))
    y = net.forward(data(6, 4, dtype=np.float32))
    assert net.backward(np.ones_like(y)).dtype == np.float32


def test_the_optimizer_refuses_an_array_it_could_not_update_in_place():
    value = np.zeros((4, 3)).T  # a transposed view: not C-contiguous
    with pytest.raises(ValueError, match="'w'.*C-contiguous"):
        Adam().step([("w", value, np.ones_like(value))])


def test_a_models_first_layer_skips_the_gradient_of_the_data():
    model = Autoencoder.mirrored([12, 6, 3], activation="tanh", rng=0)
    first, second = model.encoder.layers[0], model.encoder.layers[2]
    assert first.input_grad is False and second.input_grad is True
    assert all(layer.input_grad for layer in model.decoder.layers if isinstance(layer, Dense))
    X = data(8)
    model.encoder.forward(X)
    assert model.encoder.backward(np.ones((8, 3))) is None
    deep = __import__("miniae").stack([model, Autoencoder.mirrored([3, 2], activation="tanh", rng=0)])
    flags = [layer.input_grad for layer in deep.encoder.layers if isinstance(layer, Dense)]
    assert flags == [False, True, True]
