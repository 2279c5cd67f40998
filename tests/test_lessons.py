"""Every lesson notebook is committed without outputs and executes top to bottom; executing every
notebook (lessons, exercises, student versions) writes nothing into the installed package, into
the checkout or beside the notebooks.

Notebooks run once per session (the ``notebook_runs`` fixture of conftest), each in a fresh
kernel working in a temporary copy of lessons/, so the kernel imports the installed miniae.
"""
import json
import os

import nbformat
import pytest

from miniae.claims import band_text
from notebooks import (
    EDITABLE,
    LESSONS,
    NUMERIC_ENVIRONMENTS,
    PACKAGE,
    ROOT,
    git_status,
    lesson_notebooks,
    printed_claims,
)

SWEEP = ROOT / "tools" / "claims"

LESSON_FILES = lesson_notebooks()


@pytest.mark.parametrize("relative", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_is_committed_without_outputs(relative):
    nb = nbformat.read(str(LESSONS / relative), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{relative} has outputs committed; clear them"
            assert cell.execution_count is None


@pytest.mark.notebooks
@pytest.mark.parametrize("relative", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_executes(relative, notebook_runs):
    nb = notebook_runs.get(relative).result()
    assert any(cell.cell_type == "code" and cell.outputs for cell in nb.cells)
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "import miniae" in source or "from miniae" in source, "a lesson builds on miniae"


def sweep_bands(relative):
    """{claim name: band as claim() prints it} from the lesson's claims-sweep record."""
    path = SWEEP / f"{relative.stem}.json"
    assert path.exists(), f"no claims sweep for {relative}: run python tools/claims_sweep.py {LESSONS.name}/{relative}"
    bands = {}
    for run in json.loads(path.read_text())["runs"]:
        for c in run["claims"]:
            bands[c["name"]] = band_text(c["above"], c["below"])
    return bands


@pytest.mark.parametrize("relative", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_has_one_seed_for_the_sweep(relative):
    nb = nbformat.read(str(LESSONS / relative), as_version=4)
    first = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert "\nSEED = 0 " in "\n" + first.source, f"{relative}'s first code cell should set SEED = 0 (swept)"


@pytest.mark.parametrize("relative", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_draws_and_prints_before_it_claims(relative):
    """A cell that draws a figure shows it before its first claim, so a claim that fails on some machine
    still leaves the student the figure of what was measured."""
    nb = nbformat.read(str(LESSONS / relative), as_version=4)
    late = []
    for index, cell in enumerate(nb.cells):
        source = cell.source if cell.cell_type == "code" else ""
        if "claim(" in source:
            last_figure = max(source.rfind("plt.show()"), source.rfind("export_figure("))
            if last_figure > source.index("claim("):
                late.append(index)
    assert not late, f"{relative}: cells {late} claim before they show their figure"


@pytest.mark.notebooks
@pytest.mark.parametrize("relative", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_claims_are_the_swept_ones(relative, notebook_runs):
    """Every claim the lesson prints was swept with the same band, and every swept claim is still made:
    a band changed or a claim added after the sweep means the table no longer backs the lesson."""
    printed = printed_claims(notebook_runs.get(relative).result())
    assert printed, f"{relative} asserts no claim with miniae.claims.claim"
    swept = sweep_bands(relative)
    changed = {name: (band, swept.get(name)) for name, band in printed.items() if swept.get(name) != band}
    assert not changed, f"claims of {relative} not in its sweep with this band (printed, swept): {changed}"
    gone = sorted(set(swept) - set(printed))
    assert not gone, f"the sweep of {relative} has claims the lesson no longer makes: {gone}; rerun the sweep"


@pytest.mark.notebooks
@pytest.mark.parametrize("env_name", list(NUMERIC_ENVIRONMENTS))
@pytest.mark.parametrize("relative", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_holds_in_another_numeric_environment(relative, env_name, elsewhere_runs):
    nb, error = elsewhere_runs.get(env_name, relative)
    kernel, threads = NUMERIC_ENVIRONMENTS[env_name]
    assert error is None, f"{relative} with OPENBLAS_CORETYPE={kernel} and {threads} BLAS threads:\n{error}"
    assert printed_claims(nb)


@pytest.mark.skipif(os.environ.get("MINIAE_TEST_INSTALLED") != "1",
                    reason="only where MINIAE_TEST_INSTALLED=1 says the wheel is installed (.ci/run sets it)")
def test_the_tests_import_the_installed_wheel_not_the_checkout():
    assert not EDITABLE, f"miniae comes from the checkout's source {PACKAGE}: the checkout leaks onto sys.path"


def failures(runs, attribute):
    return {run.name: getattr(run, attribute) for run in runs if getattr(run, attribute)}


@pytest.mark.notebooks
def test_notebook_kernels_import_the_miniae_under_test(notebook_runs):
    runs = [run for run in notebook_runs.all() if run.error is None]
    wrong = {run.name: run.kernel_miniae for run in runs
             if run.kernel_miniae is None or not os.path.samefile(os.path.dirname(run.kernel_miniae), PACKAGE)}
    assert not wrong, f"the tests use {PACKAGE}, but these notebook kernels imported miniae from: {wrong}"


@pytest.mark.notebooks
def test_notebooks_write_nothing_into_the_installed_package(notebook_runs):
    if EDITABLE:
        pytest.skip(f"miniae is an editable install ({PACKAGE} is the checkout's source); "
                    "install the wheel (pip install .) to test site-packages")
    bad = failures(notebook_runs.all(), "package_changes")
    assert not bad, f"notebooks wrote into the installed package {PACKAGE} or beside it: {bad}"


@pytest.mark.notebooks
def test_notebooks_leave_git_status_of_the_checkout_unchanged(notebook_runs):
    status, reason = git_status()
    if status is None:
        pytest.skip(reason)
    bad = failures(notebook_runs.all(), "git_changes")
    assert not bad, f"executing these notebooks changed `git status` of {ROOT}: {bad}"


@pytest.mark.notebooks
def test_notebooks_write_no_file_beside_themselves(notebook_runs):
    bad = failures(notebook_runs.all(), "copy_changes")
    assert not bad, f"these notebooks wrote files into (the copy of) lessons/ or next to it: {bad}"
