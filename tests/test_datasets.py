"""The synthetic data sets: deterministic given a seed, in their documented ranges, with clear errors."""
import gzip

import numpy as np
import pytest

from miniae import datasets
from miniae.datasets import (
    _grey_sample_photos,
    downsample_image,
    image_patches,
    load_digits,
    smiley_faces,
    spectra,
    whiten_image,
    zca_whiten,
)


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


# --------------------------------------------------------------------------- photo patches and whitening
def test_image_patches_follow_the_classic_normalisation():
    patches = image_patches(500, size=8, seed=3)
    assert patches.shape == (500, 64)
    assert patches.min() >= 0.1 - 1e-12 and patches.max() <= 0.9 + 1e-12
    assert abs(np.mean(patches) - 0.5) < 0.01  # each patch's mean was removed, then mapped to 0.5
    assert np.array_equal(patches, image_patches(500, size=8, seed=3))
    assert not np.array_equal(patches, image_patches(500, size=8, seed=4))


def test_whitened_image_patches_are_deterministic_and_normalised():
    patches = image_patches(300, seed=2, whiten_images=True, downsample=4)
    assert patches.shape == (300, 64)
    assert patches.min() >= 0.1 - 1e-12 and patches.max() <= 0.9 + 1e-12
    assert np.array_equal(patches, image_patches(300, seed=2, whiten_images=True, downsample=4))


def test_zca_whitening_decorrelates_pixels():
    raw = image_patches(3000, normalize=False, seed=0)
    white = zca_whiten(raw, epsilon=1e-6)
    cov = np.cov(white.T)
    off_diagonal = cov - np.diag(np.diag(cov))
    assert np.abs(off_diagonal).max() < 0.05 * np.diag(cov).mean()
    assert np.abs(np.corrcoef(raw.T)[0, 1]) > 0.5  # neighbouring pixels of a photo are correlated


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

    def neighbours(image):
        return np.corrcoef(image[:, :-1].ravel(), image[:, 1:].ravel())[0, 1]

    assert neighbours(photo) > 0.8 and neighbours(white) < 0.5, (neighbours(photo), neighbours(white))


def test_jet_images_background_and_signal():
    """Rows are images summing to 1; the signal fraction is as asked; W jets sit at the W mass
    (two prongs at dR = m / (pT sqrt(z(1-z)))), QCD jets spread widely; seeded."""
    from miniae.datasets import jet_images

    X, info = jet_images(3000, signal_fraction=0.3, size=12, seed=0)
    assert X.shape == (3000, 144) and X.min() >= 0 and np.allclose(X.sum(axis=1), 1.0)
    assert abs(info["signal"].mean() - 0.3) < 0.03
    w_mass, qcd_mass = info["mass"][info["signal"]], info["mass"][~info["signal"]]
    assert abs(np.median(w_mass) - 80.0) < 3.0 and np.std(qcd_mass) > 3 * np.std(w_mass)
    assert np.all(info["n_particles"][~info["signal"]] >= 2)          # a hard prong and at least one gluon
    X_again, _ = jet_images(3000, signal_fraction=0.3, size=12, seed=0)
    assert np.array_equal(X, X_again)
    assert not jet_images(50, seed=0)[1]["signal"].any()
    with pytest.raises(ValueError, match="signal_fraction"):
        jet_images(10, signal_fraction=1.5)


def write_idx(path, array):
    """An IDX file of unsigned bytes (MNIST's format), gzipped when the name ends in .gz."""
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def small_mnist(rng, n_train=6, n_test=4):
    return {"train": (rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 10, n_train)),
            "test": (rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test))}


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_mnist_reads_idx_files(tmp_path, suffix):
    parts = small_mnist(np.random.default_rng(0))
    for part, (images, labels) in parts.items():
        prefix = "train" if part == "train" else "t10k"
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    X_train, X_test, y_train, y_test = datasets.load_mnist(path=tmp_path)
    assert X_train.shape == (6, 784) and X_test.shape == (4, 784) and X_train.dtype == np.float64
    np.testing.assert_allclose(X_train * 255, parts["train"][0].reshape(6, -1))
    np.testing.assert_array_equal(y_test, parts["test"][1])
    X, y = datasets.load_mnist("fashion", path=tmp_path, split="test", dtype=np.float32)
    assert X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1 and len(y) == 4


def test_load_mnist_reads_a_keras_npz(tmp_path):
    parts = small_mnist(np.random.default_rng(1))
    np.savez(tmp_path / "fashion-mnist.npz", x_train=parts["train"][0].astype(np.uint8), y_train=parts["train"][1],
             x_test=parts["test"][0].astype(np.uint8), y_test=parts["test"][1])
    X_train, y_train = datasets.load_mnist("fashion", path=tmp_path, split="train")
    np.testing.assert_allclose(X_train * 255, parts["train"][0].reshape(6, -1))
    with pytest.raises(FileNotFoundError, match="mnist.npz"):  # the digits are not there
        datasets.load_mnist("digits", path=tmp_path)


def test_load_mnist_names_the_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte.*t10k-labels-idx1-ubyte.*download=True"):
        datasets.load_mnist(path=tmp_path)
    with pytest.raises(ValueError, match="kind"):
        datasets.load_mnist("letters", path=tmp_path)


def test_read_idx_refuses_a_truncated_file(tmp_path):
    write_idx(tmp_path / "x", np.zeros((3, 4, 4)))
    data = (tmp_path / "x").read_bytes()
    (tmp_path / "x").write_bytes(data[:-5])
    with pytest.raises(ValueError, match="truncated"):
        datasets.read_idx(tmp_path / "x")
