"""The exercises under real nbgrader, as an instructor grades them, against students who err and cheat.

One course is set up per test session in a temporary folder (tools/nbgrader_course.py:
``nbgrader generate_assignment``) and every submission is graded by ``nbgrader autograde``
(two copies of the course, graded side by side on the two halves of the submissions):

* the instructor's versions score full marks and raise nowhere; the released versions score
  zero and run to the last cell (Run All stops only at an untagged cell's error);
* every planted mistake of ``tests/planted/<exercise>.py`` scores less than full marks, and the
  feedback (the failing cell's AssertionError) contains that mistake's hint;
* tampering never scores full marks: a planted mistake together with redefined check helpers,
  with every other check cell edited and the rest deleted, and (on three exercises: the defence
  is code they all share) with the check helpers replaced inside miniae or IPython's error
  display switched off, or the kernel killed (os._exit) from an answer cell, which autograde survives;
* deleting cells never stops autograde: every check cell deleted (they come back from the
  instructor's version, run, and a right answer keeps full marks), or every check and solution
  cell deleted (zero).

``MINIAE_EXERCISES=ex02,ex07`` limits every test here to those exercises (while writing one).
Static tests read the instructor's notebooks: every check cell names its own grade id and
points, refuses miniae's reference implementation, and uses no name it does not import or
define except the student's own.
"""
import builtins
import importlib.util
import os
import subprocess
import symtable
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest

import nbgrader_course as course_tool
from miniae import exercises, gradcheck
from miniae.layers import Activation, Dense
from notebooks import LESSONS, ROOT, exercise_notebooks, git_status

INSTRUCTOR = exercise_notebooks()  # relative to lessons/
if os.environ.get("MINIAE_EXERCISES"):  # e.g. MINIAE_EXERCISES=ex02,ex07: grade only these (while writing one)
    INSTRUCTOR = [p for p in INSTRUCTOR if p.stem.split("_")[0] in os.environ["MINIAE_EXERCISES"].split(",")]
NAMES = [p.stem for p in INSTRUCTOR]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
PLANTED = Path(__file__).resolve().parent / "planted"


def planted_mistakes(name):
    """{mistake: ([(text in the instructor's version, what the student wrote)], words the feedback must hold)}"""
    path = PLANTED / f"{name}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(f"planted_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISTAKES


MISTAKES = {f"{name.split('_')[0]}-{mistake}": (name, *row)
            for name in NAMES for mistake, row in planted_mistakes(name).items()}

# what a student who wants the points without the work writes into their notebook
NO_OP_HELPERS = """
import contextlib
check = expect = expect_close = lambda *args, **kwargs: None
expect_same_training = lambda *args, **kwargs: (None, None)
graded = own_work = lambda *args, **kwargs: contextlib.nullcontext()
"""
PATCHED_HELPERS = """
import contextlib
import miniae.exercises
import miniae.gradcheck
miniae.exercises.check = miniae.exercises.expect = miniae.exercises.expect_close = lambda *args, **kwargs: None
miniae.exercises.expect_same_training = lambda *args, **kwargs: (None, None)
"""
SILENCED_ERRORS = """
get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)
get_ipython().showtraceback = lambda *args, **kwargs: None
"""
# tampering: (what is done to a notebook with a planted mistake, words the feedback must hold or None,
#             the exercises it is tried on: None for all)
# The defences are code every exercise shares (grade cells that import what they call, which the static
# test above checks in every exercise; nbgrader's restored check cells; miniae.exercises; IPython), so
# four exercises with different kinds of checks stand for all (CI time): a layer (ex02), an optimizer
# (ex07), a whole model (ex08), a recurrent layer's two parts (ex10). Deleted cells are tried on every one.
SHARED = ("ex02", "ex07", "ex08", "ex10")
TAMPERING = {
    "redefined": ("no-op helpers defined in the import cell and in every solution cell", None, SHARED),
    "edited": ("every other check cell's code replaced by `pass`, the others deleted", None, SHARED),
    "patched": ("the helpers replaced inside miniae.exercises", "replaced by code from", ("ex02", "ex07", "ex08")),
    "silenced": ("IPython's error display switched off", None, ("ex02", "ex07", "ex08")),
    # the kernel killed from an answer cell: autograde goes on (tools/nbgrader_config.py, SurviveDeadKernel)
    "killed": ("the kernel killed by os._exit in an answer cell", "the kernel died", ("ex02",)),
}


def tampered_with(name, how):
    where = TAMPERING[how][2]
    return where is None or name.split("_")[0] in where


def test_there_are_at_least_six_exercises_each_with_planted_mistakes():
    if not os.environ.get("MINIAE_EXERCISES"):
        assert len(INSTRUCTOR) >= 6
        assert [LESSONS / p for p in INSTRUCTOR] == course_tool.exercise_notebooks()
    for name in NAMES:
        assert len(planted_mistakes(name)) >= 3, f"tests/planted/{name}.py: plant the classic mistakes"
    if not os.environ.get("MINIAE_EXERCISES"):
        assert sorted(p.stem for p in PLANTED.glob("*.py")) == sorted(NAMES)


def grade_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def solution_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


def without(nb, cells):
    """nb with these of its cells deleted, as a student deletes them."""
    nb.cells = [c for c in nb.cells if not any(c is gone for gone in cells)]
    return nb


def read(relative):
    return nbformat.read(str(LESSONS / relative), as_version=4)


@pytest.mark.parametrize("relative", INSTRUCTOR, ids=lambda p: p.stem)
def test_instructor_version_is_an_nbgrader_source_committed_clean(relative):
    nb = read(relative)
    solutions = [c for c in nb.cells if c.cell_type == "code" and BEGIN in c.source]
    assert solutions, "an exercise needs at least one solution block"
    for cell in solutions:
        assert cell.source.count(BEGIN) == cell.source.count(END)
        assert cell.metadata["nbgrader"]["solution"] is True  # nbgrader needs solution cells marked
    checks = grade_cells(nb)
    assert len(checks) >= 3, "a gradient check, a known answer or a second check, and a learning check"
    for cell in checks:
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and meta["points"] > 0 and not meta["solution"], meta["grade_id"]
        assert "raises-exception" in cell.metadata.get("tags", []), f"{meta['grade_id']}: Run All must go on"
    assert any("learns" in c.metadata["nbgrader"]["grade_id"] for c in checks), "a learning check is graded"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{relative}: clear the outputs"


def top_level_names(source):
    """Names a cell binds at its top level (classes, functions, assignments, imports)."""
    table = symtable.symtable(source, "<cell>", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


def free_names(source):
    """Names a cell reads but never binds, in any of its scopes (they come from elsewhere)."""
    module = symtable.symtable(source, "<cell>", "exec")
    bound = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    free, tables = set(), [module]
    while tables:
        table = tables.pop()
        tables += table.get_children()
        for s in table.get_symbols():
            reads = s.is_referenced() and (table is module or s.is_global())
            if reads and s.get_name() not in bound and not (table is module and s.is_assigned()):
                free.add(s.get_name())
    return free - set(dir(builtins))


@pytest.mark.parametrize("relative", INSTRUCTOR, ids=lambda p: p.stem)
def test_every_check_cell_depends_only_on_itself_and_the_students_answer(relative):
    """Redefining a helper anywhere in the notebook cannot change a check: each check cell
    imports what it calls; the only names it takes from the notebook are the student's."""
    nb = read(relative)
    students = set().union(*(top_level_names(c.source) for c in solution_cells(nb)))
    for cell in grade_cells(nb):
        meta = cell.metadata["nbgrader"]
        outside = free_names(cell.source) - students
        assert not outside, f"{meta['grade_id']} uses {sorted(outside)} from other cells: import or define them in it"
        opening = f'with graded("{meta["grade_id"]}", points={meta["points"]}'
        assert opening in cell.source, f"{meta['grade_id']}: its body runs in {opening}...)"
        assert "refuse=[" in cell.source, f"{meta['grade_id']}: refuse miniae's implementation of the exercise"
        last = cell.source.strip().splitlines()[-1]
        assert last.startswith((" ", "\t")), f"{meta['grade_id']}: it ends inside its with block, never a bare value"


def test_the_static_check_sees_a_borrowed_name():
    source = "from miniae.exercises import graded\nwith graded('a', points=1, refuse=[X]):\n    check(rng)\n"
    assert free_names(source) == {"X", "check", "rng"}
    assert free_names("def f():\n    return np.ones(3)\nimport numpy as np\n") == set()
    assert top_level_names("class A:\n    pass\nb = 1\n") == {"A", "b"}


# ---------------------------------------------------------------- the graded course (one per session)
def plant(nb, replacements):
    for old, new in replacements:
        hits = [c for c in nb.cells if old in c.source]
        assert len(hits) == 1, f"the planted mistake needs {old!r} once in the notebook"
        hits[0].source = hits[0].source.replace(old, new)
    return nb


def tamper(nb, how):
    if how == "redefined":
        first_import = next(c for c in nb.cells if c.cell_type == "code" and "import" in c.source
                            and not c.metadata.get("nbgrader"))
        first_import.source += "\n" + NO_OP_HELPERS
        for cell in solution_cells(nb):
            cell.source += "\n" + NO_OP_HELPERS
    elif how == "patched":
        solution_cells(nb)[-1].source += "\n" + PATCHED_HELPERS
    elif how == "edited":
        checks = grade_cells(nb)
        for cell in checks[::2]:
            cell.source = "pass"
        without(nb, checks[1::2])
    elif how == "silenced":
        solution_cells(nb)[0].source += "\n" + SILENCED_ERRORS
    elif how == "killed":
        solution_cells(nb)[-1].source += "\nimport os\nos._exit(0)\n"
    return nb


def submissions(source):
    """{student: {notebook name: notebook}} of every submission the tests grade."""
    found = {}
    for name in NAMES:
        short = name.split("_")[0]
        instructor = nbformat.read(str(source / f"{name}.ipynb"), as_version=4)
        rows = planted_mistakes(name)
        for mistake, (replacements, _) in rows.items():
            found[f"{short}-{mistake}"] = {name: plant(nbformat.from_dict(instructor), replacements)}
        first_replacements = next(iter(rows.values()))[0]
        for how in TAMPERING:
            if tampered_with(name, how):
                found[f"{short}-{how}"] = {name: tamper(plant(nbformat.from_dict(instructor), first_replacements),
                                                        how)}
        deleted = nbformat.from_dict(instructor)
        found[f"{short}-deleted"] = {name: without(deleted, grade_cells(deleted))}
        emptied = nbformat.from_dict(instructor)
        found[f"{short}-emptied"] = {name: without(emptied, grade_cells(emptied) + solution_cells(emptied))}
    return found


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """{student: {notebook: (score, max score, autograded notebook)}}, and the release folder."""
    pytest.importorskip("nbgrader", reason="the [instructor] extra (nbgrader) is not installed")
    from nbgrader.api import Gradebook

    git_before = exercise_files_status()
    base = tmp_path_factory.mktemp("nbgrader")
    courses = [base / "course-a", base / "course-b"]
    release = [course_tool.make_course(course, names=NAMES) for course in courses][0]
    source = courses[0] / "source" / course_tool.ASSIGNMENT
    students = {"instructor": {n: nbformat.read(str(source / f"{n}.ipynb"), as_version=4) for n in NAMES},
                "released": {n: nbformat.read(str(release / f"{n}.ipynb"), as_version=4) for n in NAMES},
                **submissions(source)}
    half = {course: [] for course in courses}
    for index, (student, notebooks) in enumerate(students.items()):
        course = courses[index % 2]
        half[course].append(student)
        target = course / "submitted" / student / course_tool.ASSIGNMENT
        target.mkdir(parents=True)
        for name, nb in notebooks.items():
            nbformat.write(nb, str(target / f"{name}.ipynb"))
    with ThreadPoolExecutor(len(courses)) as pool:  # autograde fails (raises) if any submission cannot be graded
        list(pool.map(lambda course: course_tool.nbgrader(course, "autograde", course_tool.ASSIGNMENT, "--force"),
                      courses))
    results = {}
    for course in courses:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            for student in half[course]:
                results[student] = {}
                for name in students[student]:
                    path = course / "autograded" / student / course_tool.ASSIGNMENT / f"{name}.ipynb"
                    assert path.exists(), f"autograde made no notebook for {student}/{name}"
                    nb = gradebook.find_submission_notebook(name, course_tool.ASSIGNMENT, student)
                    results[student][name] = (nb.score, nb.max_score, nbformat.read(str(path), as_version=4))
    results["git changes"] = sorted(set(exercise_files_status().splitlines()) ^ set(git_before.splitlines()))
    results["release"] = release
    results["courses"] = {student: course for course in courses for student in half[course]}
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


def outputs_of_checks(nb):
    return [out for cell in grade_cells(nb) for out in cell.get("outputs", [])]


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_instructor_version_scores_full_marks_and_raises_nowhere(graded, name):
    score, max_score, nb = graded["instructor"][name]
    assert max_score > 0 and score == max_score, errors(nb)
    assert errors(nb) == []
    # a check cell shows no value (nbgrader would read it as partial credit) and writes nothing to stderr
    kinds = {(out["output_type"], out.get("name")) for out in outputs_of_checks(nb)}
    assert kinds <= {("stream", "stdout"), ("display_data", None)}, kinds


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_released_version_scores_zero_and_runs_to_the_last_cell(graded, name):
    score, max_score, nb = graded["released"][name]
    assert max_score > 0 and score == 0
    failed = errors(nb)
    assert len(failed) == len(grade_cells(nb)), "every check of an unwritten exercise fails"
    # Run All stops only at an error in a cell not tagged raises-exception: there is none
    assert all("raises-exception" in tags for _, tags, _ in failed), failed
    assert all("AssertionError" in text and "not implemented" in text for _, _, text in failed), failed
    assert "exercise summary" in "".join(out.get("text", "") for out in nb.cells[-1].get("outputs", []))


@pytest.mark.notebooks
@pytest.mark.parametrize("student", list(MISTAKES))
def test_a_planted_mistake_scores_less_and_the_feedback_names_it(graded, student):
    name, _, words = MISTAKES[student]
    score, max_score, nb = graded[student][name]
    assert score < max_score, errors(nb)
    failed = errors(nb)
    assert any(words in text for _, _, text in failed), failed
    assert all("raises-exception" in tags for _, tags, _ in failed), failed


@pytest.mark.notebooks
@pytest.mark.parametrize("name, how", [(name, how) for name in NAMES for how in TAMPERING if tampered_with(name, how)])
def test_tampering_with_the_checks_never_scores_full_marks(graded, name, how):
    short = name.split("_")[0]
    score, max_score, nb = graded[f"{short}-{how}"][name]
    assert score < max_score, f"{TAMPERING[how][0]}: {score} of {max_score}"
    words = TAMPERING[how][1] or next(iter(planted_mistakes(name).values()))[1]
    if how != "silenced":  # (with the display switched off, nbgrader records the error without its message)
        assert any(words in text for _, _, text in errors(nb)), errors(nb)


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NAMES)
def test_deleted_check_cells_come_back_and_run(graded, name):
    short = name.split("_")[0]
    score, max_score, nb = graded[f"{short}-deleted"][name]
    assert score == max_score > 0, errors(nb)
    assert len(grade_cells(nb)) == len(grade_cells(graded["instructor"][name][2]))
    score, max_score, nb = graded[f"{short}-emptied"][name]
    assert score == 0 and max_score > 0
    assert len(grade_cells(nb)) == len(grade_cells(graded["instructor"][name][2]))


@pytest.mark.notebooks
def test_the_feedback_a_student_receives_names_the_mistake(graded):
    student = next(iter(MISTAKES))
    name, _, words = MISTAKES[student]
    course = graded["courses"][student]
    course_tool.nbgrader(course, "generate_feedback", course_tool.ASSIGNMENT, "--student", student, "--force")
    html = (course / "feedback" / student / course_tool.ASSIGNMENT / f"{name}.html").read_text()
    score, max_score, _ = graded[student][name]
    assert words in html and f"{score:g} / {max_score:g}" in html.replace(".0 ", " ")


@pytest.mark.notebooks
def test_grading_writes_nothing_into_the_checkout(graded):
    assert graded["git changes"] == []


@pytest.mark.notebooks
def test_committed_student_copies_are_nbgraders_release(graded):
    stale = course_tool.stale_student_copies(graded["release"], names=NAMES)
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


def test_check_raises_with_the_hint_and_summary_counts_points_as_nbgrader(capsys):
    exercises.reset()
    with pytest.raises(AssertionError, match="not implemented yet"):
        exercises.check(gradcheck.check_layer(Unwritten(), np.ones((2, 3))), "unwritten")
    with pytest.raises(AssertionError, match="chain rule"):
        with exercises.graded("cell-a", points=2):
            exercises.check(gradcheck.check_layer(ForgotDy(), np.linspace(-1, 1, 6).reshape(2, 3)), "forgot dy")
    with pytest.raises(AssertionError, match="cell-b: Unwritten.backward is not implemented yet"):
        with exercises.graded("cell-b", points=1):
            Unwritten().backward(np.ones((2, 2)))
    with exercises.graded("cell-c", points=3):
        assert exercises.expect(lambda: True, "a yes/no check") is None
    with pytest.raises(AssertionError, match="went flat"):
        exercises.expect(lambda: False, "learning", "went flat")
    assert exercises.summary() is False
    out = capsys.readouterr().out
    assert "exercise summary: 3 of 6 points (1 of 3 check cells pass)" in out
    exercises.reset()


def test_expect_close_names_a_known_mistake_a_wrong_shape_and_what_overflowed():
    x = np.array([1.0, 2.0])
    assert exercises.expect_close(lambda: x * 2, [2.0, 4.0], "double") is None
    with pytest.raises(AssertionError, match="squared instead"):
        exercises.expect_close(lambda: x ** 2 + 1, [2.0, 4.0], "double", mistakes=[(x ** 2 + 1, "squared instead")])
    with pytest.raises(AssertionError, match="shape"):
        exercises.expect_close(lambda: np.ones(3), [2.0, 4.0], "double")
    big = np.array([-1000.0, 0.0, 1000.0])
    with pytest.raises(AssertionError, match=r"index \(0,\) \(input -1000\).*exp of a large argument overflowed"):
        exercises.expect_close(lambda: 1 / (1 + np.exp(-big)) * np.exp(-big) / (1 + np.exp(-big)),
                               [0.0, 0.25, 0.0], "sigmoid'", inputs=big)
    with pytest.raises(AssertionError, match="division by zero|0/0"):
        exercises.expect_close(lambda: big / np.abs(big), [-1.0, 0.0, 1.0], "sign")

    def writes_transposed():
        grad = np.zeros((3, 2))
        grad[...] = np.ones((2, 3))
        return grad
    with pytest.raises(AssertionError, match="transposed"):
        exercises.expect_close(writes_transposed, np.ones((3, 2)), "dW")


class Delegates(Dense):
    def backward(self, dy):
        return super().backward(dy)


class Saved(Activation):
    reference = Dense.backward

    def backward(self, dy):
        return Saved.reference(self, dy)


def test_own_work_refuses_the_reference_however_it_is_reached():
    x = np.ones((2, 3))
    layer = Delegates(3, 2, rng=0)
    layer.forward(x)
    with pytest.raises(AssertionError, match=r"calls miniae's Dense.backward \(from Delegates.backward\)"):
        with exercises.own_work(Dense):
            layer.backward(np.ones((2, 2)))
    with pytest.raises(AssertionError, match="Dense.backward"):
        with exercises.graded("cell", points=1, refuse=[Dense.backward]):
            Saved.reference(layer, np.ones((2, 2)))
    with exercises.own_work(Dense.backward):  # the forward pass is not refused
        layer.forward(x)
    assert sys.getprofile() is None


def test_graded_refuses_helpers_replaced_in_the_notebook(monkeypatch):
    monkeypatch.setattr(exercises, "expect_close", lambda *args, **kwargs: None)
    with pytest.raises(AssertionError, match="replaced by code from"):
        with exercises.graded("cell", points=1):
            pass
    monkeypatch.setattr(exercises, "expect_close", print)
    with pytest.raises(AssertionError, match="replaced"):
        with exercises.graded("cell", points=1):
            pass


def test_same_training_names_rebound_gradients_and_a_curve_that_parts():
    from miniae import SGD, Autoencoder, Sequential, Tanh, fit

    class Rebinds(Dense):
        def backward(self, dy):
            self.grads["W"] = self.x.T @ dy
            self.grads["b"] = dy.sum(axis=0)
            return dy @ self.params["W"].T

    class HalfBias(Dense):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads["b"] *= 0.5
            return dx

    X = np.random.default_rng(0).uniform(size=(64, 6))

    def build(layer):
        return Autoencoder(Sequential(layer(6, 3, rng=1), Tanh()), Sequential(layer(3, 6, rng=2)), rng=0)

    def train(model, _):
        return fit(model, X, epochs=3, batch_size=16, optimizer=SGD(lr=0.5))

    yours, theirs = exercises.expect_same_training("same", build, train, Dense, Dense)
    assert yours["loss"] == theirs["loss"]
    with pytest.raises(AssertionError, match=r"grads\['W'\].*new arrays.*in place"):
        exercises.expect_same_training("rebinds", build, train, Rebinds, Dense)
    with pytest.raises(AssertionError, match="another curve"):
        exercises.expect_same_training("half", build, train, HalfBias, Dense, rtol=1e-4)

    class Huge(Dense):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads["W"] *= 1e6
            return dx
    with pytest.raises(AssertionError, match="diverged.*where miniae's trains"):
        exercises.expect_same_training("huge", build, train, Huge, Dense)
