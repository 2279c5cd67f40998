"""The helpers the exercise notebooks call in their check cells.

Each check cell of an exercise is an nbgrader grade cell: locked, worth points, and graded by
whether it raises.  A check cell imports what it calls itself (so a name redefined anywhere in
the notebook changes nothing) and runs its checks inside ``with graded(cell, points):``::

    from miniae.exercises import expect_close, graded
    with graded("ex02-known-answer", points=1, refuse=[Dense.backward]):
        expect_close(lambda: ..., expected, "dx on a known input")

The checks:

* ``check(report)`` prints a gradient-check report and raises ``AssertionError`` with the
  report's hint when it fails;
* ``expect_close(compute, expected, name)`` compares an output with a stored known answer,
  names a known mistake when the value matches one, and says what overflowed or divided by
  zero when the value is NaN or infinite (NumPy's warnings are caught and put in the message);
* ``expect(test, name, failure)`` is a yes/no check;
* ``expect_same_training(...)`` trains one model with the student's component and one with
  miniae's, from the same start and the same shuffles, and fails when the loss curves part:
  a gradient that is wrong in one term still goes downhill, but not along the same curve.

``graded(..., refuse=[...])`` fails the cell when the student's code calls one of the listed
reference implementations (``super().backward(dy)``, ``Adam.update(self, ...)``, ``BCE``...):
the exercise is the formula, not a call of miniae's.  ``graded`` also turns an unwritten
function (NotImplementedError) into a failing check with one friendly line, and records the
cell's points for ``summary()``, which counts as nbgrader does: a check cell earns its points
when it raises nothing.

What this protects and what it does not is in the README's instructor guide: the student's
code and the checks share one Python process, so a student who rewrites miniae's or NumPy's
functions at run time can defeat any check written in Python.  ``graded`` refuses the simple
form of that (a grader function replaced by one defined in the notebook).

The student versions are made by nbgrader (``nbgrader generate_assignment``); in a checkout,
``python tools/nbgrader_course.py`` sets up a course and releases them.
"""
import contextlib
import inspect
import sys
import warnings
from pathlib import Path

import numpy as np

from . import gradcheck
from .diagnose import explain_error, student_frame
from .models import leaf_layers
from .validation import DivergenceError

_results = {}   # check name -> status, in the order the checks ran
_cells = {}     # grade cell -> (points, status)

# what NumPy's floating-point warnings mean in a student's formula
_NUMERIC_HINTS = (
    ("overflow encountered in exp",
     "exp of a large argument overflowed to inf: rewrite the formula so that exp only sees arguments "
     "<= 0 (split on the sign of x), or reuse what the forward pass stored"),
    ("divide by zero",
     "a division by zero: where the denominator can be exactly 0 (|x| at x = 0, a clipped probability), "
     "use a form that is defined there"),
    ("invalid value encountered in divide",
     "0/0 or inf/inf gave NaN: where the denominator can be exactly 0, use a form that is defined there"),
    ("invalid value encountered in multiply",
     "inf times 0 gave NaN: an intermediate value overflowed before it was multiplied"),
    ("overflow encountered",
     "an intermediate value overflowed to inf: rewrite the formula so that no step leaves float range"),
    ("invalid value encountered",
     "an operation gave NaN (inf - inf, 0/0, log of a negative number)"),
)


def _numeric_hint(messages):
    """One sentence for the NumPy warnings raised while computing a value (or '')."""
    for pattern, hint in _NUMERIC_HINTS:
        if any(pattern in message for message in messages):
            return f"{hint} (NumPy warned: {'; '.join(sorted(set(messages)))})"
    return ""


def _compute(compute):
    """compute() with NumPy's floating-point warnings caught: (value, [warning messages])."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        value = compute()
    return value, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


# ---------------------------------------------------------------- the checks
def check(report, name=None):
    """Print a gradient-check report and record it; raise AssertionError with its hint if it fails."""
    name = name or report.title
    print(report)
    print()
    _results[name] = report.status
    if report:
        return
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


def expect_close(compute, expected, name, mistakes=(), rtol=1e-6, atol=1e-9, inputs=None):
    """A known-answer check: ``compute()`` must equal the stored ``expected`` array.

    mistakes: [(array, hint), ...], the outputs of known wrong answers on the same inputs; when
    the value matches one of them, the failure names it.  inputs: the array the answer was
    computed from (same shape), quoted at the entry that is wrong.  A NaN or inf where the
    answer is finite fails with what NumPy warned about (an overflow, a division by zero).
    Raises AssertionError on failure; returns None.
    """
    try:
        value, numpy_warnings = _compute(compute)
        value = np.asarray(value, dtype=np.float64)
    except NotImplementedError as err:
        _results[name] = "not implemented"
        raise AssertionError(_not_implemented(err, name)) from None
    except (ValueError, IndexError) as err:  # a shape error: say which shape, and what it suggests
        problem, _ = explain_error(err, {})
        _results[name] = "error"
        raise AssertionError(f"{name}: {problem}") from None
    except TypeError as err:
        _results[name] = "error"
        raise AssertionError(f"{name}: the code raised TypeError: {err}") from None
    expected = np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape:
        message = f"the output has shape {value.shape} but should have shape {expected.shape}"
    elif np.allclose(value, expected, rtol=rtol, atol=atol, equal_nan=True):
        _results[name] = "passed"
        print(f"{name}: ok (matches the known answer)")
        return
    else:
        bad = ~np.isclose(value, expected, rtol=rtol, atol=atol, equal_nan=True)
        broken = bad & ~np.isfinite(value)
        if broken.any():  # a NaN or inf: where, at which input, and what overflowed
            worst = np.unravel_index(int(np.argmax(broken)), value.shape) if value.ndim else ()
        else:
            gap = np.where(bad, np.abs(value - expected), -1.0)
            worst = np.unravel_index(int(np.argmax(gap)), value.shape) if value.ndim else ()
        at = tuple(int(i) for i in worst)
        where = f"at index {at}" if value.ndim else "the value"
        if inputs is not None and np.shape(inputs) == value.shape:
            where += f" (input {np.asarray(inputs, dtype=np.float64)[worst]:.6g})"
        message = f"{where} the output is {value[worst]:.6g}, the known answer {expected[worst]:.6g}"
        hint = _numeric_hint(numpy_warnings)
        if broken.any():
            message += ": " + (hint or "a NaN or inf where the answer is finite: some step overflowed "
                                       "or divided by zero")
        elif hint:
            message += f"; {hint}"
        for wrong, mistake in mistakes:
            wrong = np.asarray(wrong, dtype=np.float64)
            if wrong.shape == value.shape and np.allclose(value, wrong, rtol=rtol, atol=atol):
                message = f"{mistake} ({message})"
                break
    _results[name] = "failed"
    print(f"{name}: FAIL, {message}")
    raise AssertionError(f"{name}: {message}")


def grads_not_in_place(model):
    """["Layer.grads['W']", ...]: gradients that are no longer views of ``model.grad``.

    A model's optimizer updates the flat vector ``model.theta`` from ``model.grad``; a layer
    whose backward rebinds ``self.grads["W"] = ...`` writes a new array the optimizer never reads.
    """
    found = []
    for _, part in model.parts():
        for leaf in leaf_layers(part):
            for key, grad in getattr(leaf, "grads", {}).items():
                if not np.shares_memory(grad, model.grad):
                    found.append(f"{type(leaf).__name__}.grads[{key!r}]")
    return found


def expect_same_training(name, build, train, yours, reference, rtol=1e-3, refuse=()):
    """Train the same model twice, once with ``yours`` and once with miniae's ``reference``.

    build(component) -> a model; train(model, component) -> its History (``fit``'s), seeded so
    that both runs see the same batches.  The student's model starts from the reference
    model's parameters (its theta is copied).  The reference run is exempt from the refusals
    of an enclosing ``graded(..., refuse=...)``.  Fails (AssertionError) when the student's run
    calls one of ``refuse``, leaves a gradient outside the model's flat vector, goes NaN, or
    when its loss after some epoch differs from the reference's by more than ``rtol`` (relative):
    a gradient that is wrong in one term still lowers the loss, but along another curve.
    Prints both curves side by side; returns (your history, the reference's history).
    """
    _results[name] = "failed"
    with _reference_run():
        theirs = build(reference)
    try:
        with own_work(*refuse):
            mine = build(yours)
            if mine.theta.shape != theirs.theta.shape:
                raise AssertionError(f"{name}: the model built with your component has {mine.theta.size} "
                                     f"parameters, the reference {theirs.theta.size}: keep the parameters "
                                     "the exercise gives")
            mine.theta[...] = theirs.theta
            history_mine = train(mine, yours)
    except NotImplementedError as err:
        _results[name] = "not implemented"
        raise AssertionError(_not_implemented(err, name)) from None
    except DivergenceError as err:
        raise AssertionError(f"{name}: training with your component diverged ({err}), where miniae's trains: "
                             "a gradient far too large or pointing the wrong way (a missing 1/N, a sign "
                             "slip); the checks above say which") from None
    with _reference_run():
        history_theirs = train(theirs, reference)
    outside = list(dict.fromkeys(grads_not_in_place(mine)))
    if outside:
        what = f"{outside[0]} is a new array" if len(outside) == 1 else f"{', '.join(outside)} are new arrays"
        raise AssertionError(
            f"{name}: {what}, not the ones the model's optimizer reads: "
            "your backward assigned self.grads[...] = ..., which replaces the array; write into it "
            "in place with self.grads[...][...] = ... (or +=)")
    ours, ref = np.asarray(history_mine["loss"], float), np.asarray(history_theirs["loss"], float)
    print(f"{name}: training loss per epoch, yours against miniae's reference")
    for epoch, (a, b) in enumerate(zip(ours, ref), start=1):
        print(f"  epoch {epoch:2d}: {a:.6f}  {b:.6f}")
    if ours.shape != ref.shape or not np.all(np.isfinite(ours)):
        raise AssertionError(f"{name}: your model's loss is {ours[-1] if ours.size else 'missing'} after "
                             f"{ours.size} epochs: training diverged (a NaN or inf gradient)")
    gap = np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12)
    if gap.max() > rtol:
        epoch = int(np.argmax(gap > rtol)) + 1
        if np.allclose(ours, ours[0]):
            how = "your model's loss never changed: nothing you computed reached the parameters"
        elif ours[-1] < ours[0]:
            how = ("your model learns, but along another curve: a gradient with a wrong term or factor "
                   "still goes downhill; the checks above say which")
        else:
            how = "your model's loss does not fall: the update goes the wrong way or is far too large"
        raise AssertionError(f"{name}: after epoch {epoch} your loss is {ours[epoch - 1]:.6g}, the reference's "
                             f"{ref[epoch - 1]:.6g} ({100 * gap[epoch - 1]:.2g}% apart, allowed "
                             f"{100 * rtol:.2g}%); {how}")
    _results[name] = "passed"
    print(f"{name}: ok (the curves agree within {100 * rtol:.2g}% at every epoch)")
    return history_mine, history_theirs


def _not_implemented(err, name):
    where, _ = student_frame(err)
    return (f"{name}: not implemented yet ({where or 'your code'} raised NotImplementedError); "
            "write your answer in place of `raise NotImplementedError()` and run the cells again")


# ---------------------------------------------------------------- the student's own formula
def _code_objects(reference):
    """The code objects of a function, a method, or every method a class defines itself."""
    if isinstance(reference, type):
        found = []
        for value in vars(reference).values():
            found += _code_objects(value) if callable(value) or isinstance(value, (staticmethod, classmethod)) else []
        return found
    function = getattr(reference, "__func__", reference)
    code = getattr(function, "__code__", None)
    return [code] if code is not None else []


def _describe(code):
    return f"miniae's {getattr(code, 'co_qualname', code.co_name)}"


@contextlib.contextmanager
def own_work(*references):
    """Fail (AssertionError) if code run in the block calls one of ``references``.

    references: functions, methods or classes (every method the class defines) of miniae
    whose formula the exercise asks for.  Every Python call in the block is watched (a
    profile hook), so a reference reached through ``super()``, through the class, or through
    a name saved earlier is caught alike.
    """
    watched = {code: _describe(code) for reference in references for code in _code_objects(reference)}
    if not watched:
        yield
        return
    calls = []

    def watch(frame, event, arg):
        if event == "call" and frame.f_code in watched and not calls:
            caller = frame.f_back
            calls.append((watched[frame.f_code], getattr(caller.f_code, "co_qualname", caller.f_code.co_name)))
    try:
        with _profile(watch):
            yield
    finally:
        if calls:
            what, caller = calls[0]
            raise AssertionError(f"your code calls {what} (from {caller}): the exercise is to write the "
                                 "formula yourself, so this check does not count miniae's own")


@contextlib.contextmanager
def _profile(hook):
    """``sys.setprofile(hook)`` inside the block, the previous hook restored after it."""
    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _reference_run():
    """Lift the watch of ``own_work`` while miniae's own reference runs."""
    return _profile(None)


# ---------------------------------------------------------------- a check cell
def _genuine(*functions):
    """Refuse grader functions replaced at run time by code that is not miniae's or NumPy's."""
    homes = [Path(__file__).resolve().parent, Path(np.__file__).resolve().parent]
    for function in functions:
        code = getattr(inspect.unwrap(getattr(function, "__func__", function)), "__code__", None)
        where = Path(code.co_filename).resolve() if code is not None else Path("a builtin")
        if not any(home in where.parents for home in homes):
            raise AssertionError(
                f"{getattr(function, '__qualname__', function)} has been replaced by code from {where.name}: "
                "the checks need miniae's own; restart the kernel and run the notebook without replacing it")


def _grader_functions():
    return (check, expect, expect_close, expect_same_training, own_work, graded, grads_not_in_place,
            gradcheck.check_layer, gradcheck.check_loss, gradcheck.check_penalty, gradcheck.check_param_penalty,
            gradcheck.check_function, gradcheck.check_model, gradcheck.numerical_gradient, gradcheck.rel_error,
            np.allclose, np.isclose)


@contextlib.contextmanager
def graded(cell, points, refuse=()):
    """The body of a check cell worth ``points``: fails the cell with one line when the
    student's code is not written yet, refuses calls of ``refuse`` (see ``own_work``), and
    records the cell's result for ``summary()``.  Any AssertionError (a failed check) passes
    through with its message, which is the hint nbgrader puts in the feedback."""
    _cells[cell] = (points, "failed")
    _genuine(*_grader_functions())
    try:
        with own_work(*refuse):
            yield
    except NotImplementedError as err:
        _cells[cell] = (points, "not implemented")
        where, _ = student_frame(err)
        raise AssertionError(f"{cell}: {where or 'your code'} is not implemented yet; write your answer in "
                             "place of `raise NotImplementedError()` and run the cells again") from None
    _cells[cell] = (points, "passed")


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
    """Print the points of the check cells that ran, as nbgrader counts them (a cell earns its
    points when it raises nothing), then one line per check; True when every one passes."""
    earned = sum(points for points, status in _cells.values() if status == "passed")
    total = sum(points for points, _ in _cells.values())
    n_pass = sum(status == "passed" for status in _results.values())
    if _cells:
        cells_ok = sum(status == "passed" for _, status in _cells.values())
        print(f"exercise summary: {earned} of {total} points ({cells_ok} of {len(_cells)} check cells pass)")
        for cell, (points, status) in _cells.items():
            print(f"  {'ok' if status == 'passed' else status:<16} {cell} ({points} point{'s' * (points != 1)})")
    else:
        print(f"exercise summary: {n_pass} of {len(_results)} checks pass")
    if _results:
        print("the checks inside them:")
        for name, status in _results.items():
            print(f"  {'ok' if status == 'passed' else status:<16} {name}")
    return bool(_cells or _results) and earned == total and n_pass == len(_results)


def reset():
    """Forget the recorded checks and cells (a notebook starts from a fresh kernel anyway)."""
    _results.clear()
    _cells.clear()


if __name__ == "__main__":
    sys.exit("the student versions are made by nbgrader: in a checkout of miniae, run "
             "python tools/nbgrader_course.py (see the README's instructor guide)")
