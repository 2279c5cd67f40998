"""Penalties: extra terms added to the reconstruction loss, L(x, g(f(x))) + Omega.

Two kinds, told apart by ``penalty.on``:

* ``on = "code"``: Omega(h) depends on the code h = f(x) only.  The model calls
  ``value = penalty.forward(code)`` and adds ``penalty.backward()`` (= dOmega/dh) to the
  gradient that flows back into the encoder.
* ``on = "params"``: Omega depends on the weights (and maybe the input).  The model calls
  ``value = penalty.forward(model, x)`` after its own backward pass, then
  ``penalty.backward(model)``, which *adds* dOmega/dtheta into the model's grads.

Each penalty has a short ``name`` used to report its term separately in a History.
"""
import numpy as np

from .layers import Activation, Dense, Identity
from .validation import MiniaeInputError, check_number


class Penalty:
    """Base class of the penalties: ``on`` says what the penalty acts on ("code" or "params", see above),
    ``name`` names its term in a History."""
    on = "code"
    name = "penalty"

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    def config(self):
        """The constructor arguments (used by repr and by miniae.io)."""
        return {}


class L1Sparsity(Penalty):
    """``Omega(h) = lam * (1/N) sum_n sum_j |h_nj|``: an L1 penalty on the code, averaged over the batch.

    The Laplace-prior view: if each code unit has prior ``p(h_j) = (lam/2) exp(-lam |h_j|)``,
    then ``-log p(h) = lam sum_j |h_j| - sum_j log(lam/2)``, so minimising the penalty is
    maximising the prior, up to a constant.  Most units sit at (or near) zero.

    dOmega/dh_nj = lam * sign(h_nj) / N   (taking 0 at h = 0, a subgradient).
    """

    on = "code"
    name = "l1"

    def __init__(self, lam=1e-3):
        self.lam = check_number(lam, "lam", 0)  # a negative weight would reward large codes

    def config(self):
        return {"lam": self.lam}

    def forward(self, code):
        """code: (batch, k) -> scalar."""
        self.code = code
        return self.lam * float(np.abs(code).sum()) / code.shape[0]

    def backward(self):
        """-> dOmega/dcode: (batch, k)."""
        return np.sign(self.code) * (self.lam / self.code.shape[0])


class KLSparsity(Penalty):
    """The classic sparse-autoencoder penalty on the mean activation of sigmoid code units.

        rho_hat_j = (1/N) sum_n h_nj                     (mean activation of unit j)
        Omega     = beta * sum_j KL(rho || rho_hat_j)
        KL(rho || r) = rho log(rho / r) + (1 - rho) log((1 - rho) / (1 - r))

    Because rho_hat averages over the batch, every sample's gradient depends on the
    whole batch:  dOmega/dh_nj = (beta / N) * ( -rho / rho_hat_j + (1 - rho) / (1 - rho_hat_j) ).
    The code must lie in (0, 1) (a sigmoid code layer); rho_hat is clipped away from 0 and 1.
    """

    on = "code"
    name = "kl_sparsity"

    def __init__(self, rho=0.05, beta=3.0, eps=1e-8):
        if isinstance(rho, (int, float)) and not 0 < rho < 1:
            raise MiniaeInputError(f"rho must lie strictly between 0 and 1, got {rho}")
        self.rho = check_number(rho, "rho", 0, 1, low_open=True, high_open=True)
        self.beta = check_number(beta, "beta", 0)
        self.eps = check_number(eps, "eps", 0, 0.5, low_open=True, high_open=True)

    def config(self):
        return {"rho": self.rho, "beta": self.beta}

    def forward(self, code):
        """code: (batch, k) with entries in (0, 1) -> scalar."""
        self.n = code.shape[0]
        self.rho_hat = np.clip(code.mean(axis=0), self.eps, 1 - self.eps)
        rho, r = self.rho, self.rho_hat
        kl = rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))
        return self.beta * float(kl.sum())

    def backward(self):
        """-> dOmega/dcode: (batch, k); the same row for every sample."""
        rho, r = self.rho, self.rho_hat
        grad_rho_hat = self.beta * (-rho / r + (1 - rho) / (1 - r))  # dOmega/drho_hat_j
        # rho_hat_j = mean_n h_nj, so each h_nj receives 1/N of it
        row = (grad_rho_hat / self.n).astype(r.dtype, copy=False)
        return np.broadcast_to(row, (self.n, row.shape[0]))


class WeightDecay(Penalty):
    """Omega = lam * sum over weight matrices of ||W||_F^2  (biases are not decayed).

    dOmega/dW = 2 lam W.  On a linear autoencoder this removes the skew and scale of the
    optimum (W_enc = W_dec^T, and the singular vectors of W_dec are the ordered principal
    directions) but not its rotation: ||O^T W_dec|| = ||W_dec|| for any orthogonal O, so the
    decoder's rows stay mixtures of the principal directions (lesson 02 measures them tens of
    degrees off).  OrderedWeightDecay removes the rotation too.
    """

    on = "params"
    name = "weight_decay"

    def __init__(self, lam=1e-4):
        self.lam = check_number(lam, "lam", 0)

    def config(self):
        return {"lam": self.lam}

    def _weights(self, model):
        return [(value, grad) for name, value, grad in model.named_parameters() if name.endswith("W")]

    def forward(self, model, x=None):
        """model: anything with named_parameters() -> scalar."""
        return self.lam * float(sum(np.vdot(W, W) for W, _ in self._weights(model)))

    def backward(self, model):
        """Adds 2 lam W into each weight's gradient."""
        for W, grad in self._weights(model):
            grad += (2 * self.lam) * W


class OrderedWeightDecay(Penalty):
    """Weight decay with its own weight per code unit (Bao et al. 2020): it orders a linear AE.

    Let A = W_enc: (n_in, k) be the encoder's last Dense layer (column j feeds code unit j)
    and B = W_dec: (k, n_out) the decoder's first Dense layer (row j reads code unit j).  Then

        Omega = sum_j lams[j] * ( ||A[:, j]||^2 + ||B[j, :]||^2 )
        dOmega/dA[:, j] = 2 lams[j] A[:, j]       dOmega/dB[j, :] = 2 lams[j] B[j, :]

    With one weight for every unit (``WeightDecay``) the optimum of a linear AE is only fixed up
    to a rotation of the code, h -> h O (the penalty does not see O).  With distinct weights
    0 <= lams[0] < lams[1] < ... the rotation costs something, so the optimum is unique up to
    signs: row j of W_dec is principal direction j, scaled by sqrt(1 - lams[j] / mu_j), where
    mu_j is the variance along it in the loss's units (each lams[j] must stay below mu_j, or
    unit j switches off).  Biases and the other layers are not decayed.
    """

    on = "params"
    name = "ordered_decay"

    def __init__(self, lams):
        try:
            lams = np.asarray(lams, dtype=np.float64)
        except (TypeError, ValueError):
            raise MiniaeInputError(f"lams must be a list of numbers, one per code unit, got {lams!r}") from None
        if lams.ndim != 1 or lams.size == 0:
            raise ValueError(f"lams must be a non-empty 1-D list with one weight per code unit, "
                             f"got shape {lams.shape}")
        if not np.all(np.isfinite(lams)) or np.any(lams < 0):
            raise ValueError(f"lams must be finite and >= 0, got {lams.tolist()}")
        self.lams = lams

    def config(self):
        return {"lams": self.lams.tolist()}

    def code_layers(self, model):
        """(encoder Dense feeding the code, decoder Dense reading it); checks len(lams) == code size."""
        def dense_layers(part):
            return part.dense_layers if hasattr(part, "dense_layers") else [part]
        encoder_dense, decoder_dense = dense_layers(model.encoder)[-1], dense_layers(model.decoder)[0]
        code_size = encoder_dense.params["W"].shape[1]
        if self.lams.size != code_size:
            raise ValueError(f"OrderedWeightDecay has {self.lams.size} weights (lams) but the model's "
                             f"code has {code_size} units; pass exactly one weight per code unit")
        if decoder_dense.params["W"].shape[0] != code_size:
            raise ValueError(f"the decoder's first Dense layer takes {decoder_dense.params['W'].shape[0]} "
                             f"inputs but the code has {code_size} units")
        return encoder_dense, decoder_dense

    def forward(self, model, x=None):
        """model with Dense layers on both sides of the code -> scalar."""
        encoder_dense, decoder_dense = self.code_layers(model)
        A, B = encoder_dense.params["W"], decoder_dense.params["W"]
        column_norms = np.einsum("ij,ij->j", A, A)   # ||A[:, j]||^2: (k,)
        row_norms = np.einsum("ji,ji->j", B, B)      # ||B[j, :]||^2: (k,)
        return float(self.lams @ (column_norms + row_norms))

    def backward(self, model):
        """Adds 2 lams[j] A[:, j] and 2 lams[j] B[j, :] into the two layers' weight gradients."""
        encoder_dense, decoder_dense = self.code_layers(model)
        lams = self.lams.astype(encoder_dense.params["W"].dtype, copy=False)
        encoder_dense.grads["W"] += 2 * encoder_dense.params["W"] * lams[None, :]
        decoder_dense.grads["W"] += 2 * decoder_dense.params["W"] * lams[:, None]


class Contractive(Penalty):
    """The contractive penalty: lam * the squared Frobenius norm of the encoder's Jacobian.

    For a one-layer encoder h = s(a), a = x W + b (x: (1, n_in), W: (n_in, k)) with an
    elementwise activation s, the Jacobian is J_ji = dh_j/dx_i = s'(a_j) W_ij, so

        ||J(x)||_F^2 = sum_j s'(a_j)^2 c_j,          c_j = sum_i W_ij^2  (column norms of W)

    (for a sigmoid, s' = h (1 - h): sum_j (h_j (1 - h_j))^2 sum_i W_ij^2).  Averaged over the
    batch, like the losses:  Omega = (lam / N) sum_n sum_j s'(a_nj)^2 c_j.  Its gradient, by
    the product rule (s'' is the activation's second derivative, d a_nj / dW_ij = x_ni):

        dOmega/dW_ij = (2 lam / N) [ sum_n x_ni s'(a_nj) s''(a_nj) c_j  +  W_ij sum_n s'(a_nj)^2 ]
        dOmega/db_j  = (2 lam / N)   sum_n s'(a_nj) s''(a_nj) c_j

    Only one Dense layer (optionally followed by one activation) is supported: deeper
    encoders are refused; train them one contractive layer at a time with
    ``miniae.train.train_greedy`` (greedy layer-wise stacking).
    """

    on = "params"
    name = "contractive"

    def __init__(self, lam=0.1):
        self.lam = check_number(lam, "lam", 0)

    def config(self):
        return {"lam": self.lam}

    @staticmethod
    def encoder_parts(model):
        """(dense, activation) of a one-layer encoder; activation is Identity when there is none."""
        encoder = model.encoder
        layers = list(getattr(encoder, "layers", [encoder]))
        ok = (1 <= len(layers) <= 2 and isinstance(layers[0], Dense)
              and (len(layers) == 1 or isinstance(layers[1], Activation)))
        if not ok:
            raise ValueError(
                f"Contractive needs a one-layer encoder (Dense, then at most one activation), got "
                f"{encoder!r}. Its exact Jacobian penalty is derived for that case only; for a deeper "
                "encoder train one contractive layer at a time with miniae.train.train_greedy "
                "(greedy layer-wise stacking) and fine-tune the stacked model")
        return layers[0], (layers[1] if len(layers) == 2 else Identity())

    def _terms(self, model, x):
        dense, activation = self.encoder_parts(model)
        W, b = dense.params["W"], dense.params["b"]
        pre = x @ W + b                                  # a: (N, k)
        slope = activation.derivative(pre, activation.function(pre))   # s'(a): (N, k)
        col_norms = np.einsum("ij,ij->j", W, W)          # c_j = sum_i W_ij^2: (k,)
        return dense, activation, pre, slope, col_norms

    def forward(self, model, x):
        """model with a one-layer encoder, x: (N, n_in) the encoder's input -> scalar."""
        dense, activation, pre, slope, col_norms = self._terms(model, x)
        self.x, self.pre, self.slope, self.col_norms = x, pre, slope, col_norms
        self.dense, self.activation = dense, activation
        return self.lam * float(np.sum(slope * slope * col_norms)) / x.shape[0]

    def backward(self, model):
        """Adds dOmega/dW and dOmega/db into the encoder Dense layer's grads (after forward)."""
        x, slope, col_norms, dense = self.x, self.slope, self.col_norms, self.dense
        scale = 2 * self.lam / x.shape[0]
        curvature = self.activation.second_derivative(self.pre, self.activation.function(self.pre))
        # d/da_nj of s'(a_nj)^2 c_j is 2 s'(a_nj) s''(a_nj) c_j
        grad_pre = slope * curvature * col_norms         # (N, k), without the factor 2 lam / N
        # a = x W + b: the chain rule through a, as in Dense.backward
        dense.grads["W"] += scale * (x.T @ grad_pre)
        dense.grads["b"] += scale * grad_pre.sum(axis=0)
        # d/dW_ij of c_j = sum_i W_ij^2 is 2 W_ij, times sum_n s'(a_nj)^2
        dense.grads["W"] += scale * (dense.params["W"] * np.sum(slope * slope, axis=0))


def jacobian_norm(encode, X, h=1e-5):
    """Frobenius norm ||dh/dx||_F of ANY encoder at each row of X, by central differences.

    encode: callable mapping (n, n_in) -> (n, k) (e.g. ``model.encode``); X: (n, n_in).
    Column i of every sample's Jacobian is (f(x + h e_i) - f(x - h e_i)) / 2h, computed for
    the whole batch at once, so the cost is 2 n_in calls of ``encode``.  Returns (n,).
    Use float64 models (in float32 the difference quotient is mostly rounding error).
    """
    X = np.asarray(X, dtype=np.float64)
    squares = 0.0
    for i in range(X.shape[1]):
        step = np.zeros(X.shape[1])
        step[i] = h
        column = (np.asarray(encode(X + step), dtype=np.float64)
                  - np.asarray(encode(X - step), dtype=np.float64)) / (2 * h)
        squares = squares + np.sum(column * column, axis=1)
    return np.sqrt(squares)


PENALTIES = {cls.__name__: cls for cls in (L1Sparsity, KLSparsity, WeightDecay, OrderedWeightDecay,
                                               Contractive)}


def check_penalties(penalties):
    """A list of Penalty objects (a single Penalty is wrapped); names and other objects are refused by name."""
    if isinstance(penalties, Penalty):
        penalties = [penalties]
    if isinstance(penalties, (str, bytes)) or not isinstance(penalties, (list, tuple)):
        raise MiniaeInputError(f"penalties must be a list of Penalty objects such as [L1Sparsity(lam=1e-3)] "
                               f"(a penalty needs its weight, so names are not accepted), got {penalties!r}")
    for penalty in penalties:
        if not isinstance(penalty, Penalty) or type(penalty) is Penalty:
            raise MiniaeInputError(f"penalties must hold Penalty objects ({', '.join(PENALTIES)}), "
                                   f"got {penalty!r}")
    return list(penalties)
