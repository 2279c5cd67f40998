"""What a failing gradient check tells a student.

A gradient check knows two arrays for every parameter: the gradient the student's backward
pass wrote (analytic) and the one finite differences measured (numerical).  When they
disagree, HOW they disagree usually gives the mistake away, because the common mistakes
leave fingerprints:

    shape (n_out, n_in) instead of (n_in, n_out)     W's gradient transposed
    one row per sample for a bias                    the batch sum forgotten
    analytic = -1 x numerical                        a sign error
    analytic = N x numerical (N the batch size)      a missing 1/N
    analytic = 2 x or 1/2 x numerical                the 2 of d(u^2)/du twice or never
    the values of dy @ W where dy @ W.T belongs      a known wrong answer, tried directly
    right except at a few entries                    a kink or a branch

``diagnose`` tries these patterns in order and returns one sentence naming the likely
cause (or None: then the table of worst entries is all the student gets).  The rest of the
module turns other signals into sentences: a backward that raised NotImplementedError or a
shape error (``explain_error``, which points at the student's own line), a backward that
replaced its grads array, an activation input sitting on a kink.  miniae.gradcheck does
the measuring and calls in here; nothing in this module computes a gradient.
"""
import re
import traceback

import numpy as np

from .layers import Layer

# frames of these modules are the checker's own, never the student's code
_CHECKER_MODULES = ("miniae.gradcheck", __name__)
# NumPy's message when an array of the wrong shape is written into an existing one (a[...] = value)
_BROADCAST_INTO = re.compile(r"could not broadcast input array from shape (\([\d, ]*\)) into shape (\([\d, ]*\))")


# ---------------------------------------------------------------- two arrays that disagree
def diagnose(analytic, numeric, sizes=None, candidates=(), indices=None):
    """A sentence naming the likely cause of a wrong gradient, or None if no pattern fits.

    analytic: the hand-written gradient (None if there was none); numeric: finite differences.
    sizes: {symbol: (value, meaning)}, e.g. {"N": (4, "the batch size")}: the sizes a
    constant factor is compared with.  candidates: [(array, hint), ...], known wrong
    answers (say dy @ W for dx); the hint of the first one that matches is returned.
    indices: when only some entries were evaluated numerically, only those are compared.

    The patterns, tried in order: no gradient; wrong shape (transposed, an extra or a
    missing batch axis); NaN or inf; all zeros; the transpose of the right values; a known
    wrong answer; analytic = c * numerical for one constant c (c = -1 is a sign error,
    c = N a missing 1/N, c = 1/N an average where a sum belongs, c = 2 or 1/2 a factor 2);
    right almost everywhere (a kink or a branch).
    """
    if analytic is None:
        return ("there is no gradient to compare: backward (or your gradient function) returned None "
                "or something that is not an array; return dL/dx and write parameter gradients into self.grads")
    n = np.asarray(numeric, dtype=np.float64)
    a = np.asarray(analytic, dtype=np.float64)
    if a.shape != n.shape:
        return _shape_hint(a.shape, n.shape)
    if not np.all(np.isfinite(a)):
        return (f"the analytic gradient has {int(np.sum(~np.isfinite(a)))} NaN or inf entries: look for "
                "log(0), 0/0 or exp of a large number (a numerically stable formula avoids them)")
    mask = np.ones(a.shape, dtype=bool)
    if indices is not None:
        mask[...] = False
        for index in indices:
            mask[index] = True
    a_m, n_m = a[mask], n[mask]
    if not np.any(a_m) and np.any(n_m):
        return ("the analytic gradient is all zeros: backward did not fill it; write into the existing "
                "array (self.grads[name][...] = ...) or return the gradient you computed")
    if not np.any(n_m) and np.any(a_m):
        return ("the numerical gradient is zero, so the output does not depend on this value "
                "(is forward using it?); its analytic gradient should be zero as well")
    if a.ndim == 2 and a.shape[0] == a.shape[1] and not _close(n_m, n.T[mask]) and _close(a.T[mask], n_m):
        return ("the values are the transpose of the right gradient: for y = x @ W, dL/dW = x.T @ dy "
                "(shape of W), not dy.T @ x")
    for candidate, hint in candidates:
        candidate = np.asarray(candidate, dtype=np.float64)
        if candidate.shape == a.shape and _close(a_m, candidate[mask]):
            return hint
    factor = _constant_factor(a_m, n_m)
    if factor is not None:
        return _factor_hint(factor, sizes or {})
    close = np.abs(a_m - n_m) / np.maximum(np.abs(a_m) + np.abs(n_m), 1e-8) <= 1e-6  # rel_error entry by entry
    if close.mean() >= 0.75:
        return (f"{int((~close).sum())} of {close.size} entries are wrong and the rest are right: a kink "
                "crossed by the finite-difference step, or a branch (np.where, clipping, abs) that "
                "is handled differently at those entries")
    return None


def _shape_hint(got, expected):
    if len(got) == 2 and got == expected[::-1]:
        return (f"the gradient has shape {got} but should have shape {expected} (the shape of the "
                "parameter): it is transposed; for y = x @ W, dL/dW = x.T @ dy has the shape of W")
    if len(got) == len(expected) + 1 and got[1:] == expected:
        return (f"the gradient has shape {got}, one row per sample, but should have shape {expected}: "
                "you forgot the batch sum; a parameter is shared by every sample, so add their "
                "gradients with .sum(axis=0)")
    if len(got) + 1 == len(expected) and got == expected[1:]:
        return (f"the gradient has shape {got} but should have shape {expected}: the gradient with "
                "respect to a batch input has one row per sample (do not sum over the batch)")
    return f"the gradient has shape {got} but should have shape {expected} (the shape of the value it belongs to)"


def _close(x, y, rtol=1e-4):
    """x and y equal up to finite-difference noise, relative to the size of y."""
    scale = max(float(np.linalg.norm(y)), 1e-12)
    return float(np.linalg.norm(x - y)) <= rtol * scale


def _constant_factor(a, n):
    """c with a = c * n everywhere (least squares, then checked), or None; c = 1 is None."""
    denominator = float(np.vdot(n, n))
    if denominator == 0.0:
        return None
    c = float(np.vdot(a, n)) / denominator
    if c == 0.0 or not _close(a, c * n) or abs(c - 1) < 1e-4:
        return None
    return c


def _factor_hint(c, sizes):
    """Name a constant factor c (analytic = c * numerical): a sign, 2, or one of the sizes.

    sizes: {symbol: (value, what it counts)}, e.g. {"N": (4, "samples in the batch")}.
    """
    lead = f"analytic = {c:.4g} x numerical everywhere: "
    sign = "a sign error (check pred - target versus target - pred, and the minus signs of the derivative)"
    magnitude = abs(c)
    if abs(magnitude - 1) < 1e-3:
        return lead + sign
    named = [(2.0, "a factor 2 too large: the derivative of u^2 is 2u, so the 2 belongs there once, "
                   "or a 1/2 is missing"),
             (0.5, "half of the right value: the derivative of u^2 is 2u (the factor 2 is missing), "
                   "or there is a 1/2 too many")]
    for symbol, (value, counts) in sizes.items():
        divisor = f"({symbol})" if "*" in symbol else symbol
        if value > 1:
            named.append((float(value), f"too large by {symbol} = {value} ({counts}): a missing 1/{divisor} "
                                        f"factor (the mean over the {value} {counts})"))
            batch = (" or averaged over the batch where the gradient sums (forgot the batch sum: "
                     "db = dy.sum(axis=0), not dy.mean(axis=0))") if symbol == "N" else ""
            named.append((1.0 / value, f"too small by 1/{divisor} = 1/{value} ({counts}): divided by "
                                       f"{symbol} once too often{batch}"))
    matches = list(dict.fromkeys(text for value, text in named if abs(magnitude / value - 1) < 1e-3))
    if matches:
        return lead + (sign + ", and " if c < 0 else "") + "; or ".join(matches)
    if c < 0:
        return lead + sign + f", and a constant factor {magnitude:.4g} is wrong"
    return lead + "a constant factor is wrong (look for a missing or an extra scale factor)"


# ---------------------------------------------------------------- known wrong answers and notes
def input_candidates(layer, dy, numeric_dx):
    """Known wrong answers for dL/dx: f'(x) without dy (activations), dy @ W instead of dy @ W.T."""
    candidates = []
    if numeric_dx.shape == dy.shape and np.all(dy != 0):
        candidates.append((numeric_dx / dy, "dx is f'(x) alone: the chain rule multiplies it by the "
                                            "gradient that arrives from above, dx = dy * f'(x)"))
    W = layer.params.get("W") if isinstance(layer.params, dict) else None
    if W is not None and W.ndim == 2 and W.shape[0] == W.shape[1]:
        candidates.append((dy @ W, "dx multiplies dy by W; going backwards uses the transpose: dx = dy @ W.T"))
    return candidates


def replaced_grads_notes(names):
    """One note per gradient array that backward replaced instead of writing into it."""
    return [f"backward replaced the array self.grads[{name!r}] with a new one; write into it instead "
            f"(self.grads[{name!r}][...] = ...) so an optimizer holding it sees every update"
            for name in names]


def kink_notes(model, h):
    """Warn when some activation input sits so close to a kink that a step of h may cross it.

    Walks every layer the model holds as an attribute (an Autoencoder's encoder and decoder,
    a VAE's body, heads and decoder), into containers with a ``layers`` list (Sequential,
    also nested), and names the attribute the layer sits under.  Call it after a forward
    pass: it reads each activation's stored input ``x``.
    """
    notes = []
    for part, value in vars(model).items():
        if not isinstance(value, Layer):
            continue
        for layer in _walk_layers(value):
            kinks = getattr(layer, "kinks", ())
            x = getattr(layer, "x", None)
            if kinks and x is not None:
                distance = min(float(np.min(np.abs(x - k))) for k in kinks)
                if distance < 4 * h:
                    notes.append(f"a {type(layer).__name__} input in the {part} is {distance:.1e} from its kink; "
                                 "a failure there may be the kink, not the gradient (try another seed)")
    return notes


def _walk_layers(layer):
    """layer itself, then (depth first) every layer inside it."""
    yield layer
    for inner in getattr(layer, "layers", None) or ():
        yield from _walk_layers(inner)


# ---------------------------------------------------------------- code that raised
def student_frame(err):
    """(qualified name, line) of the innermost frame of err's traceback outside numpy and the checker."""
    frames = [(frame, line) for frame, line in traceback.walk_tb(err.__traceback__)
              if "numpy" not in frame.f_code.co_filename
              and frame.f_globals.get("__name__") not in _CHECKER_MODULES]
    if not frames:
        return None, None
    frame, line = frames[-1]
    name = frame.f_code.co_name
    owner = frame.f_locals.get("self")
    if owner is not None:
        name = f"{type(owner).__name__}.{name}"
    return name, line


def explain_error(err, shapes):
    """(sentence for the student, "not implemented" or "error") for code that raised
    NotImplementedError or a shape error; any other error is re-raised as it is.

    shapes: {name: shape} of the values involved, listed in the sentence for a shape error.
    """
    where, line = student_frame(err)
    if isinstance(err, NotImplementedError):
        what = f"{where} raised NotImplementedError" if where else "the code raised NotImplementedError"
        return (f"{what}. Write your answer in place of `raise NotImplementedError()` "
                "in the exercise cell, run that cell, then run this check again.", "not implemented")
    text = str(err)
    if not isinstance(err, (ValueError, IndexError)) or not any(
            word in text for word in ("shape", "broadcast", "mismatch", "dimension", "aligned", "index")):
        raise err
    known = ", ".join(f"{name} {tuple(shape)}" for name, shape in shapes.items())
    place = f" in {where} (line {line})" if where else ""
    written = _BROADCAST_INTO.search(text)
    if written:  # grads[name][...] = value, with value of the wrong shape: name the mistake
        got, expected = (tuple(int(n) for n in re.findall(r"\d+", group)) for group in written.groups())
        return (f"{type(err).__name__}{place}: {text}: {_shape_hint(got, expected)}", "error")
    return (f"{type(err).__name__}{place}: {text}. The shapes here are {known}; "
            "write each gradient with the shape of the value it belongs to.", "error")
