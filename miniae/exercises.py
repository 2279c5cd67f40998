"""The helpers the exercise notebooks call while they run.

In a notebook, ``check(report)`` prints a gradient-check report and remembers it,
``expect(test, name)`` records a yes/no check, ``with attempt("...")`` runs a cell's training
code but turns a NotImplementedError into one friendly line, and ``summary()`` prints how many
checks pass.  So a student version runs to the end: every check says "not implemented yet",
every training cell says "skipped", and the summary says 0 of N.

The student versions themselves are made in a checkout by the instructor's tool
``python tools/make_student_versions.py`` (it is not part of the installed package).
"""
import contextlib
import sys

from .diagnose import student_frame

_results = {}


def check(report, name=None):
    """Print a gradient-check report and remember its result for ``summary()``; returns it."""
    print(report)
    print()
    _results[name or report.title] = report.status
    return report


def expect(test, name, failure="the condition does not hold"):
    """Record a yes/no check: ``test()`` must return True.  NotImplementedError counts as
    "not implemented"; prints one line either way; returns the result."""
    try:
        ok = bool(test())
    except NotImplementedError as err:
        where, _ = student_frame(err)
        print(f"{name}: not implemented yet ({where or 'your code'} raised NotImplementedError)")
        _results[name] = "not implemented"
        return False
    print(f"{name}: {'ok' if ok else 'FAIL, ' + failure}")
    _results[name] = "passed" if ok else "failed"
    return ok


@contextlib.contextmanager
def attempt(what):
    """Run the block; if student code in it is not written yet, print one line and go on.

    Any other error is a real one and is raised as usual.
    """
    try:
        yield
    except NotImplementedError as err:
        where, _ = student_frame(err)
        print(f"skipped {what}: {where or 'your code'} is not implemented yet; "
              "finish the exercise above, then run this cell again.")


def summary():
    """Print one line per check of this session and a total; True when every check passes."""
    n_pass = sum(status == "passed" for status in _results.values())
    total = len(_results)
    head = f"all {total} checks pass" if n_pass == total else f"{n_pass} of {total} checks pass"
    print(f"exercise summary: {head}")
    for name, status in _results.items():
        print(f"  {'ok' if status == 'passed' else status:<16} {name}")
    return total > 0 and n_pass == total


def reset():
    """Forget the recorded checks (a notebook starts from a fresh kernel anyway)."""
    _results.clear()


if __name__ == "__main__":
    sys.exit("making student versions moved out of the package: in a checkout of miniae, run "
             "python tools/make_student_versions.py [--check]")
