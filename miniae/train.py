"""Training: ``fit(model, X, ...)`` (the minibatch loop), its callbacks, and the recipes built on it.

One epoch of fit is the loop of every course: draw a permutation of the samples, then for each
minibatch ``loss = model.loss_and_grads(batch)`` and ``optimizer.step(model)``, and record the
losses.  Divergence is watched by a small helper beside it (``Divergence``).  Each minibatch is
gathered from X by the shuffled index, so a fit holds no copy of the data.

Also here: ``fit_lbfgs`` (full-batch L-BFGS on the flat parameter vector), ``KLWarmup``,
greedy layer-wise ``train_greedy`` / ``stack``, and ``train_linear_ae`` (the recipe that
brings a linear autoencoder to PCA's optimum).
"""
import copy
import math
import sys
import time

import numpy as np

from .layers import Sequential
from .models import Autoencoder, _activation_name
from .optim import Adam, make_optimizer
from .parallel import BatchSplit, check_workers
from .pca import ordered_decay_weights
from .penalties import OrderedWeightDecay, WeightDecay
from .validation import DivergenceError, MiniaeInputError, check_bool, check_data, check_positive_int, check_sizes


class History:
    """Per-epoch records: ``history["loss"]``, ``history["val_loss"]``, ``history["recon"]``, ...

    ``history.history`` is the underlying dict of lists (one entry per finished epoch).
    """

    def __init__(self):
        self.history = {}
        self.epochs = []

    def append(self, epoch, logs):
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key):
        return self.history[key]

    def __contains__(self, key):
        return key in self.history

    def __getattr__(self, key):
        if key != "history" and key in self.__dict__.get("history", {}):
            return self.history[key]
        raise AttributeError(key)

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History({len(self)} epochs, last={last})"


class Callback:
    """Hooks called by fit.  fit sets ``self.model``, ``self.optimizer`` and ``self.history``
    before training starts.  ``on_epoch_end`` returns True to stop training."""

    def on_train_begin(self):
        pass

    def on_epoch_begin(self, epoch):
        pass

    def on_epoch_end(self, epoch, logs):
        return False

    def on_train_end(self):
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs,
    and (by default) put back the weights of the best epoch."""

    def __init__(self, monitor="val_loss", patience=10, min_delta=0.0, restore_best=True):
        self.monitor, self.patience = monitor, int(patience)
        self.min_delta, self.restore_best = float(min_delta), bool(restore_best)

    def on_train_begin(self):
        self.best, self.best_epoch, self.best_weights, self.wait = np.inf, None, None, 0
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r} but fit only logs {sorted(logs)}; "
                             "pass validation=... or monitor='loss'")
        value = logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_weights = self.model.get_weights()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self):
        if self.restore_best and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class LearningRateSchedule(Callback):
    """Set ``optimizer.lr = schedule(epoch, initial_lr)`` at the start of every epoch.

    e.g. ``LearningRateSchedule(lambda epoch, lr: lr * 0.5 ** (epoch // 50))``.
    """

    def __init__(self, schedule):
        self.schedule = schedule

    def on_train_begin(self):
        self.initial_lr = self.optimizer.lr

    def on_epoch_begin(self, epoch):
        self.optimizer.lr = float(self.schedule(epoch, self.initial_lr))


class Progress(Callback):
    """One line per reported epoch, e.g. ``epoch  10/100  loss 0.02134  val_loss 0.02310  1.2s``.

    Plain lines (no terminal control codes), so it reads the same in a terminal, a
    notebook and a log file.  ``every=None`` reports about 10 times in a fit.
    """

    def __init__(self, every=None, stream=None):
        self.every = every
        self.stream = stream

    def on_train_begin(self):
        self.start = time.perf_counter()
        self._every = self.every or max(1, self.total_epochs // 10)

    def on_epoch_end(self, epoch, logs):
        if epoch % self._every == 0 or epoch == self.total_epochs or epoch == 1:
            width = len(str(self.total_epochs))
            values = "  ".join(f"{k} {v:.5g}" for k, v in logs.items())
            elapsed = time.perf_counter() - self.start
            print(f"epoch {epoch:>{width}}/{self.total_epochs}  {values}  {elapsed:.1f}s",
                  file=self.stream or sys.stdout, flush=True)
        return False


def evaluate(model, X, batch_size=1024):
    """Mean loss terms of ``model`` on X (already validated), without training noise or updates.

    Returns a dict like {"loss": ..., "recon": ..., "l1": ...}.  Models may define their own
    ``evaluate_terms(X)``; otherwise the Autoencoder rule is used.
    """
    totals, n = {}, X.shape[0]
    for start in range(0, n, batch_size):
        batch = X[start:start + batch_size]
        terms = model.evaluate_terms(batch)
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + value * batch.shape[0]
    terms = {key: value / n for key, value in totals.items()}
    return {"loss": sum(terms.values()), **terms}


class Divergence:
    """Watches a fit for divergence, so the loop itself stays four lines.

    * A batch loss that is NaN or inf: the model gets back the weights it had at the start of
      the epoch (always finite) and fit stops with a DivergenceError naming the epoch.
    * An epoch's mean loss more than ``FACTOR * max(|best|, 1e-3)`` above the best one so far
      (Adam's bounded steps can blow a model up without ever reaching NaN): the model gets back
      the weights of the best epoch (epoch 0: those it started with).
    * Weights that became non-finite in the last step of an epoch (its loss was still finite),
      or whose largest magnitude grew more than ``GROWTH`` times in one epoch (from
      max(start, 1)): treated like a non-finite loss.  An absurd learning rate (SGD(lr=1e200),
      Adam(lr=1e6)) makes weights of 1e200 whose loss may still be finite, or bounded by a
      sigmoid output; no ordinary step multiplies the largest weight by 1000 in one epoch.

    So fit never returns a model with non-finite or exploded weights, and the start of an
    epoch it restores is a start it accepted.
    """

    FACTOR = 1e3
    GROWTH = 1e3

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.best_loss, self.best_epoch, self.best_theta = math.inf, 0, model.theta.copy()

    def start_epoch(self):
        self.epoch_start_theta = self.model.theta.copy()
        self.epoch_start_scale = largest_magnitude(self.epoch_start_theta)

    def check_batch(self, loss, epoch, row):
        if not math.isfinite(loss):
            self._give_up(f"the training loss became {loss} in epoch {epoch} (batch starting at row {row})",
                          self.epoch_start_theta,
                          f"the start of epoch {epoch}")
        if self.best_loss == math.inf:  # the untrained model's loss on the first batch
            self.best_loss = loss

    def check_epoch(self, loss, epoch):
        scale = largest_magnitude(self.model.theta)  # NaN or inf if any weight is
        if not math.isfinite(scale):
            self._give_up(f"the weights became non-finite in epoch {epoch}", self.epoch_start_theta,
                          f"the start of epoch {epoch}")
        if loss - self.best_loss > self.FACTOR * max(abs(self.best_loss), 1e-3):
            self._give_up(f"the training loss grew from {self.best_loss:.4g} (epoch {self.best_epoch}) to "
                          f"{loss:.4g} in epoch {epoch}", self.best_theta, f"epoch {self.best_epoch}")
        if scale > self.GROWTH * max(self.epoch_start_scale, 1.0):
            self._give_up(f"the largest weight grew from {self.epoch_start_scale:.3g} to {scale:.3g} in epoch "
                          f"{epoch}", self.epoch_start_theta, f"the start of epoch {epoch}")
        if loss < self.best_loss:
            self.best_loss, self.best_epoch = loss, epoch
            self.best_theta[...] = self.model.theta

    def _give_up(self, what, theta, when):
        self.model.theta[...] = theta
        raise DivergenceError(f"{what}: training diverged; the model keeps the finite weights of {when}. "
                              f"Lower the learning rate (it is {self.optimizer.lr:g}) or scale the data.")


def largest_magnitude(theta):
    """``max |theta_i|`` (0 for no parameters): one pass, and it never overflows as a norm would."""
    with np.errstate(invalid="ignore"):  # a NaN weight makes the answer NaN, which the caller reads
        return float(np.max(np.abs(theta), initial=0.0))


def fit(model, X, epochs=10, batch_size=64, optimizer=None, validation=None, shuffle=True,
        callbacks=(), verbose=False, workers=None):
    """Train ``model`` on X with minibatches; returns a History.

    X: (n_samples, n_features), converted to the model's dtype.  ``optimizer``: an Optimizer
    or a name ('adam', 'sgd', 'momentum'); default Adam(lr=1e-3).  ``validation``: an array
    like X, evaluated after every epoch (logged as ``val_loss`` and ``val_<term>``).
    ``verbose``: True prints progress lines.  Shuffling draws from ``model.rng``.
    Divergence (see ``Divergence``) stops training with a DivergenceError naming the epoch,
    the model left with finite weights.
    ``workers``: threads each batch is split over (see miniae.parallel; the same gradient, its
    sums in another order).  None splits a convolutional model's batches over the BLAS threads
    where that was measured to pay (big enough images and batches), else keeps one; 1 never splits.
    """
    X = model.validate(X, "X")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = min(check_positive_int(batch_size, "batch_size"), X.shape[0])
    X_val = model.validate(validation, "validation") if validation is not None else None
    if hasattr(model, "check_targets"):  # e.g. a BCE loss refuses data outside [0, 1]
        model.check_targets(X, "X")
        if X_val is not None:
            model.check_targets(X_val, "validation")
    optimizer = Adam() if optimizer is None else make_optimizer(optimizer)
    shuffle, verbose = check_bool(shuffle, "shuffle"), check_bool(verbose, "verbose")
    callbacks = check_callbacks(callbacks) + ([Progress()] if verbose else [])
    history = History()
    for callback in callbacks:
        callback.model, callback.optimizer, callback.history = model, optimizer, history
        callback.total_epochs = epochs
        callback.on_train_begin()
    divergence = Divergence(model, optimizer)
    split = BatchSplit(model, check_workers(model, workers, batch_size))
    n = X.shape[0]
    try:
        for epoch in range(1, epochs + 1):
            for callback in callbacks:
                callback.on_epoch_begin(epoch)
            divergence.start_epoch()
            order = model.rng.permutation(n) if shuffle else np.arange(n)
            total, term_sums = 0.0, {}
            with np.errstate(over="ignore", invalid="ignore"), split:  # divergence is caught by value
                for start in range(0, n, batch_size):
                    batch = X[order[start:start + batch_size]]
                    try:
                        loss = split.loss_and_grads(batch)  # model.loss_and_grads(batch), maybe on threads
                    except DivergenceError:  # a loss that met non-finite predictions says so itself
                        loss = math.nan
                    divergence.check_batch(loss, epoch, start)
                    optimizer.step(model)
                    total += loss * len(batch)
                    for key, value in model.last_terms.items():
                        term_sums[key] = term_sums.get(key, 0.0) + value * len(batch)
            logs = {"loss": total / n}
            divergence.check_epoch(logs["loss"], epoch)
            if len(term_sums) > 1:  # several terms (reconstruction, penalties, KL): log each
                logs.update({key: value / n for key, value in term_sums.items()})
            if X_val is not None:
                logs.update(validation_logs(model, X_val))
            history.append(epoch, logs)
            stop = [callback.on_epoch_end(epoch, logs) for callback in callbacks]
            if any(stop):
                break
    finally:
        for callback in callbacks:
            callback.on_train_end()
    return history


def check_callbacks(callbacks):
    """A list of Callback objects (anything with the four hooks); a single one is wrapped."""
    hooks = ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end")
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, (list, tuple)):
        raise MiniaeInputError(f"callbacks must be a list of Callback objects, got {callbacks!r}")
    for callback in callbacks:
        if isinstance(callback, type) or not all(callable(getattr(callback, hook, None)) for hook in hooks):
            raise MiniaeInputError(f"callbacks must hold Callback objects (e.g. EarlyStopping()), got {callback!r}")
    return list(callbacks)


def validation_logs(model, X_val):
    """{"val_loss": ..., "val_<term>": ...} (the terms only when there are several)."""
    val = evaluate(model, X_val)
    logs = {"val_loss": val.pop("loss")}
    if len(val) > 1:
        logs.update({f"val_{key}": value for key, value in val.items()})
    return logs


class KLWarmup(Callback):
    """Raise ``model.beta`` linearly from 0 to its target over the first ``epochs`` epochs.

    Epoch e (1-based) trains with beta = target * min(1, (e - 1) / epochs): the first epoch
    is a plain autoencoder, epoch epochs + 1 onwards uses the full KL.  Starting without the
    KL lets the decoder learn to use z before the KL pulls every posterior to the prior
    (which otherwise can switch latent units off for good).  The target is ``beta`` if
    given, else the model's beta when training starts; fit leaves the model at the target.
    """

    def __init__(self, epochs=10, beta=None):
        self.epochs = check_positive_int(epochs, "epochs")
        self.beta = beta

    def on_train_begin(self):
        self.target = float(self.model.beta if self.beta is None else self.beta)

    def on_epoch_begin(self, epoch):
        self.model.beta = self.target * min(1.0, (epoch - 1) / self.epochs)

    def on_train_end(self):
        self.model.beta = self.target


def fit_lbfgs(model, X, max_iter=400):
    """Full-batch L-BFGS on ``model.loss_and_grads(X)``, as the classic exercise trained (minFunc).

    X: (n, n_features), the whole training set in every evaluation (no minibatches, no
    learning rate).  SciPy's L-BFGS-B works on one vector theta and asks for
    (J(theta), dJ/dtheta): that is the model's flat parameter vector ``model.theta`` and its
    gradient ``model.grad``.  Its tolerances are 0, so it runs exactly ``max_iter`` iterations
    unless the line search fails.  Returns SciPy's result; the model is left holding its final
    parameters.  (Noise-free models only: a noisy model would give L-BFGS a different function
    at every call.)
    """
    from scipy.optimize import minimize  # imported here: it takes a quarter of `import miniae`'s time

    X = model.validate(X, "X")
    if hasattr(model, "check_targets"):
        model.check_targets(X, "X")

    def cost_and_gradient(theta):
        model.theta[...] = theta
        loss = model.loss_and_grads(X)
        return loss, model.grad.astype(np.float64)

    result = minimize(cost_and_gradient, model.theta.astype(np.float64), jac=True, method="L-BFGS-B",
                      options={"maxiter": check_positive_int(max_iter, "max_iter"), "ftol": 0.0, "gtol": 0.0})
    model.theta[...] = result.x
    model.loss_and_grads(X)  # leave grad (and last_terms) at the result
    return result


# --------------------------------------------------------------------- greedy stacking
def stack(shallow_models, loss="mse", penalties=(), noise=None, rng=None):
    """Stack trained shallow autoencoders into one deep Autoencoder (weights are copied).

    shallow_models[k] maps sizes[k] -> sizes[k+1] -> sizes[k]; the deep model's encoder runs
    the shallow encoders in order and its decoder runs the shallow decoders in reverse order:

        x -> f_1 -> f_2 -> ... -> f_K = code -> g_K -> ... -> g_1 -> reconstruction of x

    Each shallow model keeps its own weights (the deep one gets copies), so fine-tuning the
    deep model leaves the pretrained layers untouched for comparison.
    """
    shallow_models = list(shallow_models)
    if not shallow_models:
        raise ValueError("stack needs at least one shallow autoencoder")
    for inner, outer in zip(shallow_models[1:], shallow_models[:-1]):
        if inner.n_features != outer.code_size:
            raise ValueError(f"cannot stack: a layer with code size {outer.code_size} is followed by one "
                             f"built for {inner.n_features} inputs")
    encoders = [layer for m in shallow_models for layer in _layers(copy.deepcopy(m.encoder))]
    decoders = [layer for m in reversed(shallow_models) for layer in _layers(copy.deepcopy(m.decoder))]
    return Autoencoder(Sequential(*encoders), Sequential(*decoders), loss=loss, penalties=penalties,
                       noise=noise, rng=rng)


def _layers(layer):
    return list(layer.layers) if isinstance(layer, Sequential) else [layer]


def train_greedy(sizes, X, activation="sigmoid", code_activation=None, output="sigmoid", loss="mse",
                 penalties=(), noise=None, epochs=20, batch_size=64, optimizer="adam", lr=1e-3,
                 rng=None, dtype=np.float64, verbose=False):
    """Greedy layer-wise pretraining: one shallow autoencoder per layer, then stacked.

    sizes [64, 32, 8] trains a 64-32-64 autoencoder on X, then a 32-8-32 one on the codes
    of the first, and stacks them into a deep 64-32-8-32-64 Autoencoder with the same layout
    as ``Autoencoder.mirrored(sizes, activation, output, code_activation)`` (so the two
    can be compared, or the stacked one fine-tuned end to end with ``fit``).

    Each shallow model gets fresh copies of ``penalties`` and the same ``noise`` (so every
    layer can be sparse, denoising or contractive: one Dense layer at a time is exactly
    what ``Contractive`` needs).  The first layer uses ``loss`` and reconstructs X through
    ``output``; the later ones reconstruct the previous codes with MSE through
    ``activation`` (those codes were made by that activation).

    Returns (deep_model, shallow_models, histories).  ``optimizer`` is a name; each layer
    gets a fresh one with learning rate ``lr``.
    """
    sizes = check_sizes(sizes)
    rng = np.random.default_rng(rng)
    activation = _activation_name(activation)
    code_activation = activation if code_activation is None else _activation_name(code_activation)
    output = _activation_name(output)
    data = check_data(X, "X", n_features=sizes[0], dtype=dtype)
    shallow_models, histories = [], []
    n_layers = len(sizes) - 1
    for k in range(n_layers):
        last = k == n_layers - 1
        model = Autoencoder.mirrored(
            sizes[k:k + 2], activation=activation, code_activation=code_activation if last else activation,
            output=output if k == 0 else activation, loss=loss if k == 0 else "mse",
            penalties=copy.deepcopy(list(penalties)), noise=noise, rng=rng, dtype=dtype)
        histories.append(fit(model, data, epochs=epochs, batch_size=batch_size,
                             optimizer=make_optimizer(optimizer, lr), verbose=verbose))
        shallow_models.append(model)
        data = model.encode(data)  # the next layer learns to reconstruct these codes
    deep = stack(shallow_models, loss=loss, rng=rng)
    deep.config = {"builder": "mirrored", "sizes": sizes, "activation": activation, "output": output,
                   "code_activation": code_activation,
                   "init": "he" if activation in ("relu", "leaky_relu") else "glorot",
                   "dtype": np.dtype(dtype).name}
    return deep, shallow_models, histories


# --------------------------------------------------------------------- the linear AE at PCA's optimum
def train_linear_ae(X, k, weight_decay=0.0, ordered_decay=None, epochs=20, full_batch_steps=3000, lr=3e-3,
                    decay=None, batch_size=64, seed=0, callbacks=(), verbose=False, model=None):
    """Train ``Autoencoder.linear(d, k)`` on X (n, d) until it really sits at the PCA optimum.

    Recipe: ``epochs`` of minibatch Adam(lr) to get the error down, then ``full_batch_steps``
    steps of full-batch Adam with lr * decay^t.  The error alone is a weak guide to the
    subspace (tilting it by theta costs only about gap * sin^2(theta)), so minibatch training
    turns it slowly; exact, shrinking full-batch steps finish the turn.  The defaults reach a
    max principal angle below 2 degrees on the digits wherever the relative eigengap is >= 0.1.

    ``weight_decay`` > 0 adds ``WeightDecay(weight_decay)`` (Kunin et al. 2019: the decoder's
    singular vectors become the principal directions, its rows stay rotated).
    ``ordered_decay`` adds ``OrderedWeightDecay``: a float strength in (0, 1) (weights from
    ``pca.ordered_decay_weights``) or the k weights themselves.  Then the decoder's rows turn
    into the ordered principal directions (Bao et al. 2020).  That turn is driven only by the
    small differences between the weights, so it needs a step that does not shrink: ``decay``
    defaults to 1 (constant lr) with ordered decay and to 0.999 otherwise.
    ``callbacks`` go to both fits (in the second, an epoch is one full-batch step).
    Returns the model.
    """
    X = check_data(X, "X")
    k = check_positive_int(k, "k")
    if decay is None:
        decay = 0.999 if ordered_decay is None else 1.0
    if model is None:
        penalties = [WeightDecay(weight_decay)] if weight_decay > 0 else []
        if ordered_decay is not None:
            lams = ordered_decay_weights(X, k, ordered_decay) if np.isscalar(ordered_decay) else ordered_decay
            penalties.append(OrderedWeightDecay(lams))
        model = Autoencoder.linear(X.shape[1], k, rng=seed, penalties=penalties)
    callbacks = list(callbacks)
    if epochs:
        fit(model, X, epochs=epochs, batch_size=batch_size, optimizer=Adam(lr), callbacks=callbacks)
    if full_batch_steps:
        shrink = LearningRateSchedule(lambda step, lr0: lr0 * decay ** step)
        fit(model, X, epochs=full_batch_steps, batch_size=X.shape[0], optimizer=Adam(lr), shuffle=False,
            callbacks=[shrink] + callbacks)
    if verbose:
        print(f"  linear AE k={k}: MSE {model.reconstruction_error(X).mean():.5f}", flush=True)
    return model
