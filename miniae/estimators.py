"""scikit-learn estimators around miniae models, for Pipelines and GridSearchCV.

    AutoencoderTransformer(code_size=2, hidden_sizes=(32,), ...).fit(X)   ->  self
    .transform(X)          = the code h = f(x):          (n, n_features) -> (n, code_size)
    .inverse_transform(Z)  = the decoder g(z):           (n, code_size)  -> (n, n_features)
    .score(X)              = -mean((g(f(x)) - x)^2):     higher is better, as sklearn expects

The scikit-learn contract: hyperparameters are stored by ``__init__`` untouched and checked
in ``fit``; what is learned ends with an underscore (``model_``, ``history_``,
``n_features_in_``); if training diverges, ``fit`` raises ``DivergenceError`` and
nothing is fitted; ``random_state`` seeds everything random (initial weights, shuffling,
noise), so the same seed gives the same model bit for bit.
"""
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .models import Autoencoder
from .noise import GaussianNoise
from .optim import OPTIMIZERS
from .penalties import L1Sparsity, WeightDecay
from .train import fit
from .vae import VAE
from .validation import MiniaeInputError, check_positive_int


def _generator(random_state):
    """A numpy Generator from sklearn's random_state conventions (None, int, RandomState, Generator)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state < 0:
        raise MiniaeInputError(f"random_state must be None, a non-negative int, a RandomState or a Generator, "
                               f"got {random_state!r}")
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)):
        return np.random.default_rng(random_state)
    if not isinstance(random_state, np.random.RandomState):
        raise MiniaeInputError(f"random_state must be None, a non-negative int, a RandomState or a Generator, "
                               f"got {random_state!r}")
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def _check_non_negative(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < np.inf:
        raise MiniaeInputError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _check_hidden_sizes(hidden_sizes):
    try:
        sizes = tuple(hidden_sizes)
    except TypeError:
        raise MiniaeInputError(f"hidden_sizes must be a tuple of positive integers (or () for none), "
                               f"got {hidden_sizes!r}") from None
    for size in sizes:
        check_positive_int(size, "each entry of hidden_sizes")
    return [int(s) for s in sizes]


class _ModelTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """What both estimators share: validation at the door, transform, inverse_transform, score."""

    def _build(self, n_features, rng):
        raise NotImplementedError

    def _training_args(self):
        epochs = check_positive_int(self.epochs, "epochs")
        batch_size = check_positive_int(self.batch_size, "batch_size")
        learning_rate = _check_non_negative(self.learning_rate, "learning_rate")
        if learning_rate == 0:
            raise MiniaeInputError("learning_rate must be > 0, got 0")
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            raise MiniaeInputError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        return epochs, batch_size, OPTIMIZERS[self.optimizer](lr=learning_rate)

    def fit(self, X, y=None):
        """Train on X: (n_samples, n_features); y is ignored.  Returns self."""
        X = validate_data(self, X, dtype=np.float64)
        epochs, batch_size, optimizer = self._training_args()
        model = self._build(X.shape[1], _generator(self.random_state))
        history = fit(model, X, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                      verbose=bool(self.verbose))
        self.model_ = model
        self.history_ = history.history
        self.n_iter_ = len(history)
        self.loss_ = history["loss"][-1]
        return self

    @property
    def _n_features_out(self):
        """Width of the code (what get_feature_names_out names)."""
        if getattr(self.model_, "code_size", None) is not None:
            return self.model_.code_size
        return self.model_.encode(np.zeros((1, self.n_features_in_))).shape[1]

    def transform(self, X):
        """X: (n, n_features_in_) -> code: (n, code_size)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.model_.encode(X)

    def inverse_transform(self, X):
        """Z: (n, code_size) -> decoded data: (n, n_features_in_)."""
        check_is_fitted(self)
        return self.model_.decode(X)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error on X (over every entry); y is ignored."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return -float(np.mean((self.model_.reconstruct(X) - X) ** 2))


class AutoencoderTransformer(_ModelTransformer):
    """A mirrored autoencoder n_features-hidden_sizes-code_size-...-n_features as a transformer.

    Parameters:

    - code_size : int, width of the code (the output of ``transform``).
    - hidden_sizes : tuple of int, widths of the hidden layers between input and code
      (mirrored in the decoder); ``()`` gives a shallow autoencoder.
    - activation : str, after every hidden layer ('relu', 'tanh', 'sigmoid', 'identity', ...).
      With ``activation='identity'`` and ``code_activation='identity'`` the model is linear.
    - code_activation, output : str, after the code layer and after the last layer.
    - loss : 'mse', 'bce' or 'bce_logits' (the last two for data in [0, 1]).
    - sparsity : float >= 0, weight of an L1 penalty on the code (0: none).
    - weight_decay : float >= 0, weight of an L2 penalty on the weight matrices (0: none).
    - noise_std : float >= 0, std of Gaussian input noise during training (a denoising AE; 0: none).
    - epochs, batch_size, learning_rate : minibatch training.
    - optimizer : 'adam' (default), 'momentum' or 'sgd'.
    - random_state : None, int, RandomState or Generator.
    - verbose : bool, print progress lines while training.

    Attributes:

    - ``model_`` : miniae.Autoencoder, the trained model.
    - ``history_`` : dict of per-epoch lists ('loss', and each term when there are several).
    - ``n_iter_`` : int, epochs run.  ``loss_`` : float, final training loss.
    - ``n_features_in_`` : int.  ``feature_names_in_`` : when fitted on data with column names.
    """

    def __init__(self, code_size=2, hidden_sizes=(32,), activation="relu", code_activation="identity",
                 output="identity", loss="mse", sparsity=0.0, weight_decay=0.0, noise_std=0.0,
                 epochs=100, batch_size=64, learning_rate=1e-3, optimizer="adam", random_state=None,
                 verbose=False):
        self.code_size = code_size
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.code_activation = code_activation
        self.output = output
        self.loss = loss
        self.sparsity = sparsity
        self.weight_decay = weight_decay
        self.noise_std = noise_std
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.random_state = random_state
        self.verbose = verbose

    def _build(self, n_features, rng):
        code_size = check_positive_int(self.code_size, "code_size")
        sizes = [n_features, *_check_hidden_sizes(self.hidden_sizes), code_size]
        penalties = []
        if _check_non_negative(self.sparsity, "sparsity") > 0:
            penalties.append(L1Sparsity(self.sparsity))
        if _check_non_negative(self.weight_decay, "weight_decay") > 0:
            penalties.append(WeightDecay(self.weight_decay))
        sigma = _check_non_negative(self.noise_std, "noise_std")
        return Autoencoder.mirrored(sizes, activation=self.activation, code_activation=self.code_activation,
                                    output=self.output, loss=self.loss, penalties=penalties,
                                    noise=GaussianNoise(sigma) if sigma > 0 else None, rng=rng)


class VAETransformer(_ModelTransformer):
    """A variational autoencoder (miniae.vae.VAE.mirrored) as a transformer.

    ``transform`` gives the posterior mean mu(x) (no sampling, so it is deterministic);
    ``inverse_transform`` decodes codes to data; ``score`` is the negative mean squared
    reconstruction error of decode(mu(x)), comparable with AutoencoderTransformer's.

    Parameters:

    - code_size : int, number of latent units.
    - hidden_sizes : tuple of int, hidden widths between input and the (mu, logvar) heads, mirrored.
    - activation : str, after every hidden layer.
    - likelihood : 'gaussian' (any real data, e.g. after a StandardScaler) or 'bernoulli'
      (data in [0, 1], read as probabilities).
    - beta : float >= 0, weight of the KL term (1 is the plain VAE, > 1 a beta-VAE).
    - epochs, batch_size, learning_rate, optimizer, random_state, verbose : as AutoencoderTransformer.

    Attributes: ``model_`` (the miniae VAE), ``history_``, ``n_iter_``, ``loss_``, ``n_features_in_``.
    """

    def __init__(self, code_size=2, hidden_sizes=(32,), activation="relu", likelihood="gaussian", beta=1.0,
                 epochs=100, batch_size=64, learning_rate=1e-3, optimizer="adam", random_state=None,
                 verbose=False):
        self.code_size = code_size
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.likelihood = likelihood
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.random_state = random_state
        self.verbose = verbose

    def _build(self, n_features, rng):
        code_size = check_positive_int(self.code_size, "code_size")
        if self.likelihood not in ("gaussian", "bernoulli"):
            raise MiniaeInputError(f"likelihood must be 'gaussian' or 'bernoulli', got {self.likelihood!r}")
        sizes = [n_features, *_check_hidden_sizes(self.hidden_sizes), code_size]
        return VAE.mirrored(sizes, activation=self.activation, likelihood=self.likelihood,
                            beta=_check_non_negative(self.beta, "beta"), rng=rng)
