"""Penalties: values and hand-written gradients against finite differences (float64, 1e-7)."""
import numpy as np
import pytest

from miniae import Autoencoder, gradcheck
from miniae.layers import Dense, Sequential, Sigmoid
from miniae.penalties import Contractive, KLSparsity, L1Sparsity, WeightDecay, jacobian_norm

SHAPES = [(4, 3), (7, 5), (16, 2)]
THRESHOLD = 1e-7


def away_from_zero(code, margin=1e-2):
    """Move entries of code out of (-margin, margin): |h| has a kink at 0."""
    return np.where(np.abs(code) < margin, np.where(code >= 0, margin, -margin), code)


@pytest.mark.parametrize("shape", SHAPES)
def test_l1_sparsity_gradient(shape):
    rng = np.random.default_rng(sum(shape))
    code = away_from_zero(rng.standard_normal(shape))
    report = gradcheck.check_penalty(L1Sparsity(0.3), code, threshold=THRESHOLD)
    assert report, str(report)


def test_l1_sparsity_value_is_lam_times_mean_abs_sum():
    code = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert L1Sparsity(0.1).forward(code) == pytest.approx(0.1 * 3.5 / 2)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("rho", [0.05, 0.3])
def test_kl_sparsity_gradient_couples_the_batch(shape, rho):
    rng = np.random.default_rng(sum(shape))
    code = rng.uniform(0.05, 0.95, shape)
    report = gradcheck.check_penalty(KLSparsity(rho, beta=2.0), code, threshold=THRESHOLD)
    assert report, str(report)


def test_kl_sparsity_is_zero_at_rho_and_positive_elsewhere():
    penalty = KLSparsity(rho=0.2, beta=3.0)
    assert penalty.forward(np.full((5, 4), 0.2)) == pytest.approx(0.0, abs=1e-12)
    assert penalty.forward(np.full((5, 4), 0.5)) > 0.1


def test_kl_sparsity_refuses_rho_outside_0_1():
    with pytest.raises(ValueError, match="rho"):
        KLSparsity(rho=1.5)


@pytest.mark.parametrize("sizes", [[5, 3], [6, 4, 2]])
def test_weight_decay_gradient_and_value(sizes):
    rng = np.random.default_rng(len(sizes))
    model = Autoencoder.mirrored(sizes, activation="tanh", penalties=[WeightDecay(0.05)], rng=rng)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (6, sizes[0])), threshold=THRESHOLD)
    assert report, str(report)
    weights = [v for n, v, _ in model.named_parameters() if n.endswith("W")]
    assert WeightDecay(0.05).forward(model) == pytest.approx(0.05 * sum(np.sum(W * W) for W in weights))


# ----------------------------------------------------------------- contractive
ACTIVATIONS = ["sigmoid", "tanh", "softplus", "identity"]


def one_layer_model(activation, n_in=7, k=4, lam=0.5, seed=0):
    return Autoencoder.mirrored([n_in, k], activation=activation, code_activation=activation, output="sigmoid",
                                penalties=[Contractive(lam)], rng=seed)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(5, 7, 4), (9, 6, 3), (3, 10, 8)])
def test_contractive_penalty_gradient_alone(activation, shape):
    """The penalty's own gradient w.r.t. the encoder's W and b, by finite differences of forward()."""
    n, n_in, k = shape
    rng = np.random.default_rng(n * n_in * k)
    model = one_layer_model(activation, n_in, k, seed=rng)
    x = rng.uniform(0, 1, (n, n_in))
    penalty = model.penalties[0]
    dense = model.encoder.layers[0]
    for grad in dense.grads.values():
        grad[...] = 0.0
    penalty.forward(model, x)
    penalty.backward(model)
    for key in ("W", "b"):
        numeric = gradcheck.numerical_gradient(lambda: penalty.forward(model, x), dense.params[key])
        assert gradcheck.rel_error(dense.grads[key], numeric) < THRESHOLD, key


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_contractive_value_is_the_mean_squared_jacobian_norm(activation):
    rng = np.random.default_rng(3)
    model = one_layer_model(activation, seed=rng)
    x = rng.uniform(0, 1, (6, 7))
    exact = Contractive(1.0).forward(model, x)
    numeric = np.mean(jacobian_norm(model.encode, x) ** 2)
    assert exact == pytest.approx(numeric, rel=1e-7)


def test_contractive_sigmoid_formula():
    """For sigmoid: sum_j (h_j (1 - h_j))^2 sum_i W_ij^2, averaged over the batch."""
    rng = np.random.default_rng(4)
    model = one_layer_model("sigmoid", seed=rng)
    x = rng.uniform(0, 1, (5, 7))
    h = model.encode(x)
    W = model.encoder.layers[0].params["W"]
    expected = np.mean(np.sum((h * (1 - h)) ** 2 * np.sum(W * W, axis=0), axis=1))
    assert Contractive(2.0).forward(model, x) == pytest.approx(2.0 * expected, rel=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus"])
def test_contractive_whole_model_gradient(activation):
    rng = np.random.default_rng(5)
    model = one_layer_model(activation, lam=0.1, seed=rng)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (4, 7)), threshold=THRESHOLD)
    assert report, str(report)


def test_contractive_refuses_a_deep_encoder_and_points_to_stacking():
    model = Autoencoder.mirrored([6, 4, 2], activation="sigmoid", penalties=[Contractive(0.1)], rng=0)
    with pytest.raises(ValueError, match="train_greedy"):
        model.loss_and_grads(np.random.default_rng(0).uniform(0, 1, (3, 6)))


def test_contractive_accepts_a_bare_dense_encoder():
    rng = np.random.default_rng(6)
    model = Autoencoder(Dense(5, 3, rng=rng), Sequential(Dense(3, 5, rng=rng), Sigmoid()),
                        penalties=[Contractive(0.2)], rng=rng)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (4, 5)), threshold=THRESHOLD)
    assert report, str(report)


def test_jacobian_norm_of_a_linear_map_is_its_frobenius_norm():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((5, 3))
    norms = jacobian_norm(lambda X: X @ A, rng.standard_normal((4, 5)))
    assert norms.shape == (4,)
    assert np.allclose(norms, np.linalg.norm(A), rtol=1e-8)


@pytest.mark.parametrize("penalty", [L1Sparsity(0.01), KLSparsity(0.1, 0.5), WeightDecay(0.01), Contractive(0.1)])
def test_whole_model_gradient_with_each_penalty(penalty):
    rng = np.random.default_rng(8)
    model = Autoencoder.mirrored([8, 5], activation="sigmoid", code_activation="sigmoid", output="sigmoid",
                                 penalties=[penalty], rng=rng)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (6, 8)), threshold=THRESHOLD)
    assert report, str(report)
    assert penalty.name in model.last_terms


def test_contractive_keeps_a_float32_model_float32():
    rng = np.random.default_rng(9)
    model = Autoencoder.mirrored([8, 5], activation="sigmoid", code_activation="sigmoid", output="sigmoid",
                                 penalties=[Contractive(0.1)], rng=rng, dtype=np.float32)
    model.loss_and_grads(rng.uniform(0, 1, (6, 8)).astype(np.float32))
    assert all(grad.dtype == np.float32 for _, _, grad in model.named_parameters())
    assert np.isfinite(model.last_terms["contractive"])
