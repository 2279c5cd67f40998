"""``miniae compare-pca``: PCA, a linear autoencoder and a nonlinear one, code size by code size.

A quarter of the rows is held out; everything is fitted on the rest. For each code size k:
on the training rows, PCA's reconstruction MSE and the linear AE's (trained to convergence: the
theorem says it reaches PCA's optimum there) and the largest principal angle between the linear
AE's subspace and PCA's (small where the eigengap is large); on the held-out rows, PCA's MSE and
the nonlinear AE's (a better compressor must win on data it was not fitted to).
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


HELD_OUT = 0.25   # the fraction of rows held out for the nonlinear AE's comparison with PCA


def split(X, seed=0):
    """(training rows, held-out rows) of X: a random HELD_OUT fraction (at least one row) is held out."""
    order = np.random.default_rng(seed).permutation(X.shape[0])
    n_held = max(1, int(round(HELD_OUT * X.shape[0])))
    return X[order[n_held:]], X[order[:n_held]]


def compare(X, code_sizes, quick=False, seed=0, report=print):
    """Fit PCA, a linear AE and a nonlinear AE for every k in code_sizes on the training rows of X
    (``split``); X: (n, d).

    Returns a list of row dicts (k; on the training rows pca_mse, linear_mse, nonlinear_mse,
    max_angle, gap; on the held-out rows pca_test_mse, nonlinear_test_mse) and a dict
    {k: (pca, linear_model, nonlinear_model)}.  ``report`` gets one line per code size.
    """
    with one_thread():
        return _compare(X, code_sizes, quick, seed, report)


def _compare(X, code_sizes, quick, seed, report):
    X_train, X_held = split(X, seed)
    full = PCA(min(X_train.shape[0] - 1, X_train.shape[1])).fit(X_train)
    gaps = eigengaps(full.all_variances_)
    steps, epochs = (600, 30) if quick else (3000, 100)
    rows, models = [], {}
    for k in code_sizes:
        start = time.perf_counter()
        pca = PCA(k).fit(X_train)
        linear = train_linear_ae(X_train, k, full_batch_steps=steps, seed=seed)
        nonlinear = train_nonlinear_ae(X_train, k, epochs=epochs, seed=seed)
        row = {"k": k, "pca_mse": pca.reconstruction_mse(X_train),
               "linear_mse": _mse(linear, X_train), "nonlinear_mse": _mse(nonlinear, X_train),
               "pca_test_mse": pca.reconstruction_mse(X_held), "nonlinear_test_mse": _mse(nonlinear, X_held),
               "max_angle": max_principal_angle(decoder_subspace(linear), pca.components_.T),
               "gap": float(gaps[k - 1]) if k - 1 < len(gaps) else float("nan")}
        rows.append(row)
        models[k] = (pca, linear, nonlinear)
        report(format_row(row) + f"   ({time.perf_counter() - start:.1f}s)")
    return rows, models


HEADER = ("    training rows                                           held-out rows\n"
          " k   PCA MSE  linear AE  lin/PCA  max angle  eigengap     PCA MSE  nonlin AE")


def format_row(row):
    """One line of compare-pca's table: code size, PCA's and the linear AE's training MSE, their ratio,
    the largest principal angle, the eigengap, and the held-out MSE of PCA and the nonlinear AE."""
    return (f"{row['k']:>2}  {row['pca_mse']:.5f}    {row['linear_mse']:.5f}   {row['linear_mse'] / row['pca_mse']:.4f}"
            f"   {row['max_angle']:7.2f}°    {row['gap']:6.3f}     {row['pca_test_mse']:.5f}    "
            f"{row['nonlinear_test_mse']:.5f}")


def plot_mse_curves(rows, path=None):
    """MSE against code size: PCA and the linear AE on the training rows (left), PCA and the
    nonlinear AE on the held-out rows (right)."""

    ks = [r["k"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), sharey=True)
    left, right = axes
    left.plot(ks, [r["pca_mse"] for r in rows], "o-", color="black", label="PCA", lw=2.5, ms=5)
    left.plot(ks, [r["linear_mse"] for r in rows], "x--", color="tab:orange", label="linear AE", ms=7)
    left.set_title("training rows: the linear AE reaches PCA", fontsize=10)
    right.plot(ks, [r["pca_test_mse"] for r in rows], "o-", color="black", label="PCA", lw=2.5, ms=5)
    right.plot(ks, [r["nonlinear_test_mse"] for r in rows], "s-", color="tab:blue", label="nonlinear AE (ReLU)", ms=4)
    right.set_title(f"held-out rows ({HELD_OUT:.0%}): PCA vs a nonlinear AE", fontsize=10)
    left.set_ylabel("reconstruction MSE")
    for ax in axes:
        ax.set_xlabel("code size k")
        ax.set_yscale("log")
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)


def plot_reconstructions(X, pca, linear, nonlinear, n=10, path=None):
    """Originals and the three reconstructions at one code size (images if d is a square, else curves);
    X: the rows to show (compare-pca shows held-out rows)."""

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
    """Add the arguments of ``miniae compare-pca`` to ``parser``."""
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
    n_train = X.shape[0] - len(split(X[:, :1])[1])   # the rows everything is fitted on
    limit = min(X.shape[1] - 1, n_train - 1)
    sizes = [k for k in QUICK_CODE_SIZES if k <= max_code] if quick else list(range(1, max_code + 1))
    sizes = sorted({k for k in sizes + [show_code] if k <= limit})
    if not sizes:
        raise MiniaeInputError(f"the data has {X.shape[1]} features; code sizes must be below that")
    return sizes


def run(args):
    """Compare PCA, a linear autoencoder and a nonlinear autoencoder at code sizes 1..16.

    Holds out a quarter of the rows and prints a table (one row per code size, as each finishes):
    on the training rows the reconstruction MSE of PCA and of a linear AE trained to convergence,
    their ratio, the largest principal angle between the linear AE's subspace and PCA's and the
    relative eigengap (lambda_k - lambda_k+1) / lambda_k; on the held-out rows the MSE of PCA and
    of a ReLU AE.  Writes pca_vs_ae.png and pca_vs_ae_reconstructions.png (held-out rows) into
    --out (default ./compare-pca-figures/).
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
    for path in write_figures(X, rows, models, folder, show_code=show_code, seed=args.seed):
        print(f"wrote {path}")
    return 0


def write_figures(X, rows, models, folder, show_code=2, seed=0):
    """pca_vs_ae.png and pca_vs_ae_reconstructions.png (at code size show_code, of the held-out rows of
    ``split(X, seed)``) into folder; returns their paths."""

    folder = Path(folder)
    paths = [folder / "pca_vs_ae.png", folder / "pca_vs_ae_reconstructions.png"]
    plot_mse_curves(rows, path=paths[0])
    plot_reconstructions(split(X, seed)[1], *models[show_code], path=paths[1])
    plt.close("all")
    return paths


def make_figures(folder, quick=False):
    """The two figures of ``miniae compare-pca`` on the digits (seed 0) into folder; returns their paths.

    ``quick`` runs code sizes 1, 2, 4, 8 with shorter training (a smoke test)."""
    X = load_digits()[0]
    sizes = sorted(set(QUICK_CODE_SIZES) | {2}) if quick else list(range(1, 17))
    rows, models = compare(X, sizes, quick=quick, seed=0, report=lambda line: None)
    return [str(p) for p in write_figures(X, rows, models, folder, show_code=2)]
