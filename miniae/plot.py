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


# ---------------------------------------------------------------- latent spaces (lesson 06)
def tile_images(images, n_cols, shape=(8, 8), pad=1, fill=0.0):
    """Images (n, h*w) -> one mosaic array (rows * (h + pad) - pad, n_cols * (w + pad) - pad)."""
    images = np.asarray(images, dtype=np.float64).reshape(-1, *shape)
    n_rows = int(np.ceil(len(images) / n_cols))
    h, w = shape
    mosaic = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad), fill)
    for i, image in enumerate(images):
        r, c = divmod(i, n_cols)
        mosaic[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = image
    return mosaic


def latent_scatter(codes, labels=None, ax=None, marks=None, path=None, title=None, size=6):
    """2-D codes (n, 2) as points coloured by class label; ``marks`` (m, 2) drawn as black crosses."""
    import matplotlib.pyplot as plt

    codes = np.asarray(codes, dtype=np.float64)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4.4))
    else:
        fig = ax.figure
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=size, alpha=0.7)
    else:
        labels = np.asarray(labels)
        cmap = plt.get_cmap("tab10")
        for k in np.unique(labels):
            pick = labels == k
            ax.scatter(codes[pick, 0], codes[pick, 1], s=size, color=cmap(int(k) % 10), label=str(k), alpha=0.8)
        ax.legend(markerscale=2.5, fontsize=7, ncol=2, loc="best", framealpha=0.7)
    if marks is not None:
        marks = np.asarray(marks)
        ax.scatter(marks[:, 0], marks[:, 1], marker="x", color="black", s=30, linewidths=1.2)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return _finish(fig, path)


def decoded_grid(decode, extent=2.5, n=15, shape=(8, 8), ax=None, path=None, title=None):
    """Decode an n x n grid of 2-D latent points over [-extent, extent]^2 into one image mosaic.

    ``decode`` maps (m, 2) latent points to (m, h*w) images.  z_2 grows upwards, as on a map.
    """
    import matplotlib.pyplot as plt

    values = np.linspace(-extent, extent, n)
    z1, z2 = np.meshgrid(values, values[::-1])
    images = decode(np.column_stack([z1.ravel(), z2.ravel()]))
    mosaic = tile_images(images, n, shape=shape, pad=1)  # a blank pixel between tiles
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 6))
    else:
        fig = ax.figure
    edge = extent + extent / (n - 1)  # each tile is centred on its grid point
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, extent=(-edge, edge, -edge, edge), interpolation="nearest")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return _finish(fig, path)
