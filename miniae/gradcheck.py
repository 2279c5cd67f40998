"""Gradient checking: compare a hand-written backward pass with finite differences.

Central differences, one entry at a time::

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h)                       error O(h^2)

The quotient has two errors: truncation (about ``h^2 |f'''| / 6``, smaller for smaller h)
and rounding (about ``1e-16 |f| / h``, larger for smaller h).  The checks use the
fourth-order stencil, whose truncation error is so much smaller that h can be larger,
which cuts the rounding error tenfold::

    df/dx_i  ~  [8 (f(x + h) - f(x - h)) - (f(x + 2h) - f(x - 2h))] / (12 h)   error O(h^4)

Comparing an analytic gradient a with the numerical one n, two measures, two names::

    rel_error(a, n) = max_i |a_i - n_i| / max(|a_i| + |n_i|, tiny)      (entry-wise, worst entry)

is the textbook measure (cs231n; rule of thumb 1e-7 in float64); but an entry a thousand
times smaller than f itself cannot be resolved to 1e-7 by any finite difference, so the
reports judge each parameter as a whole (the measure of the UFLDL sparse-autoencoder exercise)::

    norm error = ||a - n|| / (||a|| + ||n||)                          (Euclidean norms)

(the column "norm error" of a report, passed at DEFAULT_THRESHOLD = 1e-6), and name the
entry where ``|a_i - n_i|`` is largest.  Rule of thumb for the norm error in float64: 1e-7 or
less is right for a smooth function; 1e-4 or more is a bug (or a kink, like ReLU at 0,
crossed by the step; inputs are nudged away from kinks where the check can see them).
float32 is refused: its rounding error (about 6e-8 relative) divided by h swamps the
difference quotient, so even a correct gradient would "fail".

A report is also feedback for students: each failing row names the parameter, its worst
index and both values there, and a hint from miniae.diagnose when the two arrays match a
common mistake (transposed, sign, a missing 1/N, a factor 2, no batch sum).  Code that
raises NotImplementedError gives a "not implemented yet" report instead of a traceback.
This module measures; miniae.diagnose words what the measurements mean.
"""
import inspect

import numpy as np

from .diagnose import diagnose, explain_error, input_candidates, kink_notes, replaced_grads_notes  # noqa: F401
from .vae import gaussian_kl

DEFAULT_THRESHOLD = 1e-6
DEFAULT_H = 1e-4     # step of the checks, used with the fourth-order stencil
TEXTBOOK_H = 1e-5    # step of plain central differences


class GradcheckDtypeError(ValueError):
    """Raised for float32 (or other low-precision) input to a gradient check."""


def numerical_gradient(f, x, h=TEXTBOOK_H, indices=None, order=2):
    """Central-difference gradient of a scalar function f at x (x is nudged in place, then restored).

    f: callable taking no arguments that reads x (or taking x) and returns a float.
    x: float64 ndarray.  indices: optional list of index tuples to evaluate (others left 0).
    order: 2 for (f(x+h) - f(x-h)) / 2h, 4 for the fourth-order stencil (module docstring).
    Returns an array shaped like x.
    """
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    call = (lambda: f(x)) if _takes_argument(f) else f

    def at(index, value):
        x[index] = value
        return call()

    grad = np.zeros_like(x)
    for index in (indices if indices is not None else np.ndindex(x.shape)):
        old = x[index]
        diff_h = at(index, old + h) - at(index, old - h)
        if order == 2:
            grad[index] = diff_h / (2 * h)
        else:
            diff_2h = at(index, old + 2 * h) - at(index, old - 2 * h)
            grad[index] = (8 * diff_h - diff_2h) / (12 * h)
        x[index] = old
    return grad


def _takes_argument(f):
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return True
    return len(params) >= 1


def rel_error(a, n, tiny=1e-8):
    """``max_i |a_i - n_i| / max(|a_i| + |n_i|, tiny)`` over all entries (0.0 for empty arrays)."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(_entry_errors(a, n, tiny)))


def _entry_errors(a, n, tiny=1e-8):
    return np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), tiny)


class Entry:
    """One row of a report: a parameter (or the input), its error, its worst entry, pass or fail.

    ``error = ||a - n|| / (||a|| + ||n||)`` over the checked entries (0 when both are zero);
    ``index`` = the entry where ``|a_i - n_i|`` is largest, with the two values there.

    When the analytic gradient is missing, has the wrong shape or is not finite, the
    entry fails with error = inf and no worst index; ``hint`` then says what is wrong.
    ``hint`` is filled for every failing entry by miniae.diagnose.diagnose (``sizes`` names the
    batch size and the like so a constant factor can be recognised).
    """

    def __init__(self, name, analytic, numeric, threshold, indices=None, sizes=None, candidates=()):
        self.name = name
        self.analytic, self.numeric = analytic, numeric
        self.n_checked = numeric.size if indices is None else len(indices)
        self.hint = None
        if analytic is None or analytic.shape != numeric.shape or not np.all(np.isfinite(analytic)):
            self.index, self.error = (), float("inf")
            self.analytic_value = self.numeric_value = float("nan")
            self.passed = False
            self.hint = diagnose(analytic, numeric, sizes, candidates, indices)
            return
        if indices is not None:  # only some entries were evaluated numerically
            mask = np.zeros(analytic.shape, dtype=bool)
            for index in indices:
                mask[index] = True
            analytic, numeric = np.where(mask, analytic, 0.0), np.where(mask, numeric, 0.0)
        diff = np.abs(analytic - numeric)
        scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
        self.error = float(np.linalg.norm(diff) / scale) if scale > 0 else 0.0
        self.index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
        self.analytic_value = float(analytic[self.index]) if diff.size else 0.0
        self.numeric_value = float(numeric[self.index]) if diff.size else 0.0
        self.passed = bool(self.error <= threshold)
        if not self.passed:
            self.hint = diagnose(analytic, numeric, sizes, candidates, indices)

    @property
    def index_str(self):
        return "(" + ", ".join(str(int(i)) for i in self.index) + ")"


class Report:
    """The result of a gradient check: prints as a table; truthy when every entry passes.

    A check whose code could not run (it raised NotImplementedError, or a shape error)
    gives a report with ``problem`` set to a sentence for the student, ``status``
    "not implemented" or "error", and no table; it is falsy.
    """

    def __init__(self, title, threshold, h, notes=()):
        self.title, self.threshold, self.h = title, threshold, h
        self.entries = []
        self.notes = list(notes)
        self.problem = None
        self.problem_kind = None

    def add(self, name, analytic, numeric, indices=None, sizes=None, candidates=()):
        analytic = _as_float_array(analytic)
        entry = Entry(name, analytic, np.asarray(numeric, dtype=np.float64), self.threshold, indices,
                      sizes, candidates)
        self.entries.append(entry)
        return entry

    @classmethod
    def could_not_run(cls, title, threshold, h, problem, kind="error"):
        """A failing report for code that raised instead of returning a gradient."""
        report = cls(title, threshold, h)
        report.problem, report.problem_kind = problem, kind
        return report

    @property
    def status(self):
        """'passed', 'failed', 'not implemented' or 'error'."""
        if self.problem is not None:
            return self.problem_kind
        return "passed" if self.passed else "failed"

    @property
    def passed(self):
        return self.problem is None and all(entry.passed for entry in self.entries)

    def __bool__(self):
        return self.passed

    @property
    def max_error(self):
        if self.problem is not None:
            return float("inf")
        return max((entry.error for entry in self.entries), default=0.0)

    @property
    def first_failure(self):
        return next((entry for entry in self.entries if not entry.passed), None)

    def __getitem__(self, name):
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    @property
    def hints(self):
        """[(parameter name, hint), ...] for every failing entry that has a hint."""
        return [(e.name, e.hint) for e in self.entries if not e.passed and e.hint]

    def __str__(self):
        header = (f"{self.title}  (float64, 4th-order differences, h={self.h:g}, "
                  f"pass if norm error ||a-n||/(||a||+||n||) <= {self.threshold:g})")
        if self.problem is not None:
            prefix = "not implemented yet" if self.problem_kind == "not implemented" else "could not run"
            return "\n".join([header, f"{prefix}: {self.problem}"])
        name_width = max([len("parameter")] + [len(e.name) for e in self.entries])
        lines = [header,
                 f"{'parameter':<{name_width}}  {'norm error':>10}  {'worst index':<12}  "
                 f"{'analytic':>12}  {'numerical':>12}  result"]
        for e in self.entries:
            lines.append(f"{e.name:<{name_width}}  {e.error:>10.2e}  {e.index_str:<12}  "
                         f"{e.analytic_value:>12.5g}  {e.numeric_value:>12.5g}  {'ok' if e.passed else 'FAIL'}")
        failure = self.first_failure
        if failure is None:
            lines.append("all gradients match")
        else:
            if failure.index == ():
                lines.append(f"first failure: {failure.name}: no analytic value to compare (see the hint)")
            else:
                lines.append(f"first failure: {failure.name} at index {failure.index_str}: analytic "
                             f"{failure.analytic_value:.6g}, numerical {failure.numeric_value:.6g}")
            if failure.hint:
                lines.append(f"hint: {failure.hint}")
            lines.extend(f"hint for {name}: {hint}" for name, hint in self.hints if name != failure.name)
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle):  # IPython shows the table, not an object address
        printer.text(str(self))


def _as_float_array(value):
    """value as a float64 array, or None when it is None or not array-like (diagnose says why)."""
    if value is None:
        return None
    try:
        return np.array(value, dtype=np.float64)  # a copy: later forward passes may overwrite the original
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- helpers
def require_float64(*arrays, what="input"):
    """Refuse (GradcheckDtypeError) any of ``arrays`` that is not float64, saying why a check needs it."""
    for arr in arrays:
        arr = np.asarray(arr)
        if arr.dtype != np.float64:
            raise GradcheckDtypeError(
                f"gradient checks need float64 {what}, got {arr.dtype}. In {arr.dtype} the rounding error "
                f"of f (about {np.finfo(arr.dtype).eps if arr.dtype.kind == 'f' else 'n/a'} relative) divided "
                f"by the step 2h swamps the difference quotient, so even a correct gradient would look wrong. "
                "Use x.astype(np.float64) and model.astype(np.float64) for the check."
            )


def _sample_indices(shape, max_entries, rng):
    """All indices, or a seeded random subset of at most max_entries of them."""
    size = int(np.prod(shape))
    if max_entries is None or size <= max_entries:
        return None
    flat = rng.choice(size, size=max_entries, replace=False)
    return [np.unravel_index(int(i), shape) for i in flat]


def nudge_from_kinks(x, kinks, margin=1e-2):
    """Move entries of x that lie within ``margin`` of a kink to kink +- margin (a copy)."""
    x = np.array(x, dtype=np.float64)
    for kink in kinks:
        close = np.abs(x - kink) < margin
        x[close] = kink + np.where(x[close] >= kink, margin, -margin)
    return x


def _layer_kinks(layer):
    first = layer.layers[0] if hasattr(layer, "layers") and layer.layers else layer
    return getattr(first, "kinks", ())


def _could_not_run(title, threshold, h, err, shapes):
    """A failing Report for code that raised NotImplementedError or a shape error, with the
    sentence of diagnose.explain_error; every other error is raised again."""
    if isinstance(err, GradcheckDtypeError):
        raise err
    problem, kind = explain_error(err, shapes)
    return Report.could_not_run(title, threshold, h, problem, kind)


# ---------------------------------------------------------------- checks
def check_layer(layer, x, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H, seed=0, max_entries=None):
    """Check a layer's backward pass (parameters and input) on the input x: (batch, n_in).

    Uses the scalar f(x) = sum(layer.forward(x) * dy) for a fixed random dy, whose
    gradient is exactly what backward(dy) returns (computed as sum((y - y0) * dy) with
    y0 the unperturbed output, which keeps rounding error out of the quotient).  Inputs
    close to a kink of the first layer (ReLU at 0) are nudged away first.  If the layer's code raises
    NotImplementedError (or a shape error), the report says so instead of raising.
    """
    require_float64(x, what="input x")
    for name, value in layer.params.items():
        require_float64(value, what=f"parameter {name}")
    x = nudge_from_kinks(x, _layer_kinks(layer))
    # dy from its own stream: an x drawn with default_rng(seed) would otherwise equal dy, and
    # a transposed dW (dy.T @ x against x.T @ dy) would pass on a square layer
    rng = np.random.default_rng([seed, 0x6479])
    title = f"gradient check of {layer!r}"
    shapes = {"x": x.shape, **{name: value.shape for name, value in layer.params.items()}}
    try:
        y0 = np.array(layer.forward(x))
        dy = rng.standard_normal(y0.shape)
        shapes["dy"] = dy.shape
        grads_before = dict(layer.grads)
        dx = layer.backward(dy)
    except Exception as err:  # noqa: BLE001 -- _could_not_run re-raises what it does not explain
        return _could_not_run(title, threshold, h, err, shapes)
    analytic = {name: _as_float_array(grad) for name, grad in layer.grads.items()}
    sizes = {"N": (x.shape[0], "samples in the batch")}
    replaced = [name for name, grad in layer.grads.items() if grads_before.get(name) is not grad]

    def f():
        # sum((y - y0) * dy) has the same gradient as sum(y * dy) (y0 is a constant), but
        # its value is tiny, so the rounding error of the difference quotient is tiny too
        return float(np.sum((layer.forward(x) - y0) * dy))

    report = Report(title, threshold, h, replaced_grads_notes(replaced))
    for name, value in layer.params.items():
        indices = _sample_indices(value.shape, max_entries, rng)
        report.add(name, analytic.get(name), numerical_gradient(f, value, h, indices, order=4), indices, sizes)
    indices = _sample_indices(x.shape, max_entries, rng)
    numeric_dx = numerical_gradient(f, x, h, indices, order=4)
    report.add("x (input)", dx, numeric_dx, indices, sizes, input_candidates(layer, dy, numeric_dx))
    return report


def check_loss(loss, pred, target, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H):
    """Check loss.backward() against finite differences of loss.forward(pred, target) in pred."""
    pred = np.array(pred, dtype=pred.dtype if hasattr(pred, "dtype") else np.float64)
    require_float64(pred, target, what="pred and target")
    title = f"gradient check of {loss!r}"
    try:
        loss.forward(pred, target)
        analytic = _as_float_array(loss.backward())
        numeric = numerical_gradient(lambda: loss.forward(pred, target), pred, h, order=4)
    except Exception as err:  # noqa: BLE001
        return _could_not_run(title, threshold, h, err, {"pred": pred.shape, "target": np.shape(target)})
    batch, features = pred.shape if pred.ndim == 2 else (len(pred), 1)
    sizes = {"N": (batch, "samples in the batch"), "D": (features, "features"),
             "N*D": (pred.size, "entries, batch times features")}
    report = Report(title, threshold, h)
    report.add("pred", analytic, numeric, sizes=sizes)
    return report


def check_penalty(penalty, code, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H):
    """Check a code penalty's backward() against finite differences of forward(code)."""
    code = np.array(code)
    require_float64(code, what="code")
    title = f"gradient check of {penalty!r}"
    try:
        penalty.forward(code)
        analytic = _as_float_array(penalty.backward())
        numeric = numerical_gradient(lambda: penalty.forward(code), code, h, order=4)
    except Exception as err:  # noqa: BLE001
        return _could_not_run(title, threshold, h, err, {"code": code.shape})
    sizes = {"N": (code.shape[0], "samples in the batch")}
    if code.ndim == 2:
        sizes["K"] = (code.shape[1], "code units")
    report = Report(title, threshold, h)
    report.add("code", analytic, numeric, sizes=sizes)
    return report


def check_param_penalty(penalty, model, X, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H):
    """Check a weight penalty (``on = "params"``) on its own: what ``backward(model)`` adds to each
    parameter's gradient against finite differences of ``forward(model, X)`` in that parameter.

    X: (batch, n_features) float64.  The model's gradients are zeroed first and left zeroed
    plus the penalty's contribution.  Parameters the penalty does not touch must get zero.
    """
    X = np.asarray(X)
    require_float64(X, what="data X")
    params = model.named_parameters()
    title = f"gradient check of {penalty!r}"
    try:
        for _, _, grad in params:
            grad[...] = 0.0
        penalty.forward(model, X)
        penalty.backward(model)
        analytic = {name: grad.copy() for name, _, grad in params}
        numeric = {name: numerical_gradient(lambda: penalty.forward(model, X), value, h, order=4)
                   for name, value, _ in params}
    except Exception as err:  # noqa: BLE001
        return _could_not_run(title, threshold, h, err, {"X": X.shape, **{n: v.shape for n, v, _ in params}})
    sizes = {"N": (X.shape[0], "samples in the batch")}
    report = Report(title, threshold, h)
    for name, _, _ in params:
        report.add(name, analytic[name], numeric[name], sizes=sizes)
    return report


def check_function(f, inputs, gradients, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H, title=None):
    """Check hand-written gradients of a scalar function of several arrays.

    ``f``: ``callable(**inputs) -> float``.  ``inputs``: {name: float64 array}.
    ``gradients``: ``callable(**inputs) -> {name: array}`` (or a tuple in the order of inputs),
    the analytic dF/d(input).  For a function with an array output y(inputs), check the
    scalar sum(y * dy) for a fixed random dy, whose gradient is what a backward(dy) returns.
    """
    names = list(inputs)
    values = {name: np.array(value) for name, value in inputs.items()}
    require_float64(*values.values(), what="inputs")
    title = title or f"gradient check of {getattr(f, '__name__', 'f')}"
    try:
        grads = gradients(**values)
        if not isinstance(grads, dict):
            grads = dict(zip(names, grads if isinstance(grads, (tuple, list)) else (grads,)))
        analytic = {name: _as_float_array(grads.get(name)) for name in names}
        numeric = {name: numerical_gradient(lambda: f(**values), values[name], h, order=4) for name in names}
    except Exception as err:  # noqa: BLE001
        return _could_not_run(title, threshold, h, err, {name: v.shape for name, v in values.items()})
    first = values[names[0]]
    sizes = {"N": (first.shape[0], "samples in the batch")} if first.ndim >= 1 else {}
    report = Report(title, threshold, h)
    for name in names:
        report.add(name, analytic[name], numeric[name], sizes=sizes)
    return report


def check_model(model, X, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H, max_entries=None, seed=0):
    """Check model.loss_and_grads(X) for every parameter of the model.

    The model's random state is restored before every evaluation, so corruption noise
    and the VAE's eps are the same draw each time (the loss is then a deterministic
    function of the weights).  ``max_entries`` checks a seeded random subset of each
    parameter's entries (all of them by default).
    """
    X = np.asarray(X)
    require_float64(X, what="data X")
    params = model.named_parameters()
    for name, value, _ in params:
        require_float64(value, what=f"parameter {name}")
    rng_state = model.rng.bit_generator.state
    title = f"gradient check of {type(model).__name__}"

    def f():
        model.rng.bit_generator.state = rng_state
        return model.loss_and_grads(X)

    try:
        f()
    except Exception as err:  # noqa: BLE001
        model.rng.bit_generator.state = rng_state
        return _could_not_run(title, threshold, h, err, {"X": X.shape, **{n: v.shape for n, v, _ in params}})
    analytic = {name: grad.copy() for name, _, grad in params}
    notes = kink_notes(model, h)
    report = Report(title, threshold, h, notes)
    pick = np.random.default_rng(seed)
    sizes = {"N": (X.shape[0], "samples in the batch")}
    for name, value, _ in params:
        indices = _sample_indices(value.shape, max_entries, pick)
        report.add(name, analytic[name], numerical_gradient(f, value, h, indices, order=4), indices, sizes)
    try:
        model.rng.bit_generator.state = rng_state
        check_terms(model, X, report, h, max_entries, pick)
    except Exception as err:  # noqa: BLE001 -- the whole-model rows above already say what is wrong
        report.notes.append(f"the loss terms could not be checked one by one ({type(err).__name__}: {err})")
    f()  # leave the grads as the analytic ones
    model.rng.bit_generator.state = rng_state
    return report


def check_terms(model, X, report, h=DEFAULT_H, max_entries=None, pick=None):
    """Add one row per loss term and per penalty to ``report``, each checked on its own.

    In the whole model's gradient a small term hides: a weight decay of lam = 1e-7 whose gradient
    lost its factor 2 moves the total by far less than the threshold.  Checked alone, that term's
    error is 0.33.  Rows are named "term <name>: <what it is checked in>":

    * Autoencoder: the reconstruction loss in the decoder's output; each code penalty in the code
      (nudged away from 0, the kink of ``|h|``); each weight penalty in every parameter it touches.
    * VAE: the likelihood's mean negative log-likelihood in the decoder's output; the KL
      (``model.kl_backward``) in mu and in logvar.
    """
    pick = pick if pick is not None else np.random.default_rng(0)
    sizes = {"N": (X.shape[0], "samples in the batch")}

    def add(name, analytic, value, f):
        indices = _sample_indices(value.shape, max_entries, pick)
        report.add(name, analytic, numerical_gradient(f, value, h, indices, order=4), indices, sizes)

    if hasattr(model, "likelihood"):  # a VAE
        mu, logvar, _ = model._posterior(X)
        mu, logvar = np.array(mu), np.array(logvar)
        out = np.array(model.decoder.forward(model.reparameterize(mu, logvar, model._eps(mu.shape))))
        likelihood = model.likelihood
        likelihood.nll(out, X)
        add("term recon: output", likelihood.backward(scale=1.0 / X.shape[0]), out,
            lambda: float(np.mean(likelihood.nll(out, X))))
        grad_mu, grad_logvar = model.kl_backward(mu, logvar)
        add("term kl: mu", grad_mu, mu, lambda: float(np.sum(gaussian_kl(mu, logvar))))
        add("term kl: logvar", grad_logvar, logvar, lambda: float(np.sum(gaussian_kl(mu, logvar))))
        return report
    x_in = model.noise.corrupt(X, model.rng) if model.noise is not None else X
    code = np.array(model.encoder.forward(x_in))
    out = np.array(model.decoder.forward(code))
    model.loss.forward(out, X)
    add("term recon: output", model.loss.backward(), out, lambda: model.loss.forward(out, X))
    params = model.named_parameters()
    for penalty in model.penalties:
        if penalty.on == "code":
            nudged = nudge_from_kinks(code, (0.0,))
            penalty.forward(nudged)
            add(f"term {penalty.name}: code", penalty.backward(), nudged, lambda: penalty.forward(nudged))
            continue
        for _, _, grad in params:
            grad[...] = 0.0
        penalty.forward(model, x_in)
        penalty.backward(model)
        analytic = {name: grad.copy() for name, _, grad in params}
        for name, value, _ in params:
            numeric_probe = numerical_gradient(lambda: penalty.forward(model, x_in), value, h,
                                               _sample_indices(value.shape, 4, np.random.default_rng(0)), order=4)
            if np.any(analytic[name]) or np.any(numeric_probe):  # only the parameters the penalty touches
                add(f"term {penalty.name}: {name}", analytic[name], value,
                    lambda: penalty.forward(model, x_in))
    return report
