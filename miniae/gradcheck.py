"""Gradient checking: compare a hand-written backward pass with finite differences.

Central differences, one entry at a time:

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h)                       error O(h^2)

The quotient has two errors: truncation (about h^2 |f'''| / 6, smaller for smaller h)
and rounding (about 1e-16 |f| / h, larger for smaller h).  The checks use the
fourth-order stencil, whose truncation error is so much smaller that h can be larger,
which cuts the rounding error tenfold:

    df/dx_i  ~  [8 (f(x + h) - f(x - h)) - (f(x + 2h) - f(x - 2h))] / (12 h)   error O(h^4)

Comparing an analytic gradient a with the numerical one n:

    rel_error(a, n) = max_i |a_i - n_i| / max(|a_i| + |n_i|, tiny)      (entry by entry)

is the textbook measure; but an entry a thousand times smaller than f itself cannot be
resolved to 1e-7 by any finite difference, so the reports judge each parameter as a
whole (the measure of the UFLDL sparse-autoencoder exercise),

    error = ||a - n|| / (||a|| + ||n||)                               (Euclidean norms)

and name the entry where |a_i - n_i| is largest.  Rule of thumb in float64: 1e-7 or less
is right for a smooth function; 1e-4 or more is a bug (or a kink, like ReLU at 0,
crossed by the step; inputs are nudged away from kinks where the check can see them).
float32 is refused: its rounding error (about 6e-8 relative) divided by h swamps the
difference quotient, so even a correct gradient would "fail".
"""
import numpy as np

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
    import inspect
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return True
    return len(params) >= 1


def rel_error(a, n, tiny=1e-8):
    """max_i |a_i - n_i| / max(|a_i| + |n_i|, tiny) over all entries (0.0 for empty arrays)."""
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

    error = ||a - n|| / (||a|| + ||n||) over the checked entries (0 when both are zero);
    index = the entry where |a_i - n_i| is largest, with the two values there.
    """

    def __init__(self, name, analytic, numeric, threshold, indices=None):
        self.name = name
        self.analytic, self.numeric = analytic, numeric
        if indices is not None:  # only some entries were evaluated numerically
            mask = np.zeros(analytic.shape, dtype=bool)
            for index in indices:
                mask[index] = True
            analytic, numeric = np.where(mask, analytic, 0.0), np.where(mask, numeric, 0.0)
        self.n_checked = analytic.size if indices is None else len(indices)
        diff = np.abs(analytic - numeric)
        scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
        self.error = float(np.linalg.norm(diff) / scale) if scale > 0 else 0.0
        self.index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
        self.analytic_value = float(analytic[self.index]) if diff.size else 0.0
        self.numeric_value = float(numeric[self.index]) if diff.size else 0.0
        self.passed = bool(self.error <= threshold)
        self.hint = None  # filled in when a common mistake is recognised

    @property
    def index_str(self):
        return "(" + ", ".join(str(int(i)) for i in self.index) + ")"


class Report:
    """The result of a gradient check: prints as a table; truthy when every entry passes."""

    def __init__(self, title, threshold, h, notes=()):
        self.title, self.threshold, self.h = title, threshold, h
        self.entries = []
        self.notes = list(notes)

    def add(self, name, analytic, numeric, indices=None):
        entry = Entry(name, np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64),
                      self.threshold, indices)
        self.entries.append(entry)
        return entry

    @property
    def passed(self):
        return all(entry.passed for entry in self.entries)

    def __bool__(self):
        return self.passed

    @property
    def max_error(self):
        return max((entry.error for entry in self.entries), default=0.0)

    @property
    def first_failure(self):
        return next((entry for entry in self.entries if not entry.passed), None)

    def __getitem__(self, name):
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def __str__(self):
        name_width = max([len("parameter")] + [len(e.name) for e in self.entries])
        lines = [f"{self.title}  (float64, 4th-order differences, h={self.h:g}, pass if rel. error <= {self.threshold:g})",
                 f"{'parameter':<{name_width}}  {'rel. error':>10}  {'worst index':<12}  "
                 f"{'analytic':>12}  {'numerical':>12}  result"]
        for e in self.entries:
            lines.append(f"{e.name:<{name_width}}  {e.error:>10.2e}  {e.index_str:<12}  "
                         f"{e.analytic_value:>12.5g}  {e.numeric_value:>12.5g}  {'ok' if e.passed else 'FAIL'}")
        failure = self.first_failure
        if failure is None:
            lines.append("all gradients match")
        else:
            lines.append(f"first failure: {failure.name} at index {failure.index_str}: analytic "
                         f"{failure.analytic_value:.6g}, numerical {failure.numeric_value:.6g}")
            if failure.hint:
                lines.append(f"hint: {failure.hint}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle):  # IPython shows the table, not an object address
        printer.text(str(self))


# ---------------------------------------------------------------- helpers
def require_float64(*arrays, what="input"):
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


# ---------------------------------------------------------------- checks
def check_layer(layer, x, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H, seed=0, max_entries=None):
    """Check a layer's backward pass (parameters and input) on the input x: (batch, n_in).

    Uses the scalar f(x) = sum(layer.forward(x) * dy) for a fixed random dy, whose
    gradient is exactly what backward(dy) returns (computed as sum((y - y0) * dy) with
    y0 the unperturbed output, which keeps rounding error out of the quotient).  Inputs close to a kink of the first
    layer (ReLU at 0) are nudged away first.
    """
    require_float64(x, what="input x")
    for name, value in layer.params.items():
        require_float64(value, what=f"parameter {name}")
    x = nudge_from_kinks(x, _layer_kinks(layer))
    rng = np.random.default_rng(seed)
    y0 = np.array(layer.forward(x))
    dy = rng.standard_normal(y0.shape)
    dx = layer.backward(dy)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}

    def f():
        # sum((y - y0) * dy) has the same gradient as sum(y * dy) (y0 is a constant), but
        # its value is tiny, so the rounding error of the difference quotient is tiny too
        return float(np.sum((layer.forward(x) - y0) * dy))

    report = Report(f"gradient check of {layer!r}", threshold, h)
    for name, value in layer.params.items():
        indices = _sample_indices(value.shape, max_entries, rng)
        report.add(name, analytic[name], numerical_gradient(f, value, h, indices, order=4), indices)
    indices = _sample_indices(x.shape, max_entries, rng)
    report.add("x (input)", dx, numerical_gradient(f, x, h, indices, order=4), indices)
    return report


def check_loss(loss, pred, target, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H):
    """Check loss.backward() against finite differences of loss.forward(pred, target) in pred."""
    pred = np.array(pred, dtype=pred.dtype if hasattr(pred, "dtype") else np.float64)
    require_float64(pred, target, what="pred and target")
    loss.forward(pred, target)
    analytic = np.array(loss.backward(), dtype=np.float64)
    numeric = numerical_gradient(lambda: loss.forward(pred, target), pred, h, order=4)
    report = Report(f"gradient check of {loss!r}", threshold, h)
    report.add("pred", analytic, numeric)
    return report


def check_penalty(penalty, code, threshold=DEFAULT_THRESHOLD, h=DEFAULT_H):
    """Check a code penalty's backward() against finite differences of forward(code)."""
    code = np.array(code)
    require_float64(code, what="code")
    penalty.forward(code)
    analytic = np.array(penalty.backward(), dtype=np.float64)
    numeric = numerical_gradient(lambda: penalty.forward(code), code, h, order=4)
    report = Report(f"gradient check of {penalty!r}", threshold, h)
    report.add("code", analytic, numeric)
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

    def f():
        model.rng.bit_generator.state = rng_state
        return model.loss_and_grads(X)

    f()
    analytic = {name: grad.copy() for name, _, grad in params}
    notes = _kink_notes(model, h)
    report = Report(f"gradient check of {type(model).__name__}", threshold, h, notes)
    pick = np.random.default_rng(seed)
    for name, value, _ in params:
        indices = _sample_indices(value.shape, max_entries, pick)
        report.add(name, analytic[name], numerical_gradient(f, value, h, indices, order=4), indices)
    f()  # leave the grads as the analytic ones
    model.rng.bit_generator.state = rng_state
    return report


def _kink_notes(model, h):
    """Warn when some activation input sits so close to a kink that a step of h may cross it."""
    notes = []
    for part in ("encoder", "decoder"):
        for layer in getattr(getattr(model, part, None), "layers", []):
            kinks = getattr(layer, "kinks", ())
            x = getattr(layer, "x", None)
            if kinks and x is not None:
                distance = min(float(np.min(np.abs(x - k))) for k in kinks)
                if distance < 4 * h:
                    notes.append(f"a {type(layer).__name__} input in the {part} is {distance:.1e} from its kink; "
                                 "a failure there may be the kink, not the gradient (try another seed)")
    return notes
