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


class Penalty:
    on = "code"
    name = "penalty"

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"

    def config(self):
        """The constructor arguments (used by repr and by miniae.io)."""
        return {}


class L1Sparsity(Penalty):
    """Omega(h) = lam * (1/N) sum_n sum_j |h_nj|: an L1 penalty on the code, averaged over the batch.

    The Laplace-prior view: if each code unit has prior p(h_j) = (lam/2) exp(-lam |h_j|),
    then -log p(h) = lam sum_j |h_j| - sum_j log(lam/2), so minimising the penalty is
    maximising the prior, up to a constant.  Most units sit at (or near) zero.

    dOmega/dh_nj = lam * sign(h_nj) / N   (taking 0 at h = 0, a subgradient).
    """

    on = "code"
    name = "l1"

    def __init__(self, lam=1e-3):
        self.lam = float(lam)

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
        if not 0 < rho < 1:
            raise ValueError(f"rho must lie strictly between 0 and 1, got {rho}")
        self.rho, self.beta, self.eps = float(rho), float(beta), float(eps)

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

    dOmega/dW = 2 lam W.  On a linear autoencoder this breaks the rotation symmetry of the
    optimum: the decoder's columns line up with the ordered principal directions.
    """

    on = "params"
    name = "weight_decay"

    def __init__(self, lam=1e-4):
        self.lam = float(lam)

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


PENALTIES = {cls.__name__: cls for cls in (L1Sparsity, KLSparsity, WeightDecay)}
