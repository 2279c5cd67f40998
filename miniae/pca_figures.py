"""The experiments behind lessons 01 and 02 and their figures (digits, fixed seeds).

Lesson 01 trains a first autoencoder; lesson 02 compares linear autoencoders with PCA.  The
lessons call these functions and read the numbers they return; ``make_figures`` draws every
lesson-01 and lesson-02 PNG with the lessons' settings (``miniae.compare.make_figures`` calls
it, so ``miniae figures`` regenerates them).
"""
from pathlib import Path

import numpy as np

from . import pca as P
from .datasets import load_digits

FIGURES = {
    "lesson01_training.png": "lesson 01: training and test MSE of a 64-32-8-32-64 autoencoder",
    "lesson01_reconstructions.png": "lesson 01: test digits and their reconstructions from 8 numbers",
    "lesson02_principal_angles.png": "lesson 02: a linear AE's subspace turning onto PCA's (principal angle)",
    "lesson02_components.png": "lesson 02: PCA's components, those recovered from a linear AE, its raw decoder",
    "lesson02_ordered_decay_angles.png": "lesson 02: ordered weight decay turns each decoder row onto its component",
    "lesson02_ordered_decay.png": "lesson 02: decoder rows under uniform and ordered weight decay, next to PCA",
    "lesson02_eigengap.png": "lesson 02: extra MSE of a tilted subspace; small eigengaps make tilts cheap",
    "lesson02_reconstructions.png": "lesson 02: PCA, linear AE and nonlinear AE reconstructions at code size 2",
    "lesson02_codes_2d.png": "lesson 02: 2-D codes of PCA and of a nonlinear AE, coloured by digit",
}


# ------------------------------------------------------------------------- lesson 01
def train_first_autoencoder(X_train, X_test, code_size=8, hidden=32, epochs=60, seed=0):
    """Lesson 01's hourglass d-hidden-code-hidden-d: ReLU, linear code, sigmoid output.

    Minibatch Adam(3e-3), batch 64, MSE, X_test as validation.  Returns (model, history).
    """
    from .models import Autoencoder
    from .optim import Adam
    from .train import fit

    model = Autoencoder.mirrored([X_train.shape[1], hidden, code_size], activation="relu", output="sigmoid",
                                 rng=seed)
    history = fit(model, X_train, epochs=epochs, batch_size=64, optimizer=Adam(3e-3), validation=X_test)
    return model, history


def plot_reconstructions_from_code(model, X, n=10, path=None):
    """The first n rows of X (images) above the model's reconstructions of them."""
    from .plot import image_grid

    X = X[:n]
    code_size = model.encode(X[:1]).shape[1]
    return image_grid(np.vstack([X, model.reconstruct(X)]), n_cols=n,
                      row_labels=["test digit", f"from {code_size} numbers"], path=path)


# ------------------------------------------------------------------------- lesson 02
def principal_angle_run(X, k=4, epochs=20, full_batch_steps=1500, decay=0.998, seed=0):
    """Train a linear AE (``pca.train_linear_ae``) and log its largest principal angle to PCA's
    top-k subspace after every minibatch epoch, then every full_batch_steps // 100 steps.

    Returns (model, angles in degrees).
    """
    log = P.PrincipalAngleLog(P.PCA(k).fit(X).components_)
    model = P.train_linear_ae(X, k, epochs=epochs, full_batch_steps=full_batch_steps, decay=decay,
                              callbacks=[log], seed=seed)
    return model, np.array(log.angles)


def ordered_decay_run(X, k=4, strength=0.8, epochs=20, full_batch_steps=3000, seed=0):
    """Train a linear AE with ``OrderedWeightDecay(ordered_decay_weights(X, k, strength))`` and log
    the angle of each raw decoder row to its principal direction.

    Returns (model, penalty weights (k,), angles (logged steps, k) in degrees).
    """
    lams = P.ordered_decay_weights(X, k, strength=strength)
    log = P.DirectionAngleLog(P.PCA(k).fit(X).components_)
    model = P.train_linear_ae(X, k, ordered_decay=lams, epochs=epochs, full_batch_steps=full_batch_steps,
                              seed=seed, callbacks=[log])
    return model, lams, np.array(log.angles)


def _log_axis_label(epochs, full_batch_steps):
    return f"epoch (then every {max(1, full_batch_steps // 100)} full-batch steps)"


def plot_principal_angles(angles, k, epochs=20, full_batch_steps=1500, path=None):
    """The largest principal angle (degrees, log scale) against the logged epochs/steps."""
    import matplotlib.pyplot as plt

    from .plot import save_figure

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.semilogy(np.arange(1, len(angles) + 1), angles)
    ax.axvline(epochs, color="gray", ls=":")
    ax.text(epochs + 1, angles[0], f"full-batch steps\n(logged every {max(1, full_batch_steps // 100)})",
            fontsize=8, va="top")
    ax.set_xlabel(_log_axis_label(epochs, full_batch_steps))
    ax.set_ylabel("max principal angle (degrees)")
    ax.set_title(f"linear AE (k={k}) turning onto PCA's subspace")
    return save_figure(fig, path)


def plot_components(reference, recovered, W_dec, path=None):
    """Three rows of k images: PCA's directions, the recovered ones (signs aligned), the raw decoder."""
    from .plot import image_grid

    images = np.vstack([reference, P.align_signs(recovered, reference), W_dec])
    return image_grid(images, n_cols=len(reference), cmap="RdBu_r", vmin=-0.5, vmax=0.5,
                      row_labels=["PCA", "recovered", "raw decoder"], path=path)


def plot_ordered_decay_angles(angles, epochs=20, full_batch_steps=3000, path=None):
    """Angle of each raw decoder row to its principal direction (degrees, log scale); angles: (t, k)."""
    import matplotlib.pyplot as plt

    from .plot import save_figure

    fig, ax = plt.subplots(figsize=(6, 3.4))
    for j in range(angles.shape[1]):
        ax.semilogy(np.arange(1, len(angles) + 1), angles[:, j], label=f"row {j + 1}")
    ax.axvline(epochs, color="gray", ls=":")
    ax.axhline(5, color="gray", ls="--", lw=0.8)
    ax.set_xlabel(_log_axis_label(epochs, full_batch_steps))
    ax.set_ylabel("angle to principal direction j (degrees)")
    ax.set_title("ordered decay: each raw decoder row turns onto its component", fontsize=10)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_decoder_rows(reference, W_uniform, W_ordered, path=None):
    """PCA's directions, then the raw decoder rows (unit length) under uniform and ordered decay."""
    from .plot import image_grid

    def unit(W):
        return W / np.linalg.norm(W, axis=1, keepdims=True)

    rows = [reference, unit(W_uniform), P.align_signs(unit(W_ordered), reference)]
    return image_grid(np.vstack(rows), n_cols=len(reference), cmap="RdBu_r", vmin=-0.5, vmax=0.5,
                      row_labels=["PCA", "uniform decay", "ordered decay"], path=path)


def tilt_excess(X, k, degrees):
    """Extra MSE, in % of PCA's, when the top-k subspace is tilted by each angle in ``degrees``.

    The tilt turns direction k towards direction k+1: v_k -> cos(t) v_k + sin(t) v_{k+1}.  The
    error then grows by (n-1)/(n d) (lambda_k - lambda_{k+1}) sin^2(t), so a small eigengap
    makes a tilt almost free.  Returns an array shaped like ``degrees``.
    """
    full = P.PCA(k + 1).fit(X)
    base = P.PCA(k).fit(X).reconstruction_mse(X)
    excess = []
    for t in np.radians(np.asarray(degrees, dtype=np.float64)).ravel():
        basis = full.components_[:k].copy()
        basis[-1] = np.cos(t) * full.components_[k - 1] + np.sin(t) * full.components_[k]
        R = (X - full.mean_) @ basis.T @ basis + full.mean_
        excess.append(np.mean((X - R) ** 2))
    return (100 * (np.array(excess) / base - 1)).reshape(np.shape(degrees))


def plot_eigengap(X, ks=(4, 8, 13), max_degrees=30, path=None):
    """``tilt_excess`` against the tilt, one curve per code size (labelled with its relative gap)."""
    import matplotlib.pyplot as plt

    from .plot import save_figure

    gaps = P.eigengaps(P.PCA(min(X.shape[0] - 1, X.shape[1])).fit(X).all_variances_)
    degrees = np.linspace(0, max_degrees, max_degrees + 1)
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for k in ks:
        ax.plot(degrees, tilt_excess(X, k, degrees), label=f"k={k} (gap {gaps[k - 1]:.2f})")
    ax.axhline(1, color="gray", ls=":")
    ax.set_xlabel("tilt of the subspace (degrees)")
    ax.set_ylabel("extra MSE (% of PCA's)")
    ax.legend()
    ax.set_title("a small eigengap makes tilts nearly free")
    return save_figure(fig, path)


def plot_codes_2d(codes, labels, path=None):
    """Side-by-side scatter plots of 2-D codes; codes: {title: (n, 2)}, labels: (n,) digit classes."""
    import matplotlib.pyplot as plt

    from .plot import save_figure

    fig, axes = plt.subplots(1, len(codes), figsize=(5 * len(codes), 4.3), squeeze=False)
    for ax, (title, Z) in zip(axes.flat, codes.items()):
        points = ax.scatter(Z[:, 0], Z[:, 1], c=labels, cmap="tab10", s=5, vmin=-0.5, vmax=9.5)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(points, ax=axes.ravel().tolist(), ticks=range(10), label="digit")
    return save_figure(fig, path)


# ---------------------------------------------------------------------- all figures
def make_figures(folder, quick=False, nonlinear2=None):
    """Draw every lesson-01 and lesson-02 figure into ``folder``; returns the written paths.

    The settings are the lessons' (seed 0); ``quick`` trains for a few steps only (a smoke test).
    ``nonlinear2``: an already trained ``pca.train_nonlinear_ae(X, 2, seed=0)`` model to reuse.
    """
    import matplotlib.pyplot as plt

    from .compare import plot_reconstructions
    from .plot import training_curves

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []

    def path(name):
        paths.append(str(folder / name))
        return paths[-1]

    # lesson 01
    X_train, X_test = load_digits(split="both")[:2]
    model, history = train_first_autoencoder(X_train, X_test, epochs=2 if quick else 60)
    training_curves(history, title="64-32-8-32-64 on the digits", path=path("lesson01_training.png"))
    plot_reconstructions_from_code(model, X_test, path=path("lesson01_reconstructions.png"))
    plt.close("all")

    # lesson 02
    X, y = load_digits()
    k, epochs = 4, (1 if quick else 20)
    angle_steps, decay_steps, ordered_steps = (20, 20, 20) if quick else (1500, 1500, 3000)
    reference = P.PCA(k).fit(X).components_
    linear, angles = principal_angle_run(X, k, epochs=epochs, full_batch_steps=angle_steps)
    plot_principal_angles(angles, k, epochs=epochs, full_batch_steps=angle_steps,
                          path=path("lesson02_principal_angles.png"))
    recovered, _ = P.components_from_linear_ae(linear, X)
    plot_components(reference, recovered, P.linear_ae_weights(linear)[2], path=path("lesson02_components.png"))

    decayed = P.train_linear_ae(X, k, weight_decay=1e-3, epochs=epochs, full_batch_steps=decay_steps,
                                decay=0.998, seed=0)
    ordered, _, row_angles = ordered_decay_run(X, k, epochs=epochs, full_batch_steps=ordered_steps)
    plot_ordered_decay_angles(row_angles, epochs=epochs, full_batch_steps=ordered_steps,
                              path=path("lesson02_ordered_decay_angles.png"))
    plot_decoder_rows(reference, P.linear_ae_weights(decayed)[2], P.linear_ae_weights(ordered)[2],
                      path=path("lesson02_ordered_decay.png"))
    plot_eigengap(X, path=path("lesson02_eigengap.png"))
    plt.close("all")

    pca2 = P.PCA(2).fit(X)
    if nonlinear2 is None:
        nonlinear2 = P.train_nonlinear_ae(X, 2, hidden=64, epochs=2 if quick else 100, seed=0)
    plot_reconstructions(X, pca2, P.linear_ae_at_optimum(X, 2), nonlinear2, path=path("lesson02_reconstructions.png"))
    plot_codes_2d({"PCA (2 components)": pca2.transform(X), "nonlinear AE (code size 2)": nonlinear2.encode(X)},
                  y, path=path("lesson02_codes_2d.png"))
    plt.close("all")
    return paths
