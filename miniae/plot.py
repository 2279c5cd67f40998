"""Plotting helpers (matplotlib).  Each returns the Figure and saves it when given a path.

``figure_path(name)`` says where the project's figures go: the folder named by the
environment variable MINIAE_FIGURES, else ``figures/`` next to the package (the repo's).
"""
import os
from pathlib import Path

import numpy as np


def figure_path(name):
    """Path for a figure file called ``name`` (its folder is created if needed)."""
    folder = Path(os.environ.get("MINIAE_FIGURES") or Path(__file__).resolve().parent.parent / "figures")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def image_grid(images, shape=None, n_cols=10, titles=None, row_labels=None, cmap="gray_r",
               vmin=0.0, vmax=1.0, cell=0.9, path=None, title=None):
    """Show images (n, h*w) or (n, h, w) in a grid of ``n_cols`` columns.  Returns the Figure."""
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=np.float64)
    n = images.shape[0]
    if images.ndim == 2:
        if shape is None:
            side = int(round(np.sqrt(images.shape[1])))
            if side * side != images.shape[1]:
                raise ValueError(f"images have {images.shape[1]} pixels, not a square; pass shape=(h, w)")
            shape = (side, side)
        images = images.reshape(n, *shape)
    n_cols = min(n_cols, n)
    n_rows = int(np.ceil(n / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        if i < n:
            ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=7)
    if row_labels is not None:
        for r, label in enumerate(row_labels):
            axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def training_curves(history, keys=None, log=True, ax=None, path=None, title=None):
    """Plot per-epoch values of a History (default: loss and val_loss)."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.2))
    else:
        fig = ax.figure
    keys = keys or [k for k in ("loss", "val_loss") if k in history]
    for key in keys:
        ax.plot(history.epochs, history[key], label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return _finish(fig, path)
