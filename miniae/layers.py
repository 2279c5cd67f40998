"""Layers with hand-written backward passes.

Every layer follows one contract (row vectors, batch first)::

    y  = layer.forward(x)    # x: (batch, n_in)  -> y: (batch, n_out); keeps what backward needs
    dx = layer.backward(dy)  # dy = dL/dy        -> dx = dL/dx; fills layer.grads

``layer.params`` and ``layer.grads`` are dicts with the same keys and shapes. Backward
writes the gradients *into* the arrays of ``layer.grads`` (``self.grads["W"][...] = ...``,
never a new array): inside a model they are slices of the model's one flat gradient
vector, which the optimizer reads.  Every line keeps the input's dtype, so a float32 model
never silently computes in float64.

Images and signals: ``Conv2D``, ``ConvTranspose2D``, ``MaxPool2D``, ``Upsample2D`` on
(batch, C, H, W) and ``Conv1D``, ``Upsample1D`` on (batch, C, L), by im2col and one matrix
product; ``Reshape`` and ``Flatten`` keep a model's boundary at (batch, n_features).
"""
import math

import numpy as np
from scipy.special import expit

from .validation import (
    MiniaeInputError,
    check_float_dtype,
    check_number,
    check_rng,
    check_shape,
    check_size,
    check_size_pair,
    check_weight_count,
)


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
        n_in, n_out = check_size(n_in, "n_in"), check_size(n_out, "n_out")
        check_weight_count(n_in * n_out + n_out, f"Dense(n_in={n_in}, n_out={n_out})")
        dtype = check_float_dtype(dtype)
        rng = check_rng(rng)
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
        y = x @ self.params["W"]
        y += self.params["b"]  # (+ b in place: no second (batch, n_out) array)
        return y

    def backward(self, dy):
        """dy: (batch, n_out) -> dx: (batch, n_in); writes grads W (n_in, n_out) and b (n_out,).

        Returns None when ``input_grad`` is False: a model sets that on its first layer,
        whose input is the data, since nobody uses the gradient with respect to the data
        (scikit-learn's and PyTorch's backprop skip it too; it is a product as big as dW).
        """
        # d/dW of x @ W is x^T @ dy: every sample of the batch adds its outer product (written
        # straight into the gradient array: "grads[...] = x.T @ dy" would build it in a temporary first)
        np.matmul(self.x.T, dy, out=self.grads["W"])
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
        self.slope = check_number(slope, "slope", 0, 1)

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
    """f(x) = tanh(x); f' = 1 - y^2 = 1 / cosh(x)^2; f'' = -2 y f'."""

    def function(self, x):
        return np.tanh(x)

    def derivative(self, x, y):
        # 1 / cosh(x)^2, not 1 - y^2: near y = -1 or 1 that subtraction cancels (at x = -10 it is
        # off by 2e-9, a quarter of f').  With t = e^(-2|x|) in (0, 1], 1 / cosh(x)^2 = 4 t / (1 + t)^2:
        # exact in the tails and nothing overflows (cosh(x) itself does beyond |x| = 710)
        t = np.exp(-2 * np.abs(x))
        return 4 * t / (1 + t) ** 2

    def second_derivative(self, x, y):
        return -2 * y * self.derivative(x, y)


class Softplus(Activation):
    """f(x) = log(1 + e^x), computed as logaddexp(0, x) so large ``|x|`` is safe;
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


# --------------------------------------------------------------------------- images and signals
# Convolutional layers see a sample as channels x positions: (batch, C, H, W) for images,
# (batch, C, L) for signals.  A model's boundary stays (batch, n_features): its encoder starts
# with Reshape((C, H, W)) and its decoder ends with Flatten().


def im2col(x, kernel, stride):
    """x: (N, C, H, W) (padded already) -> cols: (N * Ho * Wo, C * kh * kw).

    Row (n, i, j) of cols is the window of x that output pixel (i, j) of sample n sees,
    x[n, :, i*sh : i*sh + kh, j*sw : j*sw + kw] flattened, so a convolution is one matrix
    product cols @ W.reshape(C_out, -1).T.  Ho = (H - kh) // sh + 1 (and so for Wo).
    One loop over the kh * kw kernel offsets (a, b), as in col2im: entry (a, b) of window (i, j)
    is pixel (i*sh + a, j*sw + b), for every window at once.

    The numbers are stored one window a column (the "columns" of the name): cols is the
    transpose of a (C kh kw, N Ho Wo) array, so each offset's block is whole image rows copied as
    they lie (1 -> 8 channels at 30 x 30: 4.2 -> 0.9 ms; benchmarks/RESULTS.md); a matrix product
    reads either order.
    """
    kh, kw = kernel
    sh, sw = stride
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    columns = np.empty((c, kh, kw, n, ho, wo), dtype=x.dtype)
    by_channel = x.transpose(1, 0, 2, 3)  # (C, N, H, W)
    for a in range(kh):
        for b in range(kw):
            columns[:, a, b] = by_channel[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw]
    return columns.reshape(c * kh * kw, n * ho * wo).T


def col2im(cols, shape, kernel, stride):
    """The adjoint of im2col: cols (N * Ho * Wo, C * kh * kw) -> x (shape = (N, C, H, W)).

    Every entry of cols goes back to the pixel it was copied from; pixels seen by several
    windows receive the sum.  One loop over the kh * kw kernel offsets (a, b): offset (a, b)
    of window (i, j) is pixel (i*sh + a, j*sw + b).
    """
    kh, kw = kernel
    sh, sw = stride
    n, c, h, w = shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    # one window a column, as im2col stores them: free when cols is stored so (the transpose of a
    # C-contiguous array), one copy otherwise; each offset's (C, N, Ho, Wo) block is then contiguous
    columns = cols.T.reshape(c, kh, kw, n, ho, wo)
    x = np.zeros((c, n, h, w), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            x[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw] += columns[:, a, b]
    return x.transpose(1, 0, 2, 3)


def full_convolution(dy, W, padding):
    """dL/dx of a stride-1 Conv2D with weights W (C_out, C_in, kh, kw) and ``padding`` (ph < kh,
    pw < kw): dy (N, C_out, Ho, Wo) padded by kh - 1 - ph (and kw - 1 - pw) zeros, then correlated
    with the kernel flipped in space and with its two channel axes swapped: (N, C_in, H, W).

    Input pixel (i, j) met output (i - a + ph, j - b + pw) through kernel entry (a, b), so it
    collects sum over o, a, b of dy[n, o, i - a + ph, j - b + pw] * W[o, c, a, b]: a correlation
    of the padded dy with W[:, :, ::-1, ::-1].
    """
    (kh, kw), (ph, pw) = W.shape[2:], padding
    flipped = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(W.shape[1], -1)  # (C_in, C_out kh kw)
    cols = im2col(_pad(dy, (kh - 1 - ph, kw - 1 - pw)), (kh, kw), (1, 1))  # (N H W, C_out kh kw)
    n, h = dy.shape[0], dy.shape[2] + kh - 1 - 2 * ph
    w = dy.shape[3] + kw - 1 - 2 * pw
    return (cols @ flipped.T).reshape(n, h, w, W.shape[1]).transpose(0, 3, 1, 2)


def _pad(x, padding):
    """Zeros around the last two axes: (N, C, H, W) -> (N, C, H + 2 ph, W + 2 pw)."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _conv_init(init, shape, fan_in, fan_out, rng, dtype):
    """He (N(0, 2 / fan_in)) or Glorot (U(-a, a), a = sqrt(6 / (fan_in + fan_out))), as Dense."""
    if init == "he":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(dtype)
    if init == "glorot":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=shape).astype(dtype)
    raise ValueError(f"init must be 'he' or 'glorot', got {init!r}")


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as PyTorch's ``conv2d``) with a bias.

        y[n, o, i, j] = b[o] + sum_{c, a, b'} W[o, c, a, b'] * xp[n, c, i*s + a, j*s + b']

    with xp the input padded by ``padding`` zeros on each side.  Shapes: x (N, C_in, H, W),
    W (C_out, C_in, kh, kw), b (C_out,), y (N, C_out, Ho, Wo), Ho = (H + 2 ph - kh) // sh + 1.

    Forward is im2col and one matrix product: cols (N Ho Wo, C_in kh kw) @ W_mat^T with
    W_mat = W.reshape(C_out, C_in kh kw).  Backward, by the chain rule on that product:

    - dW = dy_mat^T @ cols: each weight W[o, c, a, b'] multiplies every pixel it ever meets,
      so its gradient is the correlation of the input x with dy (sum over n, i, j of
      dy[n, o, i, j] * xp[n, c, i*s + a, j*s + b']);
    - db = dy summed over the batch and the positions;
    - dx = col2im(dy_mat @ W_mat): each input pixel collects dy from every output pixel whose
      window covered it, weighted by the kernel entry that met it, which is the full
      convolution of dy (dilated by the stride) with the flipped kernel.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, init="he", rng=None,
                 dtype=np.float64):
        super().__init__()
        self.in_channels = check_size(in_channels, "in_channels")
        self.out_channels = check_size(out_channels, "out_channels")
        self.kernel_size = check_size_pair(kernel_size, "kernel_size")
        self.stride = check_size_pair(stride, "stride")
        self.padding = check_size_pair(padding, "padding", minimum=0)
        check_weight_count(math.prod(self.weight_shape()), f"{type(self).__name__}(in_channels={self.in_channels}, "
                           f"out_channels={self.out_channels}, kernel_size={self.kernel_size})")
        rng, dtype = check_rng(rng), check_float_dtype(dtype)
        kh, kw = self.kernel_size
        W = _conv_init(init, self.weight_shape(), self.in_channels * kh * kw, self.out_channels * kh * kw,
                       rng, dtype)
        self.params = {"W": W, "b": np.zeros(self.out_channels, dtype=dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.input_grad = True  # False: backward skips dL/dx (a model's first layer)

    def weight_shape(self):
        return (self.out_channels, self.in_channels, *self.kernel_size)

    def forward(self, x):
        """x: (N, C_in, H, W) -> y: (N, C_out, Ho, Wo)."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} needs input (batch, {self.in_channels}, height, width), got {x.shape}")
        self.x_shape = x.shape
        xp = _pad(x, self.padding)
        self.padded_shape = xp.shape
        if xp.shape[2] < self.kernel_size[0] or xp.shape[3] < self.kernel_size[1]:
            raise ValueError(f"{self!r}: the padded input {xp.shape[2:]} is smaller than the kernel")
        self.cols = im2col(xp, self.kernel_size, self.stride)  # (N Ho Wo, C_in kh kw)
        n, ho = x.shape[0], (xp.shape[2] - self.kernel_size[0]) // self.stride[0] + 1
        wo = (xp.shape[3] - self.kernel_size[1]) // self.stride[1] + 1
        W_mat = self.params["W"].reshape(self.out_channels, -1)  # (C_out, C_in kh kw)
        y = self.cols @ W_mat.T + self.params["b"]  # (N Ho Wo, C_out)
        return y.reshape(n, ho, wo, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, dy):
        """dy: (N, C_out, Ho, Wo) -> dx: (N, C_in, H, W); writes grads W and b."""
        dy_mat = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)  # (N Ho Wo, C_out)
        W_mat = self.params["W"].reshape(self.out_channels, -1)
        # the correlation of x with dy: d/dW_mat of cols @ W_mat^T is dy_mat^T @ cols
        self.grads["W"][...] = (dy_mat.T @ self.cols).reshape(self.grads["W"].shape)
        # b is added at every position of every sample
        self.grads["b"][...] = dy.sum(axis=(0, 2, 3))
        if not self.input_grad:
            return None
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        if self.stride == (1, 1) and self.out_channels < self.in_channels and ph < kh and pw < kw:
            # the same dx computed as what it is (see above): the full convolution of dy with the
            # flipped kernel.  Its im2col has C_out kh kw columns where col2im's has C_in kh kw, so
            # it is the cheaper road when dy has fewer channels than x (a decoder's last layers:
            # 17 ms -> 2 ms for 8 -> 1 channels on 64 images of 28 x 28, benchmarks/RESULTS.md)
            W = self.params["W"].reshape(self.out_channels, self.in_channels, kh, kw)  # (Conv1D's W is 3-D)
            return full_convolution(dy, W, self.padding)
        # d/dcols is dy_mat @ W_mat; col2im returns each window's share to its pixels.  It is computed
        # as (W_mat^T dy_mat^T)^T, the same numbers stored one window a column, as col2im reads them
        dcols = (W_mat.T @ dy_mat.T).T
        dxp = col2im(dcols, self.padded_shape, self.kernel_size, self.stride)
        _, _, h, w = self.x_shape
        return dxp[:, :, ph:ph + h, pw:pw + w]  # the padding's gradient is dropped

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding)}

    def __repr__(self):
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class ConvTranspose2D(Layer):
    """Transposed convolution, as PyTorch's ``conv_transpose2d``: the map whose matrix is the
    transpose of Conv2D's, so it spreads each input pixel over a kernel-sized patch of the output.

        y = crop(col2im(x_mat @ W_mat)) + b

    with x_mat = x as rows (N H W, C_in), W_mat = W.reshape(C_in, C_out kh kw); input pixel
    (i, j) lands at output (i*s + a - p, j*s + b' - p).  Shapes: x (N, C_in, H, W),
    W (C_in, C_out, kh, kw), b (C_out,), y (N, C_out, Ho, Wo) with
    Ho = (H - 1) sh - 2 ph + kh + output_padding (output_padding < stride picks one of the
    input sizes a stride-s Conv2D maps to H).

    Backward is Conv2D's forward read backwards: dy is padded and cut into windows by im2col;
    dx = dy_cols @ W_mat^T (each input pixel gathers the dy of the patch it was spread over),
    dW = x_mat^T @ dy_cols (the correlation of x with dy), db = dy summed over n, i, j.
    When the kernel is not a multiple of the stride, output pixels receive different numbers
    of contributions: the checkerboard artefact (Odena et al. 2016).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, init="he",
                 rng=None, dtype=np.float64):
        super().__init__()
        self.in_channels = check_size(in_channels, "in_channels")
        self.out_channels = check_size(out_channels, "out_channels")
        self.kernel_size = check_size_pair(kernel_size, "kernel_size")
        self.stride = check_size_pair(stride, "stride")
        self.padding = check_size_pair(padding, "padding", minimum=0)
        self.output_padding = check_size_pair(output_padding, "output_padding", minimum=0)
        check_weight_count(self.in_channels * self.out_channels * self.kernel_size[0] * self.kernel_size[1],
                           f"ConvTranspose2D(in_channels={self.in_channels}, out_channels={self.out_channels}, "
                           f"kernel_size={self.kernel_size})")
        rng, dtype = check_rng(rng), check_float_dtype(dtype)
        if any(op >= s for op, s in zip(self.output_padding, self.stride)):
            raise MiniaeInputError(f"ConvTranspose2D needs output_padding smaller than stride, got "
                             f"output_padding={self.output_padding}, stride={self.stride}")
        kh, kw = self.kernel_size
        sh, sw = self.stride
        # He for a transposed convolution: each output pixel sums about C_in kh kw / (sh sw) inputs
        fan_in = max(self.in_channels * kh * kw // (sh * sw), 1)
        W = _conv_init(init, (self.in_channels, self.out_channels, kh, kw), fan_in,
                       self.out_channels * kh * kw, rng, dtype)
        self.params = {"W": W, "b": np.zeros(self.out_channels, dtype=dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.input_grad = True

    def output_shape(self, h, w):
        (kh, kw), (sh, sw), (ph, pw), (oh, ow) = self.kernel_size, self.stride, self.padding, self.output_padding
        return (h - 1) * sh - 2 * ph + kh + oh, (w - 1) * sw - 2 * pw + kw + ow

    def forward(self, x):
        """x: (N, C_in, H, W) -> y: (N, C_out, Ho, Wo)."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} needs input (batch, {self.in_channels}, height, width), got {x.shape}")
        n, _, h, w = x.shape
        ho, wo = self.output_shape(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(f"{self!r}: an input of {h}x{w} gives an empty output ({ho}x{wo})")
        (ph, pw) = self.padding
        self.x_mat = x.transpose(0, 2, 3, 1).reshape(-1, self.in_channels)  # (N H W, C_in)
        W_mat = self.params["W"].reshape(self.in_channels, -1)  # (C_in, C_out kh kw)
        # the rows of x_mat @ W_mat are patches, ordered as Conv2D's windows: col2im adds them up
        patches = self.x_mat @ W_mat  # (N H W, C_out kh kw)
        full = col2im(patches, (n, self.out_channels, ho + 2 * ph, wo + 2 * pw), self.kernel_size, self.stride)
        y = full[:, :, ph:ph + ho, pw:pw + wo]
        return y + self.params["b"].reshape(1, -1, 1, 1)

    def backward(self, dy):
        """dy: (N, C_out, Ho, Wo) -> dx: (N, C_in, H, W); writes grads W and b."""
        n = dy.shape[0]
        dy_cols = im2col(_pad(dy, self.padding), self.kernel_size, self.stride)  # (N H W, C_out kh kw)
        W_mat = self.params["W"].reshape(self.in_channels, -1)
        # d/dW_mat of x_mat @ W_mat is x_mat^T @ (the gradient of the patches)
        self.grads["W"][...] = (self.x_mat.T @ dy_cols).reshape(self.grads["W"].shape)
        self.grads["b"][...] = dy.sum(axis=(0, 2, 3))
        if not self.input_grad:
            return None
        h = (dy.shape[2] + 2 * self.padding[0] - self.kernel_size[0]) // self.stride[0] + 1
        w = (dy.shape[3] + 2 * self.padding[1] - self.kernel_size[1]) // self.stride[1] + 1
        dx_mat = dy_cols @ W_mat.T  # (N H W, C_in)
        return dx_mat.reshape(n, h, w, self.in_channels).transpose(0, 3, 1, 2)

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride), "padding": list(self.padding),
                "output_padding": list(self.output_padding)}

    def __repr__(self):
        return (f"ConvTranspose2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, output_padding={self.output_padding})")


class Conv1D(Conv2D):
    """1-D convolution on signals, as PyTorch's ``conv1d``: x (N, C_in, L) -> y (N, C_out, Lo),
    W (C_out, C_in, k), b (C_out,), Lo = (L + 2 p - k) // s + 1.

    The same formula as Conv2D on a picture one pixel high (kernel (1, k), stride (1, s),
    padding (0, p)), so forward and backward are Conv2D's on x[:, :, None, :].
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, init="he", rng=None,
                 dtype=np.float64):
        # one int each (a signal has one axis); Conv2D then reads them as (1, k), (1, s), (0, p)
        kernel_size, stride = check_size(kernel_size, "kernel_size"), check_size(stride, "stride")
        padding = check_size(padding, "padding", minimum=0)
        super().__init__(in_channels, out_channels, (1, kernel_size), (1, stride), (0, padding), init, rng, dtype)

    def weight_shape(self):
        return (self.out_channels, self.in_channels, self.kernel_size[1])

    def forward(self, x):
        """x: (N, C_in, L) -> y: (N, C_out, Lo)."""
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} needs input (batch, {self.in_channels}, length), got {x.shape}")
        return super().forward(x[:, :, None, :])[:, :, 0, :]

    def backward(self, dy):
        """dy: (N, C_out, Lo) -> dx: (N, C_in, L); writes grads W (C_out, C_in, k) and b."""
        dx = super().backward(dy[:, :, None, :])
        return None if dx is None else dx[:, :, 0, :]

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size[1], "stride": self.stride[1], "padding": self.padding[1]}

    def __repr__(self):
        return (f"Conv1D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size[1]}, "
                f"stride={self.stride[1]}, padding={self.padding[1]})")


class MaxPool2D(Layer):
    """Max pooling, as PyTorch's ``max_pool2d``: y[n, c, i, j] = max of x over the window
    x[n, c, i*s : i*s + k, j*s : j*s + k] (leftover rows and columns are dropped).

    Backward: only the maximum of each window moved y, so dy goes to that one pixel
    (the first of equal maxima) and every other pixel gets 0; overlapping windows add up.
    Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H - kh) // sh + 1.  ``stride``
    defaults to ``size``.
    """

    def __init__(self, size, stride=None):
        super().__init__()
        self.size = check_size_pair(size, "size")
        self.stride = self.size if stride is None else check_size_pair(stride, "stride")

    def forward(self, x):
        """x: (N, C, H, W) -> y: (N, C, Ho, Wo)."""
        if x.ndim != 4 or x.shape[2] < self.size[0] or x.shape[3] < self.size[1]:
            raise ValueError(f"{self!r} needs input (batch, channels, height, width) at least {self.size}, "
                             f"got {x.shape}")
        self.x_shape = x.shape
        (kh, kw), (sh, sw) = self.size, self.stride
        ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
        # one loop over the window offsets (a, b), as im2col: offset (a, b) of window (i, j) is
        # pixel (i*sh + a, j*sw + b); y keeps the running maximum, argmax the offset a * kw + b it
        # came from (strictly greater: the first of equal maxima stays).  2-2.5x faster than argmax
        # over a copy of every window (benchmarks/RESULTS.md)
        y = x[:, :, 0:sh * ho:sh, 0:sw * wo:sw].copy()
        self.argmax = np.zeros(y.shape, dtype=np.min_scalar_type(kh * kw - 1))
        for a in range(kh):
            for b in range(kw):
                entry = x[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw]
                np.copyto(self.argmax, a * kw + b, where=entry > y)
                np.maximum(y, entry, out=y)
        return y

    def backward(self, dy):
        """dy: (N, C, Ho, Wo) -> dx: (N, C, H, W), dy routed to each window's maximum."""
        (kh, kw), (sh, sw) = self.size, self.stride
        ho, wo = dy.shape[2:]
        dx = np.zeros(self.x_shape, dtype=dy.dtype)
        for a in range(kh):  # window offset (a, b) is pixel (i*sh + a, j*sw + b)
            for b in range(kw):
                dx[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw] += dy * (self.argmax == a * kw + b)
        return dx

    def config(self):
        return {"size": list(self.size), "stride": list(self.stride)}

    def __repr__(self):
        return f"MaxPool2D(size={self.size}, stride={self.stride})"


class Upsample2D(Layer):
    """Nearest-neighbour upsampling: every pixel becomes an fh x fw block,
    y[n, c, i, j] = x[n, c, i // fh, j // fw].  Shapes: (N, C, H, W) -> (N, C, fh H, fw W).

    Backward: each input pixel was copied into its block, so dx is dy summed over the block.
    """

    def __init__(self, factor):
        super().__init__()
        self.factor = check_size_pair(factor, "factor")

    def forward(self, x):
        """x: (N, C, H, W) -> y: (N, C, fh H, fw W)."""
        if x.ndim != 4:
            raise ValueError(f"{self!r} needs input (batch, channels, height, width), got {x.shape}")
        fh, fw = self.factor
        return x.repeat(fh, axis=2).repeat(fw, axis=3)

    def backward(self, dy):
        """dy: (N, C, fh H, fw W) -> dx: (N, C, H, W), the sum over each block."""
        (fh, fw), (n, c, h, w) = self.factor, dy.shape
        return dy.reshape(n, c, h // fh, fh, w // fw, fw).sum(axis=(3, 5))

    def config(self):
        return {"factor": list(self.factor)}

    def __repr__(self):
        return f"Upsample2D(factor={self.factor})"


class Upsample1D(Layer):
    """Nearest-neighbour upsampling of signals: (N, C, L) -> (N, C, f L), y[n, c, i] = x[n, c, i // f];
    backward sums dy over each run of f copies."""

    def __init__(self, factor):
        super().__init__()
        self.factor = check_size(factor, "factor")

    def forward(self, x):
        """x: (N, C, L) -> y: (N, C, f L)."""
        if x.ndim != 3:
            raise ValueError(f"{self!r} needs input (batch, channels, length), got {x.shape}")
        return x.repeat(self.factor, axis=2)

    def backward(self, dy):
        """dy: (N, C, f L) -> dx: (N, C, L)."""
        n, c, length = dy.shape
        return dy.reshape(n, c, length // self.factor, self.factor).sum(axis=3)

    def config(self):
        return {"factor": self.factor}

    def __repr__(self):
        return f"Upsample1D(factor={self.factor})"


class Reshape(Layer):
    """Each sample to ``shape``: (N, prod(shape)) -> ``(N, *shape)``, e.g. (N, 64) -> (N, 1, 8, 8).

    An encoder starts with one, so the model still takes (n_samples, n_features) rows.
    Backward reshapes dy back to the input's shape.
    """

    def __init__(self, shape):
        super().__init__()
        self.shape = check_shape(shape if isinstance(shape, (tuple, list)) else (shape,), "shape")
        self.input_grad = True

    @property
    def n_in(self):
        """The number of features a sample has: prod(shape)."""
        return math.prod(self.shape)

    def forward(self, x):
        """x: (N, ...) with prod(shape) numbers a sample -> ``(N, *shape)``."""
        if int(np.prod(x.shape[1:])) != self.n_in:
            raise ValueError(f"{self!r} needs {self.n_in} numbers a sample, got input of shape {x.shape}")
        self.x_shape = x.shape
        return x.reshape(x.shape[0], *self.shape)

    def backward(self, dy):
        """dy: ``(N, *shape)`` -> dx: the input's shape (None if input_grad is False)."""
        return dy.reshape(self.x_shape) if self.input_grad else None

    def config(self):
        return {"shape": list(self.shape)}

    def __repr__(self):
        return f"Reshape({self.shape})"


class Flatten(Layer):
    """(N, ...) -> (N, features): a decoder ends with one, so a model returns rows again."""

    def forward(self, x):
        """x: (N, C, H, W) or (N, C, L) -> y: (N, C H W) or (N, C L)."""
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        """dy: (N, features) -> dx: the input's shape."""
        return dy.reshape(self.x_shape)

    def config(self):
        return {}


# Sequences: the recurrent layers live in miniae.recurrent (they build on Layer above) and are
# importable from here too, beside the others.
from .recurrent import (  # noqa: E402, F401 -- re-exported: miniae.layers names every layer
    LSTM,
    RNN,
    RepeatVector,
    TimeDistributed,
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
)
