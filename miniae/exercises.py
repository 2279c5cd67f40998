"""The helpers the exercise notebooks call in their check cells.

Each check cell of an exercise is an nbgrader grade cell: locked, worth points, and graded by
whether it raises.  ``check(report)`` prints a gradient-check report and raises
``AssertionError`` with the report's hint when it fails; ``expect_close(value, expected)``
compares an output with a stored known answer and names a known mistake when the value matches
one; ``expect(test, name)`` is a yes/no check; ``with attempt("...")`` turns an unwritten
function (NotImplementedError) into a failing check with one friendly line.  A student who runs
the notebook sees each failing check as an error in that cell; the check cells are tagged
``raises-exception``, so Run All goes on to the end.  ``summary()`` lists the checks that ran;
the grade is nbgrader's, which counts every check cell of the instructor's version (a deleted
or edited check cell is restored from it before grading).

The student versions are made by nbgrader (``nbgrader generate_assignment``); in a checkout,
``python tools/nbgrader_course.py`` sets up a course and releases them.
"""
import contextlib
import sys

import numpy as np

from .diagnose import explain_error, student_frame

_results = {}


def _not_implemented(err, name):
    where, _ = student_frame(err)
    return (f"{name}: not implemented yet ({where or 'your code'} raised NotImplementedError); "
            "write your answer in place of `raise NotImplementedError()` and run the cells again")


def check(report, name=None):
    """Print a gradient-check report and record it; raise AssertionError with its hint if it fails."""
    name = name or report.title
    print(report)
    print()
    _results[name] = report.status
    if report:
        return report
    if report.status == "not implemented":
        raise AssertionError(f"{name}: not implemented yet: {report.problem}")
    if report.problem is not None:
        raise AssertionError(f"{name}: {report.problem}")
    failure = report.first_failure
    hints = [f"{entry}: {hint}" for entry, hint in report.hints]
    detail = "; ".join(hints) if hints else (
        f"{failure.name} has relative error {failure.error:.2e} (threshold {report.threshold:g})")
    raise AssertionError(f"{name} fails: {detail}")


def expect(test, name, failure="the condition does not hold"):
    """A yes/no check: ``test()`` must return True; prints one line; raises AssertionError
    (message ``failure``) otherwise, or when ``test`` is not implemented yet."""
    try:
        ok = bool(test())
    except NotImplementedError as err:
        _results[name] = "not implemented"
        raise AssertionError(_not_implemented(err, name)) from None
    _results[name] = "passed" if ok else "failed"
    print(f"{name}: {'ok' if ok else 'FAIL, ' + failure}")
    if not ok:
        raise AssertionError(f"{name}: {failure}")
    return True


def expect_close(compute, expected, name, mistakes=(), rtol=1e-6, atol=1e-9):
    """A known-answer check: ``compute()`` must equal the stored ``expected`` array.

    mistakes: [(array, hint), ...], the outputs of known wrong answers on the same inputs; when
    the value matches one of them, the failure names it.  Raises AssertionError on failure.
    """
    try:
        value = np.asarray(compute(), dtype=np.float64)
    except NotImplementedError as err:
        _results[name] = "not implemented"
        raise AssertionError(_not_implemented(err, name)) from None
    except (ValueError, IndexError) as err:  # a shape error: say which shape, and what it suggests
        problem, _ = explain_error(err, {})
        _results[name] = "error"
        raise AssertionError(f"{name}: {problem}") from None
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        message = f"the output has shape {value.shape} but should have shape {expected.shape}"
    elif np.allclose(value, expected, rtol=rtol, atol=atol):
        _results[name] = "passed"
        print(f"{name}: ok (matches the known answer)")
        return True
    else:
        worst = np.unravel_index(int(np.argmax(np.abs(value - expected))), value.shape) if value.ndim else ()
        message = (f"at index {tuple(int(i) for i in worst)} the output is {value[worst]:.6g}, "
                   f"the known answer {expected[worst]:.6g}")
        for wrong, hint in mistakes:
            wrong = np.asarray(wrong, dtype=np.float64)
            if wrong.shape == value.shape and np.allclose(value, wrong, rtol=rtol, atol=atol):
                message = f"{hint} ({message})"
                break
    _results[name] = "failed"
    print(f"{name}: FAIL, {message}")
    raise AssertionError(f"{name}: {message}")


@contextlib.contextmanager
def attempt(what):
    """Run the block; if student code in it is not written yet, fail the check with one line.

    Any other error is a real one and is raised as usual.
    """
    try:
        yield
    except NotImplementedError as err:
        where, _ = student_frame(err)
        _results[what] = "not implemented"
        raise AssertionError(f"skipped {what}: {where or 'your code'} is not implemented yet; "
                             "finish the exercise above, then run this cell again.") from None


def summary():
    """Print one line per check that ran in this session and a total; True when every one passes.

    Only the checks that ran are counted; the grade is nbgrader's (every check cell counts).
    """
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
    sys.exit("the student versions are made by nbgrader: in a checkout of miniae, run "
             "python tools/nbgrader_course.py (see the README's instructor guide)")
