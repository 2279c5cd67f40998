"""Executing the notebooks in tests (used by test_lessons and test_exercises).

Every notebook runs the way a student runs it from a pip install: in a fresh kernel whose
working directory is a COPY of ``lessons/`` in a temporary folder, so ``import miniae`` in
the kernel finds the installed package (the wheel, in CI), never the checkout's source.
``NotebookRuns`` executes each notebook once per test session and keeps the result; around
each execution it records what changed in the installed package, in ``git status`` of the
checkout and in the copied folder, so the tests can say which notebook wrote where.
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import miniae

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
PACKAGE = Path(miniae.__file__).resolve().parent
# the tests see the checkout's source folder (an editable install, or the checkout on sys.path), not
# an installed copy (which may still live under the checkout, in .venv/ for instance)
EDITABLE = PACKAGE == (ROOT / "miniae").resolve()

# the same name appears in the last cell's output, and that cell is removed again after the run
_WHERE = "miniae-imported-from:"
_WHERE_CELL = f"import miniae as _miniae_under_test\nprint({_WHERE!r}, _miniae_under_test.__file__)"


def lesson_notebooks():
    """The numbered lessons, as paths relative to lessons/."""
    return sorted(p.relative_to(LESSONS) for p in LESSONS.glob("[0-9][0-9]_*.ipynb"))


def exercise_notebooks():
    """The instructor versions of the exercises, relative to lessons/."""
    return sorted(p.relative_to(LESSONS) for p in (LESSONS / "exercises").glob("ex[0-9][0-9]_*.ipynb"))


def student_notebooks():
    """The student versions of the exercises, relative to lessons/."""
    return sorted(p.relative_to(LESSONS) for p in (LESSONS / "exercises" / "student").glob("*.ipynb"))


def kernel_environment():
    """The environment of a notebook kernel: this one (BLAS threads set in conftest), minus what
    would make a notebook write figures (MINIAE_FIGURE_DIR) or draw off-screen (MPLBACKEND: a
    student's kernel draws inline)."""
    env = dict(os.environ)
    env.pop("MINIAE_FIGURE_DIR", None)
    env.pop("MPLBACKEND", None)
    return env


# The numeric environments besides the machine's own in which every lesson must hold its claims:
# OpenBLAS kernels that exist on any x86-64 CPU NumPy's wheels support, one and two BLAS threads.
NUMERIC_ENVIRONMENTS = {"Haswell-1thread": ("Haswell", 1), "SandyBridge-2threads": ("SandyBridge", 2)}

# what miniae.claims.claim prints: "name: value   (claim: band)", " -- NOT HELD" inside the brackets when outside
CLAIM_LINE = re.compile(r"^(?P<name>.+): (?P<value>\S+)   \(claim: (?P<band>.+?)(?P<failed> -- NOT HELD)?\)$")


def printed_claims(nb):
    """{name: band} of every claim the executed notebook printed."""
    found = {}
    for line in cell_outputs_text(nb).splitlines():
        match = CLAIM_LINE.match(line)
        if match:
            found[match["name"]] = match["band"]
    return found


def numeric_environment(kernel, threads):
    """kernel_environment() with OpenBLAS's kernel and its thread count set."""
    env = kernel_environment()
    env["OPENBLAS_CORETYPE"] = kernel
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def run_notebook(path, timeout=300, cwd=None, allow_errors=False, env=None):
    """Execute the notebook at ``path`` top to bottom in a fresh kernel whose working directory is
    ``cwd`` (default: the notebook's folder); return the executed notebook."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd or Path(path).parent)}})
    client.execute(**({} if env is None else {"env": env}))
    return nb


def cell_outputs_text(nb):
    """All text printed by the notebook's cells, joined."""
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                chunks.append(out["text"])
            elif "data" in out and "text/plain" in out["data"]:
                chunks.append(out["data"]["text/plain"])
    return "\n".join(chunks)


# ---------------------------------------------------------------- what a run may have written
def tree_snapshot(folder, skip=("__pycache__", ".ipynb_checkpoints")):
    """{relative path: (size, mtime_ns)} of every file under ``folder`` (``skip``: folder names
    left out; a .pyc the interpreter writes is not a file the code wrote)."""
    folder = Path(folder)
    files = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            stat = (Path(dirpath) / name).stat()
            files[str((Path(dirpath) / name).relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return files


def package_snapshot(package=PACKAGE):
    """The installed package's files, and the names beside it (a ``figures/`` created next to the
    package in site-packages is a write into the install too)."""
    return {"package": tree_snapshot(package), "beside": sorted(os.listdir(package.parent))}


def git_status(root=ROOT):
    """``git status --porcelain`` of the checkout (untracked files listed one by one), or None with
    the reason when git or the repository is not there."""
    if not (root / ".git").exists():
        return None, f"{root} is not a git checkout"
    if shutil.which("git") is None:
        return None, "git is not installed"
    done = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None, f"git status failed: {done.stderr.strip()}"
    return done.stdout, None


def changes(before, after):
    """Lines naming what differs between two snapshots (dicts, lists or strings)."""
    if isinstance(before, str) or isinstance(after, str):
        old, new = set(before.splitlines()), set(after.splitlines())
        return [f"git status gained: {line}" for line in sorted(new - old)] + \
               [f"git status lost: {line}" for line in sorted(old - new)]
    if isinstance(before, list):
        return [f"new beside the package: {name}" for name in sorted(set(after) - set(before))]
    lines = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            lines.append(f"written: {key}")
        elif key not in after:
            lines.append(f"deleted: {key}")
        elif before[key] != after[key]:
            lines.append(f"rewritten: {key}")
    return lines


class ElsewhereRuns:
    """Every lesson executed once in each of NUMERIC_ENVIRONMENTS, each run in its own process and its own
    copy of lessons/, one run at a time per environment. ``start`` the one-thread environments early: they
    then run beside the in-process runs of NotebookRuns (one core each); a two-thread environment starts
    only when the one-thread runs are done, so that it has both cores."""

    def __init__(self, workdir, wanted=None):
        """``wanted``: {env_name: [lesson paths]} this session will ask for (default: every lesson)."""
        self.workdir = Path(workdir)
        self.wanted = wanted or {}
        self.futures = {}
        self.seconds = {}   # {(env_name, lesson): seconds the run took}

    def start(self, env_name):
        if env_name in self.futures:
            return
        kernel, threads = NUMERIC_ENVIRONMENTS[env_name]
        if threads > 1:   # wait for the one-thread runs already started
            for futures in list(self.futures.values()):
                concurrent.futures.wait(futures.values())
        copy = self.workdir / env_name / "lessons"
        shutil.copytree(LESSONS, copy, ignore=shutil.ignore_patterns("exercises", ".ipynb_checkpoints"))
        env = numeric_environment(kernel, threads)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        lessons = self.wanted.get(env_name, lesson_notebooks())
        self.futures[env_name] = {Path(lesson): pool.submit(self._timed, env_name, Path(lesson), copy / lesson, env)
                                  for lesson in lessons}
        pool.shutdown(wait=False)

    def get(self, env_name, relative):
        """(executed notebook or None, error text or None) of the lesson at ``relative`` in ``env_name``."""
        self.start(env_name)
        return self.futures[env_name][Path(relative)].result()


    def _timed(self, env_name, lesson, path, env):
        start = time.perf_counter()
        try:
            return _execute_elsewhere(path, env)
        finally:
            self.seconds[env_name, lesson] = time.perf_counter() - start


def _execute_elsewhere(path, env, timeout=300):
    """Execute the notebook at ``path`` in a subprocess with ``env``: (executed notebook, error text or None)."""
    out = path.with_suffix(".executed.ipynb")
    done = subprocess.run([sys.executable, __file__, str(path), str(out), str(timeout)], env=env,
                          capture_output=True, text=True)
    nb = nbformat.read(str(out), as_version=4) if out.exists() else None
    return nb, (None if done.returncode == 0 else (done.stdout + done.stderr).strip()[-3000:])


class Run:
    """One execution of one notebook: the executed notebook (or the error), the time it took,
    the miniae the kernel imported, and what it changed where."""

    def __init__(self, name):
        self.name, self.nb, self.error, self.seconds, self.kernel_miniae = name, None, None, None, None
        self.package_changes, self.git_changes, self.copy_changes = [], [], []

    def result(self):
        """The executed notebook; re-raises the execution's error when it failed."""
        if self.error is not None:
            raise self.error
        return self.nb


class NotebookRuns:
    """Each notebook executed once per session, in a copy of lessons/ made under ``workdir``."""

    timeouts = {"lesson": 300, "exercise": 60}  # per cell, seconds

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.lessons = self.workdir / "lessons"
        shutil.copytree(LESSONS, self.lessons, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        self.env = kernel_environment()
        self.runs = {}

    def get(self, relative):
        """The Run of the notebook at ``relative`` (a path under lessons/), executing it the first time."""
        relative = Path(relative)
        if relative not in self.runs:
            self.runs[relative] = self._execute(relative)
        return self.runs[relative]

    def all(self):
        """Every lesson run (each once); the Runs in order.  The exercises run under nbgrader
        (tests/test_exercises.py), in a course folder of their own."""
        return [self.get(p) for p in lesson_notebooks()]

    def _execute(self, relative):
        run = Run(str(relative))
        path = self.lessons / relative
        timeout = self.timeouts["exercise" if relative.parts[0] == "exercises" else "lesson"]
        nb = nbformat.read(str(path), as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(_WHERE_CELL))
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        package_before, git_before, copy_before = package_snapshot(), git_status()[0], tree_snapshot(self.workdir)
        start = time.perf_counter()
        try:
            client.execute(env=self.env)
        except CellExecutionError as err:
            run.error = err
        finally:
            run.seconds = time.perf_counter() - start
            package_after, git_after = package_snapshot(), git_status()[0]
            run.package_changes = (changes(package_before["package"], package_after["package"])
                                   + changes(package_before["beside"], package_after["beside"]))
            run.git_changes = changes(git_before, git_after) if git_before is not None and git_after is not None else []
            run.copy_changes = changes(copy_before, tree_snapshot(self.workdir))
        last = nb.cells.pop()
        for line in "".join(out.get("text", "") for out in last.outputs).splitlines():
            if line.startswith(_WHERE):
                run.kernel_miniae = line[len(_WHERE):].strip()
        run.nb = nb
        return run


if __name__ == "__main__":
    # python notebooks.py IN OUT TIMEOUT: execute IN in its folder, write the executed notebook to OUT
    # (also when a cell fails); exit 1 with the error when a cell failed
    source, target, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    executed = nbformat.read(source, as_version=4)
    client = NotebookClient(executed, timeout=seconds, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(source).parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        print(str(err)[-3000:])
        sys.exit(1)
    finally:
        nbformat.write(executed, target)
