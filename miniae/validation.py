"""Checks at the door: every public entry point validates what it is given here.

Inner code trusts its inputs; these functions turn a bad input into one clear
``ValueError`` that names the argument, what was expected and what was given.
"""
import numbers

import numpy as np


class MiniaeInputError(ValueError):
    """Bad input to a public miniae function (a ValueError, so ``except ValueError`` works)."""


class DivergenceError(ValueError):
    """Training produced a NaN or infinite loss; the model keeps its last finite weights."""


def as_float_array(X, name="X", dtype=np.float64):
    """Return X as a C-contiguous float array of ``dtype``.

    Integers and booleans are converted silently; strings, objects and complex numbers
    are refused.  Does not check rank or values (see ``check_data``).
    """
    if X is None:
        raise MiniaeInputError(f"{name} is None; pass a 2-D array of numbers")
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise MiniaeInputError(f"{name} could not be turned into an array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise MiniaeInputError(
            f"{name} must hold numbers (float, int or bool), got dtype {arr.dtype}; "
            "convert strings with float() or drop non-numeric columns first"
        )
    if arr.dtype.kind == "f" and arr.dtype.itemsize > np.dtype(dtype).itemsize:
        # narrowing (e.g. float64 data for a float32 model): values beyond the range would become inf
        with np.errstate(over="ignore"):
            narrowed = np.ascontiguousarray(arr, dtype=dtype)
        overflow = np.isinf(narrowed) & np.isfinite(arr)
        if overflow.any():
            raise MiniaeInputError(
                f"{name} has values up to {np.max(np.abs(np.where(overflow, arr, 0))):.3g}, beyond the range of "
                f"{np.dtype(dtype).name} (about {np.finfo(dtype).max:.3g}); rescale the data or use a float64 model"
            )
        return narrowed
    return np.ascontiguousarray(arr, dtype=dtype)


def check_data(X, name="X", n_features=None, dtype=np.float64, allow_1d=False):
    """Validate a (n_samples, n_features) data array and return it as ``dtype``.

    Refuses: non-numeric dtype, rank other than 2, empty arrays, NaN or inf, and a
    feature count other than ``n_features`` (when given).
    """
    arr = as_float_array(X, name, dtype)
    if arr.ndim == 1 and allow_1d:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        hint = " (for one sample use X.reshape(1, -1))" if arr.ndim == 1 else ""
        raise MiniaeInputError(
            f"{name} must be 2-D with shape (n_samples, n_features), got {arr.ndim}-D "
            f"with shape {arr.shape}{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise MiniaeInputError(f"{name} is empty (shape {arr.shape}); pass at least one sample and one feature")
    if n_features is not None and arr.shape[1] != n_features:
        raise MiniaeInputError(
            f"{name} has {arr.shape[1]} features but the model was built for {n_features}; "
            f"pass data with {n_features} columns or build the model with sizes=[{arr.shape[1]}, ...]"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise MiniaeInputError(
            f"{name} contains {bad} NaN or infinite value(s); remove or impute them "
            "(e.g. sklearn.impute.SimpleImputer) before training"
        )
    return arr


def check_pair(pred, target):
    """Cheap structural checks for a loss: float arrays, 2-D, non-empty, same shape.

    Nothing is broadcast.  (Values are checked afterwards, by ``check_finite_loss``,
    so the common path costs no extra pass over the data.)
    """
    for name, arr in (("pred", pred), ("target", target)):
        if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
            kind = getattr(arr, "dtype", type(arr).__name__)
            raise MiniaeInputError(f"{name} must be a float ndarray, got {kind}; use np.asarray(x, dtype=float)")
        if arr.ndim != 2 or arr.size == 0:
            raise MiniaeInputError(f"{name} must be a non-empty 2-D array (batch, n_features), got shape {arr.shape}")
    if pred.shape != target.shape:
        raise MiniaeInputError(
            f"pred and target must have the same shape, got pred {pred.shape} and "
            f"target {target.shape}; nothing is broadcast"
        )


def check_finite_loss(value, pred, target):
    """Raise if a loss value is NaN/inf, naming which input is to blame."""
    if np.isfinite(value):
        return value
    n_bad_target = int(target.size - np.count_nonzero(np.isfinite(target)))
    if n_bad_target:
        raise MiniaeInputError(f"target contains {n_bad_target} NaN or infinite value(s)")
    n_bad_pred = int(pred.size - np.count_nonzero(np.isfinite(pred)))
    raise DivergenceError(
        f"pred contains {n_bad_pred} NaN or infinite value(s) (the loss is {value}); "
        "if this happened in training, lower the learning rate"
    )


# ------------------------------------------------------------------ sizes
# One way to read a size everywhere (Dense, the conv layers, pooling, Reshape, the builders, the
# command line): an integer, never a float or a string read as one (8.0, 8.5 and "8" are refused,
# not rounded or truncated), at least ``minimum``; a pair is one such integer or two of them.
MAX_LAYER_WEIGHTS = 10 ** 7  # the most weights one layer may have (80 MB in float64; a 784 x 1000 Dense has 0.8 M)


def check_size(value, name, minimum=1):
    """A size: an integer >= ``minimum`` (1 for widths, channels, kernels and strides; 0 for a padding).

    A NumPy integer is fine; a bool, a float (even 8.0), a string, None, NaN, inf or a tuple is refused
    by ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise MiniaeInputError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def check_positive_int(value, name):
    """A positive integer (check_size with minimum 1)."""
    return check_size(value, name)


def check_size_pair(value, name, minimum=1):
    """One size for both axes (3 -> (3, 3)) or a pair of sizes (height, width) -> a tuple of two ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise MiniaeInputError(f"{name} must be an integer or a pair of integers (height, width), got {value!r}")
        return tuple(check_size(v, f"{name}[{i}]", minimum) for i, v in enumerate(value))
    size = check_size(value, name, minimum)
    return size, size


def check_shape(shape, name, length=None):
    """A tuple or list of positive sizes (``length`` of them when given), e.g. (channels, height, width)."""
    expected = f"{length} positive integers" if length else "positive integers"
    if isinstance(shape, np.ndarray) and shape.ndim == 1:
        shape = shape.tolist()
    if not isinstance(shape, (tuple, list)) or not shape or (length is not None and len(shape) != length):
        raise MiniaeInputError(f"{name} must be a tuple of {expected}, got {shape!r}")
    return tuple(check_size(s, f"{name}[{i}]") for i, s in enumerate(shape))


def check_weight_count(count, what):
    """Refuse a layer of more than MAX_LAYER_WEIGHTS weights before NumPy tries to allocate them."""
    if count > MAX_LAYER_WEIGHTS:
        raise MiniaeInputError(f"{what} would have {count:.3g} weights, more than miniae's limit of "
                               f"{MAX_LAYER_WEIGHTS:.0e} for one layer (miniae.validation.MAX_LAYER_WEIGHTS); "
                               "use smaller sizes")
    return count


def check_sizes(sizes, name="sizes"):
    """A list of at least two positive layer sizes, each an integer (4.7 or "42" is refused, not rounded),
    with no layer between neighbours bigger than MAX_LAYER_WEIGHTS."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (list, tuple, np.ndarray)):
        raise MiniaeInputError(f"{name} must be a list of positive integers such as [64, 32, 8], got {sizes!r}")
    bad = [s for s in list(sizes) if isinstance(s, bool) or not isinstance(s, numbers.Integral)]
    if bad:
        raise MiniaeInputError(f"{name} must be a list of positive integers, got {list(sizes)!r} "
                               f"({bad[0]!r} is not an integer)")
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise MiniaeInputError(
            f"{name} must list at least two positive sizes (input, ..., code), got {sizes}"
        )
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        check_weight_count(n_in * n_out + n_out, f"{name} {sizes}: the layer {n_in} -> {n_out}")
    return sizes


def check_number(value, name, low=None, high=None, low_open=False, high_open=False):
    """A finite real number (not a bool, not a string) within [low, high] -> float.

    ``low_open``/``high_open`` make that end strict: check_number(lr, "lr", 0, low_open=True) is lr > 0.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise MiniaeInputError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not np.isfinite(value) or too_low or too_high:
        if low is not None and high is not None:
            where = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            where = f"{'>' if low_open else '>='} {low:g}"
        elif high is not None:
            where = f"{'<' if high_open else '<='} {high:g}"
        else:
            where = "finite"
        raise MiniaeInputError(f"{name} must be a finite number {where}, got {value!r}")
    return value


def check_bool(value, name):
    """True or False (a NumPy bool too); a string such as "False" is refused, not read as True."""
    if not isinstance(value, (bool, np.bool_)):
        raise MiniaeInputError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_rng(rng, name="rng"):
    """A numpy Generator from None, a non-negative int seed, a Generator, a SeedSequence or a BitGenerator."""
    ok = (rng is None or isinstance(rng, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator))
          or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0))
    if not ok:
        raise MiniaeInputError(f"{name} must be None, a non-negative integer seed or a numpy Generator "
                               f"(np.random.default_rng(seed)), got {rng!r}")
    return np.random.default_rng(rng)


def check_float_dtype(dtype, name="dtype"):
    """A floating-point dtype of at least 32 bits (float32 or float64) -> np.dtype.

    Integer weights would all round to 0 and complex ones have no order for a loss to minimise.
    """
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.kind != "f" or result.itemsize < 4:
        raise MiniaeInputError(f"{name} must be a floating-point dtype (np.float64 or np.float32), got {dtype!r}")
    return result


def check_unit_interval(target, name, what):
    """Refuse values outside [0, 1] where they are read as probabilities (BCE, Bernoulli).  NaN passes here
    (a NaN is reported by the finiteness checks, with its count)."""
    low, high = np.min(target), np.max(target)
    if low < 0 or high > 1:
        raise MiniaeInputError(
            f"{name} has values in [{low:.3g}, {high:.3g}] but {what} reads each value as a probability in "
            "[0, 1]; use MSE (loss='mse') or a Gaussian likelihood (likelihood='gaussian'), "
            "or rescale the data to [0, 1] (e.g. X / X.max())"
        )
