"""Working in the latent space of a trained autoencoder: the code h = f(x) as a place to move in.

    interpolation       x(t) = g((1 - t) f(x_a) + t f(x_b))      (against (1 - t) x_a + t x_b)
    attribute vector    v = mean f(X_with) - mean f(X_without);   edit: g(f(x) + amount * v)
    anomaly score       s(x) = mean_d (x_d - g(f(x))_d)^2       (large = unlike the training data)
    t-SNE on codes      X -> f(X) (say 32-D) -> 2-D, against t-SNE on the raw pixels

Any model with ``encode`` and ``decode`` works (an Autoencoder, or a VAE, whose code is
taken to be the mean mu of q(z|x) when ``encode`` returns (mu, logvar)).
"""
import inspect
from collections import namedtuple

import numpy as np
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

from .validation import MiniaeInputError, as_float_array, check_data, check_positive_int

Interpolation = namedtuple("Interpolation", ["latent", "pixel", "t"])
Interpolation.__doc__ = """Two paths from x_a to x_b, each (steps, n_features), and the weights t (steps,).

``latent``: decoded points on the straight line between the two codes;
``pixel``: the cross-fade (1 - t) x_a + t x_b, which never leaves the straight line in pixel space."""


def _check_model(model):
    for method in ("encode", "decode"):
        if not callable(getattr(model, method, None)):
            raise MiniaeInputError(
                f"model must have encode() and decode() methods (a trained Autoencoder or VAE), "
                f"got {type(model).__name__} without {method}()"
            )
    return model


def codes(model, X):
    """The code of every row of X: (n, n_features) -> (n, code_size).

    For a model whose ``encode`` returns a tuple (a VAE: (mu, logvar)) the first entry,
    the mean, is the code.  Errors on bad X are the model's own (they name X).
    """
    _check_model(model)
    code = model.encode(X)
    if isinstance(code, tuple):
        code = code[0]
    return np.asarray(code)


def _one_sample(x, name):
    """A single sample given as (n_features,) or (1, n_features) -> (1, n_features)."""
    arr = check_data(x, name, allow_1d=True)
    if arr.shape[0] != 1:
        raise MiniaeInputError(f"{name} must be one sample, shape (n_features,) or (1, n_features), got {arr.shape}")
    return arr


def interpolate(model, x_a, x_b, steps=8):
    """Walk from x_a to x_b in ``steps`` equal steps, through the code space and through pixel space.

    x_a, x_b: one sample each, (n_features,) or (1, n_features).  With t = 0, 1/(steps-1), ..., 1:

        latent[i] = g((1 - t_i) f(x_a) + t_i f(x_b))     (decoded; both ends are reconstructions)
        pixel[i]  = (1 - t_i) x_a + t_i x_b              (the cross-fade: a double exposure)

    Returns Interpolation(latent, pixel, t): (steps, n_features), (steps, n_features), (steps,).
    """
    _check_model(model)
    x_a, x_b = _one_sample(x_a, "x_a"), _one_sample(x_b, "x_b")
    if x_a.shape != x_b.shape:
        raise MiniaeInputError(f"x_a and x_b must have the same number of features, "
                               f"got {x_a.shape[1]} and {x_b.shape[1]}")
    steps = check_positive_int(steps, "steps")
    if steps < 2:
        raise MiniaeInputError(f"steps must be at least 2 (the two end points), got {steps}")
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    code_a, code_b = codes(model, x_a), codes(model, x_b)
    latent = model.decode((1.0 - t) * code_a + t * code_b)
    pixel = (1.0 - t) * x_a + t * x_b
    return Interpolation(np.asarray(latent), pixel, t[:, 0])


def attribute_vector(model, X_with, X_without):
    """The direction in code space from samples without an attribute to samples with it.

        v = (1 / n_with) sum f(x) over X_with  -  (1 / n_without) sum f(x) over X_without

    X_with: (n_with, n_features), X_without: (n_without, n_features); a few dozen labelled
    samples are enough (the "smile vector": 20 smiling and 20 frowning faces).
    Returns v: (code_size,).
    """
    _check_model(model)
    X_with = check_data(X_with, "X_with")
    X_without = check_data(X_without, "X_without")
    return codes(model, X_with).mean(axis=0) - codes(model, X_without).mean(axis=0)


def apply_attribute(model, X, vector, amounts=1.0):
    """Move the code of every sample along ``vector`` and decode: g(f(x) + amount * vector).

    X: (n, n_features); vector: (code_size,) (e.g. from ``attribute_vector``); amounts: a number
    or a sequence of numbers (0 gives the plain reconstruction, negative removes the attribute).
    Returns (n, n_features) for a single number, (n, n_amounts, n_features) for a sequence, so
    ``result.reshape(-1, n_features)`` lists each sample's edits side by side.
    """
    _check_model(model)
    code = codes(model, X)
    vector = as_float_array(vector, "vector")
    if vector.ndim != 1 or vector.shape[0] != code.shape[1]:
        raise MiniaeInputError(
            f"vector must have shape (code_size,) = ({code.shape[1]},), got {vector.shape}; "
            "make it with attribute_vector(model, X_with, X_without)"
        )
    single = np.ndim(amounts) == 0
    amounts_arr = as_float_array(amounts, "amounts").ravel() if single else as_float_array(amounts, "amounts")
    if amounts_arr.ndim > 1 or amounts_arr.size == 0 or not np.all(np.isfinite(amounts_arr)):
        raise MiniaeInputError(f"amounts must be a finite number or a non-empty 1-D sequence of numbers, "
                               f"got {amounts!r}")
    edited = [np.asarray(model.decode(code + amount * vector)) for amount in amounts_arr]
    if single:
        return edited[0]
    return np.stack(edited, axis=1)


def anomaly_scores(model, X):
    """Per-sample reconstruction error, the anomaly score: s_n = (1 / D) sum_d (x_nd - g(f(x_n))_d)^2.

    X: (n, n_features) -> scores: (n,).  A model trained on normal data reconstructs normal
    samples well, so a large score means "unlike anything seen in training".  For a model whose
    ``reconstruct`` is random (a VAE that samples), pass a deterministic one or average.
    """
    if not callable(getattr(model, "reconstruct", None)):
        raise MiniaeInputError(f"model must have a reconstruct() method, got {type(model).__name__}")
    X = check_data(X, "X", n_features=getattr(model, "n_features", None))
    recon = np.asarray(model.reconstruct(X))
    return np.mean((X - recon) ** 2, axis=1)


def anomaly_threshold(train_scores, quantile=0.95):
    """A threshold from the scores of normal (training) data: their ``quantile``.

    Flagging ``scores > threshold`` then raises a false alarm on about (1 - quantile) of
    normal samples.  train_scores: (n,) finite numbers; quantile in (0, 1).  Returns a float.
    """
    scores = as_float_array(train_scores, "train_scores")
    if scores.ndim != 1 or scores.size == 0 or not np.all(np.isfinite(scores)):
        raise MiniaeInputError(f"train_scores must be a non-empty 1-D array of finite numbers, "
                               f"got shape {scores.shape}")
    if not 0.0 < float(quantile) < 1.0:
        raise MiniaeInputError(f"quantile must be between 0 and 1 (exclusive), got {quantile!r}")
    return float(np.quantile(scores, float(quantile)))


def tsne(X, model=None, n_components=2, perplexity=30.0, max_iter=1000, seed=0, n_threads=1):
    """t-SNE embedding (scikit-learn's TSNE) of X, or of the model's codes of X when a model is given.

    X: (n, n_features) -> (n, n_components).  ``tsne(X)`` embeds the raw features;
    ``tsne(X, model)`` embeds f(X), e.g. "autoencoder to 32-D, then t-SNE to 2-D", the usual
    way to make t-SNE cheaper and less sensitive to noise on wide data.  PCA initialisation
    and a fixed ``seed`` make the embedding repeatable; ``max_iter`` (at least 250) trades
    quality for time.  ``n_threads`` limits scikit-learn's OpenMP threads while it runs: on the
    few thousand points of a lesson one thread is as fast, and on a busy machine much faster
    (waiting threads spin); None keeps scikit-learn's default.
    """
    X = check_data(X, "X")
    data = codes(model, X) if model is not None else X
    n_components = check_positive_int(n_components, "n_components")
    if not 0 < float(perplexity) < data.shape[0]:
        raise MiniaeInputError(
            f"perplexity must be positive and smaller than the number of samples ({data.shape[0]}), got {perplexity!r}"
        )
    max_iter = check_positive_int(max_iter, "max_iter")
    if max_iter < 250:
        raise MiniaeInputError(f"max_iter must be at least 250 (scikit-learn's minimum), got {max_iter}")
    # scikit-learn renamed n_iter to max_iter in version 1.5
    iter_name = "max_iter" if "max_iter" in inspect.signature(TSNE).parameters else "n_iter"
    embedder = TSNE(n_components=n_components, perplexity=float(perplexity), init="pca",
                    random_state=seed, learning_rate="auto", **{iter_name: max_iter})
    with threadpool_limits(limits=n_threads, user_api="openmp"):
        return embedder.fit_transform(data)
