"""Losses: values, gradients against finite differences, stability, refusing bad input."""
import numpy as np
import pytest

from miniae import gradcheck
from miniae.losses import BCE, MSE, make_loss
from miniae.validation import DivergenceError, MiniaeInputError

SHAPES = [(1, 1), (3, 4), (8, 5), (16, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_mse_gradient(shape):
    rng = np.random.default_rng(shape[0])
    report = gradcheck.check_loss(MSE(), rng.standard_normal(shape), rng.standard_normal(shape), threshold=1e-7)
    assert report, str(report)


@pytest.mark.parametrize("shape", SHAPES)
def test_bce_probabilities_gradient(shape):
    rng = np.random.default_rng(shape[1])
    pred, target = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)
    assert gradcheck.check_loss(BCE(), pred, target, threshold=1e-7)


@pytest.mark.parametrize("shape", SHAPES)
def test_bce_logits_gradient(shape):
    rng = np.random.default_rng(shape[0] + 7)
    logits, target = 2 * rng.standard_normal(shape), rng.uniform(0, 1, shape)
    assert gradcheck.check_loss(BCE(from_logits=True), logits, target, threshold=1e-7)


def test_mse_is_mean_over_all_entries():
    pred, target = np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))
    assert MSE().forward(pred, target) == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_bce_logits_equals_bce_of_sigmoid():
    rng = np.random.default_rng(0)
    logits, target = rng.standard_normal((5, 4)), rng.uniform(0, 1, (5, 4))
    probs = 1 / (1 + np.exp(-logits))
    assert BCE(from_logits=True).forward(logits, target) == pytest.approx(BCE().forward(probs, target), rel=1e-9)


def test_bce_logits_is_finite_at_plus_minus_1000():
    loss = BCE(from_logits=True)
    logits = np.array([[1000.0, -1000.0, 1000.0, -1000.0]])
    target = np.array([[0.0, 1.0, 1.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(logits, target)
        grad = loss.backward()
    assert value == pytest.approx(500.0)  # two entries cost 1000 nats each, two cost 0; mean over 4
    assert np.all(np.isfinite(grad))
    assert np.allclose(grad, [[0.25, -0.25, 0.0, 0.0]])


def test_bce_probabilities_clip_never_log_zero():
    loss = BCE()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = loss.forward(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
        grad = loss.backward()
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert grad[0, 0] < 0 < grad[0, 1]  # still points the right way when saturated


def test_output_maps_logits_to_probabilities():
    z = np.array([[0.0, 100.0]])
    assert np.allclose(BCE(from_logits=True).output(z), [[0.5, 1.0]])
    assert np.array_equal(MSE().output(z), z)


@pytest.mark.parametrize("pred,target,fragment", [
    (np.zeros((2, 3)), np.zeros((2, 4)), "same shape"),
    (np.zeros((2, 3)), np.zeros((3,)), "2-D"),
    (np.zeros((0, 3)), np.zeros((0, 3)), "non-empty"),
    (np.array([["a", "b"]]), np.zeros((1, 2)), "float ndarray"),
    (np.zeros((1, 2)), np.array([[np.nan, 0.0]]), "target contains 1 NaN"),
])
def test_losses_refuse_bad_input(pred, target, fragment):
    for loss in (MSE(), BCE(), BCE(from_logits=True)):
        with pytest.raises(MiniaeInputError, match=fragment):
            loss.forward(pred, target)


def test_nan_prediction_is_a_divergence_error():
    with pytest.raises(DivergenceError, match="pred contains 1 NaN"):
        MSE().forward(np.array([[np.nan, 1.0]]), np.zeros((1, 2)))


def test_make_loss_names():
    assert isinstance(make_loss("mse"), MSE)
    assert make_loss("bce_logits").from_logits
    with pytest.raises(ValueError, match="loss must be"):
        make_loss("hinge")
