"""Recurrent layers for sequences, with backpropagation through time written out.

A sequence batch is (batch, T, n_in): sample n's input at step t is the row ``x[n, t]``.  A
recurrent layer carries a hidden state h (and the LSTM a cell state c) from one step to the next,
with the same weights at every step::

    RNN   h_t = tanh(x_t Wx + h_{t-1} Wh + b)
    LSTM  a_t = x_t Wx + h_{t-1} Wh + b, split into four gate blocks of H columns (i, f, o, g):
          i = sigmoid(a_i), f = sigmoid(a_f), o = sigmoid(a_o), g = tanh(a_g)
          c_t = f * c_{t-1} + i * g        h_t = o * tanh(c_t)

Each step is a function (``rnn_step_forward``, ``lstm_step_forward``) and so is its backward
(``*_step_backward``); the layers loop over them, forward in time and then backward in time
(backpropagation through time): the gradient that reaches h_{t-1} (and c_{t-1}) from step t is
added to what step t - 1's own output receives, and the weights, shared by every step, collect the
sum of every step's gradient.  Gate order and shapes are as in cs231n's assignment 3: Wx (n_in, G H),
Wh (H, G H), b (G H,), with G = 1 for the RNN and 4 for the LSTM.  The initial states are zero.

``RepeatVector(T)`` turns a code (batch, H) into a sequence of T copies; ``TimeDistributed(layer)``
applies a layer to every step.  A sequence autoencoder (``Autoencoder.sequence``) keeps a model's
boundary at (batch, T * n_features) with a ``Reshape`` in front, like the convolutional models.
"""
import numpy as np
from scipy.special import expit

from .layers import Layer
from .validation import MiniaeInputError, check_float_dtype, check_rng, check_size, check_weight_count


# --------------------------------------------------------------------------- one step of an RNN
def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One step of a vanilla RNN: h = tanh(x Wx + prev_h Wh + b).

    x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H) and the cache
    backward needs.
    """
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """The backward of ``rnn_step_forward``: dnext_h = dL/dnext_h (N, H) ->
    (dx, dprev_h, dWx, dWh, db).

    With a = x Wx + prev_h Wh + b and next_h = tanh(a): da = dnext_h * (1 - next_h^2), then a is
    a Dense layer of two inputs: dx = da Wx^T, dprev_h = da Wh^T, dWx = x^T da, dWh = prev_h^T da,
    db = da summed over the batch.
    """
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)  # tanh' = 1 - tanh^2
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# --------------------------------------------------------------------------- one step of an LSTM
def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One step of an LSTM.  x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,)
    -> next_h (N, H), next_c (N, H) and the cache backward needs.

    The pre-activation a = x Wx + prev_h Wh + b (N, 4H) holds the four gates side by side, in the
    order input, forget, output, candidate: i = sigmoid(a[:, :H]), f = sigmoid(a[:, H:2H]),
    o = sigmoid(a[:, 2H:3H]), g = tanh(a[:, 3H:]).  The cell keeps a share f of its old content
    and adds a share i of the candidate: next_c = f * prev_c + i * g; the output gate lets a share
    of the squashed cell out: next_h = o * tanh(next_c).
    """
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = expit(a[:, :H])
    f = expit(a[:, H:2 * H])
    o = expit(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """The backward of ``lstm_step_forward``: dnext_h, dnext_c (N, H) = dL/dnext_h and the
    gradient that reached next_c from later steps -> (dx, dprev_h, dprev_c, dWx, dWh, db).

    Backwards through the step, one line a product rule:
    next_h = o * tanh(c) gives do = dnext_h * tanh(c), and adds dnext_h * o * (1 - tanh(c)^2) to
    dc (the cell's gradient from this step's output, beside dnext_c from the steps after);
    next_c = f * prev_c + i * g gives df = dc * prev_c, dprev_c = dc * f (the forget gate's path,
    along which the gradient crosses many steps without being squashed), di = dc * g, dg = dc * i.
    Through the gate functions (sigmoid' = s (1 - s), tanh' = 1 - tanh^2) that is da (N, 4H), in
    the gates' order, and a = x Wx + prev_h Wh + b is a Dense layer of two inputs:
    dx = da Wx^T, dprev_h = da Wh^T, dWx = x^T da, dWh = prev_h^T da, db = da summed over the batch.
    """
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    do = dnext_h * tanh_c
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    df = dc * prev_c
    dprev_c = dc * f
    di = dc * g
    dg = dc * i
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# --------------------------------------------------------------------------- the layers
def _orthogonal(n, rng):
    """An n x n orthogonal matrix (QR of a Gaussian matrix, signs fixed so it is uniformly drawn)."""
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


class _Recurrent(Layer):
    """What RNN and LSTM share: the weights, the loop over time, and return_sequences."""

    gates = 1  # G: blocks of H columns in Wx, Wh, b

    def __init__(self, n_in, n_hidden, return_sequences=True, rng=None, dtype=np.float64):
        super().__init__()
        self.n_in = check_size(n_in, "n_in")
        self.n_hidden = H = check_size(n_hidden, "n_hidden")
        if not isinstance(return_sequences, (bool, np.bool_)):
            raise MiniaeInputError(f"return_sequences must be True or False, got {return_sequences!r}")
        self.return_sequences = bool(return_sequences)
        G = self.gates
        check_weight_count((self.n_in + H + 1) * G * H, f"{type(self).__name__}(n_in={self.n_in}, n_hidden={H})")
        rng, dtype = check_rng(rng), check_float_dtype(dtype)
        # Wx: Glorot uniform per gate block; Wh: an orthogonal H x H block per gate, so that repeated
        # products by Wh neither blow up nor vanish at the start; b: zero (the LSTM's forget gate: 1)
        limit = np.sqrt(6.0 / (self.n_in + H))
        Wx = rng.uniform(-limit, limit, size=(self.n_in, G * H))
        Wh = np.concatenate([_orthogonal(H, rng) for _ in range(G)], axis=1)
        self.params = {"Wx": Wx.astype(dtype), "Wh": Wh.astype(dtype), "b": self.initial_bias().astype(dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.input_grad = True  # False: backward skips dL/dx (a model's first layer)

    def initial_bias(self):
        return np.zeros(self.gates * self.n_hidden)

    def check_input(self, x):
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ValueError(f"{self!r} needs input (batch, time steps, {self.n_in}), got {x.shape}")

    def output(self, h):
        """All hidden states (N, T, H), or the last one (N, H)."""
        return h if self.return_sequences else h[:, -1]

    def incoming(self, dy, shape):
        """dL/dh_t from this layer's output, (N, T, H): dy itself, or dy at the last step only."""
        if self.return_sequences:
            return dy
        dh = np.zeros(shape, dtype=dy.dtype)
        dh[:, -1] = dy
        return dh

    def config(self):
        return {"n_in": self.n_in, "n_hidden": self.n_hidden, "return_sequences": self.return_sequences}

    def __repr__(self):
        return f"{type(self).__name__}({self.n_in}, {self.n_hidden}, return_sequences={self.return_sequences})"


class RNN(_Recurrent):
    """A vanilla (Elman) recurrent layer: h_t = tanh(x_t Wx + h_{t-1} Wh + b), h_0 = 0.

    x (N, T, n_in) -> all hidden states (N, T, H), or with ``return_sequences=False`` the last one
    (N, H).  Params Wx (n_in, H), Wh (H, H), b (H,).  Forward loops ``rnn_step_forward`` over t;
    backward loops ``rnn_step_backward`` from t = T down to 1, carrying dL/dh_{t-1} back.  (The step
    functions are attributes of the class, so a subclass can loop over its own.)
    """

    step_forward = staticmethod(rnn_step_forward)
    step_backward = staticmethod(rnn_step_backward)

    def forward(self, x):
        """x: (N, T, n_in) -> (N, T, H), or (N, H) with return_sequences=False."""
        self.check_input(x)
        n, T, _ = x.shape
        h = np.zeros((n, T, self.n_hidden), dtype=x.dtype)
        prev_h = np.zeros((n, self.n_hidden), dtype=x.dtype)
        self.caches = []
        for t in range(T):
            prev_h, cache = self.step_forward(x[:, t], prev_h, self.params["Wx"], self.params["Wh"], self.params["b"])
            h[:, t] = prev_h
            self.caches.append(cache)
        self.x_shape = x.shape
        return self.output(h)

    def backward(self, dy):
        """dy: dL/d(output) -> dx (N, T, n_in); writes grads Wx, Wh, b (sums over the steps)."""
        n, T, _ = self.x_shape
        dh = self.incoming(dy, (n, T, self.n_hidden))
        dx = np.empty(self.x_shape, dtype=dy.dtype)
        for grad in self.grads.values():
            grad[...] = 0
        dprev_h = np.zeros((n, self.n_hidden), dtype=dy.dtype)  # nothing comes from after step T
        for t in reversed(range(T)):
            # h_t feeds the output at t and the next step: its gradient is the sum of both
            dx[:, t], dprev_h, dWx, dWh, db = self.step_backward(dh[:, t] + dprev_h, self.caches[t])
            self.grads["Wx"] += dWx  # the same weights at every step: their gradient is the sum
            self.grads["Wh"] += dWh
            self.grads["b"] += db
        return dx if self.input_grad else None


class LSTM(_Recurrent):
    """A long short-term memory layer (Hochreiter & Schmidhuber 1997, with a forget gate):
    ``lstm_step_forward`` at every step, zero initial h and c.

    x (N, T, n_in) -> all hidden states (N, T, H), or with ``return_sequences=False`` the last one
    (N, H).  Params Wx (n_in, 4H), Wh (H, 4H), b (4H,): the gates i, f, o, g side by side, in that
    order.  The forget gate's bias starts at 1, so the cell keeps most of its content at first
    (Jozefowicz et al. 2015); the other biases start at 0.  Backward loops ``lstm_step_backward``
    from t = T down to 1, carrying both dL/dh_{t-1} and dL/dc_{t-1} back.  (The step functions are
    attributes of the class, so a subclass can loop over its own: exercise 10 plugs in yours.)
    """

    gates = 4
    step_forward = staticmethod(lstm_step_forward)
    step_backward = staticmethod(lstm_step_backward)

    def initial_bias(self):
        b = np.zeros(4 * self.n_hidden)
        b[self.n_hidden:2 * self.n_hidden] = 1.0  # the forget gate
        return b

    def forward(self, x):
        """x: (N, T, n_in) -> (N, T, H), or (N, H) with return_sequences=False."""
        self.check_input(x)
        n, T, _ = x.shape
        h = np.zeros((n, T, self.n_hidden), dtype=x.dtype)
        prev_h = np.zeros((n, self.n_hidden), dtype=x.dtype)
        prev_c = np.zeros((n, self.n_hidden), dtype=x.dtype)
        self.caches = []
        for t in range(T):
            prev_h, prev_c, cache = self.step_forward(x[:, t], prev_h, prev_c, self.params["Wx"],
                                                      self.params["Wh"], self.params["b"])
            h[:, t] = prev_h
            self.caches.append(cache)
        self.x_shape = x.shape
        return self.output(h)

    def backward(self, dy):
        """dy: dL/d(output) -> dx (N, T, n_in); writes grads Wx, Wh, b (sums over the steps)."""
        n, T, _ = self.x_shape
        dh = self.incoming(dy, (n, T, self.n_hidden))
        dx = np.empty(self.x_shape, dtype=dy.dtype)
        for grad in self.grads.values():
            grad[...] = 0
        dprev_h = np.zeros((n, self.n_hidden), dtype=dy.dtype)  # nothing comes from after step T
        dprev_c = np.zeros((n, self.n_hidden), dtype=dy.dtype)
        for t in reversed(range(T)):
            dx[:, t], dprev_h, dprev_c, dWx, dWh, db = self.step_backward(dh[:, t] + dprev_h, dprev_c,
                                                                          self.caches[t])
            self.grads["Wx"] += dWx  # the same weights at every step: their gradient is the sum
            self.grads["Wh"] += dWh
            self.grads["b"] += db
        return dx if self.input_grad else None


class RepeatVector(Layer):
    """T copies of each sample: (N, H) -> (N, T, H), y[n, t] = x[n].

    Backward: x[n] was used at every step, so dx[n] is dy[n, t] summed over t.
    """

    def __init__(self, steps):
        super().__init__()
        self.steps = check_size(steps, "steps")

    def forward(self, x):
        """x: (N, H) -> (N, T, H)."""
        if x.ndim != 2:
            raise ValueError(f"{self!r} needs input (batch, features), got {x.shape}")
        return np.repeat(x[:, None, :], self.steps, axis=1)

    def backward(self, dy):
        """dy: (N, T, H) -> dx: (N, H), the sum over the steps."""
        return dy.sum(axis=1)

    def config(self):
        return {"steps": self.steps}

    def __repr__(self):
        return f"RepeatVector({self.steps})"


class TimeDistributed(Layer):
    """``layer`` applied at every step with the same weights: (N, T, D) -> (N, T, D_out).

    The N T rows go through ``layer`` as one batch of N T samples, so its backward sums each
    weight's gradient over the steps as it sums over a batch.  ``params`` and ``grads`` are the
    wrapped layer's.
    """

    def __init__(self, layer):
        super().__init__()
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed takes a Layer object, got {type(layer).__name__}")
        self.layer = layer

    @property
    def params(self):
        return self.layer.params

    @params.setter
    def params(self, value):  # Layer.__init__ assigns {}; the wrapped layer's dict is used
        pass

    @property
    def grads(self):
        return self.layer.grads

    @grads.setter
    def grads(self, value):
        pass

    @property
    def input_grad(self):
        return getattr(self.layer, "input_grad", True)

    @input_grad.setter
    def input_grad(self, value):
        self.layer.input_grad = value

    def forward(self, x):
        """x: (N, T, D) -> (N, T, D_out)."""
        if x.ndim != 3:
            raise ValueError(f"{self!r} needs input (batch, time steps, features), got {x.shape}")
        n, T, d = x.shape
        y = self.layer.forward(x.reshape(n * T, d))
        return y.reshape(n, T, *y.shape[1:])

    def backward(self, dy):
        """dy: (N, T, D_out) -> dx: (N, T, D)."""
        n, T = dy.shape[:2]
        dx = self.layer.backward(dy.reshape(n * T, *dy.shape[2:]))
        return None if dx is None else dx.reshape(n, T, *dx.shape[1:])

    def astype(self, dtype):
        self.layer.astype(dtype)
        return self

    def __repr__(self):
        return f"TimeDistributed({self.layer!r})"
