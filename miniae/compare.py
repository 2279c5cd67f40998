"""``miniae compare-pca``: PCA, a linear autoencoder and a nonlinear one, code size by code size.

For each code size k: PCA's reconstruction MSE, the linear AE's (trained to convergence; it
should match PCA), the nonlinear AE's (it can beat PCA), and the largest principal angle
between the linear AE's subspace and PCA's (small where the eigengap is large).
The two training recipes it uses, ``train_linear_ae`` and ``train_nonlinear_ae``, live here.
"""
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .datasets import load_digits
from .io import read_data
from .models import Autoencoder
from .optim import Adam
from .pca import PCA, decoder_subspace, eigengaps, max_principal_angle
from .plot import image_grid, save_figure
from .threads import one_thread
from .train import fit, train_linear_ae
from .validation import MiniaeInputError, check_data, check_positive_int

FIGURES = {
    "pca_vs_ae.png": "lesson 02 / miniae compare-pca (MSE against code size)",
    "pca_vs_ae_reconstructions.png": "lesson 02 / miniae compare-pca (reconstructions at code size 2)",
}

QUICK_CODE_SIZES = (1, 2, 4, 8)


def train_nonlinear_ae(X, k, hidden=64, epochs=100, lr=3e-3, batch_size=64, seed=0, verbose=False):
    """A d-hidden-k-hidden-d ReLU autoencoder trained with minibatch Adam; returns the model.

    The output is a sigmoid when every value of X lies in [0, 1] (e.g. the digits), else linear.
    """
    X = check_data(X, "X")
    k = check_positive_int(k, "k")
    output = "sigmoid" if X.min() >= 0 and X.max() <= 1 else "identity"
    model = Autoencoder.mirrored([X.shape[1], hidden, k], activation="relu", output=output, rng=seed)
    fit(model, X, epochs=epochs, batch_size=batch_size, optimizer=Adam(lr))
    if verbose:
        print(f"  nonlinear AE k={k}: MSE {_mse(model, X):.5f}", flush=True)
    return model


def _mse(model, X):
    return float(np.mean((model.reconstruct(X) - X) ** 2))


def load_data(path):
    """A (n, d) float array from a .npy or .csv file (``io.read_data``), with at least 3 rows and 2 columns."""
    X = read_data(path)
    if X.shape[0] < 3 or X.shape[1] < 2:
        raise MiniaeInputError(f"--data {Path(path).name} has shape {X.shape}; need at least 3 rows and 2 columns")
    return X


def compare(X, code_sizes, quick=False, seed=0, report=print):
    """Fit PCA, a linear AE and a nonlinear AE for every k in code_sizes; X: (n, d).

    Returns a list of row dicts (k, pca_mse, linear_mse, nonlinear_mse, max_angle, gap) and a
    dict {k: (pca, linear_model, nonlinear_model)}.  ``report`` gets one line per code size.
    """
    with one_thread():
        return _compare(X, code_sizes, quick, seed, report)


def _compare(X, code_sizes, quick, seed, report):
    full = PCA(min(X.shape[0] - 1, X.shape[1])).fit(X)
    gaps = eigengaps(full.all_variances_)
    steps, epochs = (600, 30) if quick else (3000, 100)
    rows, models = [], {}
    for k in code_sizes:
        start = time.perf_counter()
        pca = PCA(k).fit(X)
        linear = train_linear_ae(X, k, full_batch_steps=steps, seed=seed)
        nonlinear = train_nonlinear_ae(X, k, epochs=epochs, seed=seed)
        row = {"k": k, "pca_mse": pca.reconstruction_mse(X),
               "linear_mse": _mse(linear, X), "nonlinear_mse": _mse(nonlinear, X),
               "max_angle": max_principal_angle(decoder_subspace(linear), pca.components_.T),
               "gap": float(gaps[k - 1]) if k - 1 < len(gaps) else float("nan")}
        rows.append(row)
        models[k] = (pca, linear, nonlinear)
        report(format_row(row) + f"   ({time.perf_counter() - start:.1f}s)")
    return rows, models


HEADER = " k   PCA MSE  linear AE  nonlin AE  lin/PCA  max angle  eigengap"


def format_row(row):
    return (f"{row['k']:>2}  {row['pca_mse']:.5f}    {row['linear_mse']:.5f}    {row['nonlinear_mse']:.5f}"
            f"   {row['linear_mse'] / row['pca_mse']:.4f}   {row['max_angle']:7.2f}°    {row['gap']:6.3f}")


def plot_mse_curves(rows, path=None):
    """MSE against code size, one curve each for PCA, the linear AE and the nonlinear AE."""

    ks = [r["k"] for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(ks, [r["pca_mse"] for r in rows], "o-", color="black", label="PCA", lw=2.5, ms=5)
    ax.plot(ks, [r["linear_mse"] for r in rows], "x--", color="tab:orange", label="linear AE", ms=7)
    ax.plot(ks, [r["nonlinear_mse"] for r in rows], "s-", color="tab:blue", label="nonlinear AE (ReLU)", ms=4)
    ax.set_xlabel("code size k")
    ax.set_ylabel("reconstruction MSE")
    ax.set_yscale("log")
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("linear AE = PCA; a nonlinear AE does better")
    return save_figure(fig, path)


def plot_reconstructions(X, pca, linear, nonlinear, n=10, path=None):
    """Originals and the three reconstructions at one code size (images if d is a square, else curves)."""

    X = X[:n]
    rows = [X, pca.reconstruct(X), linear.reconstruct(X), nonlinear.reconstruct(X)]
    k = pca.components_.shape[0]
    labels = ["original", f"PCA k={k}", f"linear AE k={k}", f"nonlinear AE k={k}"]
    side = int(round(np.sqrt(X.shape[1])))
    if side * side == X.shape[1]:
        lo, hi = float(X.min()), float(X.max())  # the originals' range; reconstructions may overshoot
        return image_grid(np.concatenate(rows), n_cols=len(X), row_labels=labels, vmin=lo, vmax=hi, path=path)
    fig, axes = plt.subplots(1, min(n, 5), figsize=(3 * min(n, 5), 2.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        for row, label, style in zip(rows, labels, ["k-", "C1--", "C2:", "C0-"]):
            ax.plot(row[i], style, label=label, lw=1.2)
        ax.set_title(f"sample {i}", fontsize=8)
    axes.flat[0].legend(fontsize=7)
    return save_figure(fig, path)


def add_arguments(parser):
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="a .npy or .csv file of shape (n, d), numbers only (default: the digits)")
    parser.add_argument("--max-code", type=int, default=16, help="code sizes 1..MAX_CODE (default 16)")
    parser.add_argument("--show-code", type=int, default=2, help="code size of the reconstruction figure (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help=f"code sizes {', '.join(map(str, QUICK_CODE_SIZES))} and shorter training (under 30 s)")
    parser.add_argument("--out", default=None,
                        help="folder for the figures (default: ./compare-pca-figures/ in the current folder)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every model (default 0)")


def code_sizes_for(X, max_code, quick, show_code):
    """The code sizes to run: 1..max_code (QUICK_CODE_SIZES with --quick, plus show_code), below d."""
    if max_code < 1 or show_code < 1:
        raise MiniaeInputError(f"--max-code and --show-code must be positive, got {max_code} and {show_code}")
    limit = min(X.shape[1] - 1, X.shape[0] - 1)
    sizes = [k for k in QUICK_CODE_SIZES if k <= max_code] if quick else list(range(1, max_code + 1))
    sizes = sorted({k for k in sizes + [show_code] if k <= limit})
    if not sizes:
        raise MiniaeInputError(f"the data has {X.shape[1]} features; code sizes must be below that")
    return sizes


def run(args):
    """Compare PCA, a linear autoencoder and a nonlinear autoencoder at code sizes 1..16.

    Prints a table (one row per code size, as each finishes): reconstruction MSE of PCA, of
    a linear AE trained to convergence and of a ReLU AE, their ratio, the largest principal
    angle between the linear AE's subspace and PCA's, and the relative eigengap
    (lambda_k - lambda_k+1) / lambda_k.  Writes pca_vs_ae.png and pca_vs_ae_reconstructions.png
    into --out (default ./compare-pca-figures/).
    """
    if args.data:
        X, name = load_data(args.data), Path(args.data).name
    else:
        X, name = load_digits()[0], "the digits (1797 x 64, pixels in [0, 1])"
    sizes = code_sizes_for(X, args.max_code, args.quick, args.show_code)
    folder = Path(args.out or "compare-pca-figures")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"compare-pca on {name}: code sizes {sizes[0]}..{sizes[-1]}{' (quick)' if args.quick else ''}", flush=True)
    print(HEADER, flush=True)
    start = time.perf_counter()
    rows, models = compare(X, sizes, quick=args.quick, seed=args.seed,
                           report=lambda line: print(line, flush=True))
    print(f"done in {time.perf_counter() - start:.1f}s")
    show_code = args.show_code if args.show_code in models else sizes[0]
    for path in write_figures(X, rows, models, folder, show_code=show_code):
        print(f"wrote {path}")
    return 0


def write_figures(X, rows, models, folder, show_code=2):
    """pca_vs_ae.png and pca_vs_ae_reconstructions.png (at code size show_code) into folder; returns their paths."""

    folder = Path(folder)
    paths = [folder / "pca_vs_ae.png", folder / "pca_vs_ae_reconstructions.png"]
    plot_mse_curves(rows, path=paths[0])
    plot_reconstructions(X, *models[show_code], path=paths[1])
    plt.close("all")
    return paths


def make_figures(folder, quick=False):
    """The two figures of ``miniae compare-pca`` on the digits (seed 0) into folder; returns their paths.

    ``quick`` runs code sizes 1, 2, 4, 8 with shorter training (a smoke test)."""
    X = load_digits()[0]
    sizes = sorted(set(QUICK_CODE_SIZES) | {2}) if quick else list(range(1, 17))
    rows, models = compare(X, sizes, quick=quick, seed=0, report=lambda line: None)
    return [str(p) for p in write_figures(X, rows, models, folder, show_code=2)]
