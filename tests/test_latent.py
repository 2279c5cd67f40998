"""miniae.latent: interpolation, attribute vectors, anomaly scores and t-SNE, on models whose answer is known."""
import numpy as np
import pytest

from miniae import Autoencoder, MiniaeInputError, fit
from miniae.latent import (
    Interpolation,
    anomaly_scores,
    anomaly_threshold,
    apply_attribute,
    attribute_vector,
    codes,
    interpolate,
    tsne,
)


def linear_model(n_features=6, code_size=3, seed=0):
    """A linear autoencoder with random weights: code = x W1 + b1, recon = code W2 + b2."""
    return Autoencoder.linear(n_features, code_size, rng=seed)


def weights(model):
    (W1, b1), (W2, b2) = [(layer.params["W"], layer.params["b"]) for layer in
                          model.encoder.dense_layers + model.decoder.dense_layers]
    return W1, b1, W2, b2


class MeanAndLogvar:
    """A stand-in for a VAE: encode returns (mu, logvar); decode is linear."""

    def __init__(self, model):
        self.model = model

    def encode(self, X):
        mu = self.model.encode(X)
        return mu, np.zeros_like(mu)

    def decode(self, Z):
        return self.model.decode(Z)


# --------------------------------------------------------------------------- codes and interpolation
def test_codes_take_the_mean_of_a_two_headed_encoder(rng):
    model = linear_model()
    X = rng.standard_normal((5, 6))
    assert np.allclose(codes(MeanAndLogvar(model), X), model.encode(X))


@pytest.mark.parametrize("steps", [2, 5, 9])
@pytest.mark.parametrize("n_features, code_size", [(6, 3), (10, 2)])
def test_interpolation_ends_and_straightness(rng, steps, n_features, code_size):
    model = linear_model(n_features, code_size)
    x_a, x_b = rng.standard_normal(n_features), rng.standard_normal((1, n_features))
    path = interpolate(model, x_a, x_b, steps=steps)
    assert isinstance(path, Interpolation)
    assert path.latent.shape == path.pixel.shape == (steps, n_features)
    assert np.allclose(path.t, np.linspace(0, 1, steps))
    # pixel path: the cross-fade, from x_a to x_b
    assert np.allclose(path.pixel[0], x_a) and np.allclose(path.pixel[-1], x_b[0])
    # latent path: from the reconstruction of x_a to that of x_b
    assert np.allclose(path.latent[0], model.reconstruct(x_a[None])[0])
    assert np.allclose(path.latent[-1], model.reconstruct(x_b)[0])
    # a linear decoder maps the straight line in code space to a straight line: equal steps
    if steps > 2:
        assert np.allclose(np.diff(path.latent, n=2, axis=0), 0.0, atol=1e-12)


def test_latent_interpolation_stays_near_the_data_where_the_cross_fade_does_not():
    """On data along a circle, the decoded midpoint stays near the circle; the pixel midpoint cuts inside."""
    angle = np.random.default_rng(0).uniform(0, 2 * np.pi, 800)
    X = np.stack([np.cos(angle), np.sin(angle), np.cos(angle) * np.sin(angle)], axis=1)
    model = Autoencoder.mirrored([3, 32, 1], activation="tanh", rng=0)
    fit(model, X, epochs=150, batch_size=32, optimizer="adam")
    x_a = np.array([np.cos(0.2), np.sin(0.2), np.cos(0.2) * np.sin(0.2)])
    x_b = np.array([np.cos(1.6), np.sin(1.6), np.cos(1.6) * np.sin(1.6)])
    path = interpolate(model, x_a, x_b, steps=5)
    radius_latent = np.linalg.norm(path.latent[2, :2])
    radius_pixel = np.linalg.norm(path.pixel[2, :2])
    assert abs(radius_latent - 1.0) < 0.15
    assert radius_pixel < 0.8


@pytest.mark.parametrize("x_a, x_b, steps, match", [
    (np.zeros((2, 6)), np.zeros(6), 4, "x_a must be one sample"),
    (np.zeros(6), np.zeros(5), 4, "same number of features"),
    (np.zeros(6), np.zeros(6), 1, "steps must be at least 2"),
    (np.zeros(6), np.zeros(6), 0, "steps must be a positive integer"),
    (np.full(6, np.nan), np.zeros(6), 4, "x_a contains 6 NaN"),
])
def test_interpolate_bad_input(x_a, x_b, steps, match):
    with pytest.raises(MiniaeInputError, match=match):
        interpolate(linear_model(), x_a, x_b, steps)


def test_a_model_without_encode_is_refused():
    with pytest.raises(MiniaeInputError, match="encode\\(\\) and decode\\(\\)"):
        interpolate(object(), np.zeros(3), np.zeros(3))


# --------------------------------------------------------------------------- attribute vectors
@pytest.mark.parametrize("n_with, n_without", [(20, 20), (3, 7)])
def test_attribute_vector_is_the_mean_code_difference(rng, n_with, n_without):
    model = linear_model()
    W1, _, _, _ = weights(model)
    X_with, X_without = rng.standard_normal((n_with, 6)) + 1.0, rng.standard_normal((n_without, 6))
    vector = attribute_vector(model, X_with, X_without)
    assert vector.shape == (3,)
    # for a linear encoder the bias cancels: v = (mean X_with - mean X_without) W1
    assert np.allclose(vector, (X_with.mean(0) - X_without.mean(0)) @ W1)


def test_apply_attribute_shapes_and_zero_amount(rng):
    model = linear_model()
    X = rng.standard_normal((4, 6))
    vector = rng.standard_normal(3)
    many = apply_attribute(model, X, vector, amounts=[0.0, 0.5, 1.0])
    assert many.shape == (4, 3, 6)
    assert np.allclose(many[:, 0], model.reconstruct(X))
    one = apply_attribute(model, X, vector, amounts=1.0)
    assert one.shape == (4, 6) and np.allclose(one, many[:, 2])
    # linear decoder: moving by v changes the output by v W2, the same for every sample
    _, _, W2, _ = weights(model)
    assert np.allclose(many[:, 2] - many[:, 0], vector @ W2)


def test_moving_a_code_by_the_attribute_vector_carries_one_group_onto_the_other(rng):
    """With a linear model, f(x) + v lands on the mean code of the other group for group means."""
    model = linear_model()
    X_with, X_without = rng.standard_normal((30, 6)) + 2.0, rng.standard_normal((30, 6))
    vector = attribute_vector(model, X_with, X_without)
    moved = codes(model, X_without).mean(0) + vector
    assert np.allclose(moved, codes(model, X_with).mean(0))


@pytest.mark.parametrize("vector, amounts, match", [
    (np.zeros(4), 1.0, "vector must have shape \\(code_size,\\) = \\(3,\\)"),
    (np.zeros((1, 3)), 1.0, "vector must have shape"),
    (np.zeros(3), [[1.0]], "amounts must be a finite number"),
    (np.zeros(3), [np.inf], "amounts must be a finite number"),
    (np.zeros(3), "big", "amounts must hold numbers"),
])
def test_apply_attribute_bad_input(rng, vector, amounts, match):
    with pytest.raises(MiniaeInputError, match=match):
        apply_attribute(linear_model(), rng.standard_normal((2, 6)), vector, amounts)


def test_attribute_vector_refuses_empty_groups():
    with pytest.raises(MiniaeInputError, match="X_with is empty"):
        attribute_vector(linear_model(), np.zeros((0, 6)), np.zeros((3, 6)))


# --------------------------------------------------------------------------- anomaly scores
def test_anomaly_scores_are_per_sample_reconstruction_errors(rng):
    model = linear_model()
    X = rng.standard_normal((7, 6))
    scores = anomaly_scores(model, X)
    assert scores.shape == (7,)
    assert np.allclose(scores, np.mean((model.reconstruct(X) - X) ** 2, axis=1))


def test_points_off_the_learned_subspace_score_higher():
    rng = np.random.default_rng(1)
    basis = rng.standard_normal((2, 8))
    normal = rng.standard_normal((400, 2)) @ basis
    model = Autoencoder.linear(8, 2, rng=0)
    fit(model, normal, epochs=200, batch_size=32, optimizer="adam")
    off = normal[:50] + 1.5 * rng.standard_normal((50, 8))
    new_normal = rng.standard_normal((50, 2)) @ basis
    assert anomaly_scores(model, off).min() > anomaly_scores(model, new_normal).max()


def test_anomaly_scores_bad_input():
    with pytest.raises(MiniaeInputError, match="X has 5 features but the model was built for 6"):
        anomaly_scores(linear_model(), np.zeros((3, 5)))
    with pytest.raises(MiniaeInputError, match="reconstruct\\(\\)"):
        anomaly_scores(object(), np.zeros((3, 5)))


def test_threshold_flags_the_chosen_fraction_of_normal_scores(rng):
    scores = rng.exponential(size=10000)
    threshold = anomaly_threshold(scores, quantile=0.9)
    assert abs(np.mean(scores > threshold) - 0.1) < 0.005


@pytest.mark.parametrize("scores, quantile, match", [
    (np.ones(5), 1.0, "quantile must be between 0 and 1"),
    (np.ones(5), 0.0, "quantile must be between 0 and 1"),
    (np.ones((2, 2)), 0.5, "train_scores must be a non-empty 1-D array"),
    (np.array([1.0, np.nan]), 0.5, "finite numbers"),
    (np.array([]), 0.5, "non-empty"),
])
def test_threshold_bad_input(scores, quantile, match):
    with pytest.raises(MiniaeInputError, match=match):
        anomaly_threshold(scores, quantile)


# --------------------------------------------------------------------------- t-SNE
def test_tsne_of_raw_data_and_of_codes_separates_clusters():
    rng = np.random.default_rng(0)
    centers = 4.0 * rng.standard_normal((3, 10))
    labels = np.repeat([0, 1, 2], 40)
    X = centers[labels] + 0.3 * rng.standard_normal((120, 10))
    model = linear_model(10, 4)
    for embedding in (tsne(X, perplexity=15, max_iter=250), tsne(X, model, perplexity=15, max_iter=250)):
        assert embedding.shape == (120, 2)
        means = np.array([embedding[labels == k].mean(0) for k in range(3)])
        spread = max(np.linalg.norm(embedding[labels == k] - means[k], axis=1).mean() for k in range(3))
        gaps = [np.linalg.norm(means[i] - means[j]) for i in range(3) for j in range(i + 1, 3)]
        assert min(gaps) > 2 * spread
    assert np.allclose(tsne(X, perplexity=15, max_iter=250, seed=3), tsne(X, perplexity=15, max_iter=250, seed=3))


@pytest.mark.parametrize("kwargs, match", [({"perplexity": 80}, "perplexity must be positive and smaller than"),
                                           ({"max_iter": 100}, "max_iter must be at least 250")])
def test_tsne_bad_input(kwargs, match):
    with pytest.raises(MiniaeInputError, match=match):
        tsne(np.random.default_rng(0).standard_normal((60, 5)), **kwargs)


def test_the_tools_work_on_a_vae_through_its_posterior_mean(rng):
    from miniae.vae import VAE

    vae = VAE.mirrored([6, 5, 2], likelihood="gaussian", rng=0)
    X = rng.uniform(0, 1, (8, 6))
    assert np.allclose(codes(vae, X), vae.encode_distribution(X)[0])
    path = interpolate(vae, X[0], X[1], steps=4)
    assert np.allclose(path.latent[0], vae.reconstruct(X[:1])[0])
    assert apply_attribute(vae, X, attribute_vector(vae, X[:4], X[4:]), [0.0, 1.0]).shape == (8, 2, 6)
    assert np.allclose(anomaly_scores(vae, X), np.mean((vae.reconstruct(X) - X) ** 2, axis=1))
