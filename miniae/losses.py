"""Reconstruction losses.  Both average over every entry (batch and features).

    MSE(pred, target) = (1 / (N D)) * sum_{n,d} (pred_nd - target_nd)^2
    BCE(p, t)         = -(1 / (N D)) * sum_{n,d} [t log p + (1 - t) log(1 - p)]

"Mean over all entries" is the one convention used everywhere in miniae (fit, the
PCA comparison, the lessons), so an autoencoder's MSE and PCA's MSE are the same number.
A loss is used like a layer:  value = loss.forward(pred, target); dpred = loss.backward().
"""
import numpy as np

from .layers import sigmoid
from .validation import MiniaeInputError, check_bool, check_finite_loss, check_number, check_pair, check_unit_interval


class Loss:
    """Base class.  ``output(pred)`` maps what the decoder emits to a reconstruction."""

    def forward(self, pred, target):
        """pred, target: (batch, n) -> scalar loss."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented yet")

    def backward(self):
        """-> dL/dpred: (batch, n), for the pred given to the last forward."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented yet")

    def output(self, pred):
        """What the decoder's raw output means as data (identity unless it is logits)."""
        return pred

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error over all entries.

    L = mean((pred - target)^2);   dL/dpred = 2 (pred - target) / (N D).
    """

    def forward(self, pred, target):
        check_pair(pred, target)
        self.diff = pred - target
        # vdot: the sum of squares in one BLAS call, without a temporary (batch, n) array
        return check_finite_loss(float(np.vdot(self.diff, self.diff)) / self.diff.size, pred, target)

    def backward(self):
        return self.diff * (2.0 / self.diff.size)


class BCE(Loss):
    """Binary cross-entropy, mean over all entries; targets in [0, 1].

    ``from_logits=False``: pred are probabilities p, clipped to [eps, 1 - eps] so that
    log(0) never happens.  dL/dp = (p - t) / (p (1 - p)) / (N D), evaluated at the
    clipped p (so a saturated output still gets a gradient that points the right way).

    ``from_logits=True``: pred are logits z with p = sigmoid(z).  Then::

        -[t log p + (1 - t) log(1 - p)] = softplus(z) - t z
                                        = max(z, 0) - t z + log(1 + e^{-|z|}),

    which is finite for any z (no exp of a large positive number), and
    dL/dz = (sigmoid(z) - t) / (N D): the familiar "prediction minus target".

    Targets outside [0, 1] are refused: they are no probabilities, and the "loss" would
    be unbounded below (use MSE for such data, or rescale it).
    """

    def __init__(self, from_logits=False, eps=1e-7):
        self.from_logits = check_bool(from_logits, "from_logits")
        self.eps = check_number(eps, "eps", 0, 0.5, low_open=True, high_open=True)

    def forward(self, pred, target):
        check_pair(pred, target)
        check_unit_interval(target, "target", "BCE")
        self.pred, self.target = pred, target
        if self.from_logits:
            z = pred
            per_entry = np.maximum(z, 0) - target * z + np.log1p(np.exp(-np.abs(z)))
        else:
            p = np.clip(pred, self.eps, 1 - self.eps)
            self.p = p
            per_entry = -(target * np.log(p) + (1 - target) * np.log1p(-p))
        return check_finite_loss(float(np.mean(per_entry)), pred, target)

    def backward(self):
        n = self.pred.size
        if self.from_logits:
            return (sigmoid(self.pred) - self.target) * (1.0 / n)
        p = self.p
        return (p - self.target) / (p * (1 - p)) * (1.0 / n)

    def output(self, pred):
        return sigmoid(pred) if self.from_logits else pred

    def __repr__(self):
        return f"BCE(from_logits={self.from_logits})"


LOSSES = {"mse": MSE, "bce": BCE}


def make_loss(name):
    """A loss from its name ('mse', 'bce', 'bce_logits'), or a Loss passed through."""
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str):
        raise MiniaeInputError(f"loss must be 'mse', 'bce', 'bce_logits' or a Loss such as MSE(), got {name!r}")
    key = name.lower()
    if key == "bce_logits":
        return BCE(from_logits=True)
    if key not in LOSSES:
        raise MiniaeInputError(f"loss must be 'mse', 'bce' or 'bce_logits', got {name!r}")
    return LOSSES[key]()
