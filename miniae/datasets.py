"""Data sets, all made locally (no downloads) and deterministic given a seed; MNIST and
Fashion-MNIST are read from files the user has (``load_mnist``).

Every loader returns float64 arrays of shape (n_samples, n_features) in a documented range.
"""
import gzip
from pathlib import Path

import numpy as np
from sklearn.datasets import fetch_openml, get_data_home, load_sample_images
from sklearn.datasets import load_digits as _load
from sklearn.model_selection import train_test_split

from .validation import check_positive_int


def load_digits(split=None, test_size=0.2, seed=0):
    """scikit-learn's 8x8 handwritten digits, pixels scaled from 0..16 to [0, 1].

    split=None: returns (X, y) with X (1797, 64), y (1797,) ints 0-9.
    split="train" or "test": the matching part of a seeded, stratified split
    (``test_size`` of the samples in the test part); split="both" returns
    (X_train, X_test, y_train, y_test).
    """

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


# --------------------------------------------------------------------------- smiley faces
def _soft_inside(signed_distance, edge):
    """1 inside a shape, 0 outside, with a smooth (anti-aliased) edge about ``edge`` wide.

    ``signed_distance``: negative inside, positive outside (any array shape).
    """
    return 0.5 * (1.0 - np.tanh(signed_distance / edge))


def smiley_faces(n, size=32, seed=0):
    """Cartoon faces drawn from four known attributes; a data set where the truth is known.

    Returns ``(X, attributes)``:

    - X: (n, size*size) floats in [0, 1] (row-major images; 0 is the background, the face
      is 0.35, eyes and mouth are 1).
    - attributes: dict of (n,) float arrays, each drawn uniformly and independently:

      ``"smile"``   in [-1, 1]: mouth curvature, -1 a frown, 0 a straight mouth, +1 a smile;
      ``"eyes"``    in [0, 1]: eye openness, 0 closed (a line), 1 wide open;
      ``"width"``   in [0.65, 0.9]: half-width of the face, as a fraction of half the image;
      ``"dx"``, ``"dy"`` in [-0.1, 0.1]: position jitter of the whole face, in the same
      units (0.1 is 1.6 pixels at size=32; dy > 0 moves the face up).

    Edges are anti-aliased, so every pixel is a smooth function of the attributes.
    The same (n, size, seed) always gives the same faces.
    """

    n = check_positive_int(n, "n")
    size = check_positive_int(size, "size")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels to draw a face, got {size}")
    rng = np.random.default_rng(seed)
    attributes = {
        "smile": rng.uniform(-1.0, 1.0, n),
        "eyes": rng.uniform(0.0, 1.0, n),
        "width": rng.uniform(0.65, 0.9, n),
        "dx": rng.uniform(-0.1, 0.1, n),
        "dy": rng.uniform(-0.1, 0.1, n),
    }
    # pixel centres in [-1, 1]; u to the right, v upwards; one column per face
    coords = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    v_grid, u_grid = np.meshgrid(coords[::-1], coords, indexing="ij")
    edge = 1.0 / size  # about half a pixel
    a = attributes
    u = u_grid.reshape(-1, 1) - a["dx"]
    v = v_grid.reshape(-1, 1) - a["dy"]
    half_width, half_height = a["width"], 0.88

    # face: an ellipse; signed distance approximated by (r - 1) * the smaller semi-axis
    r_face = np.sqrt((u / half_width) ** 2 + (v / half_height) ** 2)
    face = _soft_inside((r_face - 1.0) * np.minimum(half_width, half_height), edge)

    # eyes: two ellipses whose height grows with openness
    eye_u, eye_v = 0.42 * half_width, 0.28
    eye_rx, eye_ry = 0.13, 0.025 + 0.11 * a["eyes"]
    eyes = np.zeros_like(face)
    for side in (-1.0, 1.0):
        r_eye = np.sqrt(((u - side * eye_u) / eye_rx) ** 2 + ((v - eye_v) / eye_ry) ** 2)
        eyes = np.maximum(eyes, _soft_inside((r_eye - 1.0) * eye_ry, edge))

    # mouth: a thick parabola v = v0 + k (u^2 - w^2 / 3) for |u| <= w, round ends;
    # the -w^2/3 keeps its average height fixed, so only the curvature changes with the smile
    mouth_w, mouth_v0, thickness = 0.5 * half_width, -0.4, 0.1
    k = 1.4 * a["smile"]
    u_clip = np.clip(u, -mouth_w, mouth_w)
    curve_v = mouth_v0 + k * (u_clip ** 2 - mouth_w ** 2 / 3.0)
    slope = 2.0 * k * u_clip
    # distance to the curve: vertical gap / sqrt(1 + slope^2) inside, plus the overshoot at the ends
    gap = (v - curve_v) / np.sqrt(1.0 + slope ** 2)
    distance = np.sqrt(gap ** 2 + (u - u_clip) ** 2)
    mouth = _soft_inside(distance - thickness, edge)

    image = 0.35 * face
    image = np.maximum(image, np.maximum(eyes, mouth) * face)
    X = np.clip(image.T, 0.0, 1.0)
    return X, attributes


# --------------------------------------------------------------------------- spectra
def _peak(energy, center, fwhm, shape):
    """Unit-height peak shapes on ``energy`` (n_points,) for centers/fwhm (n, 1) -> (n, n_points).

    gaussian:   exp(-4 ln2 (E - c)^2 / fwhm^2)
    lorentzian: 1 / (1 + 4 (E - c)^2 / fwhm^2)
    """
    z2 = 4.0 * (energy - center) ** 2 / fwhm ** 2
    if shape == "gaussian":
        return np.exp(-np.log(2.0) * z2)
    return 1.0 / (1.0 + z2)


def spectra(n, n_points=200, n_peaks=3, center_spread=8.0, peak_shape="gaussian", counts=400,
            extra_peak=False, extra_gap=8.0, seed=0):
    """Synthetic 1-D spectra in the spirit of inelastic neutron scattering (INS).

    Each spectrum is intensity against energy transfer E on ``np.linspace(0, 100, n_points)``
    (meV): ``n_peaks`` excitations (Gaussian or Lorentzian, ``peak_shape``) whose width is an
    intrinsic part plus an instrument resolution that grows with E, on a smooth background
    (a decaying tail of the elastic line plus a constant).  The spectra come from one family
    of related samples: peak j sits within ``center_spread`` meV of its typical energy
    100 (j + 1) / (n_peaks + 1) (for 3 peaks: 25, 50 and 75 meV), as vibrational modes shift
    with composition; its height and width vary freely.  Counting noise: the noise-free
    curve I(E) (maximum 1) is turned into Poisson counts with ``counts`` expected counts at
    the maximum, and each spectrum is then divided by its largest count.

    ``extra_peak=True`` adds one narrow unexpected peak (an impurity or a defect mode) to every
    spectrum, resolution-limited, with height 0.3-0.6 of the largest regular peak, in 5-95 meV
    and at least ``extra_gap`` meV from every regular peak (an extra mode, not a shifted one:
    a peak on top of a regular one looks like a taller regular peak); the anomalies of lesson 08.

    Returns ``(X, params)``:

    - X: (n, n_points) floats in [0, 1]; every row has maximum exactly 1.
    - params: dict; ``"energy"`` (n_points,) the axis in meV; ``"center"``, ``"fwhm"``,
      ``"height"``: (n, n_peaks), peak j in column j (centers within ``center_spread`` of their
      typical energy, FWHM 2.5-8.5 meV, heights in the units of X); ``"background"``: (n,) height of the
      background at E = 0; and, with extra_peak, ``"extra_center"``, ``"extra_height"`` (n,).

    The same arguments always give the same spectra.
    """

    n = check_positive_int(n, "n")
    n_points = check_positive_int(n_points, "n_points")
    n_peaks = check_positive_int(n_peaks, "n_peaks")
    counts = check_positive_int(counts, "counts")
    if n_points < 10:
        raise ValueError(f"n_points must be at least 10 to resolve a peak, got {n_points}")
    spacing = 100.0 / (n_peaks + 1)
    if not 0.0 <= float(center_spread) <= spacing / 2:
        raise ValueError(f"center_spread must be between 0 and {spacing / 2:g} meV (half the spacing of "
                         f"{n_peaks} typical peak energies), got {center_spread!r}")
    if float(extra_gap) < 0.0:
        raise ValueError(f"extra_gap must be a distance in meV (0 or more), got {extra_gap!r}")
    if peak_shape not in ("gaussian", "lorentzian"):
        raise ValueError(f"peak_shape must be 'gaussian' or 'lorentzian', got {peak_shape!r}")
    rng = np.random.default_rng(seed)
    energy = np.linspace(0.0, 100.0, n_points)
    typical = spacing * np.arange(1, n_peaks + 1)
    center = typical + rng.uniform(-center_spread, center_spread, (n, n_peaks))
    resolution = 1.5 + 0.04 * center  # instrument resolution (FWHM) grows with energy transfer
    fwhm = resolution + rng.uniform(0.5, 3.5, (n, n_peaks))
    height = rng.uniform(0.3, 1.0, (n, n_peaks))
    tail = rng.uniform(0.05, 0.4, (n, 1))
    floor = rng.uniform(0.0, 0.08, (n, 1))

    intensity = floor + tail * np.exp(-energy / 12.0)
    for j in range(n_peaks):
        intensity = intensity + height[:, j:j + 1] * _peak(energy, center[:, j:j + 1], fwhm[:, j:j + 1], peak_shape)
    params = {"energy": energy}
    if extra_peak:
        extra_center = rng.uniform(5.0, 95.0, (n, 1))
        too_close = np.min(np.abs(extra_center - center), axis=1) < extra_gap
        for _ in range(1000):  # draw again where the extra peak landed on a regular one
            if not np.any(too_close):
                break
            extra_center[too_close] = rng.uniform(5.0, 95.0, (int(too_close.sum()), 1))
            too_close = np.min(np.abs(extra_center - center), axis=1) < extra_gap
        if np.any(too_close):
            raise ValueError(f"extra_gap={extra_gap!r} meV leaves no room for an extra peak between "
                             f"{n_peaks} regular ones in 5-95 meV; use a smaller extra_gap or fewer peaks")
        extra_height = rng.uniform(0.3, 0.6, (n, 1)) * height.max(axis=1, keepdims=True)
        extra_fwhm = 1.5 + 0.04 * extra_center
        intensity = intensity + extra_height * _peak(energy, extra_center, extra_fwhm, peak_shape)

    scale = 1.0 / intensity.max(axis=1, keepdims=True)  # noise-free maximum 1
    noisy = rng.poisson(intensity * scale * counts).astype(np.float64)
    top = np.maximum(noisy.max(axis=1, keepdims=True), 1.0)
    X = noisy / top
    to_x = scale * counts / top  # factor from the model intensity to the units of X
    params.update({"center": center, "fwhm": fwhm, "height": height * to_x,
                   "background": ((floor + tail) * to_x)[:, 0]})
    if extra_peak:
        params["extra_center"] = extra_center[:, 0]
        params["extra_height"] = (extra_height * to_x)[:, 0]
    return X, params


# --------------------------------------------------------------------------- jets
def jet_images(n, signal_fraction=0.0, size=16, seed=0):
    """Jet images in the spirit of an LHC search: a known background process and an injected signal.

    Each jet (transverse momentum pT uniform in 500-600 GeV, radius 0.8) is drawn as its particles'
    momentum fractions z (summing to 1) deposited on a ``size`` x ``size`` grid of (eta, phi) cells
    spanning [-0.8, 0.8]^2, the jet axis at the centre; each cell shares its energy with its
    neighbours (weights 1/4, 1/2, 1/4 along eta and along phi), as a calorimeter does:

    - background, a QCD jet: one hard prong that radiates 1-6 soft gluons, each with a momentum
      fraction of density ~ 1/z on [0.01, 0.3], at an angle log-uniform in [0.05, 0.7];
    - signal, a boosted W boson (m = 80 GeV) decaying to two quarks: two hard prongs sharing the
      momentum as (z, 1 - z), z uniform in [0.2, 0.5], apart by the angle m / (pT sqrt(z (1 - z))),
      with 0-2 gluons half as hard (a colour singlet radiates less).

    A fraction ``signal_fraction`` of the n jets, drawn at random, is signal.  Returns ``(X, info)``:
    X (n, size * size) floats in [0, 1], each row summing to 1; info: ``"signal"`` (n,) bool, and per
    jet ``"pt"`` (GeV), ``"mass"`` (GeV; ``m^2 = pT^2 (sum_i z_i |r_i|^2 - |sum_i z_i r_i|^2)`` over its
    particles at angular positions r_i), ``"leading"`` (the largest particle's z) and
    ``"n_particles"``.  The same arguments always give the same jets.
    """
    n = check_positive_int(n, "n")
    size = check_positive_int(size, "size")
    if not 0.0 <= float(signal_fraction) <= 1.0:
        raise ValueError(f"signal_fraction must be a fraction between 0 and 1, got {signal_fraction!r}")
    rng = np.random.default_rng(seed)
    signal = rng.random(n) < float(signal_fraction)
    pt = rng.uniform(500.0, 600.0, n)
    # soft gluons: 6 slots a jet, the unused ones with z = 0
    n_soft = np.where(signal, rng.integers(0, 3, n), rng.integers(1, 7, n))
    soft_z = 0.01 * 30.0 ** rng.random((n, 6)) * (np.arange(6) < n_soft[:, None])
    soft_z[signal] *= 0.5
    soft_angle = 0.05 * 14.0 ** rng.random((n, 6))
    soft_dir = rng.uniform(0.0, 2 * np.pi, (n, 6))
    # hard prongs: QCD one on the axis; W two, their momentum-weighted centre on the axis
    hard = 1.0 - soft_z.sum(axis=1)
    split = np.where(signal, rng.uniform(0.2, 0.5, n), 0.0)
    angle = np.where(signal, 80.0 / (pt * np.sqrt(np.maximum(split * (1 - split), 1e-12))), 0.0)
    axis = rng.uniform(0.0, 2 * np.pi, n)
    prong_z = hard[:, None] * np.stack([1 - split, split], axis=1)
    prong_r = angle[:, None] * np.stack([split, -(1 - split)], axis=1)
    z = np.concatenate([prong_z, soft_z], axis=1)  # (n, 8) momentum fractions; a QCD jet's second prong is 0
    eta = np.concatenate([prong_r * np.cos(axis)[:, None], soft_angle * np.cos(soft_dir)], axis=1)
    phi = np.concatenate([prong_r * np.sin(axis)[:, None], soft_angle * np.sin(soft_dir)], axis=1)

    cell = 1.6 / size
    i_eta = np.clip(((eta + 0.8) / cell).astype(int), 0, size - 1)
    i_phi = np.clip(((phi + 0.8) / cell).astype(int), 0, size - 1)
    images = np.zeros((n, size * size))
    np.add.at(images, (np.repeat(np.arange(n), z.shape[1]), (i_eta * size + i_phi).ravel()), z.ravel())
    images = images.reshape(n, size, size)
    for ax in (1, 2):  # the calorimeter's (1/4, 1/2, 1/4) sharing with the neighbours
        pad = [(0, 0), (0, 0), (0, 0)]
        pad[ax] = (1, 1)
        padded = np.pad(images, pad)
        images = sum(w * np.take(padded, np.arange(shift, shift + size), axis=ax)
                     for w, shift in ((0.25, 0), (0.5, 1), (0.25, 2)))
    X = images.reshape(n, -1)
    X /= X.sum(axis=1, keepdims=True)
    spread = np.sum(z * (eta ** 2 + phi ** 2), axis=1) - np.sum(z * eta, axis=1) ** 2 - np.sum(z * phi, axis=1) ** 2
    return X, {"signal": signal, "pt": pt, "mass": pt * np.sqrt(np.maximum(spread, 0.0)),
               "leading": z.max(axis=1), "n_particles": (z > 0).sum(axis=1)}


# --------------------------------------------------------------------------- detector pulses
PULSE_KINDS = ("normal", "pileup", "slow")


def _pulse(t, start, amplitude, rise, decay):
    """A detector pulse: A (exp(-(t - t0) / tau_decay) - exp(-(t - t0) / tau_rise)) after t0, 0 before,
    scaled so that its peak is ``amplitude``.  Arguments are (n, 1) columns, t a row."""
    s = np.maximum(t - start, 0.0)
    shape = np.exp(-s / decay) - np.exp(-s / rise)
    peak_time = rise * decay / (decay - rise) * np.log(decay / rise)  # where the shape's derivative is 0
    peak = np.exp(-peak_time / decay) - np.exp(-peak_time / rise)
    return amplitude * shape / peak


def pulses(n, length=50, anomaly_fraction=0.0, noise=0.02, seed=0):
    """Digitised detector pulses, as a scintillator and photomultiplier read out by a fast ADC give
    them: one pulse a trace of ``length`` samples (time steps of one sampling period).

    A normal pulse rises and decays exponentially from its arrival time t0:
    A (exp(-(t - t0) / tau_d) - exp(-(t - t0) / tau_r)) for t >= t0 (0 before), scaled to a peak of
    height A, on a baseline, with white electronic noise of standard deviation ``noise``:

    - arrival t0 uniform in [5, 15) samples (the trigger's jitter: the phase varies);
    - amplitude A uniform in [0.4, 1.0] (the deposited energy), rise time tau_r uniform in [0.8, 2]
      and decay time tau_d in [4, 7] samples (the scintillator's fast component);
    - baseline uniform in [0, 0.05].

    A fraction ``anomaly_fraction`` of the traces, drawn at random, is anomalous, half of each kind:

    - ``"pileup"``: a second normal pulse of amplitude 0.3-0.8 arrives 8-25 samples after the first
      (two particles within one readout window);
    - ``"slow"``: the pulse has a slow tail, decay time 15-25 samples and rise 2-4 (the slow
      scintillation component that pulse-shape discrimination uses to tell a neutron from a gamma).

    Returns ``(X, info)``: X (n, length) floats (about 0 to 1.3; noise can take a value below 0); info:
    ``"anomaly"`` (n,) bool, ``"kind"`` (n,) strings from PULSE_KINDS, and per trace ``"start"``,
    ``"amplitude"``, ``"rise"``, ``"decay"``, ``"baseline"``.  The same arguments always give the same
    traces.
    """
    n = check_positive_int(n, "n")
    length = check_positive_int(length, "length")
    if length < 30:
        raise ValueError(f"length must be at least 30 samples (a pulse and its tail), got {length!r}")
    if isinstance(anomaly_fraction, bool) or not 0.0 <= float(anomaly_fraction) <= 1.0:
        raise ValueError(f"anomaly_fraction must be a fraction between 0 and 1, got {anomaly_fraction!r}")
    if isinstance(noise, bool) or not 0.0 <= float(noise) < np.inf:
        raise ValueError(f"noise must be a standard deviation (0 or more), got {noise!r}")
    rng = np.random.default_rng(seed)
    anomaly = rng.random(n) < float(anomaly_fraction)
    kind = np.where(anomaly, np.where(rng.random(n) < 0.5, "pileup", "slow"), "normal")
    t = np.arange(length, dtype=float)[None, :]
    start = rng.uniform(5.0, 15.0, (n, 1))
    amplitude = rng.uniform(0.4, 1.0, (n, 1))
    slow = (kind == "slow")[:, None]
    rise = np.where(slow, rng.uniform(2.0, 4.0, (n, 1)), rng.uniform(0.8, 2.0, (n, 1)))
    decay = np.where(slow, rng.uniform(15.0, 25.0, (n, 1)), rng.uniform(4.0, 7.0, (n, 1)))
    baseline = rng.uniform(0.0, 0.05, (n, 1))
    X = baseline + _pulse(t, start, amplitude, rise, decay)
    second = (kind == "pileup")[:, None] * _pulse(t, start + rng.uniform(8.0, 25.0, (n, 1)),
                                                  rng.uniform(0.3, 0.8, (n, 1)), rng.uniform(0.8, 2.0, (n, 1)),
                                                  rng.uniform(4.0, 7.0, (n, 1)))
    X = X + second + float(noise) * rng.normal(size=(n, length))
    return X, {"anomaly": anomaly, "kind": kind, "start": start[:, 0], "amplitude": amplitude[:, 0],
               "rise": rise[:, 0], "decay": decay[:, 0], "baseline": baseline[:, 0]}


# --------------------------------------------------------------------------- MNIST and Fashion-MNIST
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MNIST_FOLDERS = {"digits": "mnist", "fashion": "fashion-mnist"}  # under scikit-learn's data home
MNIST_NPZ = {"digits": "mnist.npz", "fashion": "fashion-mnist.npz"}  # Keras-style: x_train, y_train, x_test, y_test
MNIST_OPENML = {"digits": "mnist_784", "fashion": "Fashion-MNIST"}


def read_idx(path):
    """An array from an IDX file (the format of MNIST's files), gzipped (.gz) or not.

    Layout: two zero bytes, a type byte (0x08: unsigned bytes), the number of dimensions,
    then each dimension as a big-endian 32-bit int, then the data.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] < 1:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (its first bytes are {data[:4]!r}, "
                         "expected 00 00 08 and a number of dimensions)")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = 4 + 4 * ndim + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(f"{path} holds {len(data)} bytes but its header {shape} needs {expected}; "
                         "the file is truncated or damaged")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder, name):
    """folder/name or folder/name.gz, or None."""
    for candidate in (folder / name, folder / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _mnist_arrays(kind, folder, download):
    """{"train": (images, labels), "test": (images, labels)} as uint8 arrays from ``folder``."""
    npz = folder / MNIST_NPZ[kind]
    if npz.is_file():
        with np.load(npz, allow_pickle=False) as archive:
            return {part: (archive[f"x_{part}"], archive[f"y_{part}"]) for part in ("train", "test")}
    found = {part: [_find_idx(folder, name) for name in names] for part, names in MNIST_FILES.items()}
    if all(path is not None for paths in found.values() for path in paths):
        return {part: tuple(read_idx(path) for path in paths) for part, paths in found.items()}
    if download:
        data = fetch_openml(MNIST_OPENML[kind], version=1, as_frame=False, data_home=str(folder.parent))
        images = data.data.astype(np.uint8).reshape(-1, 28, 28)
        labels = data.target.astype(np.uint8)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(npz, x_train=images[:60000], y_train=labels[:60000],
                            x_test=images[60000:], y_test=labels[60000:])
        return _mnist_arrays(kind, folder, download=False)
    names = ", ".join(name + "[.gz]" for names in MNIST_FILES.values() for name in names)
    raise FileNotFoundError(
        f"load_mnist(kind={kind!r}) found no data in {folder}: put the four IDX files there ({names}) or a "
        f"Keras-style {MNIST_NPZ[kind]} (arrays x_train, y_train, x_test, y_test), pass path= to the folder "
        "that holds them, or call load_mnist(..., download=True) to fetch them once from OpenML"
    )


def load_mnist(kind="digits", path=None, split="both", dtype=np.float64, download=False):
    """MNIST (``kind="digits"``) or Fashion-MNIST (``kind="fashion"``) from local files.

    Reads, from the folder ``path`` (default: ``<scikit-learn data home>/mnist`` or
    ``/fashion-mnist``, see ``sklearn.datasets.get_data_home()``), either the four standard
    IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzipped ``.gz`` or not) or a
    Keras-style ``mnist.npz`` / ``fashion-mnist.npz``.  Nothing is downloaded unless
    ``download=True`` (then OpenML's copy is fetched by ``sklearn.datasets.fetch_openml`` and
    kept in the folder as the .npz).

    Pixels are scaled from 0..255 to [0, 1]; each image is one row of 784 = 28 x 28 numbers
    (``X.reshape(-1, 1, 28, 28)`` gives the images).  split="both" returns
    (X_train, X_test, y_train, y_test) like ``load_digits(split="both")``; "train" or "test"
    returns (X, y) of that part.  ``dtype=np.float32`` halves the memory (the training set is
    376 MB in float64).
    """
    if kind not in MNIST_FOLDERS:
        raise ValueError(f"kind must be 'digits' or 'fashion', got {kind!r}")
    if split not in ("both", "train", "test"):
        raise ValueError(f"split must be 'both', 'train' or 'test', got {split!r}")
    folder = Path(path) if path is not None else Path(get_data_home()) / MNIST_FOLDERS[kind]
    if path is not None and not folder.is_dir():
        raise FileNotFoundError(f"load_mnist: path {str(path)!r} is not a folder; pass the folder that holds "
                                "the IDX files or the .npz")
    arrays = _mnist_arrays(kind, folder, download)
    out = {}
    for part, (images, labels) in arrays.items():
        if images.ndim != 3 or labels.shape != (len(images),):
            raise ValueError(f"load_mnist: the {part} images have shape {images.shape} and the labels "
                             f"{labels.shape}; expected (n, height, width) and (n,)")
        X = images.reshape(len(images), -1).astype(dtype)
        X /= 255.0
        out[part] = (X, labels.astype(np.int64))
    if split == "both":
        return out["train"][0], out["test"][0], out["train"][1], out["test"][1]
    return out[split]
