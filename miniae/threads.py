"""One thread for BLAS and OpenMP while an experiment or a figure runs.

The matrices of the experiments, the PCA comparison and the figures are small: a second
thread saves little, and on a busy machine threads that wait for each other can make a
1-second experiment take 20 (measured: 19 s instead of 1 s for one code size of
``miniae compare-pca``).  One thread also gives the same bits on every machine: the
thread count changes how a product is summed, so its rounding, so a whole training run.
"""
import scipy.linalg  # noqa: F401  (SciPy's own BLAS loaded now, so that the limit reaches it too)
from threadpoolctl import threadpool_limits  # installed with scikit-learn


def one_thread():
    """Context manager: BLAS and OpenMP limited to one thread inside the ``with`` block."""
    return threadpool_limits(limits=1)
