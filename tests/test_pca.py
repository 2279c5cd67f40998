"""miniae.pca: PCA against scikit-learn, principal angles, and the linear AE <-> PCA bridge."""
import numpy as np
import pytest
from sklearn.decomposition import PCA as SkPCA

from miniae import MiniaeInputError
from miniae import pca as P
from miniae.models import Autoencoder


@pytest.mark.parametrize("shape,k", [((50, 6), 1), ((40, 10), 4), ((30, 8), 8)])
def test_pca_matches_sklearn(rng, shape, k):
    X = rng.standard_normal(shape) @ rng.standard_normal((shape[1], shape[1]))
    ours, theirs = P.PCA(k).fit(X), SkPCA(k, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, atol=1e-12)
    assert ours.components_.shape == (k, shape[1])
    # degrees; arccos near 1 limits precision
    assert np.all(P.direction_angles(ours.components_, theirs.components_) < 1e-4)
    # transform/inverse_transform agree up to the sign of each component
    signs = np.sign(np.sum(ours.components_ * theirs.components_, axis=1))
    np.testing.assert_allclose(ours.transform(X) * signs, theirs.transform(X), atol=1e-9)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)),
                               theirs.inverse_transform(theirs.transform(X)), atol=1e-9)


def test_pca_components_are_orthonormal_and_ordered(digits_pca):
    C = digits_pca.components_
    np.testing.assert_allclose(C @ C.T, np.eye(C.shape[0]), atol=1e-10)
    assert np.all(np.diff(digits_pca.explained_variance_) <= 0)


def test_pca_digits_mse_matches_known_value(digits):
    assert P.PCA(8).fit(digits).reconstruction_mse(digits) == pytest.approx(0.0239, abs=2e-4)


def test_pca_bad_input():
    with pytest.raises(MiniaeInputError, match="n_components=5"):
        P.PCA(5).fit(np.ones((3, 4)))
    with pytest.raises(MiniaeInputError, match="not fitted"):
        P.PCA(2).transform(np.ones((3, 4)))
    with pytest.raises(MiniaeInputError, match="features"):
        P.PCA(2).fit(np.random.default_rng(0).random((5, 4))).transform(np.ones((3, 7)))


def test_principal_angles(rng):
    A = rng.standard_normal((6, 2))
    mixed = A @ rng.standard_normal((2, 2))  # same column space, another basis
    assert P.max_principal_angle(A, mixed) < 1e-6
    e = np.eye(3)
    B = np.c_[e[:, 0], np.cos(np.radians(30)) * e[:, 1] + np.sin(np.radians(30)) * e[:, 2]]
    np.testing.assert_allclose(P.principal_angles(e[:, :2], B), [30.0, 0.0], atol=1e-8)
    with pytest.raises(MiniaeInputError, match="same number of rows"):
        P.principal_angles(np.ones((3, 1)), np.ones((4, 1)))


@pytest.mark.parametrize("k", [1, 3, 8])
def test_closed_form_optimum_is_pca_and_a_stationary_point(digits, digits_pca, k):
    opt = P.linear_ae_optimum(digits, k)
    model = Autoencoder.linear(64, k, rng=0)
    model.set_weights({"encoder.0.W": opt["W_enc"], "encoder.0.b": opt["b_enc"],
                       "decoder.0.W": opt["W_dec"], "decoder.0.b": opt["b_dec"]})
    loss = model.loss_and_grads(digits)
    assert loss == pytest.approx(opt["mse"], rel=1e-10)
    assert loss == pytest.approx(P.PCA(k).fit(digits).reconstruction_mse(digits), rel=1e-10)
    assert max(np.abs(grad).max() for _, _, grad in model.named_parameters()) < 1e-12


def test_eigengaps():
    np.testing.assert_allclose(P.eigengaps([4.0, 2.0, 1.5]), [0.5, 0.25])


def test_components_come_back_from_any_basis_of_the_optimal_subspace(digits, digits_pca):
    k = 4
    at_optimum = P.linear_ae_at_optimum(digits, k)
    W_enc, b_enc, W_dec, b_dec = P.linear_ae_weights(at_optimum)
    G = np.random.default_rng(1).standard_normal((k, k))  # any invertible mix leaves the reconstructions alone
    mixed = Autoencoder.linear(64, k, rng=0)
    mixed.set_weights({"encoder.0.W": W_enc @ G, "encoder.0.b": b_enc @ G,
                       "decoder.0.W": np.linalg.solve(G, W_dec), "decoder.0.b": b_dec})
    np.testing.assert_allclose(mixed.reconstruct(digits), at_optimum.reconstruct(digits), atol=1e-10)
    raw = P.linear_ae_weights(mixed)[2]
    assert P.direction_angles(raw, digits_pca.components_[:k]).max() > 10.0  # the raw rows are mixtures
    assert P.max_principal_angle(P.decoder_subspace(mixed), digits_pca.components_[:k].T) < 1e-6
    directions, variances = P.components_from_linear_ae(mixed, digits)
    np.testing.assert_allclose(variances, digits_pca.explained_variance_[:k], rtol=1e-8)
    assert np.all(P.direction_angles(directions, digits_pca.components_[:k]) < 1e-4)
    aligned = P.align_signs(directions, digits_pca.components_[:k])
    assert np.all(np.sum(aligned * digits_pca.components_[:k], axis=1) > 0)


def test_decoder_directions_read_the_ordered_directions_off_the_weights(digits_pca):
    k = 3
    V = digits_pca.components_[:k]
    rotation = np.linalg.qr(np.random.default_rng(0).standard_normal((k, k)))[0]  # a free rotation of the code
    model = Autoencoder.linear(64, k, rng=0)
    W_dec = rotation @ np.diag([0.9, 0.7, 0.4]) @ V  # the form weight decay gives (Kunin et al. 2019)
    model.set_weights({"encoder.0.W": W_dec.T, "encoder.0.b": np.zeros(k), "decoder.0.W": W_dec,
                       "decoder.0.b": np.zeros(64)})
    directions, singular_values = P.decoder_directions(model)
    np.testing.assert_allclose(singular_values, [0.9, 0.7, 0.4], rtol=1e-12)
    assert np.all(P.direction_angles(directions, V) < 1e-4)


def test_linear_ae_helpers_refuse_a_deep_model():
    with pytest.raises(MiniaeInputError, match="linear autoencoder"):
        P.linear_ae_weights(Autoencoder.mirrored([6, 4, 2], activation="identity", rng=0))
