"""Set up an nbgrader course for the miniae exercises and release the student versions.

``python tools/nbgrader_course.py COURSE`` makes the folder COURSE (it must not exist, or be
empty) with nbgrader's layout::

    COURSE/nbgrader_config.py            a copy of tools/nbgrader_config.py
    COURSE/source/exercises/ex*.ipynb    the instructor versions from lessons/exercises/
    COURSE/release/exercises/ex*.ipynb   what `nbgrader generate_assignment exercises` makes

and runs nbgrader there.  From then on the instructor works in COURSE with nbgrader's own
commands (see the README's instructor guide).  ``--student-copy`` also copies the release into
the checkout's ``lessons/exercises/student/`` (the committed copy for people without nbgrader);
``--check`` writes nothing into the checkout and exits 1 when that copy differs from nbgrader's
release.  Nothing is written into the checkout otherwise.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "lessons" / "exercises"
STUDENT = EXERCISES / "student"
CONFIG = Path(__file__).resolve().parent / "nbgrader_config.py"
ASSIGNMENT = "exercises"


def exercise_notebooks(folder=EXERCISES):
    """The instructor notebooks, in order: ``folder/ex*.ipynb``."""
    return sorted(Path(folder).glob("ex[0-9][0-9]_*.ipynb"))


def nbgrader(course, *args):
    """Run ``nbgrader ARGS`` in the course folder; raise RuntimeError with its output if it fails."""
    # nbgrader runs alembic (its database migrations) from PATH: the one installed beside this Python
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          env={**os.environ, "PATH": path})
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed in {course}:\n{done.stdout}\n{done.stderr}")
    return done


def make_course(course, exercises=EXERCISES, names=None):
    """Lay out the course in ``course``, release the assignment; returns the release folder.

    names: the notebook stems to include (default: every exercise).
    """
    course = Path(course)
    if course.exists() and any(course.iterdir()):
        raise ValueError(f"course folder {course} is not empty; give a new folder")
    notebooks = [p for p in exercise_notebooks(exercises) if names is None or p.stem in names]
    if not notebooks:
        raise ValueError(f"no exercise notebooks (ex*.ipynb) in {exercises}")
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    shutil.copy(CONFIG, course / "nbgrader_config.py")
    for path in notebooks:
        shutil.copy(path, source / path.name)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course / "release" / ASSIGNMENT


def stale_student_copies(release, student=STUDENT, names=None):
    """Names of notebooks whose committed student copy is missing or differs from the release
    (extra files in the student folder are named too).  names: only these notebook stems."""
    released = {p.name: p for p in Path(release).glob("*.ipynb") if names is None or p.stem in names}
    committed = {p.name: p for p in Path(student).glob("*.ipynb") if names is None or p.stem in names}
    return sorted(name for name in set(released) | set(committed)
                  if name not in released or name not in committed
                  or released[name].read_bytes() != committed[name].read_bytes())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python tools/nbgrader_course.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("course", nargs="?", help="the course folder to create (default: a temporary one)")
    parser.add_argument("--student-copy", action="store_true",
                        help=f"copy nbgrader's release into {STUDENT.relative_to(ROOT)}")
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if {STUDENT.relative_to(ROOT)} differs from nbgrader's release")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(args.course) if args.course else Path(scratch) / "course"
        release = make_course(course)
        if args.check:
            stale = stale_student_copies(release)
            for name in stale:
                print(f"out of date: {name} (run python tools/nbgrader_course.py --student-copy)")
            if not stale:
                print(f"{len(exercise_notebooks())} student copies are nbgrader's release")
            return 1 if stale else 0
        if args.student_copy:
            if STUDENT.exists():
                shutil.rmtree(STUDENT)
            shutil.copytree(release, STUDENT)
            print(f"copied nbgrader's release into {STUDENT}")
        if args.course:
            print(f"course ready in {course}; the student versions are in {release}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
