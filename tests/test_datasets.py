"""The synthetic data sets: deterministic given a seed, in their documented ranges, with clear errors."""
import numpy as np
import pytest

from miniae.datasets import load_digits, smiley_faces, spectra


# --------------------------------------------------------------------------- smiley_faces
@pytest.mark.parametrize("size", [16, 32])
def test_faces_shape_range_and_attributes(size):
    X, attributes = smiley_faces(50, size=size, seed=3)
    assert X.shape == (50, size * size) and X.dtype == np.float64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert X.max() > 0.9  # eyes and mouth are drawn dark
    ranges = {"smile": (-1, 1), "eyes": (0, 1), "width": (0.65, 0.9), "dx": (-0.1, 0.1), "dy": (-0.1, 0.1)}
    assert set(attributes) == set(ranges)
    for name, (low, high) in ranges.items():
        assert attributes[name].shape == (50,)
        assert low <= attributes[name].min() and attributes[name].max() <= high


def test_faces_are_deterministic_given_a_seed():
    X1, a1 = smiley_faces(20, seed=4)
    X2, a2 = smiley_faces(20, seed=4)
    X3, _ = smiley_faces(20, seed=5)
    assert np.array_equal(X1, X2)
    assert all(np.array_equal(a1[k], a2[k]) for k in a1)
    assert not np.allclose(X1, X3)


def test_smile_attribute_is_visible_in_the_mouth_region():
    """A smile darkens the raised mouth corners and the lowered middle, and lightens the frown's pixels."""
    X, a = smiley_faces(400, seed=0)
    images = X.reshape(-1, 32, 32)  # rows grow downwards
    corners = [8, 9, 10, 21, 22, 23]
    corners_high = images[:, 19:22][:, :, corners].mean(axis=(1, 2))
    middle_low = images[:, 23:26, 13:19].mean(axis=(1, 2))
    corners_low = images[:, 23:26][:, :, corners].mean(axis=(1, 2))
    middle_high = images[:, 19:22, 13:19].mean(axis=(1, 2))
    assert np.corrcoef(a["smile"], corners_high)[0, 1] > 0.5
    assert np.corrcoef(a["smile"], middle_low)[0, 1] > 0.4
    assert np.corrcoef(a["smile"], corners_low)[0, 1] < -0.4
    assert np.corrcoef(a["smile"], middle_high)[0, 1] < -0.4


def test_wider_faces_cover_more_pixels():
    X, a = smiley_faces(300, seed=1)
    assert np.corrcoef(a["width"], (X > 0.1).sum(axis=1))[0, 1] > 0.8


@pytest.mark.parametrize("kwargs, match", [({"n": 0}, "n must be a positive integer"),
                                           ({"n": 5, "size": 4}, "size must be at least 8"),
                                           ({"n": 2.5}, "n must be a positive integer")])
def test_faces_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        smiley_faces(**kwargs)


# --------------------------------------------------------------------------- spectra
@pytest.mark.parametrize("shape", ["gaussian", "lorentzian"])
@pytest.mark.parametrize("n_points, n_peaks", [(200, 3), (120, 2)])
def test_spectra_shape_and_documented_range(shape, n_points, n_peaks):
    X, p = spectra(40, n_points=n_points, n_peaks=n_peaks, peak_shape=shape, seed=1)
    assert X.shape == (40, n_points)
    assert X.min() >= 0.0 and np.allclose(X.max(axis=1), 1.0)
    assert p["energy"].shape == (n_points,) and p["energy"][0] == 0 and p["energy"][-1] == 100
    for key in ("center", "fwhm", "height"):
        assert p[key].shape == (40, n_peaks)
    typical = 100 * np.arange(1, n_peaks + 1) / (n_peaks + 1)
    assert np.all(np.abs(p["center"] - typical) <= 8.0)
    assert 2.5 <= p["fwhm"].min() and p["fwhm"].max() <= 8.5
    assert p["background"].shape == (40,) and np.all(p["background"] > 0)


def test_spectra_are_deterministic_and_peaks_sit_where_the_parameters_say():
    X1, p1 = spectra(30, seed=2)
    X2, p2 = spectra(30, seed=2)
    assert np.array_equal(X1, X2) and np.array_equal(p1["center"], p2["center"])
    assert not np.allclose(X1, spectra(30, seed=3)[0])
    # noise-free spectra: the intensity at each center is at least the peak's height
    X, p = spectra(30, counts=10**9, seed=2)
    for j in range(3):
        idx = np.abs(p["energy"][None, :] - p["center"][:, j:j + 1]).argmin(axis=1)
        at_center = X[np.arange(30), idx]
        assert np.all(at_center >= 0.97 * p["height"][:, j])


def test_counting_noise_shrinks_with_more_counts():
    clean, _ = spectra(50, counts=10**9, seed=4)
    noise = [np.mean((spectra(50, counts=c, seed=4)[0] - clean) ** 2) for c in (100, 1000)]
    assert noise[1] < noise[0] / 5


def test_extra_peak_is_away_from_regular_peaks_and_adds_intensity():
    X, p = spectra(200, extra_peak=True, seed=5)
    assert p["extra_center"].shape == (200,) and p["extra_height"].shape == (200,)
    assert np.all(np.abs(p["extra_center"][:, None] - p["center"]).min(axis=1) >= 8.0)
    assert np.all((5 <= p["extra_center"]) & (p["extra_center"] <= 95))
    ratio = p["extra_height"] / p["height"].max(axis=1)
    assert np.all((ratio >= 0.3 - 1e-9) & (ratio <= 0.6 + 1e-9))


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 5, "n_points": 5}, "n_points must be at least 10"),
    ({"n": 5, "peak_shape": "voigt"}, "peak_shape must be"),
    ({"n": 5, "center_spread": 20.0}, "center_spread must be between 0 and 12.5"),
    ({"n": 5, "extra_gap": -1.0}, "extra_gap must be a distance"),
    ({"n": 5, "extra_peak": True, "extra_gap": 40.0}, "leaves no room"),
    ({"n": -1}, "n must be a positive integer"),
])
def test_spectra_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spectra(**kwargs)


# --------------------------------------------------------------------------- digits
def test_digits_split_is_seeded_and_scaled():
    X_train, X_test, y_train, y_test = load_digits(split="both", seed=0)
    assert X_train.shape[1] == 64 and X_train.min() >= 0 and X_train.max() <= 1
    assert np.array_equal(X_test, load_digits(split="test", seed=0)[0])
    assert len(X_train) + len(X_test) == 1797
