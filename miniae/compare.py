"""``miniae compare-pca``: PCA, a linear autoencoder and a nonlinear one, code size by code size.

For each code size k: PCA's reconstruction MSE, the linear AE's (trained to convergence; it
should match PCA), the nonlinear AE's (it can beat PCA), and the largest principal angle
between the linear AE's subspace and PCA's (small where the eigengap is large).
"""
import time
from pathlib import Path

import numpy as np

from . import pca_figures
from .threads import one_thread
from .validation import MiniaeInputError, check_data

FIGURES = {
    "pca_vs_ae.png": "lesson 02 / miniae compare-pca (MSE against code size)",
    "pca_vs_ae_reconstructions.png": "lesson 02 / miniae compare-pca (reconstructions at code size 2)",
    **pca_figures.FIGURES,  # lessons 01 and 02, drawn by pca_figures.make_figures
}

QUICK_CODE_SIZES = (1, 2, 4, 8)


def load_data(path):
    """A (n, d) float array from a .npy or .csv file (numbers only, no header)."""
    path = Path(path)
    if not path.exists():
        raise MiniaeInputError(f"--data: no file at {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        elif suffix == ".csv":
            data = np.loadtxt(path, delimiter=",", ndmin=2)
        else:
            raise MiniaeInputError(f"--data must be a .npy or .csv file, got {path.name!r}")
    except MiniaeInputError:
        raise
    except ValueError as exc:
        raise MiniaeInputError(f"--data {path.name}: could not read it as numbers ({exc}); "
                               "a .csv must hold only numbers separated by commas, no header") from None
    X = check_data(data, f"--data {path.name}")
    if X.shape[0] < 3 or X.shape[1] < 2:
        raise MiniaeInputError(f"--data {path.name} has shape {X.shape}; need at least 3 rows and 2 columns")
    return X


def compare(X, code_sizes, quick=False, seed=0, report=print):
    """Fit PCA, a linear AE and a nonlinear AE for every k in code_sizes; X: (n, d).

    Returns a list of row dicts (k, pca_mse, linear_mse, nonlinear_mse, max_angle, gap) and a
    dict {k: (pca, linear_model, nonlinear_model)}.  ``report`` gets one line per code size.
    """
    from .pca import PCA, decoder_subspace, eigengaps, max_principal_angle, train_linear_ae, train_nonlinear_ae

    with one_thread():
        return _compare(X, code_sizes, quick, seed, report)


def _compare(X, code_sizes, quick, seed, report):
    from .pca import PCA, decoder_subspace, eigengaps, max_principal_angle, train_linear_ae, train_nonlinear_ae

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
               "linear_mse": float(np.mean((linear.reconstruct(X) - X) ** 2)),
               "nonlinear_mse": float(np.mean((nonlinear.reconstruct(X) - X) ** 2)),
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
    import matplotlib.pyplot as plt

    from .plot import save_figure

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
    import matplotlib.pyplot as plt

    from .plot import save_figure, image_grid

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
                        help="folder for the figures (default: the repo's figures/ for the full run on the digits, "
                             "./compare-pca-figures/ with --quick or --data)")
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
    (lambda_k - lambda_k+1) / lambda_k.  Writes pca_vs_ae.png and pca_vs_ae_reconstructions.png.
    """
    from .datasets import load_digits
    from .plot import figure_path

    if args.data:
        X, name = load_data(args.data), Path(args.data).name
    else:
        X, name = load_digits()[0], "the digits (1797 x 64, pixels in [0, 1])"
    sizes = code_sizes_for(X, args.max_code, args.quick, args.show_code)
    if args.out:
        folder = Path(args.out)
    elif args.quick or args.data:  # never overwrite the committed full-digits figures with these
        folder = Path("compare-pca-figures")
    else:
        folder = figure_path("x.png").parent
    folder.mkdir(parents=True, exist_ok=True)
    print(f"compare-pca on {name}: code sizes {sizes[0]}..{sizes[-1]}{' (quick)' if args.quick else ''}", flush=True)
    print(HEADER, flush=True)
    start = time.perf_counter()
    rows, models = compare(X, sizes, quick=args.quick, seed=args.seed,
                           report=lambda line: print(line, flush=True))
    print(f"done in {time.perf_counter() - start:.1f}s")
    for path in write_figures(X, rows, models, folder, show_code=args.show_code if args.show_code in models else sizes[0]):
        print(f"wrote {path}")
    return 0


def write_figures(X, rows, models, folder, show_code=2):
    import matplotlib.pyplot as plt

    folder = Path(folder)
    paths = [folder / "pca_vs_ae.png", folder / "pca_vs_ae_reconstructions.png"]
    plot_mse_curves(rows, path=paths[0])
    plot_reconstructions(X, *models[show_code], path=paths[1])
    plt.close("all")
    return paths


def make_figures(folder, quick=False):
    """The two figures of ``miniae compare-pca`` on the digits (seed 0), and every figure of
    lessons 01 and 02 (``pca_figures.make_figures``, which reuses the code-size-2 nonlinear AE)."""
    from .datasets import load_digits

    X = load_digits()[0]
    sizes = sorted(set(QUICK_CODE_SIZES) | {2}) if quick else list(range(1, 17))
    rows, models = compare(X, sizes, quick=quick, seed=0, report=lambda line: None)
    paths = [str(p) for p in write_figures(X, rows, models, folder, show_code=2)]
    with one_thread():
        paths += pca_figures.make_figures(folder, quick=quick, nonlinear2=models[2][2])
    return paths
