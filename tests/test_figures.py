"""Every PNG in figures/ is drawn by code: ``miniae figures`` regenerates all of them."""
import importlib
from pathlib import Path

import numpy as np

from miniae import compare, pca_figures
from miniae.datasets import load_digits
from miniae.figures import FIGURE_SOURCES

FIGURES_FOLDER = Path(__file__).resolve().parent.parent / "figures"


def listed_figures():
    """{file name: module that draws it} over every module of FIGURE_SOURCES; no name twice."""
    owners = {}
    for name in FIGURE_SOURCES:
        module = importlib.import_module(name)
        for figure in module.FIGURES:
            assert figure not in owners, f"{figure} is listed by {owners[figure]} and by {name}"
            owners[figure] = name
    return owners


def test_every_committed_png_is_listed_and_every_listed_figure_is_committed():
    committed = {path.name for path in FIGURES_FOLDER.glob("*.png")}
    listed = set(listed_figures())
    assert committed - listed == set(), "PNGs in figures/ that no make_figures draws"
    assert listed - committed == set(), "figures listed in a FIGURES dict but not committed"


def test_every_listed_figure_says_which_lesson_or_command_it_belongs_to():
    for name in FIGURE_SOURCES:
        for figure, where in importlib.import_module(name).FIGURES.items():
            assert figure.endswith(".png")
            assert "lesson" in where or "miniae " in where, (figure, where)


def test_compare_quick_make_figures_writes_every_file_it_lists(tmp_path, monkeypatch):
    monkeypatch.setattr(compare, "QUICK_CODE_SIZES", (2,))  # the lesson figures need code size 2 only
    paths = compare.make_figures(tmp_path, quick=True)
    assert sorted(Path(p).name for p in paths) == sorted(compare.FIGURES)
    for name in compare.FIGURES:
        assert (tmp_path / name).stat().st_size > 5000, name
    assert set(pca_figures.FIGURES) <= set(compare.FIGURES)


def test_tilt_excess_follows_the_eigengap_formula():
    X = load_digits()[0]
    n, d = X.shape
    lam = np.linalg.svd(X - X.mean(axis=0), compute_uv=False) ** 2 / (n - 1)
    degrees = np.array([0.0, 10.0, 30.0])
    for k in (4, 8):
        base = np.sum(lam[k:]) * (n - 1) / (n * d)
        formula = 100 * (n - 1) / (n * d) * (lam[k - 1] - lam[k]) * np.sin(np.radians(degrees)) ** 2 / base
        assert np.allclose(pca_figures.tilt_excess(X, k, degrees), formula, atol=1e-9)


def test_linear_ae_at_optimum_reconstructs_like_pca():
    from miniae.pca import PCA, linear_ae_at_optimum

    X = np.random.default_rng(0).standard_normal((40, 6)) @ np.random.default_rng(1).standard_normal((6, 6))
    model = linear_ae_at_optimum(X, 3)
    assert np.allclose(model.reconstruct(X), PCA(3).fit(X).reconstruct(X), atol=1e-10)
