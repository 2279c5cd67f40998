"""The regularized autoencoders' classic experiments, shared by lessons 03-05, tests and figures.

* sparse:      a 64-25-64 sigmoid autoencoder with a KL (or L1) sparsity penalty on 8x8
               patches of whitened photos, trained full batch by L-BFGS; its encoder filters,
               and how localized they are.
* denoising:   a plain and a denoising autoencoder of the same size on the digits, scored
               by the MSE between their reconstruction of a corrupted test digit and the clean one.
* contractive: a plain and a contractive autoencoder of the same size on the digits; the mean
               Frobenius norm of the encoder Jacobian on test digits, and the reconstruction cost.

Every function is seeded; the same call gives the same numbers.
"""
import numpy as np

from .datasets import image_patches, load_digits
from .models import Autoencoder
from .noise import GaussianNoise, MaskingNoise, SaltPepperNoise
from .optim import Adam
from .plot import save_figure
from .penalties import Contractive, KLSparsity, L1Sparsity, WeightDecay, jacobian_norm
from .train import fit, fit_lbfgs

FIGURES = {
    "sparse_filters.png": "lesson 03 (sparse): the 25 encoder filters of a sparse 64-25-64 AE on image patches",
    "sparse_activations.png": "lesson 03 (sparse): mean and individual code activations with and without the KL penalty",
    "denoising.png": "lesson 04 (denoising): noisy test digits and a plain vs a denoising AE's reconstructions",
    "denoising_levels.png": "lesson 04 (denoising): MSE to the clean digits against the noise level",
    "contraction.png": "lesson 05 (contractive): encoder Jacobian norm vs reconstruction error, plain vs contractive",
}

NOISE_KINDS = {"gaussian": GaussianNoise, "masking": MaskingNoise, "salt_pepper": SaltPepperNoise}


def make_noise(kind, level):
    """A noise of ``kind`` ('gaussian' -> sigma, 'masking' / 'salt_pepper' -> p) at ``level``."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {sorted(NOISE_KINDS)}, got {kind!r}")
    return NOISE_KINDS[kind](level)


# ------------------------------------------------------------------------- sparse
def filter_locality(filters, size=8, radius=2):
    """How localized each filter is: the fraction of its energy within ``radius`` pixels of its peak.

    filters: (size*size, k), one filter per column (an encoder's W).  For filter j the energy
    is w^2; the peak is the pixel with the most energy; the window is the (2 radius + 1)^2
    square around it (clipped at the border).  Returns (k,) fractions in [0, 1].  A filter
    spread evenly over an 8x8 patch scores about 25/64 = 0.39 with radius 2; one confined
    to a small blob or a short edge scores near 1.
    """
    filters = np.asarray(filters, dtype=np.float64)
    out = np.empty(filters.shape[1])
    for j in range(filters.shape[1]):
        energy = filters[:, j].reshape(size, size) ** 2
        row, col = np.unravel_index(np.argmax(energy), energy.shape)
        window = energy[max(0, row - radius):row + radius + 1, max(0, col - radius):col + radius + 1]
        out[j] = window.sum() / energy.sum()
    return out


# The classic constants (UFLDL): J = (1/N) sum_n (1/2)||x_n - x_hat_n||^2 + (1e-4 / 2) sum W^2
# + 3 sum_j KL(0.01 || rho_hat_j).  miniae's MSE is the mean over the N * 64 entries, i.e. J's
# first term divided by 64 / 2 = 32, so we divide the whole J by 32:
# beta = 3 / 32 and, since WeightDecay(lam) is lam * sum W^2, lam = 1e-4 / 2 / 32 = 1e-4 / 64.
CLASSIC_RHO, CLASSIC_BETA, CLASSIC_WEIGHT_DECAY = 0.01, 3 / 32, 1e-4 / 64
# On our two photos a twice stronger sparsity weight (beta = 6 in the exercise's units) gives
# more localized filters: filters with locality > 0.5 went from 72 / 76 / 64% to 84 / 80 / 72%
# for patch seeds 0 / 1 / 2 (5000 patches, 600 L-BFGS iterations).
SPARSE_BETA = 2 * CLASSIC_BETA


def sparse_patches(n_patches=5000, seed=0, downsample=4, contrast=0.3):
    """The patches of the sparse experiment: (n_patches, 64) in [0.1, 0.9].

    The classic recipe: each photo is whitened as a whole (``whiten_image``, after averaging
    ``downsample`` x ``downsample`` pixel blocks), then 8x8 patches are cut, each patch's mean is
    removed, and the values are truncated to +-3 std and rescaled to [0.1, 0.9].  One addition:
    a mild contrast normalisation (each patch divided by sqrt(its variance + ``contrast``); the
    whitened images have unit variance), because our two photos have large flat areas whose
    patches would otherwise carry little weight; it made the result less seed-dependent
    (localized filters 72% / 76% for seeds 0 / 1 against 72% / 48% without it).
    """
    return image_patches(n_patches, size=8, seed=seed, whiten_images=True, f0=0.4, downsample=downsample,
                         contrast=contrast)


def sparse_patch_autoencoder(penalty="kl", n_patches=5000, hidden=25, rho=CLASSIC_RHO, beta=SPARSE_BETA,
                             lam=1e-3, weight_decay=CLASSIC_WEIGHT_DECAY, max_iter=600, seed=0, patches=None):
    """Train the 64-``hidden``-64 sigmoid autoencoder on 8x8 patches; returns (model, patches, result).

    penalty: "kl" (KLSparsity(rho, beta)), "l1" (L1Sparsity(lam)) or None (no sparsity).
    A small WeightDecay is always on, as in the classic exercise; the defaults are that
    exercise's rho = 0.01 and lambda = 1e-4, rescaled to miniae's mean-squared error (see
    CLASSIC_BETA), and twice its beta (SPARSE_BETA = 6 / 32).  Trained full batch by ``fit_lbfgs`` for ``max_iter`` iterations;
    ``result`` is scipy's OptimizeResult.
    """
    patches = sparse_patches(n_patches, seed) if patches is None else patches
    penalties = [WeightDecay(weight_decay)]
    if penalty == "kl":
        penalties.insert(0, KLSparsity(rho, beta))
    elif penalty == "l1":
        penalties.insert(0, L1Sparsity(lam))
    elif penalty is not None:
        raise ValueError(f"penalty must be 'kl', 'l1' or None, got {penalty!r}")
    model = Autoencoder.mirrored([patches.shape[1], hidden], activation="sigmoid", code_activation="sigmoid",
                                 output="sigmoid", penalties=penalties, rng=seed)
    result = fit_lbfgs(model, patches, max_iter=max_iter)
    return model, patches, result


def encoder_filters(model):
    """The first encoder Dense layer's weights W: (n_features, code_size), one filter per column."""
    return model.encoder.layers[0].params["W"]


# ------------------------------------------------------------------------- digits pairs
def digit_autoencoder(sizes=(64, 32), penalties=(), noise=None, epochs=60, lr=3e-3, batch_size=64, seed=0,
                      X_train=None):
    """A sigmoid autoencoder (sigmoid code and output) trained on the digits' training split."""
    if X_train is None:
        X_train, _ = load_digits("train")
    model = Autoencoder.mirrored(list(sizes), activation="sigmoid", code_activation="sigmoid", output="sigmoid",
                                 penalties=list(penalties), noise=noise, rng=seed)
    fit(model, X_train, epochs=epochs, batch_size=batch_size, optimizer=Adam(lr))
    return model


def denoising_mse(model, X_clean, noise, seed=1):
    """Mean squared error between model.reconstruct(corrupted X) and the clean X (same corruption for every model given the seed)."""
    X_noisy = noise.corrupt(np.asarray(X_clean, dtype=np.float64), np.random.default_rng(seed))
    return float(np.mean((model.reconstruct(X_noisy) - X_clean) ** 2))


def denoising_pair(noise=None, sizes=(64, 32), epochs=60, seed=0):
    """(plain, denoising) autoencoders of the same size and seed; noise defaults to MaskingNoise(0.3)."""
    noise = MaskingNoise(0.3) if noise is None else noise
    return (digit_autoencoder(sizes, epochs=epochs, seed=seed),
            digit_autoencoder(sizes, noise=noise, epochs=epochs, seed=seed))


def denoising_curve(models, X_clean, kind="masking", levels=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5), seed=1):
    """{name: [MSE to clean at each level]} for a dict of models, plus "noisy input" (no model)."""
    curves = {name: [] for name in models}
    curves["noisy input"] = []
    for level in levels:
        noise = make_noise(kind, level)
        X_noisy = noise.corrupt(np.asarray(X_clean, dtype=np.float64), np.random.default_rng(seed))
        for name, model in models.items():
            curves[name].append(float(np.mean((model.reconstruct(X_noisy) - X_clean) ** 2)))
        curves["noisy input"].append(float(np.mean((X_noisy - X_clean) ** 2)))
    return curves


def contraction_pair(lam=3e-3, sizes=(64, 32), epochs=60, seed=0):
    """(plain, contractive) autoencoders of the same architecture and seed on the digits."""
    return (digit_autoencoder(sizes, epochs=epochs, seed=seed),
            digit_autoencoder(sizes, penalties=[Contractive(lam)], epochs=epochs, seed=seed))


def contraction_report(models, X):
    """{name: (mean encoder Jacobian Frobenius norm, mean reconstruction MSE)} on X (finite differences)."""
    return {name: (float(jacobian_norm(model.encode, X).mean()), float(model.reconstruction_error(X).mean()))
            for name, model in models.items()}


# ------------------------------------------------------------------------- figures
def plot_filters(filters, path=None, title=None):
    """Each column of ``filters`` (64, k) as an 8x8 image, each scaled to its own max |w| (grey = 0)."""
    from .plot import image_grid

    filters = np.asarray(filters, dtype=np.float64)
    scaled = filters / np.abs(filters).max(axis=0)
    n_cols = int(np.ceil(np.sqrt(filters.shape[1])))
    return image_grid(scaled.T, n_cols=n_cols, cmap="gray", vmin=-1, vmax=1, path=path, title=title)


def plot_denoising(models, X_clean, noise, n=8, seed=1, path=None):
    """Rows: clean, corrupted, then one row of reconstructions per model."""
    from .plot import image_grid

    X_clean = np.asarray(X_clean[:n], dtype=np.float64)
    X_noisy = noise.corrupt(X_clean, np.random.default_rng(seed))
    rows = [X_clean, X_noisy] + [model.reconstruct(X_noisy) for model in models.values()]
    labels = ["clean", f"{noise!r}"] + list(models)
    return image_grid(np.concatenate(rows), n_cols=n, row_labels=labels, path=path, cell=0.8)


def plot_activation_histograms(codes, path=None):
    """For a dict {name: codes (n, k)}: left, each unit's mean activation over the data;
    right, all activations h_nj (log counts).  Sparse codes pile up near 0 in both."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    bins = np.linspace(0, 1, 41)
    for name, code in codes.items():
        code = np.asarray(code)
        axes[0].hist(code.mean(axis=0), bins=bins, alpha=0.6, label=name)
        axes[1].hist(code.ravel(), bins=bins, alpha=0.6, label=name)
    axes[0].set_xlabel("mean activation of a code unit")
    axes[0].set_ylabel("number of units")
    axes[1].set_xlabel("activation h of a unit on one patch")
    axes[1].set_ylabel("count")
    axes[1].set_yscale("log")
    axes[0].legend()
    fig.tight_layout()
    return save_figure(fig, path)


def plot_denoising_levels(curves, levels, kind, path=None):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, values in curves.items():
        values = np.where(np.asarray(values) > 0, values, np.nan)  # log axis: leave out exact zeros
        ax.plot(levels, values, marker="o", label=name, linestyle="--" if name == "noisy input" else "-")
    ax.set_xlabel(f"{kind} noise level")
    ax.set_ylabel("MSE to the clean test digits")
    ax.set_yscale("log")
    ax.legend()
    return save_figure(fig, path)


def plot_contraction(report, path=None):
    """Bar pairs: mean Jacobian norm and reconstruction MSE for each model of ``contraction_report``."""
    import matplotlib.pyplot as plt

    names = list(report)
    fig, axes = plt.subplots(1, 2, figsize=(7, 3))
    for ax, index, label in ((axes[0], 0, "mean ||dh/dx||_F on test digits"),
                             (axes[1], 1, "reconstruction MSE on test digits")):
        values = [report[name][index] for name in names]
        ax.bar(names, values, color=["tab:blue", "tab:orange", "tab:green"][:len(names)])
        ax.set_title(label, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def make_figures(folder, quick=False):
    """Draw every figure of lessons 03-05 into ``folder``; returns the written paths."""
    import matplotlib.pyplot as plt
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    epochs = 10 if quick else None
    paths = []

    sparse, patches, _ = sparse_patch_autoencoder(**({"max_iter": 20, "n_patches": 2000} if quick else {}))
    paths.append(folder / "sparse_filters.png")
    plot_filters(encoder_filters(sparse), path=paths[-1],
                 title="encoder filters of a sparse 64-25-64 AE on 8x8 patches")
    dense, _, _ = sparse_patch_autoencoder(penalty=None, max_iter=20 if quick else 200, patches=patches)
    paths.append(folder / "sparse_activations.png")
    plot_activation_histograms({"KL sparsity": sparse.encode(patches), "no sparsity": dense.encode(patches)},
                               path=paths[-1])

    X_test, _ = load_digits("test")
    plain, dae = denoising_pair(epochs=epochs or 60)
    models = {"plain AE": plain, "denoising AE": dae}
    paths.append(folder / "denoising.png")
    plot_denoising(models, X_test, MaskingNoise(0.3), path=paths[-1])
    levels = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    paths.append(folder / "denoising_levels.png")
    plot_denoising_levels(denoising_curve(models, X_test, "masking", levels), levels, "masking", path=paths[-1])

    plain, cae = contraction_pair(epochs=epochs or 60)
    paths.append(folder / "contraction.png")
    plot_contraction(contraction_report({"plain AE": plain, "contractive AE": cae}, X_test), path=paths[-1])
    plt.close("all")
    return [str(p) for p in paths]
