"""The autoencoder: an encoder f, a decoder g and a loss, trained to make g(f(x)) close to x.

    code  h = f(x_tilde)          x_tilde = x, or a corrupted copy (denoising)
    recon   = g(h)
    loss    = L(x, recon) + sum of penalties Omega

One training step is one forward pass and one backward pass, written out in
``loss_and_grads``; everything else (optimizers, ``fit``) only reads the gradients.
"""
import copy

import numpy as np

from .layers import (
    Conv2D,
    ConvTranspose2D,
    Dense,
    Flatten,
    Layer,
    MaxPool2D,
    Reshape,
    Sequential,
    Upsample2D,
    make_activation,
)
from .losses import BCE, make_loss
from .noise import make_noise
from .penalties import check_penalties
from .recurrent import LSTM, RNN, RepeatVector, TimeDistributed
from .validation import (
    MiniaeInputError,
    check_data,
    check_float_dtype,
    check_rng,
    check_shape,
    check_size,
    check_sizes,
    check_unit_interval,
    check_weight_count,
)


def _activation_name(name):
    return "identity" if name in (None, "linear") else name


def dense_stack(dims, activation, last_activation, init, rng, dtype):
    """Dense layers through ``dims`` ([64, 32, 8]: 64->32->8), ``activation`` after each hidden
    one and ``last_activation`` after the last ("identity" adds no layer).  Each position
    gets its own activation layer (one shared object would mix up the cached x and y)."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(Dense(n_in, n_out, init=init, rng=rng, dtype=dtype))
        act = last_activation if i == len(dims) - 2 else activation
        if act != "identity":
            layers.append(copy.deepcopy(make_activation(act)))
    return Sequential(*layers)


def check_output_for_loss(loss, output):
    """A logits loss applies the sigmoid itself: an output activation before it would apply a second one."""
    if getattr(loss, "from_logits", False) and output != "identity":
        raise MiniaeInputError(f"a logits loss ({loss!r}) needs output='identity' (the loss applies the "
                               f"sigmoid itself), got output={output!r}")
    return loss


def leaf_layers(part):
    """The layers inside ``part`` in order, Sequentials opened up: [Dense, ReLU, Dense, ...]."""
    if isinstance(part, Sequential):
        return [leaf for layer in part.layers for leaf in leaf_layers(layer)]
    return [part]


class Model:
    """What every miniae model shares: one flat parameter vector, its weights by name, and the
    per-sample reconstruction error.

    ``model.theta`` holds every parameter of the model in one vector and ``model.grad`` its
    gradient: each layer's ``W`` and ``b`` are slices of them, reshaped (views, not copies),
    so ``loss_and_grads`` fills ``grad`` through the layers and an optimizer updates ``theta``
    with its textbook formulas on one vector (the theta of the UFLDL tutorial).  Subclasses
    define ``parts()``, ``validate`` and ``reconstruct``, and call ``self.gather_parameters()``
    once their parts exist.
    """

    def parts(self):
        """[(prefix, part), ...]: the objects holding ``params``/``grads`` dicts, in order."""
        raise NotImplementedError

    def leaves(self):
        """Every layer of every part, Sequentials opened up, in order; a layer used twice once."""
        leaves, seen = [], set()
        for _, part in self.parts():
            for leaf in leaf_layers(part):
                if id(leaf) not in seen:  # a layer used twice owns one slice of theta
                    seen.add(id(leaf))
                    leaves.append(leaf)
        return leaves

    def gather_parameters(self, theta=None):
        """Make ``theta`` and ``grad`` and turn every layer's params and grads into views of them.

        The layers' current values are copied into theta; grad starts at zero.  The first
        layer that reads the data is told not to compute dL/dx (``input_grad = False``), and so
        is each layer after it up to the first with parameters.  ``theta``: another model's
        parameter vector to share instead (a replica of that model, miniae.parallel): the
        layers become views of it and its values are kept.
        """
        leaves = self.leaves()
        values = [value for leaf in leaves for value in leaf.params.values()]
        dtype = values[0].dtype if values else np.dtype(np.float64)
        size = sum(value.size for value in values)
        shared = theta is not None
        if shared and (theta.shape != (size,) or theta.dtype != dtype):
            raise ValueError(f"theta of shape {theta.shape} and dtype {theta.dtype} cannot hold this model's "
                             f"{size} parameters of dtype {dtype}")
        self.theta = theta if shared else np.empty(size, dtype=dtype)
        self.grad = np.zeros(size, dtype=dtype)
        start = 0
        for leaf in leaves:
            for key, value in list(leaf.params.items()):
                stop = start + value.size
                if not shared:
                    self.theta[start:stop] = value.ravel()
                leaf.params[key] = self.theta[start:stop].reshape(value.shape)
                leaf.grads[key] = self.grad[start:stop].reshape(value.shape)
                start = stop
        # the data's gradient is never used: the layer that reads the data skips dL/dx, and so does each
        # layer after it up to the first with parameters (a conv model's Reshape, then its first Conv2D)
        first = self.first_layer()
        skip = []
        for leaf in leaves[leaves.index(first):] if first in leaves else []:
            if not hasattr(leaf, "input_grad"):
                break
            skip.append(leaf)
            if leaf.params:
                break
        for leaf in leaves:
            if hasattr(leaf, "input_grad"):
                leaf.input_grad = not any(leaf is skipped for skipped in skip)

    def first_layer(self):
        """The layer that reads the data (its dL/dx is never needed), or None."""
        return None

    def __setstate__(self, state):
        # copy.deepcopy and pickle copy each array on its own: gather them into a new theta
        self.__dict__.update(state)
        self.gather_parameters()

    def named_parameters(self):
        """[(name, value, grad), ...]: every parameter, as views into theta and grad."""
        return [(prefix + name, value, grad) for prefix, part in self.parts()
                for name, value, grad in part.named_parameters(prefix="")]

    def get_weights(self):
        """A copy of every parameter, by name (for early stopping and divergence recovery)."""
        return {name: value.copy() for name, value, _ in self.named_parameters()}

    def set_weights(self, weights):
        """Copy values from ``get_weights()`` back into the parameters, in place."""
        for name, value, _ in self.named_parameters():
            value[...] = weights[name]

    def astype(self, dtype):
        """Convert every parameter (and gradient) to ``dtype`` in place; returns self."""
        for _, part in self.parts():
            part.astype(dtype)
        self.gather_parameters()
        if self.config:
            self.config["dtype"] = np.dtype(dtype).name
        return self

    def reconstruction_error(self, X):
        """Per-sample mean squared error between X and its reconstruction: (n,)."""
        X = self.validate(X)
        recon = self.reconstruct(X)
        with np.errstate(over="ignore"):
            error = np.mean((recon - X) ** 2, axis=1)
        if np.all(np.isfinite(error)):
            return error
        # float32 data above about 1e19: the squares (or their sum) overflow where the mean may not.
        # Redo those sums in float64; a mean beyond the model's dtype is refused by name.
        with np.errstate(over="ignore"):
            error = np.mean((recon.astype(np.float64) - X) ** 2, axis=1)
        if not np.all(error <= np.finfo(self.dtype).max):
            raise MiniaeInputError(f"the reconstruction error of X is beyond the range of {self.dtype} (X has values "
                                   f"up to {np.max(np.abs(X)):.3g}); rescale the data or use a float64 model "
                                   "(model.astype(np.float64))")
        return error.astype(self.dtype)


class Autoencoder(Model):
    """An autoencoder built from two layers (usually ``Sequential``).

    Parameters:

    encoder, decoder : Layer
        encoder maps (batch, n_features) -> (batch, code_size); decoder maps back.
    loss : Loss or str
        reconstruction loss; ``"mse"`` (default), ``"bce"`` or ``"bce_logits"``.
    penalties : list of Penalty
        added to the loss (see miniae.penalties).
    noise : Noise, a name ("gaussian", "masking", "salt_pepper": default parameters) or None
        if given, training steps corrupt the input with fresh noise from ``rng``
        (a denoising autoencoder); ``encode``/``reconstruct`` never corrupt.
    rng : None, int or numpy Generator
        all randomness of a step is drawn from ``self.rng``.
    """

    def __init__(self, encoder, decoder, loss="mse", penalties=(), noise=None, rng=None):
        for name, part in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(part, Layer):
                raise MiniaeInputError(f"{name} must be a miniae Layer (e.g. Sequential(Dense(64, 8), ReLU())), "
                                       f"got {part!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.loss = make_loss(loss)
        self.penalties = check_penalties(penalties)
        self.noise = make_noise(noise)
        self.rng = check_rng(rng)
        self.last_terms = {}
        self.config = {}  # filled by builders; miniae.io stores it
        self.gather_parameters()  # model.theta, model.grad: every W and b is a slice of them

    def parts(self):
        return [("encoder.", self.encoder), ("decoder.", self.decoder)]

    def first_layer(self):
        leaves = leaf_layers(self.encoder)
        return leaves[0] if leaves else None

    # ----------------------------------------------------------------- builders
    @classmethod
    def mirrored(cls, sizes, activation="relu", output="identity", code_activation="identity",
                 loss="mse", penalties=(), noise=None, init=None, rng=None, dtype=np.float64):
        """The symmetric hourglass: sizes [64, 32, 8] builds 64-32-8-32-64.

        ``activation`` is used after every hidden Dense layer, ``code_activation`` after the
        code layer, ``output`` after the last layer.  ``activation="identity"`` (with the
        defaults) gives a linear autoencoder.  Undercomplete when the code is smaller than
        the input, overcomplete when larger.  ``init`` defaults to He for ReLU-like
        activations and Glorot otherwise.
        """
        sizes = check_sizes(sizes)
        rng = check_rng(rng)
        dtype = check_float_dtype(dtype)
        activation, output, code_activation = map(_activation_name, (activation, output, code_activation))
        for name in (activation, output, code_activation):
            make_activation(name)  # an unknown name is refused even where no layer would use it
        if init is None:
            init = "he" if activation in ("relu", "leaky_relu") else "glorot"
        loss = check_output_for_loss(make_loss(loss), output)

        encoder = dense_stack(sizes, activation, code_activation, init, rng, dtype)
        decoder = dense_stack(sizes[::-1], activation, output, init, rng, dtype)
        model = cls(encoder, decoder,
                    loss=loss, penalties=penalties, noise=noise, rng=rng)
        model.config = {"builder": "mirrored", "sizes": sizes, "activation": activation,
                        "output": output, "code_activation": code_activation, "init": init,
                        "dtype": np.dtype(dtype).name}
        return model

    @classmethod
    def linear(cls, n_features, code_size, rng=None, dtype=np.float64, **kwargs):
        """The linear autoencoder x -> x W_enc + b_enc -> h W_dec + b_dec (what PCA is compared with)."""
        sizes = [check_size(n_features, "n_features"), check_size(code_size, "code_size")]
        return cls.mirrored(sizes, activation="identity", rng=rng, dtype=dtype, **kwargs)

    @classmethod
    def conv(cls, input_shape, channels=(8, 16), code_size=8, kernel_size=3, up="upsample", activation="relu",
             output="sigmoid", code_activation="identity", loss="mse", rng=None, dtype=np.float64):
        """The convolutional hourglass on images of ``input_shape`` = (C, H, W), rows of C H W pixels.

        Encoder: Reshape((C, H, W)), then for each entry c of ``channels`` a Conv2D to c channels
        ("same" padding, ``kernel_size`` odd), the activation and a 2x2 MaxPool2D; then Flatten
        and a Dense to the code.  Decoder: a Dense back, Reshape, then for each stage (in
        reverse) a 2x upsampling and a convolution: ``up="upsample"`` is Upsample2D(2) then
        Conv2D, ``up="transpose"`` one ConvTranspose2D with stride 2; the last stage maps to C
        channels with ``output``; Flatten.  H and W must be divisible by 2 ** len(channels).
        """
        shape = check_shape(input_shape, "input_shape", length=3)  # (channels, height, width)
        channels = list(check_shape(channels, "channels"))
        code_size = check_size(code_size, "code_size")
        k = check_size(kernel_size, "kernel_size")
        if k % 2 == 0:
            raise MiniaeInputError(f"kernel_size must be odd (for 'same' padding), got {kernel_size!r}")
        factor = 2 ** len(channels)
        if shape[1] % factor or shape[2] % factor:
            raise MiniaeInputError(f"input_shape {shape}: height and width must be divisible by {factor} "
                                   f"(2 ** len(channels)) for {len(channels)} pooling stages")
        if up not in ("upsample", "transpose"):
            raise MiniaeInputError(f"up must be 'upsample' or 'transpose', got {up!r}")
        activation, output, code_activation = map(_activation_name, (activation, output, code_activation))
        for name in (activation, output, code_activation):
            make_activation(name)  # an unknown name is refused before any layer is built
        loss = check_output_for_loss(make_loss(loss), output)
        rng, dtype = check_rng(rng), check_float_dtype(dtype)
        # the biggest layers, by the names the caller gave, before any weight is allocated
        for c_in, c_out in zip([shape[0], *channels[:-1]], channels):
            check_weight_count(c_in * c_out * k * k, f"channels {channels} with kernel_size={k}: the convolution "
                                                     f"{c_in} -> {c_out}")

        def act(name):
            return [] if name == "identity" else [copy.deepcopy(make_activation(name))]

        inner = (channels[-1], shape[1] // factor, shape[2] // factor)  # the smallest feature map
        n_inner = inner[0] * inner[1] * inner[2]
        check_weight_count(n_inner * code_size, f"code_size={code_size} with input_shape {shape} and channels "
                                                f"{channels}: the Dense layer {n_inner} -> {code_size}")
        encoder = [Reshape(shape)]
        for c_in, c_out in zip([shape[0], *channels[:-1]], channels):
            encoder += [Conv2D(c_in, c_out, k, padding=k // 2, rng=rng, dtype=dtype), *act(activation), MaxPool2D(2)]
        encoder += [Flatten(), Dense(n_inner, code_size, rng=rng, dtype=dtype), *act(code_activation)]
        decoder = [Dense(code_size, n_inner, rng=rng, dtype=dtype), *act(activation), Reshape(inner)]
        for i, (c_in, c_out) in enumerate(zip(channels[::-1], [*channels[-2::-1], shape[0]])):
            if up == "upsample":
                decoder += [Upsample2D(2), Conv2D(c_in, c_out, k, padding=k // 2, rng=rng, dtype=dtype)]
            else:  # output size (H - 1) 2 - 2 (k - 1) / 2 + k + 1 = 2 H
                decoder += [ConvTranspose2D(c_in, c_out, k, stride=2, padding=k // 2, output_padding=1,
                                            rng=rng, dtype=dtype)]
            decoder += act(output if i == len(channels) - 1 else activation)
        decoder += [Flatten()]
        model = cls(Sequential(*encoder), Sequential(*decoder), loss=loss, rng=rng)
        model.config = {"builder": "conv", "input_shape": list(shape), "channels": channels, "code_size": code_size,
                        "kernel_size": k, "up": up, "activation": activation, "output": output,
                        "code_activation": code_activation, "dtype": np.dtype(dtype).name}
        return model

    @classmethod
    def sequence(cls, steps, n_features=1, hidden=64, code_size=8, cell="lstm", output="identity",
                 code_activation="identity", loss="mse", rng=None, dtype=np.float64):
        """The sequence hourglass on rows of ``steps`` * ``n_features`` numbers (step t's features
        side by side: row[t * n_features + k] is feature k at step t).

        Encoder: Reshape((steps, n_features)), a recurrent layer (``cell`` = "lstm" or "rnn") of
        ``hidden`` units read to the end (its last hidden state), a Dense to the code.  Decoder:
        RepeatVector(steps) (the code at every step), a recurrent layer of ``hidden`` units
        returning every step's state, TimeDistributed(Dense(hidden, n_features)), Flatten, and
        ``output``.  The decoder sees nothing but the code: what the sequence looks like at step t
        must be carried by its own state (lesson 10 measures what that costs).
        """
        steps = check_size(steps, "steps")
        n_features = check_size(n_features, "n_features")
        hidden = check_size(hidden, "hidden")
        code_size = check_size(code_size, "code_size")
        if cell not in ("lstm", "rnn"):
            raise MiniaeInputError(f"cell must be 'lstm' or 'rnn', got {cell!r}")
        output, code_activation = map(_activation_name, (output, code_activation))
        for name in (output, code_activation):
            make_activation(name)  # an unknown name is refused before any layer is built
        loss = check_output_for_loss(make_loss(loss), output)
        rng, dtype = check_rng(rng), check_float_dtype(dtype)
        gates = 4 if cell == "lstm" else 1
        for n_in in (n_features, code_size):
            check_weight_count((n_in + hidden + 1) * gates * hidden,
                               f"hidden={hidden} with a {cell.upper()} of {n_in} inputs")
        Cell = LSTM if cell == "lstm" else RNN

        def act(name):
            return [] if name == "identity" else [copy.deepcopy(make_activation(name))]

        encoder = [Reshape((steps, n_features)), Cell(n_features, hidden, return_sequences=False, rng=rng, dtype=dtype),
                   Dense(hidden, code_size, rng=rng, dtype=dtype), *act(code_activation)]
        decoder = [RepeatVector(steps), Cell(code_size, hidden, return_sequences=True, rng=rng, dtype=dtype),
                   TimeDistributed(Dense(hidden, n_features, rng=rng, dtype=dtype)), Flatten(), *act(output)]
        model = cls(Sequential(*encoder), Sequential(*decoder), loss=loss, rng=rng)
        model.config = {"builder": "sequence", "steps": steps, "n_features": n_features, "hidden": hidden,
                        "code_size": code_size, "cell": cell, "output": output, "code_activation": code_activation,
                        "dtype": np.dtype(dtype).name}
        return model

    # ----------------------------------------------------------------- the step
    def loss_and_grads(self, X):
        """One forward and one backward pass on the batch X: (batch, n_features).

        Fills every parameter's gradient and returns the total loss (a float).  The
        separate terms (reconstruction and each penalty) are left in ``self.last_terms``.
        Inner code: X is trusted to be a validated array of the model's dtype.
        """
        x_in = self.noise.corrupt(X, self.rng) if self.noise is not None else X
        code = self.encoder.forward(x_in)
        out = self.decoder.forward(code)
        terms = {"recon": self.loss.forward(out, X)}
        grad_code = self.decoder.backward(self.loss.backward())
        for penalty in self.penalties:
            if penalty.on == "code":
                terms[penalty.name] = penalty.forward(code)
                grad_code = grad_code + penalty.backward()
        self.encoder.backward(grad_code)  # its first layer skips dL/dX: the data's gradient is never used
        for penalty in self.penalties:
            if penalty.on == "params":
                terms[penalty.name] = penalty.forward(self, x_in)
                penalty.backward(self)
        self.last_terms = terms
        return float(sum(terms.values()))

    def evaluate_terms(self, X):
        """The loss terms on X (validated, model dtype) without noise and without gradients."""
        code = self.encoder.forward(X)
        terms = {"recon": self.loss.forward(self.decoder.forward(code), X)}
        for penalty in self.penalties:
            if penalty.on == "code":
                terms[penalty.name] = penalty.forward(code)
            else:
                terms[penalty.name] = penalty.forward(self, X)
        return terms

    # ----------------------------------------------------------------- using it
    @property
    def dtype(self):
        return self.theta.dtype

    @property
    def n_features(self):
        """Input width, read off the first Dense layer (None if there is none)."""
        first = self.first_layer()
        if isinstance(first, Reshape):  # a convolutional encoder: rows of prod(shape) numbers
            return first.n_in
        for _, value, _ in self.named_parameters():
            if value.ndim == 2:
                return value.shape[0]
        return None

    @property
    def code_size(self):
        dense = [v for n, v, _ in self.encoder.named_parameters() if v.ndim == 2]
        return dense[-1].shape[1] if dense else None

    def validate(self, X, name="X"):
        """X as a checked array of the model's dtype with the right number of features."""
        return check_data(X, name, n_features=self.n_features, dtype=self.dtype)

    def check_targets(self, X, name="X"):
        """Training data (validated) must be what the loss can score: values in [0, 1] for a BCE,
        which reads them as probabilities (fit calls this; encode and reconstruct do not)."""
        if isinstance(self.loss, BCE):
            check_unit_interval(X, name, f"the loss {self.loss!r}")
        return X

    def encode(self, X):
        """X: (n, n_features) -> code: (n, code_size).  No noise."""
        return self.encoder.forward(self.validate(X))

    def decode(self, Z):
        """Z: (n, code_size) -> reconstruction: (n, n_features) (probabilities for a logits loss)."""
        Z = check_data(Z, "Z", n_features=self.code_size, dtype=self.dtype)
        return self.loss.output(self.decoder.forward(Z))

    def reconstruct(self, X):
        """X: (n, n_features) -> g(f(X)): (n, n_features).  No noise."""
        return self.loss.output(self.decoder.forward(self.encoder.forward(self.validate(X))))

    def __repr__(self):
        parts = [f"encoder={self.encoder!r}", f"decoder={self.decoder!r}", f"loss={self.loss!r}"]
        if self.penalties:
            parts.append(f"penalties={self.penalties!r}")
        if self.noise is not None:
            parts.append(f"noise={self.noise!r}")
        return f"{type(self).__name__}(" + ", ".join(parts) + ")"
