"""The regularized autoencoders' classic results (miniae.regularized), with fixed seeds."""
import numpy as np
import pytest

from miniae import KLSparsity, MaskingNoise
from miniae.datasets import _grey_sample_photos, downsample_image, image_patches, load_digits, whiten_image, zca_whiten
from miniae.models import Autoencoder
from miniae.regularized import (FIGURES, contraction_pair, contraction_report, denoising_mse, denoising_pair,
                                digit_autoencoder, encoder_filters, filter_locality, fit_lbfgs,
                                sparse_patch_autoencoder)


@pytest.fixture(scope="module")
def digits():
    return load_digits("both")


def test_image_patches_follow_the_classic_normalisation():
    patches = image_patches(500, size=8, seed=3)
    assert patches.shape == (500, 64)
    assert patches.min() >= 0.1 - 1e-12 and patches.max() <= 0.9 + 1e-12
    assert abs(np.mean(patches) - 0.5) < 0.01  # each patch's mean was removed, then mapped to 0.5
    assert np.array_equal(patches, image_patches(500, size=8, seed=3))
    assert not np.array_equal(patches, image_patches(500, size=8, seed=4))


def test_zca_whitening_decorrelates_pixels():
    raw = image_patches(3000, normalize=False, seed=0)
    white = zca_whiten(raw, epsilon=1e-6)
    cov = np.cov(white.T)
    off_diagonal = cov - np.diag(np.diag(cov))
    assert np.abs(off_diagonal).max() < 0.05 * np.diag(cov).mean()
    assert np.abs(np.corrcoef(raw.T)[0, 1]) > 0.5  # neighbouring pixels of a photo are correlated


def test_filter_locality_measure():
    point = np.zeros((64, 1))
    point[27] = 1.0
    spread = np.ones((64, 1))
    spread[27] = 1.001  # peak in the middle (row 3, column 3): its 5x5 window is all inside
    assert filter_locality(point)[0] == pytest.approx(1.0)
    assert filter_locality(spread)[0] == pytest.approx(25 / 64, rel=1e-3)


def test_sparse_filters_on_patches_are_localized():
    """64-25-64 sigmoid AE with the classic KL sparsity on patches of whitened photos, full-batch
    L-BFGS: most filters keep most of their energy within 2 pixels of their peak (a 5x5 window
    holds 39% of a spread-out filter).  Seed 0 gives 80-84% (20 or 21 of 25: the last filter
    flips with the rounding of the loss, e.g. one BLAS kernel or another); patch seeds 1 and 2
    give 80% and 72%.  The issue asks for "most filters"; the test asks for 70%, the lowest
    value seen across seeds, so that a change of CPU does not fail a correct model."""
    model, patches, result = sparse_patch_autoencoder()
    locality = filter_locality(encoder_filters(model))
    assert np.mean(locality > 0.5) >= 0.7, np.round(np.sort(locality), 2)
    assert np.median(locality) > 0.5, np.round(np.sort(locality), 2)
    assert abs(model.encode(patches).mean() - 0.01) < 0.2 * 0.01  # the code's mean activation is rho


def test_downsample_image_averages_blocks():
    image = np.arange(7 * 9, dtype=np.float64).reshape(7, 9)
    small = downsample_image(image, 3)
    assert small.shape == (2, 3)
    assert small[1, 2] == pytest.approx(image[3:6, 6:9].mean())
    with pytest.raises(ValueError, match="downsample"):
        downsample_image(image, 0)


def test_whitening_whole_images_flattens_their_spectrum():
    """A photo's power falls steeply with frequency; after whiten_image the mid and high bands
    carry comparable power, and neighbouring pixels are far less correlated."""
    photo = _grey_sample_photos()[0]
    white = whiten_image(photo)
    assert white.shape == photo.shape
    assert abs(white.mean()) < 1e-8 and white.std() == pytest.approx(1.0)

    def band_power(image, low, high):
        power = np.abs(np.fft.fft2(image - image.mean())) ** 2
        f = np.sqrt(np.fft.fftfreq(image.shape[0])[:, None] ** 2 + np.fft.fftfreq(image.shape[1])[None, :] ** 2)
        return power[(f >= low) & (f < high)].mean()

    ratio_photo = band_power(photo, 0.02, 0.04) / band_power(photo, 0.2, 0.3)
    ratio_white = band_power(white, 0.02, 0.04) / band_power(white, 0.2, 0.3)
    assert ratio_photo > 30 and ratio_white < 3, (ratio_photo, ratio_white)
    neighbours = lambda im: np.corrcoef(im[:, :-1].ravel(), im[:, 1:].ravel())[0, 1]
    assert neighbours(photo) > 0.8 and neighbours(white) < 0.5, (neighbours(photo), neighbours(white))


def test_whitened_image_patches_are_deterministic_and_normalised():
    patches = image_patches(300, seed=2, whiten_images=True, downsample=4)
    assert patches.shape == (300, 64)
    assert patches.min() >= 0.1 - 1e-12 and patches.max() <= 0.9 + 1e-12
    assert np.array_equal(patches, image_patches(300, seed=2, whiten_images=True, downsample=4))


def test_fit_lbfgs_lowers_the_full_batch_loss_and_leaves_the_model_at_the_result():
    X = 0.1 + 0.8 * load_digits()[0][:200]
    model = Autoencoder.mirrored([64, 8], activation="sigmoid", code_activation="sigmoid", output="sigmoid", rng=0)
    before = sum(model.evaluate_terms(X).values())
    result = fit_lbfgs(model, X, max_iter=50)
    assert result.nit <= 50 and result.fun < 0.5 * before, (result.fun, before)
    assert model.loss_and_grads(X) == pytest.approx(result.fun)


def test_kl_sparsity_brings_mean_activation_to_rho(digits):
    X_train, X_test, _, _ = digits
    rho = 0.05
    model = digit_autoencoder((64, 49), penalties=[KLSparsity(rho, beta=0.3)], epochs=30, X_train=X_train)
    mean_activation = model.encode(X_test).mean()
    assert abs(mean_activation - rho) < 0.2 * rho, mean_activation
    plain = digit_autoencoder((64, 49), epochs=30, X_train=X_train)
    assert plain.encode(X_test).mean() > 3 * rho  # without the penalty the code is far from sparse


def test_denoising_beats_plain_on_masked_test_digits(digits):
    X_train, X_test, _, _ = digits
    plain, dae = denoising_pair(MaskingNoise(0.3), sizes=(64, 32), epochs=60)
    noise = MaskingNoise(0.3)
    plain_error, dae_error = denoising_mse(plain, X_test, noise), denoising_mse(dae, X_test, noise)
    assert dae_error < plain_error, (dae_error, plain_error)


def test_contractive_encoder_is_at_least_twice_less_sensitive(digits):
    _, X_test, _, _ = digits
    plain, cae = contraction_pair(lam=3e-3, sizes=(64, 32), epochs=60)
    report = contraction_report({"plain": plain, "contractive": cae}, X_test)
    assert report["plain"][0] >= 2 * report["contractive"][0], report
    assert report["contractive"][1] > report["plain"][1]  # the price: a worse reconstruction


def test_figures_registry_names_pngs():
    assert all(name.endswith(".png") for name in FIGURES)
    assert {"sparse_filters.png", "denoising.png"} <= set(FIGURES)
