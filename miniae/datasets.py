"""Data sets, all made locally (no downloads) and deterministic given a seed.

Every loader returns float64 arrays of shape (n_samples, n_features) in a documented range.
"""
import numpy as np


def load_digits(split=None, test_size=0.2, seed=0):
    """scikit-learn's 8x8 handwritten digits, pixels scaled from 0..16 to [0, 1].

    split=None: returns (X, y) with X (1797, 64), y (1797,) ints 0-9.
    split="train" or "test": the matching part of a seeded, stratified split
    (``test_size`` of the samples in the test part); split="both" returns
    (X_train, X_test, y_train, y_test).
    """
    from sklearn.datasets import load_digits as _load
    from sklearn.model_selection import train_test_split

    digits = _load()
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    if split is None:
        return X, y
    parts = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    X_train, X_test, y_train, y_test = parts
    if split == "train":
        return X_train, y_train
    if split == "test":
        return X_test, y_test
    if split == "both":
        return X_train, X_test, y_train, y_test
    raise ValueError(f"split must be None, 'train', 'test' or 'both', got {split!r}")


_PHOTOS = []


def _grey_sample_photos():
    """scikit-learn's two sample photos (china, flower) as grey (427, 640) arrays in [0, 1], decoded once."""
    if not _PHOTOS:
        from sklearn.datasets import load_sample_images

        _PHOTOS.extend(image.astype(np.float64).mean(axis=2) / 255.0 for image in load_sample_images().images)
    return _PHOTOS


def zca_whiten(X, epsilon=0.1):
    """ZCA whitening of rows X: (n, d) -> (n, d), decorrelated pixels that still look like images.

    With the covariance C = U diag(s) U^T of the centred data, X_white = X_c U diag(1/sqrt(s + eps)) U^T.
    Unlike PCA whitening it rotates back, so each output pixel stays where it was; ``epsilon``
    keeps the tiny-variance directions (pixel noise) from being blown up.
    """
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    cov = centred.T @ centred / X.shape[0]
    s, U = np.linalg.eigh(cov)
    return centred @ (U * (1.0 / np.sqrt(s + epsilon))) @ U.T


def downsample_image(image, factor):
    """Average ``factor`` x ``factor`` blocks of a 2-D image: (h, w) -> (h // factor, w // factor).

    The photos are sharp close-ups (427 x 640); averaging blocks lets an 8x8 patch see more of
    the scene, as the patches of the classic exercise did, and averages away JPEG noise.
    """
    factor = int(factor)
    if factor < 1:
        raise ValueError(f"downsample must be a positive integer, got {factor}")
    h, w = image.shape[0] // factor * factor, image.shape[1] // factor * factor
    return image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def whiten_image(image, f0=0.4):
    """Whiten a whole grey image in the frequency domain (Olshausen & Field 1996): (h, w) -> (h, w).

    Photos have an amplitude spectrum falling like 1/f, so large smooth structures dominate.
    Multiplying the Fourier transform by

        R(f) = f * exp(-(f / f0)^4),   f = sqrt(fx^2 + fy^2) in cycles per pixel (Nyquist = 0.5),

    flattens it (the ramp f undoes 1/f) and rolls off near the Nyquist frequency (the
    exp(-(f/f0)^4) term, so pixel noise is not amplified).  R is a smooth, compact filter in
    space, a small centre-surround kernel, so the result keeps the local structure (edges,
    corners) and loses the slow shading.  The mean is removed and the result scaled to unit
    variance.  The transform is circular: a few pixels along each border mix with the opposite
    border, so cut patches away from the edges.
    """
    image = np.asarray(image, dtype=np.float64)
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.fftfreq(image.shape[1])[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    white = np.real(np.fft.ifft2(np.fft.fft2(image - image.mean()) * f * np.exp(-(f / f0) ** 4)))
    return white / white.std()


def image_patches(n, size=8, seed=0, whiten=False, epsilon=0.1, contrast=None, normalize=True,
                  whiten_images=False, f0=0.4, downsample=1):
    """n grey ``size`` x ``size`` patches cut at random from scikit-learn's two sample photos.

    Returns (n, size*size) float64.  Grey = mean of the RGB channels, in [0, 1]; the patch
    positions (and which photo) are drawn from a Generator seeded with ``seed``.
    ``whiten=True`` ZCA-whitens the patches first (see ``zca_whiten``; removes the strong
    pixel-to-pixel correlations of photos).  ``contrast=c`` (e.g. 0.01), applied before whitening,
    divides each mean-removed patch by sqrt(its variance + c), so faint and strong textures
    weigh the same (the photos have large flat areas of sky and blur).  ``normalize=True`` then applies that exercise's
    normalisation: remove each patch's mean, truncate to +-3 standard deviations (of all
    pixels), and rescale to [0.1, 0.9] so that a sigmoid output can reach every value.

    The classic recipe (Olshausen & Field; the sparse-autoencoder exercise) instead whitens the
    WHOLE images before cutting: ``whiten_images=True`` averages ``downsample`` x ``downsample``
    pixel blocks of each photo (``downsample_image``), filters it with ``whiten_image(f0)``,
    and cuts the patches at least ``size`` pixels away from the borders.
    """
    size = int(size)
    photos = _grey_sample_photos()
    margin = 0
    if whiten_images:
        photos = [whiten_image(downsample_image(photo, downsample), f0) for photo in photos]
        margin = size
    elif downsample != 1:
        photos = [downsample_image(photo, downsample) for photo in photos]
    rng = np.random.default_rng(seed)
    which = rng.integers(len(photos), size=n)
    patches = np.empty((n, size * size))
    for k, photo in enumerate(photos):
        rows = np.flatnonzero(which == k)
        top = rng.integers(margin, photo.shape[0] - size - margin + 1, size=rows.size)
        left = rng.integers(margin, photo.shape[1] - size - margin + 1, size=rows.size)
        for row, i, j in zip(rows, top, left):
            patches[row] = photo[i:i + size, j:j + size].ravel()
    if contrast is not None:
        patches = patches - patches.mean(axis=1, keepdims=True)
        patches /= np.sqrt(patches.var(axis=1, keepdims=True) + contrast)
    if whiten:
        patches = zca_whiten(patches, epsilon)
    if normalize:
        patches = patches - patches.mean(axis=1, keepdims=True)
        limit = 3 * patches.std()
        patches = np.clip(patches, -limit, limit) / limit   # now in [-1, 1]
        patches = (patches + 1) * 0.4 + 0.1                  # now in [0.1, 0.9]
    return patches
