"""The exercise notebooks: instructor versions pass every check; student versions are what
tools/make_student_versions.py makes from them, run to the end and report "not implemented yet"
for every check.  miniae.exercises keeps only what the notebooks call while they run."""
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest

import make_student_versions as tool
from miniae import exercises, gradcheck
from miniae.layers import Activation
from notebooks import LESSONS, ROOT, cell_outputs_text, exercise_notebooks

INSTRUCTOR = exercise_notebooks()  # relative to lessons/
STUDENT = LESSONS / "exercises" / tool.STUDENT_FOLDER


def test_there_are_at_least_six_exercises():
    assert len(INSTRUCTOR) >= 6
    assert [LESSONS / p for p in INSTRUCTOR] == tool.exercise_notebooks()


@pytest.mark.parametrize("relative", INSTRUCTOR, ids=lambda p: p.stem)
def test_instructor_version_is_committed_clean_with_marked_solutions(relative):
    nb = nbformat.read(str(LESSONS / relative), as_version=4)
    solution_cells = [c for c in nb.cells if c.cell_type == "code" and tool.BEGIN in c.source]
    assert solution_cells, "an exercise needs at least one solution block"
    for cell in solution_cells:
        assert cell.source.count(tool.BEGIN) == cell.source.count(tool.END)
        assert cell.metadata["nbgrader"]["solution"] is True  # nbgrader needs solution cells marked
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{relative}: clear the outputs"


@pytest.mark.notebooks
@pytest.mark.parametrize("relative", INSTRUCTOR, ids=lambda p: p.stem)
def test_instructor_version_passes_every_check(relative, notebook_runs):
    text = cell_outputs_text(notebook_runs.get(relative).result())
    summary = re.search(r"exercise summary: all (\d+) checks pass", text)
    assert summary and int(summary.group(1)) >= 2, text[-2000:]
    assert "not implemented" not in text and "skipped" not in text


def test_committed_student_versions_are_what_the_tool_makes():
    assert tool.stale_student_versions() == [], "run: python tools/make_student_versions.py"
    assert sorted(p.name for p in STUDENT.glob("*.ipynb")) == [p.name for p in INSTRUCTOR]


def test_the_tool_runs_from_the_checkout_and_checks_the_committed_versions():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_student_versions.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(INSTRUCTOR)} student versions up to date" in done.stdout


@pytest.mark.parametrize("relative", INSTRUCTOR, ids=lambda p: p.stem)
def test_student_version_has_no_solution_left(relative):
    student = nbformat.read(str(STUDENT / relative.name), as_version=4)
    source = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in source and "END SOLUTION" not in source
    full = nbformat.read(str(LESSONS / relative), as_version=4)
    n_blocks = sum(cell.source.count(tool.BEGIN) for cell in full.cells)
    assert source.count("raise NotImplementedError()") == n_blocks


@pytest.mark.notebooks
@pytest.mark.parametrize("relative", INSTRUCTOR, ids=lambda p: p.stem)
def test_student_version_runs_to_the_end_and_says_not_implemented(relative, notebook_runs):
    run = notebook_runs.get(STUDENT.relative_to(LESSONS) / relative.name)
    text = cell_outputs_text(run.result())  # raises if any cell raised
    summary = re.search(r"exercise summary: 0 of (\d+) checks pass", text)
    assert summary and int(summary.group(1)) >= 2, text[-2000:]
    lines = text.split("exercise summary:")[1].strip().splitlines()[1:]
    assert lines and all(line.strip().startswith("not implemented") for line in lines), lines
    assert "not implemented yet" in text
    assert "Traceback" not in text


def test_strip_keeps_indentation_and_uses_nbgrader_stub():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    assert tool.strip_source(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
])
def test_strip_refuses_broken_markers(source, message):
    with pytest.raises(ValueError, match=message):
        tool.strip_source(source, "ex.ipynb, cell 3")


def test_tool_writes_to_out_and_check_detects_stale(tmp_path, capsys):
    assert tool.main(["--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert written == [p.name for p in INSTRUCTOR]
    assert tool.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / written[0]).write_text("{}", encoding="utf-8")
    assert tool.main(["--out", str(tmp_path), "--check"]) == 1
    assert written[0] in capsys.readouterr().out


def test_tool_takes_the_exercises_folder_and_refuses_one_without_exercises(tmp_path):
    (tmp_path / INSTRUCTOR[0].name).write_bytes((LESSONS / INSTRUCTOR[0]).read_bytes())
    assert tool.main([str(tmp_path)]) == 0
    assert [p.name for p in (tmp_path / "student").glob("*.ipynb")] == [INSTRUCTOR[0].name]
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):  # checking an empty folder is an error, not "all up to date"
        tool.main([str(tmp_path / "empty"), "--check"])


def test_the_package_no_longer_makes_student_versions():
    done = subprocess.run([sys.executable, "-m", "miniae.exercises", "strip", "--check"],
                          capture_output=True, text=True, cwd=ROOT.parent)
    assert done.returncode != 0 and "tools/make_student_versions.py" in done.stderr


def test_summary_and_attempt_report_not_implemented(capsys):
    class Unwritten(Activation):
        def function(self, x):
            return x

        def backward(self, dy):
            raise NotImplementedError()

    exercises.reset()
    report = exercises.check(gradcheck.check_layer(Unwritten(), np.ones((2, 3))), "unwritten")
    assert not report and report.status == "not implemented"
    with exercises.attempt("training"):
        Unwritten().forward(np.ones((2, 2)))
        Unwritten().backward(np.ones((2, 2)))
    assert exercises.expect(lambda: True, "a yes/no check")
    assert exercises.summary() is False
    out = capsys.readouterr().out
    assert "Unwritten.backward raised NotImplementedError" in out
    assert "skipped training: Unwritten.backward is not implemented yet" in out
    assert "exercise summary: 1 of 2 checks pass" in out
    exercises.reset()
