"""The exercises under real nbgrader, as an instructor grades them.

One course is set up per test session in a temporary folder (tools/nbgrader_course.py:
``nbgrader generate_assignment``); the submissions (the instructor's versions, the released
versions, and instructor versions with one planted mistake each) are graded by one call of
``nbgrader autograde``.  The instructor version scores full marks, the released version zero,
every planted mistake less than full, and the feedback (the failing cell's AssertionError)
names the mistake.  The released notebook's errors are all in cells tagged raises-exception, so
Run All (which stops only at an untagged cell's error) reaches the last cell.
"""
import os
import shutil
import subprocess
import sys

import nbformat
import numpy as np
import pytest

import nbgrader_course as course_tool
from miniae import exercises, gradcheck
from miniae.layers import Activation
from notebooks import LESSONS, ROOT, exercise_notebooks, git_status

INSTRUCTOR = exercise_notebooks()  # relative to lessons/
NAMES = [p.stem for p in INSTRUCTOR]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# student id: (notebook, [(text in the instructor's solution, what the student wrote)], words the feedback must hold,
#              grade cells the student deleted)
MISTAKES = {
    "transposed-dw": ("ex02_dense", [('self.grads["W"][...] = self.x.T @ dy', 'self.grads["W"][...] = dy.T @ self.x')],
                      "transposed", ()),
    "no-batch-sum": ("ex02_dense", [('self.grads["b"][...] = dy.sum(axis=0)', 'self.grads["b"][...] = dy')],
                     "forgot the batch sum", ()),
    "no-one-over-n": ("ex04_sparsity", [("np.tile(grad_rho_hat / self.n, (self.n, 1))",
                                         "np.tile(grad_rho_hat, (self.n, 1))")],
                      "missing 1/N", ("ex04-kl-gradcheck",)),  # and deletes the check that catches it
    "variance-for-std": ("ex06_vae", [("return mu + np.exp(0.5 * logvar) * eps", "return mu + np.exp(logvar) * eps"),
                                      ("return dz, dz * eps * 0.5 * sigma", "return dz, dz * eps * np.exp(logvar)")],
                         "variance exp(logvar) where the standard deviation", ()),
    "kl-sign": ("ex06_vae", [("return mu / n, 0.5 * (np.exp(logvar) - 1) / n",
                              "return -mu / n, -0.5 * (np.exp(logvar) - 1) / n")], "sign error", ()),
    "adam-no-bias-correction": ("ex07_optimizers", [("m_hat = m / (1 - self.beta1 ** self.t)", "m_hat = m"),
                                                    ("v_hat = v / (1 - self.beta2 ** self.t)", "v_hat = v")],
                                "Adam without bias correction", ()),
    "no-sparsity-delta": ("ex08_sparse_autoencoder", [("delta2 = (delta3 @ W2.T + sparsity_delta) * a2",
                                                       "delta2 = (delta3 @ W2.T) * a2")],
                          "sparsity term's gradient", ()),
    "weight-decay-no-half": ("ex08_sparse_autoencoder", [("weight_decay = 0.5 * lam * (", "weight_decay = lam * (")],
                             "lost its factor 1/2", ()),
    "conv-dw-transposed": ("ex09_conv2d", [("(dy_mat.T @ self.cols).reshape", "(self.cols.T @ dy_mat).reshape")],
                           "dW transposed", ()),
    "conv-db-no-position-sum": ("ex09_conv2d", [('self.grads["b"][...] = dy.sum(axis=(0, 2, 3))',
                                                 'self.grads["b"][...] = dy.sum(axis=0)')],
                                "db is not summed over the positions", ()),
}


def test_there_are_at_least_six_exercises():
    assert len(INSTRUCTOR) >= 6
    assert [LESSONS / p for p in INSTRUCTOR] == course_tool.exercise_notebooks()


def grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("relative", INSTRUCTOR, ids=lambda p: p.stem)
def test_instructor_version_is_an_nbgrader_source_committed_clean(relative):
    nb = nbformat.read(str(LESSONS / relative), as_version=4)
    solution_cells = [c for c in nb.cells if c.cell_type == "code" and BEGIN in c.source]
    assert solution_cells, "an exercise needs at least one solution block"
    for cell in solution_cells:
        assert cell.source.count(BEGIN) == cell.source.count(END)
        assert cell.metadata["nbgrader"]["solution"] is True  # nbgrader needs solution cells marked
    checks = grade_cells(nb)
    assert len(checks) >= 3, "a gradient check, a known answer or a second check, and a learning check"
    for cell in checks:
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and meta["points"] > 0 and not meta["solution"], meta["grade_id"]
        assert "raises-exception" in cell.metadata.get("tags", []), f"{meta['grade_id']}: Run All must go on"
        assert "expect" in cell.source or "check" in cell.source, meta["grade_id"]
    assert any("learns" in c.metadata["nbgrader"]["grade_id"] for c in checks), "a learning check is graded"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{relative}: clear the outputs"


# ---------------------------------------------------------------- the graded course (one per session)
def plant(source_nb, replacements, deleted):
    nb = nbformat.read(str(source_nb), as_version=4)
    for old, new in replacements:
        hits = [c for c in nb.cells if old in c.source]
        assert len(hits) == 1, f"the planted mistake needs {old!r} once in {source_nb.name}"
        hits[0].source = hits[0].source.replace(old, new)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in deleted]
    return nb


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """{student: {notebook: (score, max score, autograded notebook)}} from one autograde call."""
    pytest.importorskip("nbgrader", reason="the [instructor] extra (nbgrader) is not installed")
    from nbgrader.api import Gradebook

    git_before = exercise_files_status()
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    release = course_tool.make_course(course)
    source = course / "source" / course_tool.ASSIGNMENT
    submitted = course / "submitted"
    for student, folder in (("instructor", source), ("released", release)):
        shutil.copytree(folder, submitted / student / course_tool.ASSIGNMENT)
    for student, (name, replacements, _, deleted) in MISTAKES.items():
        target = submitted / student / course_tool.ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(plant(source / f"{name}.ipynb", replacements, deleted), str(target / f"{name}.ipynb"))
    course_tool.nbgrader(course, "autograde", course_tool.ASSIGNMENT, "--force")
    results = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in ["instructor", "released", *MISTAKES]:
            results[student] = {}
            for name in NAMES:
                path = course / "autograded" / student / course_tool.ASSIGNMENT / f"{name}.ipynb"
                if path.exists():
                    nb = gradebook.find_submission_notebook(name, course_tool.ASSIGNMENT, student)
                    results[student][name] = (nb.score, nb.max_score, nbformat.read(str(path), as_version=4))
    results["git changes"] = sorted(set(exercise_files_status().splitlines()) ^ set(git_before.splitlines()))
    results["release"] = release
    return results


def exercise_files_status():
    """git status of the exercises and the course tools (others may edit the rest of the checkout meanwhile)."""
    status, why = git_status()
    if status is None:
        pytest.skip(why)
    return "\n".join(line for line in status.splitlines() if "lessons/exercises" in line or "tools/" in line)


def errors(nb):
    """[(grade id or cell id, tags, error text)] of every cell that raised."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                name = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id"))
                found.append((name, cell.metadata.get("tags", []), f"{out['ename']}: {out['evalue']}"))
    return found


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_instructor_version_scores_full_marks_and_raises_nowhere(graded, name):
    score, max_score, nb = graded["instructor"][name]
    assert max_score > 0 and score == max_score, errors(nb)
    assert errors(nb) == []


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_released_version_scores_zero_and_runs_to_the_last_cell(graded, name):
    score, max_score, nb = graded["released"][name]
    assert max_score > 0 and score == 0
    failed = errors(nb)
    assert failed, "every check of an unwritten exercise fails"
    # Run All stops only at an error in a cell not tagged raises-exception: there is none
    assert all("raises-exception" in tags for _, tags, _ in failed), failed
    assert all("AssertionError" in text and "not implemented" in text for _, _, text in failed), failed
    assert "exercise summary" in "".join(out.get("text", "") for out in nb.cells[-1].get("outputs", []))


@pytest.mark.notebooks
@pytest.mark.parametrize("student", list(MISTAKES))
def test_a_planted_mistake_scores_less_and_the_feedback_names_it(graded, student):
    name, _, words, deleted = MISTAKES[student]
    score, max_score, nb = graded[student][name]
    assert score < max_score, errors(nb)
    failed = errors(nb)
    assert any(words in text for _, _, text in failed), failed
    # (a deleted check cell comes back from the instructor's version, without its tags)
    assert all("raises-exception" in tags for grade_id, tags, _ in failed if grade_id not in deleted), failed


@pytest.mark.notebooks
def test_grading_writes_nothing_into_the_checkout(graded):
    assert graded["git changes"] == []


@pytest.mark.notebooks
def test_committed_student_copies_are_nbgraders_release(graded):
    stale = course_tool.stale_student_copies(graded["release"])
    assert stale == [], "run: python tools/nbgrader_course.py --student-copy"


# ---------------------------------------------------------------- the helpers the notebooks call
def test_the_package_no_longer_makes_student_versions():
    done = subprocess.run([sys.executable, "-m", "miniae.exercises"], capture_output=True, text=True,
                          cwd=ROOT.parent, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode != 0 and "nbgrader" in done.stderr


class Unwritten(Activation):
    def function(self, x):
        return x

    def backward(self, dy):
        raise NotImplementedError()


class ForgotDy(Activation):
    def function(self, x):
        return np.tanh(x)

    def backward(self, dy):
        return 1 - self.y ** 2


def test_check_raises_with_the_hint_and_summary_lists_what_ran(capsys):
    exercises.reset()
    with pytest.raises(AssertionError, match="not implemented yet"):
        exercises.check(gradcheck.check_layer(Unwritten(), np.ones((2, 3))), "unwritten")
    with pytest.raises(AssertionError, match="chain rule"):
        exercises.check(gradcheck.check_layer(ForgotDy(), np.linspace(-1, 1, 6).reshape(2, 3)), "forgot dy")
    with pytest.raises(AssertionError, match="skipped training: Unwritten.backward is not implemented yet"):
        with exercises.attempt("training"):
            Unwritten().backward(np.ones((2, 2)))
    assert exercises.expect(lambda: True, "a yes/no check")
    with pytest.raises(AssertionError, match="went flat"):
        exercises.expect(lambda: False, "learning", "went flat")
    assert exercises.summary() is False
    assert "exercise summary: 1 of 5 checks pass" in capsys.readouterr().out
    exercises.reset()


def test_expect_close_names_a_known_mistake_and_a_wrong_shape():
    x = np.array([1.0, 2.0])
    assert exercises.expect_close(lambda: x * 2, [2.0, 4.0], "double")
    with pytest.raises(AssertionError, match="squared instead"):
        exercises.expect_close(lambda: x ** 2 + 1, [2.0, 4.0], "double", mistakes=[(x ** 2 + 1, "squared instead")])
    with pytest.raises(AssertionError, match="shape"):
        exercises.expect_close(lambda: np.ones(3), [2.0, 4.0], "double")

    def writes_transposed():
        grad = np.zeros((3, 2))
        grad[...] = np.ones((2, 3))
        return grad
    with pytest.raises(AssertionError, match="transposed"):
        exercises.expect_close(writes_transposed, np.ones((3, 2)), "dW")
