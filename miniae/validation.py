"""Checks at the door: every public entry point validates what it is given here.

Inner code trusts its inputs; these functions turn a bad input into one clear
``ValueError`` that names the argument, what was expected and what was given.
"""
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
                f"{name} has values up to {np.max(np.abs(arr[overflow])):.3g}, beyond the range of "
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


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise MiniaeInputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_sizes(sizes, name="sizes"):
    """A list of at least two positive layer sizes."""
    try:
        sizes = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise MiniaeInputError(f"{name} must be a list of positive integers, got {sizes!r}") from None
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise MiniaeInputError(
            f"{name} must list at least two positive sizes (input, ..., code), got {sizes}"
        )
    return sizes
