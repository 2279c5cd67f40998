"""Noise: what each corruption does, and that a denoising model's gradient is right with the noise frozen."""
import numpy as np
import pytest

from miniae import Autoencoder, GaussianNoise, MaskingNoise, SaltPepperNoise, gradcheck

NOISES = [GaussianNoise(0.2), MaskingNoise(0.3), SaltPepperNoise(0.2)]


@pytest.mark.parametrize("noise", NOISES, ids=repr)
def test_corrupt_returns_a_new_array_and_leaves_x_alone(noise):
    X = np.random.default_rng(0).uniform(0.2, 0.8, (50, 10))
    before = X.copy()
    out = noise.corrupt(X, np.random.default_rng(1))
    assert out.shape == X.shape and out.dtype == X.dtype
    assert np.array_equal(X, before)
    assert not np.array_equal(out, X)


def test_masking_zeroes_about_a_fraction_p():
    X = np.ones((200, 50))
    out = MaskingNoise(0.3).corrupt(X, np.random.default_rng(0))
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert abs(np.mean(out == 0) - 0.3) < 0.02


def test_salt_pepper_sets_a_fraction_p_to_low_or_high():
    X = np.full((200, 50), 0.5)
    out = SaltPepperNoise(0.2).corrupt(X, np.random.default_rng(0))
    changed = out != 0.5
    assert abs(changed.mean() - 0.2) < 0.02
    assert set(np.unique(out[changed])) == {0.0, 1.0}
    assert abs(np.mean(out[changed] == 1.0) - 0.5) < 0.05


def test_gaussian_noise_has_the_right_spread_and_keeps_float32():
    X = np.zeros((400, 50), dtype=np.float32)
    out = GaussianNoise(0.1).corrupt(X, np.random.default_rng(0))
    assert out.dtype == np.float32
    assert abs(out.std() - 0.1) < 0.005


@pytest.mark.parametrize("bad", [lambda: MaskingNoise(1.5), lambda: SaltPepperNoise(-0.1), lambda: GaussianNoise(-1)])
def test_bad_levels_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize("noise", NOISES, ids=repr)
@pytest.mark.parametrize("sizes", [[6, 4], [7, 5, 3]])
def test_denoising_model_gradient_with_frozen_noise(noise, sizes):
    rng = np.random.default_rng(len(sizes))
    model = Autoencoder.mirrored(sizes, activation="tanh", output="sigmoid", noise=noise, rng=rng)
    X = rng.uniform(0, 1, (5, sizes[0]))
    report = gradcheck.check_model(model, X, threshold=1e-7)
    assert report, str(report)


def test_noise_is_fresh_at_each_step_and_absent_at_reconstruct():
    model = Autoencoder.mirrored([6, 4], activation="tanh", noise=MaskingNoise(0.5), rng=0)
    X = np.random.default_rng(1).uniform(0, 1, (5, 6))
    first, second = model.loss_and_grads(X), model.loss_and_grads(X)
    assert first != second  # a new corruption each step
    assert np.array_equal(model.reconstruct(X), model.reconstruct(X))
