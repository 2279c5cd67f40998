"""Optimizers: turn gradients into parameter updates, in place.

Each optimizer's ``step(named_parameters)`` takes [(name, value, grad), ...] (what
``model.named_parameters()`` returns) and updates every ``value`` in place.  Per-parameter
state (velocities, moment estimates) is kept by name and created on first use, with the
parameter's dtype, so a float32 model stays float32.

Every update is computed in place: the formulas are written with ``*=``, ``+=`` and
``out=`` into the state arrays and one scratch array per parameter (allocated on the
first step and reused), so a step allocates nothing.  Scalars are Python floats, never
NumPy float64 scalars, which under NumPy 2 would turn float32 arithmetic into float64.
"""
import numpy as np


class Optimizer:
    def __init__(self, lr):
        if not lr > 0:
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.state = {}

    def step(self, named_parameters):
        raise NotImplementedError

    def _slot(self, key, like):
        """Per-parameter state array, zeros the first time it is asked for."""
        if key not in self.state or self.state[key].shape != like.shape or self.state[key].dtype != like.dtype:
            self.state[key] = np.zeros_like(like)
        return self.state[key]

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """theta <- theta - lr * grad."""

    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self, named_parameters):
        for name, value, grad in named_parameters:
            update = np.multiply(grad, self.lr, out=self._slot(name + ".scratch", value))  # lr * g
            value -= update


class Momentum(Optimizer):
    """Heavy-ball momentum, classical or Nesterov.

    classical:  v <- mu v - lr g;   theta <- theta + v
    Nesterov:   v <- mu v - lr g;   theta <- theta + mu v - lr g
    (the Nesterov form evaluates the gradient at the current point, as in Sutskever et al.
    2013 rewritten so no look-ahead forward pass is needed).
    """

    def __init__(self, lr=0.01, momentum=0.9, nesterov=False):
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def step(self, named_parameters):
        for name, value, grad in named_parameters:
            velocity = self._slot(name, value)
            lr_grad = np.multiply(grad, self.lr, out=self._slot(name + ".scratch", value))  # lr * g
            velocity *= self.momentum
            velocity -= lr_grad
            if self.nesterov:
                value += self.momentum * velocity - lr_grad
            else:
                value += velocity

    def __repr__(self):
        return f"Momentum(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov})"


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), with bias correction.

        m <- b1 m + (1 - b1) g            (mean of the gradient)
        v <- b2 v + (1 - b2) g^2          (mean of its square)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps),
        m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t = 0

    def step(self, named_parameters):
        named_parameters = list(named_parameters)  # walked several times below
        if not named_parameters:
            return
        self.t += 1
        # fold both bias corrections into one scalar step size
        # (Python floats, not NumPy float64 scalars, so a float32 model is never upcast)
        step_size = self.lr * (1 - self.beta2 ** self.t) ** 0.5 / (1 - self.beta1 ** self.t)
        eps_hat = self.eps * (1 - self.beta2 ** self.t) ** 0.5
        # Adam treats every entry of every parameter the same way, so it can work on all
        # of them at once: grad, m, v are flat vectors holding every parameter side by side
        # (one NumPy call per line below for the whole model, instead of one per parameter)
        self._update(*self._flat_vectors(named_parameters), step_size, eps_hat)
        for (_, value, _), update in zip(named_parameters, self._pieces["scratch"]):
            value -= update  # each parameter's piece of the flat update

    def _update(self, grad, m, v, scratch, step_size, eps_hat):
        """The Adam formulas, in place on the flat vectors; the update ends in scratch."""
        # m <- b1 m + (1 - b1) g
        m *= self.beta1
        m += np.multiply(grad, 1 - self.beta1, out=scratch)
        # v <- b2 v + (1 - b2) g^2
        v *= self.beta2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - self.beta2
        v += scratch
        # update = step_size * m / (sqrt(v) + eps_hat)
        np.sqrt(v, out=scratch)
        scratch += eps_hat
        np.divide(m, scratch, out=scratch)
        scratch *= step_size

    def _flat_vectors(self, named_parameters):
        """grad, m, v, scratch: flat vectors with every parameter's entries side by side.

        Made on the first step (again if the parameters change) and reused after that; the
        gradients are copied in at every step.  ``self.state[name + ".m"]`` (and ".v") are
        views of each parameter's piece of m and v, shaped like the parameter.
        """
        layout = [(name, value.shape, value.dtype) for name, value, _ in named_parameters]
        if layout != getattr(self, "_layout", None):
            self._layout = layout
            dtype = np.result_type(*(value for _, value, _ in named_parameters))
            size = sum(value.size for _, value, _ in named_parameters)
            self._flat = {key: np.zeros(size, dtype) for key in ("grad", "m", "v", "scratch")}
            self._pieces = {key: [] for key in self._flat}
            offset = 0
            for name, value, _ in named_parameters:
                for key, flat in self._flat.items():
                    self._pieces[key].append(flat[offset:offset + value.size].reshape(value.shape))
                offset += value.size
            self.state = {f"{name}.{key}": piece for key in ("m", "v")
                          for (name, _, _), piece in zip(named_parameters, self._pieces[key])}
        flat = self._flat
        np.concatenate([grad.reshape(-1) for _, _, grad in named_parameters], out=flat["grad"])
        return flat["grad"], flat["m"], flat["v"], flat["scratch"]

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2})"


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name, lr=None):
    if isinstance(name, Optimizer):
        return name
    if name is None:
        name = "adam"
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or an Optimizer, got {name!r}")
    return OPTIMIZERS[key]() if lr is None else OPTIMIZERS[key](lr=lr)
