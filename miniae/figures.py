"""``miniae figures``: regenerate every PNG in figures/ from code, with fixed seeds.

Figures are drawn by the modules that own the experiment behind them.  Each module in
FIGURE_SOURCES defines

    FIGURES = {"file.png": "which lesson or command it belongs to", ...}
    make_figures(folder, quick=False) -> list of written paths

so the same code draws a figure for the README, for a lesson and for this command.
"""
import importlib
import time
from pathlib import Path

FIGURE_SOURCES = [
    "miniae.compare",        # linear AE vs PCA (lessons 01-02, miniae compare-pca)
    "miniae.regularized",    # sparse, denoising, contractive (lessons 03-05)
    "miniae.vae_figures",    # the variational autoencoder (lesson 06)
    "miniae.applications",   # latent space, anomalies, spectra (lessons 07-08)
]


def available_sources():
    """The figure modules that exist in this installation, imported."""
    modules = []
    for name in FIGURE_SOURCES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def add_arguments(parser):
    parser.add_argument("--out", default=None, help="folder to write to (default: the repo's figures/)")
    parser.add_argument("--quick", action="store_true", help="smaller, faster versions (for a smoke test)")
    parser.add_argument("--only", default=None, help="only the source modules whose name contains this")


def run(args):
    """Regenerate every figure (or those of one source with --only) and say where each belongs."""
    from .plot import figure_path
    from .threads import one_thread

    folder = Path(args.out) if args.out else figure_path("x.png").parent
    folder.mkdir(parents=True, exist_ok=True)
    for module in available_sources():
        if args.only and args.only not in module.__name__:
            continue
        start = time.perf_counter()
        with one_thread():  # the same bits on any machine (see miniae.threads)
            paths = module.make_figures(folder, quick=args.quick)
        for path in paths:
            where = module.FIGURES.get(Path(path).name, "")
            print(f"{Path(path).name:<40} {where}")
        print(f"  ({module.__name__}: {time.perf_counter() - start:.1f}s)", flush=True)
    return 0
