import os

# Tests (and the notebook kernels they start, which inherit this environment) use one BLAS
# thread: the matrices here are small, and on a busy 2-core machine threaded BLAS spends more
# time synchronising than multiplying.  Must be set before NumPy loads its BLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402  (after the thread settings above)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from miniae.datasets import load_digits  # noqa: E402
from miniae.pca import PCA  # noqa: E402
from notebooks import EDITABLE, NUMERIC_ENVIRONMENTS, PACKAGE, ElsewhereRuns, NotebookRuns  # noqa: E402

matplotlib.use("Agg")
_RUNS = pytest.StashKey()
_ELSEWHERE = pytest.StashKey()


def pytest_report_header(config):
    how = "the checkout's source (editable install)" if EDITABLE else "an installed copy, not the checkout's source"
    return f"miniae under test: {PACKAGE} -- {how}"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits as miniae loads them: (1797, 64) in [0, 1]."""
    return load_digits()[0]


@pytest.fixture(scope="session")
def digits_pca(digits):
    return PCA(16).fit(digits)


@pytest.fixture(autouse=True)
def no_figure_files(monkeypatch):
    """Tests write no figure unless they ask for one (see plot.export_figure)."""
    monkeypatch.delenv("MINIAE_FIGURE_DIR", raising=False)
    yield
    plt.close("all")


@pytest.fixture(scope="session", autouse=True)
def start_the_one_thread_environments(elsewhere_runs):
    """The lessons' runs in the one-thread numeric environments start with the session, in the
    background, so that they run on the second core while this process runs the other tests."""
    for env_name in elsewhere_runs.wanted:
        if NUMERIC_ENVIRONMENTS[env_name][1] == 1:
            elsewhere_runs.start(env_name)


def pytest_collection_modifyitems(items):
    """The tests of lessons run with several BLAS threads go last: their runs start only when the
    one-thread runs are done, and they need both cores to themselves."""
    def threads(item):
        params = getattr(getattr(item, "callspec", None), "params", {})
        return NUMERIC_ENVIRONMENTS[params["env_name"]][1] if params.get("env_name") in NUMERIC_ENVIRONMENTS else 1
    items.sort(key=lambda item: threads(item) > 1)   # a stable sort: the order is otherwise kept


@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory, pytestconfig):
    """Every notebook executed at most once per session, in a temporary copy of lessons/."""
    runs = NotebookRuns(tmp_path_factory.mktemp("course"))
    pytestconfig.stash[_RUNS] = runs
    return runs


@pytest.fixture(scope="session")
def elsewhere_runs(tmp_path_factory, request):
    """The lessons this session tests in notebooks.NUMERIC_ENVIRONMENTS, each executed once there
    (started together, so that they can run side by side)."""
    wanted = {}   # {env_name: [lesson]}
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "elsewhere_runs" in getattr(item, "fixturenames", ()) and "env_name" in params:
            wanted.setdefault(params["env_name"], []).append(params["relative"])
    runs = ElsewhereRuns(tmp_path_factory.mktemp("elsewhere"), wanted)
    request.config.stash[_ELSEWHERE] = runs
    return runs


def pytest_terminal_summary(terminalreporter):
    runs = terminalreporter.config.stash.get(_RUNS, None)
    if runs is not None and runs.runs:
        runs = runs.runs
        terminalreporter.section("notebook run times")
        for run in runs.values():
            status = "ok" if run.error is None else "FAILED"
            terminalreporter.write_line(f"{run.seconds:7.1f} s  {status:<6} {run.name}")
        total = sum(run.seconds for run in runs.values())
        terminalreporter.write_line(f"{total:7.1f} s  total, {len(runs)} notebooks")
    elsewhere = terminalreporter.config.stash.get(_ELSEWHERE, None)
    if elsewhere is not None and elsewhere.seconds:
        terminalreporter.section("lesson run times in the other numeric environments")
        for (env_name, lesson), seconds in sorted(elsewhere.seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {env_name:<22} {lesson}")
