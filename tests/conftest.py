import os

# Tests (and the notebook kernels they start, which inherit this environment) use one BLAS
# thread: the matrices here are small, and on a busy 2-core machine threaded BLAS spends more
# time synchronising than multiplying.  Must be set before NumPy loads its BLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

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
