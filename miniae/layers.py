"""Layers with hand-written backward passes.

Every layer follows one contract (row vectors, batch first)::

    y  = layer.forward(x)    # x: (batch, n_in)  -> y: (batch, n_out); keeps what backward needs
    dx = layer.backward(dy)  # dy = dL/dy        -> dx = dL/dx; fills layer.grads

``layer.params`` and ``layer.grads`` are dicts with the same keys and shapes. Backward
writes the gradients *into* the arrays of ``layer.grads`` (``self.grads["W"][...] = ...``,
never a new array): inside a model they are slices of the model's one flat gradient
vector, which the optimizer reads.  Every line keeps the input's dtype, so a float32 model
never silently computes in float64.
"""
import numpy as np
from scipy.special import expit


class Layer:
    """Base class: no parameters, identity map.  Subclasses override forward/backward."""

    def __init__(self):
        self.params = {}
        self.grads = {}

    def forward(self, x):
        """x: (batch, n_in) -> y: (batch, n_out)."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented yet")

    def backward(self, dy):
        """dy: (batch, n_out) = dL/dy -> dx: (batch, n_in) = dL/dx; fills self.grads."""
        raise NotImplementedError(f"{type(self).__name__}.backward is not implemented yet")

    def __call__(self, x):
        return self.forward(x)

    def named_parameters(self, prefix=""):
        """[(name, value, grad), ...] for every parameter of this layer."""
        return [(prefix + key, self.params[key], self.grads[key]) for key in self.params]

    def astype(self, dtype):
        """Convert parameters and gradients to ``dtype`` in place; returns self."""
        for key in self.params:
            self.params[key] = self.params[key].astype(dtype)
            self.grads[key] = np.zeros_like(self.params[key])
        return self

    def __repr__(self):
        return f"{type(self).__name__}()"


class Dense(Layer):
    """Fully connected layer ``y = x @ W + b``.

    Shapes: x (batch, n_in), W (n_in, n_out), b (n_out,), y (batch, n_out).

    Initialisation (``init``):
      * ``"glorot"`` (Xavier uniform): W ~ U(-a, a), a = sqrt(6 / (n_in + n_out));
        keeps the variance of activations and gradients about constant for tanh,
        sigmoid and linear layers.
      * ``"he"``: W ~ N(0, 2 / n_in); the factor 2 makes up for ReLU zeroing half its inputs.
    b starts at zero.
    """

    def __init__(self, n_in, n_out, init="glorot", rng=None, dtype=np.float64):
        super().__init__()
        n_in, n_out = int(n_in), int(n_out)
        if n_in < 1 or n_out < 1:
            raise ValueError(f"Dense needs positive sizes, got n_in={n_in}, n_out={n_out}")
        rng = np.random.default_rng(rng)
        if init == "glorot":
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_in, n_out))
        elif init == "he":
            W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
        else:
            raise ValueError(f"init must be 'glorot' or 'he', got {init!r}")
        self.params = {"W": W.astype(dtype), "b": np.zeros(n_out, dtype=dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.x = None
        self.input_grad = True  # False: backward skips dL/dx (see backward)

    @property
    def n_in(self):
        return self.params["W"].shape[0]

    @property
    def n_out(self):
        return self.params["W"].shape[1]

    def forward(self, x):
        """x: (batch, n_in) -> y = x @ W + b: (batch, n_out)."""
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dy):
        """dy: (batch, n_out) -> dx: (batch, n_in); writes grads W (n_in, n_out) and b (n_out,).

        Returns None when ``input_grad`` is False: a model sets that on its first layer,
        whose input is the data, since nobody uses the gradient with respect to the data
        (scikit-learn's and PyTorch's backprop skip it too; it is a product as big as dW).
        """
        # d/dW of x @ W is x^T @ dy: every sample of the batch adds its outer product
        self.grads["W"][...] = self.x.T @ dy
        # b is added to every row, so its gradient sums dy over the batch
        self.grads["b"][...] = dy.sum(axis=0)
        if not self.input_grad:
            return None
        # d/dx of x @ W is dy @ W^T
        return dy @ self.params["W"].T

    def __repr__(self):
        return f"Dense({self.n_in}, {self.n_out})"


class Activation(Layer):
    """An elementwise function y = f(x) with no parameters.

    Subclasses define ``function(x)``, ``derivative(x, y)`` = f'(x) (y = f(x) is given
    because f' is often cheapest from the output) and ``second_derivative(x, y)`` = f''(x),
    which the contractive penalty needs. Backward is the chain rule: dx = dy * f'(x).
    """

    kinks = ()  # points where f is not differentiable (gradient checks steer clear)

    def function(self, x):
        raise NotImplementedError

    def derivative(self, x, y):
        raise NotImplementedError

    def second_derivative(self, x, y):
        raise NotImplementedError

    def forward(self, x):
        """x: (batch, n) -> y = f(x): (batch, n)."""
        self.x = x
        self.y = self.function(x)
        return self.y

    def backward(self, dy):
        """dy: (batch, n) -> dx = dy * f'(x): (batch, n)."""
        dx = self.derivative(self.x, self.y)  # a fresh array (derivative never returns x or y)
        dx *= dy  # in place on it: the product needs no second array
        return dx


class Identity(Activation):
    """f(x) = x; f' = 1; f'' = 0."""

    def function(self, x):
        return x

    def derivative(self, x, y):
        return np.ones_like(x)

    def second_derivative(self, x, y):
        return np.zeros_like(x)

    def backward(self, dy):
        return dy


class ReLU(Activation):
    """f(x) = max(x, 0); f' = 1[x > 0]; f'' = 0 (away from the kink at 0)."""

    kinks = (0.0,)

    def function(self, x):
        return np.maximum(x, 0)

    def derivative(self, x, y):
        # 1 where x > 0, else 0; y = max(x, 0) >= 0, so that is sign(y): one pass, in x's dtype
        return np.sign(y)

    def backward(self, dy):
        """dy: (batch, n) -> dx = dy * f'(x): dy where x > 0, else 0."""
        # the same product as Activation.backward, with f' as a boolean mask (y > 0), one byte an
        # entry, instead of sign(y) in y's dtype: about twice as fast (dy's dtype is kept)
        return dy * (self.y > 0)

    def second_derivative(self, x, y):
        return np.zeros_like(x)


class LeakyReLU(Activation):
    """f(x) = x if x > 0 else slope * x; f' = 1 or slope; f'' = 0."""

    kinks = (0.0,)

    def __init__(self, slope=0.01):
        super().__init__()
        self.slope = float(slope)

    def function(self, x):
        return np.where(x > 0, x, self.slope * x)  # slope is a Python float: keeps x's dtype

    def derivative(self, x, y):
        # the two values as scalars of x's dtype, so np.where builds the result in that dtype
        # (with Python floats it would build a float64 array and then convert it)
        one, slope = x.dtype.type(1), x.dtype.type(self.slope)
        return np.where(x > 0, one, slope)

    def second_derivative(self, x, y):
        return np.zeros_like(x)

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


def sigmoid(x):
    """1 / (1 + exp(-x)), by SciPy's ``expit``: never overflows, exact in both tails."""
    return expit(x)


class Sigmoid(Activation):
    """f(x) = 1 / (1 + e^-x); f' = y (1 - y); f'' = f' (1 - 2y)."""

    def function(self, x):
        return sigmoid(x)

    def derivative(self, x, y):
        slope = 1 - y
        slope *= y  # y (1 - y), in place: one array instead of two
        return slope

    def second_derivative(self, x, y):
        return y * (1 - y) * (1 - 2 * y)


class Tanh(Activation):
    """f(x) = tanh(x); f' = 1 - y^2; f'' = -2 y (1 - y^2)."""

    def function(self, x):
        return np.tanh(x)

    def derivative(self, x, y):
        slope = y * y
        np.subtract(1, slope, out=slope)  # 1 - y^2, in place: one array instead of two
        return slope

    def second_derivative(self, x, y):
        return -2 * y * (1 - y * y)


class Softplus(Activation):
    """f(x) = log(1 + e^x), computed as logaddexp(0, x) so large |x| is safe;
    f' = sigmoid(x); f'' = sigmoid(x) (1 - sigmoid(x))."""

    def function(self, x):
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    def derivative(self, x, y):
        return sigmoid(x)

    def second_derivative(self, x, y):
        s = sigmoid(x)
        return s * (1 - s)


ACTIVATIONS = {
    "identity": Identity,
    "linear": Identity,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softplus": Softplus,
}


def make_activation(name):
    """An activation layer from its name (or pass an Activation through unchanged)."""
    if isinstance(name, Activation):
        return name
    if name is None:
        return Identity()
    key = str(name).lower()
    if key not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[key]()


class Sequential(Layer):
    """Layers applied one after another; itself a layer.

    forward runs them in order, backward in reverse order (the chain rule, one layer
    at a time). Parameter names are prefixed by the layer's position: "0.W", "0.b", ...
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes Layer objects, got {type(layer).__name__}")
        self.layers = list(layers)

    @property
    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @params.setter
    def params(self, value):  # Layer.__init__ assigns {}; the real dict is derived
        pass

    @property
    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    @grads.setter
    def grads(self, value):
        pass

    def forward(self, x):
        """x: (batch, n_in) -> y: (batch, n_out) through every layer."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        """dy: (batch, n_out) -> dx: (batch, n_in), filling each layer's grads."""
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def named_parameters(self, prefix=""):
        out = []
        for i, layer in enumerate(self.layers):
            out.extend(layer.named_parameters(f"{prefix}{i}."))
        return out

    def astype(self, dtype):
        for layer in self.layers:
            layer.astype(dtype)
        return self

    @property
    def dense_layers(self):
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __repr__(self):
        return "Sequential(" + ", ".join(repr(layer) for layer in self.layers) + ")"
