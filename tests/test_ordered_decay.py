"""OrderedWeightDecay: its gradient, its errors, and the ordered principal directions it gives."""
import numpy as np
import pytest

from miniae import Autoencoder, compare, gradcheck
from miniae import pca as P
from miniae.datasets import load_digits
from miniae.penalties import OrderedWeightDecay

THRESHOLD = 1e-7


@pytest.mark.parametrize("sizes,activation", [([5, 3], "identity"), ([6, 4, 2], "tanh"),
                                              ([8, 5, 4], "sigmoid"), ([3, 7], "identity")])
def test_ordered_decay_gradient(sizes, activation):
    rng = np.random.default_rng(sum(sizes))
    lams = rng.uniform(0.01, 0.5, sizes[-1])
    model = Autoencoder.mirrored(sizes, activation=activation, penalties=[OrderedWeightDecay(lams)], rng=rng)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (6, sizes[0])), threshold=THRESHOLD)
    assert report, str(report)


def test_ordered_decay_value_touches_only_the_code_layers():
    model = Autoencoder.mirrored([6, 4, 3], activation="tanh", rng=0)
    enc = model.encoder.dense_layers[-1].params["W"]   # (4, 3): column j feeds code unit j
    dec = model.decoder.dense_layers[0].params["W"]    # (3, 4): row j reads code unit j
    lams = np.array([0.1, 0.2, 0.7])
    expected = sum(lams[j] * (np.sum(enc[:, j] ** 2) + np.sum(dec[j] ** 2)) for j in range(3))
    penalty = OrderedWeightDecay(lams)
    assert penalty.forward(model) == pytest.approx(expected, rel=1e-12)
    for _, _, grad in model.named_parameters():
        grad[...] = 0.0
    penalty.backward(model)
    touched = {name for name, _, grad in model.named_parameters() if np.any(grad != 0)}
    assert touched == {"encoder.2.W", "decoder.0.W"}


def test_ordered_decay_config_and_errors():
    penalty = OrderedWeightDecay([0.0, 0.1, 0.2])
    assert penalty.config() == {"lams": [0.0, 0.1, 0.2]}
    assert "OrderedWeightDecay(lams=[0.0, 0.1, 0.2])" == repr(penalty)
    model = Autoencoder.linear(5, 2, rng=0, penalties=[penalty])
    with pytest.raises(ValueError, match="3 weights .* code has 2 units"):
        model.loss_and_grads(np.ones((4, 5)))
    with pytest.raises(ValueError, match="one weight per code unit"):
        OrderedWeightDecay([[0.1, 0.2]])
    with pytest.raises(ValueError, match=">= 0"):
        OrderedWeightDecay([0.1, -0.2])


@pytest.fixture(scope="module")
def digits():
    return load_digits()[0]


def test_ordered_decay_weights_stay_below_the_variances(digits):
    lams = P.ordered_decay_weights(digits, 4, strength=0.8)
    n, d = digits.shape
    mu = P.PCA(4).fit(digits).explained_variance_ * (n - 1) / (n * d)
    assert np.all(np.diff(lams) > 0) and np.all(lams < mu)
    with pytest.raises(ValueError, match="strength"):
        P.ordered_decay_weights(digits, 4, strength=1.5)


def test_ordered_decay_makes_the_raw_decoder_rows_the_principal_directions(digits):
    k = 4
    reference = P.PCA(k).fit(digits).components_
    lams = P.ordered_decay_weights(digits, k, strength=0.8)
    model = compare.train_linear_ae(digits, k, ordered_decay=lams, seed=0)
    W_dec = P.linear_ae_weights(model)[2]                      # (k, d), no SVD, no data
    rows = P.align_signs(W_dec / np.linalg.norm(W_dec, axis=1, keepdims=True), reference)
    angles = np.degrees(np.arccos(np.clip(np.sum(rows * reference, axis=1), -1, 1)))
    assert np.all(angles < 5.0), angles                       # row j is principal direction j
    # ...shrunk by sqrt(1 - lams_j / mu_j), mu_j the variance in the MSE's units
    n, d = digits.shape
    mu = P.PCA(k).fit(digits).explained_variance_ * (n - 1) / (n * d)
    np.testing.assert_allclose(np.linalg.norm(W_dec, axis=1), np.sqrt(1 - lams / mu), rtol=0.01)
