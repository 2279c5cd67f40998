"""miniae.threads: the experiments and figures run on one BLAS thread, and the limit is lifted after."""
import scipy.linalg  # noqa: F401  (every BLAS library loaded before the outer limits below)
from threadpoolctl import threadpool_info, threadpool_limits

from miniae.threads import one_thread


def blas_threads():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_one_thread_inside_and_the_old_limit_after():
    with threadpool_limits(limits=2):
        with one_thread():
            assert blas_threads() == {1}
        assert blas_threads() == {2}
