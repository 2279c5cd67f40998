"""The exercise notebooks: instructor versions pass every check, student versions are generated
from them, run to the end and report "not implemented yet" for every check."""
import re

import nbformat
import pytest

from miniae import exercises
from notebooks import cell_outputs_text, run_notebook

INSTRUCTOR = exercises.exercise_notebooks()
STUDENT_DIR = exercises.EXERCISES / exercises.STUDENT_FOLDER


def test_there_are_at_least_six_exercises():
    assert len(INSTRUCTOR) >= 6




@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_instructor_version_is_committed_clean_with_marked_solutions(path):
    nb = nbformat.read(str(path), as_version=4)
    solution_cells = [c for c in nb.cells if c.cell_type == "code" and exercises.BEGIN in c.source]
    assert solution_cells, "an exercise needs at least one solution block"
    for cell in solution_cells:
        assert cell.source.count(exercises.BEGIN) == cell.source.count(exercises.END)
        assert cell.metadata["nbgrader"]["solution"] is True  # nbgrader needs solution cells marked
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_instructor_version_passes_every_check(path):
    nb = run_notebook(path, timeout=60)
    text = cell_outputs_text(nb)
    summary = re.search(r"exercise summary: all (\d+) checks pass", text)
    assert summary and int(summary.group(1)) >= 2, text[-2000:]
    assert "not implemented" not in text and "skipped" not in text


def test_committed_student_versions_are_up_to_date():
    assert exercises.stale_student_versions() == [], "run: python -m miniae.exercises strip"
    assert sorted(p.name for p in STUDENT_DIR.glob("*.ipynb")) == [p.name for p in INSTRUCTOR]


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_student_version_has_no_solution_left(path):
    student = nbformat.read(str(STUDENT_DIR / path.name), as_version=4)
    source = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in source and "END SOLUTION" not in source
    full = nbformat.read(str(path), as_version=4)
    n_blocks = sum(cell.source.count(exercises.BEGIN) for cell in full.cells)
    assert source.count("raise NotImplementedError()") == n_blocks


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_student_version_runs_to_the_end_and_says_not_implemented(path):
    nb = run_notebook(STUDENT_DIR / path.name, timeout=60)  # raises if any cell raises
    text = cell_outputs_text(nb)
    summary = re.search(r"exercise summary: 0 of (\d+) checks pass", text)
    assert summary and int(summary.group(1)) >= 2, text[-2000:]
    lines = text.split("exercise summary:")[1].strip().splitlines()[1:]
    assert lines and all(line.strip().startswith("not implemented") for line in lines), lines
    assert "not implemented yet" in text
    assert "Traceback" not in text


def test_strip_keeps_indentation_and_uses_nbgrader_stub():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    assert exercises.strip_source(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n")


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
])
def test_strip_refuses_broken_markers(source, message):
    with pytest.raises(ValueError, match=message):
        exercises.strip_source(source, "ex.ipynb, cell 3")


def test_strip_command_writes_to_out_and_check_detects_stale(tmp_path, capsys):
    assert exercises.main(["strip", "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert written == [p.name for p in INSTRUCTOR]
    assert exercises.main(["strip", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / written[0]).write_text("{}", encoding="utf-8")
    assert exercises.main(["strip", "--out", str(tmp_path), "--check"]) == 1
    assert written[0] in capsys.readouterr().out


def test_summary_and_attempt_report_not_implemented(capsys):
    from miniae import gradcheck
    from miniae.layers import Activation

    class Unwritten(Activation):
        def function(self, x):
            return x

        def backward(self, dy):
            raise NotImplementedError()

    exercises.reset()
    import numpy as np
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
