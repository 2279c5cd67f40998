import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def figures_to_tmp(tmp_path, monkeypatch):
    """Figures drawn during tests go to a temporary folder, never over the committed ones."""
    monkeypatch.setenv("MINIAE_FIGURES", str(tmp_path / "figures"))
    yield
    import matplotlib.pyplot as plt
    plt.close("all")
