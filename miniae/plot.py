"""Plotting helpers (matplotlib).  Each returns the Figure and saves it only when given a path.

``export_figure(fig, name)`` is what the lessons call: it writes only into the folder that
the environment variable MINIAE_FIGURE_DIR names (``miniae figures`` sets it).
"""
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def export_figure(fig, name):
    """Write ``fig`` as ``name`` into the folder named by $MINIAE_FIGURE_DIR, if that is set.

    Lessons call this after drawing a figure: run by a student it writes nothing (the figure
    shows inline), run by the command that regenerates the README's figures (which sets
    MINIAE_FIGURE_DIR) it writes the PNG there.  Returns the path written, or None.
    """
    folder = os.environ.get("MINIAE_FIGURE_DIR")
    if not folder:
        return None
    path = Path(folder) / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def save_figure(fig, path):
    """Save ``fig`` to ``path`` (at the project's resolution) unless path is None; returns fig."""
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def image_grid(images, shape=None, n_cols=10, titles=None, row_labels=None, cmap="gray_r",
               vmin=0.0, vmax=1.0, cell=0.9, path=None, title=None):
    """Show images (n, h*w) or (n, h, w) in a grid of ``n_cols`` columns.  Returns the Figure."""
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
    return save_figure(fig, path)


def training_curves(history, keys=None, log=True, ax=None, path=None, title=None):
    """Plot per-epoch values of a History (default: loss and val_loss)."""
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
    return save_figure(fig, path)


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
    return save_figure(fig, path)


def decoded_grid(decode, extent=2.5, n=15, shape=(8, 8), ax=None, path=None, title=None):
    """Decode an n x n grid of 2-D latent points over [-extent, extent]^2 into one image mosaic.

    ``decode`` maps (m, 2) latent points to (m, h*w) images.  z_2 grows upwards, as on a map.
    """
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
    return save_figure(fig, path)


# --------------------------------------------------------------------------- latent-space plots
def _as_images(images, shape, name="images"):
    """(n, h*w) or (n, h, w) -> (n, h, w) floats; a square side is guessed when shape is None."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 3:
        return images
    if images.ndim != 2:
        raise ValueError(f"{name} must be (n, h*w) or (n, h, w), got shape {images.shape}")
    if shape is None:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"{name} have {images.shape[1]} pixels, not a square; pass shape=(h, w)")
        shape = (side, side)
    if shape[0] * shape[1] != images.shape[1]:
        raise ValueError(f"shape {tuple(shape)} has {shape[0] * shape[1]} pixels but {name} have {images.shape[1]}")
    return images.reshape(images.shape[0], *shape)


def mosaic_array(images, shape=None, n_cols=10, pad=1, fill=np.nan):
    """Tile images (n, h*w) or (n, h, w) into one 2-D array, ``n_cols`` per row, ``pad`` pixels apart.

    Returns (rows * (h + pad) - pad, n_cols * (w + pad) - pad); gaps and empty tiles hold ``fill``
    (NaN is drawn as the background by imshow).
    """
    images = _as_images(images, shape)
    n, h, w = images.shape
    n_cols = max(1, min(int(n_cols), n))
    n_rows = int(np.ceil(n / n_cols))
    out = np.full((n_rows * (h + pad) - pad, n_cols * (w + pad) - pad), fill, dtype=np.float64)
    for i in range(n):
        r, c = divmod(i, n_cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = images[i]
    return out


def image_mosaic(images, shape=None, n_cols=10, pad=1, cmap="gray_r", vmin=0.0, vmax=1.0, ax=None,
                 path=None, title=None, cell=0.6):
    """Images (n, h*w) or (n, h, w) as one tiled picture (fast for hundreds of images).  Returns the Figure."""
    tiled = mosaic_array(images, shape, n_cols, pad)
    if ax is None:
        h, w = _as_images(images, shape).shape[1:]
        rows, cols = tiled.shape[0] / (h + pad), tiled.shape[1] / (w + pad)
        fig, ax = plt.subplots(figsize=(max(2.0, cell * cols), max(1.0, cell * rows)))
    else:
        fig = ax.figure
    ax.imshow(tiled, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def attribute_scatter(points, values, ax=None, path=None, title=None, size=6, cmap="viridis", label=None):
    """2-D points (codes or a t-SNE embedding) coloured by a continuous attribute, with a colour bar.

    points: (n, 2); values: (n,) e.g. the smile of each face.  (For class labels use
    ``latent_scatter``.)  Returns the Figure.
    """
    points = np.asarray(points, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2), got {points.shape}; embed wider codes first (latent.tsne)")
    if values.shape != (points.shape[0],):
        raise ValueError(f"values must have shape ({points.shape[0]},), got {values.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.8, 4.0))
    else:
        fig = ax.figure
    dots = ax.scatter(points[:, 0], points[:, 1], s=size, c=values, cmap=cmap)
    bar = fig.colorbar(dots, ax=ax)
    if label:
        bar.set_label(label)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def interpolation_strip(rows, row_labels=None, shape=None, cmap="gray_r", vmin=0.0, vmax=1.0,
                        col_labels=None, path=None, title=None, cell=0.75):
    """Rows of images side by side, one labelled row per path (e.g. latent vs pixel interpolation).

    rows: a list of arrays, each (steps, h*w) or (steps, h, w) (same steps); row_labels: one
    string per row; col_labels: one per column (e.g. t values).  Returns the Figure.
    """
    rows = [_as_images(r, shape, "rows") for r in rows]
    steps = rows[0].shape[0]
    if any(r.shape[0] != steps for r in rows):
        raise ValueError(f"every row must have the same number of images, got {[r.shape[0] for r in rows]}")
    fig, axes = plt.subplots(len(rows), steps, figsize=(cell * steps + 1.2, cell * len(rows) + 0.3),
                             squeeze=False)
    for r, images in enumerate(rows):
        for c in range(steps):
            ax = axes[r, c]
            ax.imshow(images[c], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and col_labels is not None:
                ax.set_title(str(col_labels[c]), fontsize=7)
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], fontsize=8, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def filter_grid(weights, shape=None, n_cols=10, pad=1, path=None, title=None, ax=None, cell=0.6):
    """Show each column of a weight matrix W (n_pixels, n_units) as an image: what each unit looks for.

    Each filter is scaled by its own largest ``|value|`` and drawn with a diverging colour map
    (red positive, blue negative, white zero), so the patterns compare across units.  Returns the Figure.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2:
        raise ValueError(f"weights must be a 2-D matrix (n_pixels, n_units), got shape {weights.shape}")
    filters = weights.T / np.maximum(np.abs(weights).max(axis=0), 1e-12)[:, None]
    return image_mosaic(filters, shape=shape, n_cols=n_cols, pad=pad, cmap="RdBu_r", vmin=-1.0, vmax=1.0,
                        ax=ax, path=path, title=title, cell=cell)
