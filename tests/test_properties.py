"""Property sweep (hypothesis) over the public entry points (issues 16 and 25).

Every generated bad argument ends in a ValueError that names it; every good one builds, and
training with good hyperparameters ends with finite weights (or a DivergenceError that leaves them
finite).  Issue 25 adds the convolutional code: the conv layers' sizes, their values against the
formula (and PyTorch where it is installed), Autoencoder.conv, conv model files and
``miniae train conv``.  Derandomized, so CI sees the same cases every run (60 a sweep).
"""
import json
import math
import numbers
import os
import warnings
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from miniae import cli, io, layers, losses, noise, optim, penalties
from miniae.estimators import AutoencoderTransformer
from miniae.models import Autoencoder
from miniae.train import fit
from miniae.vae import VAE
from miniae.validation import MAX_LAYER_WEIGHTS, DivergenceError, MiniaeInputError

SWEEP = settings(max_examples=60, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])
X = np.random.default_rng(0).uniform(0, 1, (12, 5))

# anything a person might pass for a number: floats of every kind, ints, bools, strings, None, lists
ANY_VALUE = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10 ** 6, 10 ** 6),
                      st.booleans(), st.text(max_size=4), st.none(), st.lists(st.floats(0, 1), max_size=2))

# (entry point, argument, predicate telling a good value)
def _in(low, high, low_open=False, high_open=False):
    def good(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            return False
        return (v > low if low_open else v >= low) and (high is None or (v < high if high_open else v <= high))
    return good


NUMBER_ARGUMENTS = [
    (lambda v: optim.SGD(lr=v), "lr", _in(0, None, low_open=True)),
    (lambda v: optim.Adam(beta1=v), "beta1", _in(0, 1, high_open=True)),
    (lambda v: optim.Adam(beta2=v), "beta2", _in(0, 1, high_open=True)),
    (lambda v: optim.Adam(eps=v), "eps", _in(0, None, low_open=True)),
    (lambda v: optim.Momentum(momentum=v), "momentum", _in(0, 1, high_open=True)),
    (lambda v: penalties.L1Sparsity(v), "lam", _in(0, None)),
    (lambda v: penalties.WeightDecay(v), "lam", _in(0, None)),
    (lambda v: penalties.KLSparsity(beta=v), "beta", _in(0, None)),
    (lambda v: penalties.KLSparsity(rho=v), "rho", _in(0, 1, True, True)),
    (lambda v: noise.GaussianNoise(v), "sigma", _in(0, None)),
    (lambda v: noise.MaskingNoise(v), "p", _in(0, 1)),
    (lambda v: losses.BCE(eps=v), "eps", _in(0, 0.5, True, True)),
    (lambda v: layers.LeakyReLU(v), "slope", _in(0, 1)),
    (lambda v: VAE.mirrored([5, 2], beta=v), "beta", _in(0, None)),
    (lambda v: VAE.mirrored([5, 2], likelihood="gaussian", output_std=v), "output_std", _in(0, None, True)),
]


@pytest.mark.parametrize("build, name, good", NUMBER_ARGUMENTS, ids=[f"{i}-{a[1]}" for i, a in
                                                                     enumerate(NUMBER_ARGUMENTS)])
@SWEEP
@given(value=ANY_VALUE)
def test_a_number_argument_is_accepted_or_refused_by_name(build, name, good, value):
    if good(value):
        build(value)
    else:
        with pytest.raises(ValueError, match=name):
            build(value)


SIZES = st.lists(st.one_of(st.integers(-3, 9), st.floats(0, 9), st.text(max_size=2), st.booleans()), max_size=4)


@SWEEP
@given(sizes=st.one_of(SIZES, st.text(max_size=3), st.integers(0, 9)))
def test_sizes_are_integers_or_refused_by_name(sizes):
    ok = (isinstance(sizes, list) and len(sizes) >= 2
          and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes))
    if ok:
        assert Autoencoder.mirrored(sizes, rng=0).config["sizes"] == sizes
    else:
        with pytest.raises(MiniaeInputError, match="sizes"):
            Autoencoder.mirrored(sizes, rng=0)


@SWEEP
@given(lr=st.floats(1e-4, 1e3), beta1=st.floats(0, 0.999), beta2=st.floats(0, 0.9999),
       kind=st.sampled_from(["adam", "sgd", "momentum"]), batch_size=st.integers(1, 16),
       scale=st.sampled_from([1e-6, 1.0, 1e6]))
def test_good_hyperparameters_end_with_finite_weights(lr, beta1, beta2, kind, batch_size, scale):
    optimizer = {"adam": lambda: optim.Adam(lr, beta1, beta2), "sgd": lambda: optim.SGD(lr),
                 "momentum": lambda: optim.Momentum(lr, beta1)}[kind]()
    model = Autoencoder.mirrored([5, 4, 2], activation="tanh", rng=0)
    try:
        fit(model, X * scale, epochs=2, batch_size=batch_size, optimizer=optimizer)
    except DivergenceError as err:
        assert "epoch" in str(err)
    assert np.all(np.isfinite(model.theta))


@SWEEP
@given(learning_rate=ANY_VALUE)
def test_estimator_learning_rate_is_checked(learning_rate):
    est = AutoencoderTransformer(code_size=2, hidden_sizes=(), epochs=1, learning_rate=learning_rate, random_state=0)
    if _in(0, None, low_open=True)(learning_rate):
        try:
            est.fit(X)
        except DivergenceError:
            return
        assert np.all(np.isfinite(est.model_.theta))
    else:
        with pytest.raises(ValueError, match="learning_rate"):
            est.fit(X)


@SWEEP
@given(content=st.binary(max_size=200), zip_header=st.booleans())
def test_any_bytes_load_as_a_model_or_a_model_file_error(tmp_path_factory, content, zip_header):
    path = tmp_path_factory.mktemp("load") / "m.npz"
    path.write_bytes((b"PK\x03\x04" if zip_header else b"") + content)
    with pytest.raises(io.ModelFileError):
        io.load(path)


@SWEEP
@given(text=st.text(alphabet="0123456789,.-+eE_ \n\uff11nai", max_size=30))
def test_csv_reader_agrees_with_numpy_loadtxt(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("csv") / "d.csv"
    path.write_text(text, encoding="utf-8")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            expected = np.loadtxt(path, delimiter=",", ndmin=2, encoding="utf-8")
    except ValueError:
        expected = None
    if expected is None or expected.size == 0 or not np.all(np.isfinite(expected)):
        with pytest.raises(MiniaeInputError):
            io.read_data(path)
    else:
        assert np.array_equal(io.read_data(path), expected)


CLI_OPTIONS = ["--code-size", "--hidden", "--epochs", "--batch-size", "--lr", "--lam", "--noise", "--seed"]


def train_with_option(kind, data, option, value):
    """``miniae train KIND --data DATA --quiet OPTION VALUE`` (one epoch unless the option is --epochs):
    (exit code, stderr), with exit code None where argparse refused the value (it exits 2 itself)."""
    argv = ["train", kind, "--data", str(data), "--quiet"]
    if option != "--epochs":
        argv += ["--epochs", "1"]
    if value.startswith("-"):
        value = " " + value  # so argparse reads it as a value, not as an option
    stderr = StringIO()
    try:
        with redirect_stderr(stderr), redirect_stdout(StringIO()):
            code = cli.main(argv + [option, value])
    except SystemExit as exit_info:
        assert exit_info.code == 2, (option, value, exit_info.code)
        code = None
    return code, stderr.getvalue()


@SWEEP
@given(option=st.sampled_from(CLI_OPTIONS),
       value=st.one_of(st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.integers(-10 ** 6, 0).map(str)))
def test_the_command_line_refuses_a_bad_option_by_name_or_trains(tmp_path_factory, option, value):
    """miniae train with one option swept: exit 2 naming the option (argparse or miniae's own check),
    or exit 0 with a model trained on a tiny file (epochs fixed at 1 unless it is the swept option)."""
    data = tmp_path_factory.mktemp("cli") / "d.csv"
    np.savetxt(data, X, delimiter=",")
    code, err = train_with_option("denoising", data, option, value)
    if code is None:  # argparse refused the value
        assert option in err
        return
    assert code in (0, 2), (option, value, code)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("miniae: error:")


# ------------------------------------------------------------------ issue 25: the convolutional code
# Oracle: an invalid argument is refused by a MiniaeInputError naming it; a valid one is kept exactly
# (never truncated or rounded) and computes what the definition computes: a loop over the formula in
# the layer's docstring, and PyTorch's torch.nn.functional where torch is importable.
# Counts of each sweep (cases: computed right, refused by name, bad) go to COUNTS; MINIAE_SWEEP_COUNTS=path writes them.
COUNTS = {}


def _count(sweep, outcome):
    """outcome: "computed" (valid, and right), "refused" (invalid, refused by name) or "bad"."""
    counts = COUNTS.setdefault(sweep, {"cases": 0, "computed": 0, "refused": 0, "bad": 0})
    counts["cases"] += 1
    counts[outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def _write_counts():
    yield
    path = os.environ.get("MINIAE_SWEEP_COUNTS")
    if path:
        Path(path).write_text(json.dumps(COUNTS, indent=1, sort_keys=True))


def _refused_by_name(sweep, call, *names):
    """call() must raise a MiniaeInputError whose message names one of ``names``."""
    try:
        call()
    except MiniaeInputError as err:
        ok = any(name in str(err) for name in names)
        _count(sweep, "refused" if ok else "bad")
        assert ok, (names, str(err))
        return
    except Exception as err:
        _count(sweep, "bad")
        raise AssertionError(f"{type(err).__name__} instead of a MiniaeInputError naming {names}: {err}") from err
    _count(sweep, "bad")
    raise AssertionError(f"accepted although invalid (expected a refusal naming {names})")


try:  # the value oracle where PyTorch is installed (it is not a dependency of miniae)
    import torch
    import torch.nn.functional as torch_f
except ImportError:
    torch = torch_f = None

# anything a person might pass for a size: ints (huge ones too), integral and other floats, NaN, inf,
# numeric strings, bools, None, tuples and lists
ANY_SIZE = st.one_of(st.integers(-3, 9), st.integers(10 ** 9, 10 ** 13),
                     st.floats(allow_nan=True, allow_infinity=True), st.integers(0, 9).map(float),
                     st.text(alphabet="0123456789.- ", max_size=3), st.booleans(), st.none(),
                     st.tuples(st.integers(0, 4), st.integers(0, 4)), st.lists(st.integers(1, 4), max_size=3))


def _is_size(value, minimum=1):
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_pair(value, minimum=1):
    if isinstance(value, (tuple, list)):
        return len(value) == 2 and all(_is_size(v, minimum) for v in value)
    return _is_size(value, minimum)


def _as_pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


# (sweep name, argument, build(value), is_valid(value), minimum weights it makes, attribute read back)
CONV_ARGUMENTS = [
    ("Conv2D", "in_channels", lambda v: layers.Conv2D(v, 2, 3), _is_size, lambda v: v * 2 * 9,
     lambda layer, v: layer.in_channels == v),
    ("Conv2D", "out_channels", lambda v: layers.Conv2D(1, v, 3), _is_size, lambda v: v * 9,
     lambda layer, v: layer.out_channels == v),
    ("Conv2D", "kernel_size", lambda v: layers.Conv2D(1, 2, v), _is_pair, lambda v: 2 * math.prod(_as_pair(v)),
     lambda layer, v: layer.kernel_size == _as_pair(v)),
    ("Conv2D", "stride", lambda v: layers.Conv2D(1, 2, 3, stride=v), _is_pair, lambda v: 0,
     lambda layer, v: layer.stride == _as_pair(v)),
    ("Conv2D", "padding", lambda v: layers.Conv2D(1, 2, 3, padding=v), lambda v: _is_pair(v, 0), lambda v: 0,
     lambda layer, v: layer.padding == _as_pair(v)),
    ("ConvTranspose2D", "kernel_size", lambda v: layers.ConvTranspose2D(2, 1, v), _is_pair,
     lambda v: 2 * math.prod(_as_pair(v)), lambda layer, v: layer.kernel_size == _as_pair(v)),
    ("ConvTranspose2D", "output_padding", lambda v: layers.ConvTranspose2D(2, 1, 3, stride=10 ** 14, output_padding=v),
     lambda v: _is_pair(v, 0), lambda v: 0, lambda layer, v: layer.output_padding == _as_pair(v)),
    ("Conv1D", "kernel_size", lambda v: layers.Conv1D(1, 2, v), _is_size, lambda v: 2 * v,
     lambda layer, v: layer.kernel_size == (1, v)),
    ("Conv1D", "stride", lambda v: layers.Conv1D(1, 2, 3, stride=v), _is_size, lambda v: 0,
     lambda layer, v: layer.stride == (1, v)),
    ("MaxPool2D", "size", lambda v: layers.MaxPool2D(v), _is_pair, lambda v: 0,
     lambda layer, v: layer.size == _as_pair(v)),
    ("Upsample2D", "factor", lambda v: layers.Upsample2D(v), _is_pair, lambda v: 0,
     lambda layer, v: layer.factor == _as_pair(v)),
    ("Upsample1D", "factor", lambda v: layers.Upsample1D(v), _is_size, lambda v: 0,
     lambda layer, v: layer.factor == v),
    ("Reshape", "shape", lambda v: layers.Reshape((1, v, 4)), _is_size, lambda v: 0,
     lambda layer, v: layer.shape == (1, v, 4)),
]


@pytest.mark.parametrize("layer_name, name, build, valid, weights, read_back", CONV_ARGUMENTS,
                         ids=[f"{a[0]}-{a[1]}" for a in CONV_ARGUMENTS])
@SWEEP
@given(value=ANY_SIZE)
def test_a_conv_layer_keeps_a_valid_size_exactly_or_refuses_it_by_name(layer_name, name, build, valid, weights,
                                                                       read_back, value):
    sweep = f"layer {layer_name}.{name}"
    if valid(value) and weights(value) <= MAX_LAYER_WEIGHTS:
        layer = build(value)
        ok = read_back(layer, value)
        _count(sweep, "computed" if ok else "bad")
        assert ok, (value, layer)
    else:  # a float, a string, ... or a layer too big to allocate
        _refused_by_name(sweep, lambda: build(value), name)


def _conv2d_reference(x, W, b, stride, padding):
    """y[n, o, i, j] = b[o] + sum_{c, a, b'} W[o, c, a, b'] xp[n, c, i s + a, j s + b'], by loops."""
    (sh, sw), (ph, pw), (kh, kw) = stride, padding, W.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    y = np.empty((x.shape[0], W.shape[0], ho, wo))
    for n, o, i, j in np.ndindex(*y.shape):
        y[n, o, i, j] = b[o] + np.sum(W[o] * xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return y


def _conv_transpose2d_reference(x, W, b, stride, padding, output_padding):
    """Each input pixel (i, j) adds x[n, c, i, j] W[c, o] at output (i s + a - p, j s + b' - p), by loops."""
    (sh, sw), (ph, pw), (oh, ow), (kh, kw) = stride, padding, output_padding, W.shape[2:]
    n_samples, _, h, w = x.shape
    ho, wo = (h - 1) * sh - 2 * ph + kh + oh, (w - 1) * sw - 2 * pw + kw + ow
    full = np.zeros((n_samples, W.shape[1], (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow))
    for n, c, i, j in np.ndindex(*x.shape):
        full[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += x[n, c, i, j] * W[c]
    return full[:, :, ph:ph + ho, pw:pw + wo] + b.reshape(1, -1, 1, 1)


def _maxpool2d_reference(x, size, stride):
    (kh, kw), (sh, sw) = size, stride
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    y = np.empty((*x.shape[:2], ho, wo))
    for n, c, i, j in np.ndindex(*y.shape):
        y[n, c, i, j] = x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw].max()
    return y


SMALL_PAIR = st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))


@settings(SWEEP, max_examples=200)
@given(kind=st.sampled_from(["Conv2D", "ConvTranspose2D", "Conv1D", "MaxPool2D"]), c_in=st.integers(1, 3),
       c_out=st.integers(1, 3), kernel=SMALL_PAIR, stride=SMALL_PAIR, padding=st.integers(0, 2),
       h=st.integers(1, 7), w=st.integers(1, 7), seed=st.integers(0, 2 ** 16))
def test_a_valid_conv_layer_computes_its_definition(kind, c_in, c_out, kernel, stride, padding, h, w, seed):
    """Forward against the loop over the docstring's formula (and PyTorch when importable); an input the
    layer cannot take (smaller than the kernel) is refused by a ValueError that says so."""
    sweep = f"values {kind}"
    rng = np.random.default_rng(seed)
    kernel, stride = _as_pair(kernel), _as_pair(stride)
    if kind == "Conv1D":
        kernel, stride, h = (1, kernel[1]), (1, stride[1]), 1
    x = rng.standard_normal((2, c_in, h, w))
    if kind == "MaxPool2D":
        layer = layers.MaxPool2D(kernel, stride)
        if h < kernel[0] or w < kernel[1]:
            return _too_small(sweep, lambda: layer.forward(x))
        got, expected = layer.forward(x), _maxpool2d_reference(x, kernel, stride)
        torch_expected = (None if torch is None else torch_f.max_pool2d(torch.from_numpy(x), kernel, stride).numpy())
    elif kind == "ConvTranspose2D":
        output_padding = (stride[0] - 1, stride[1] - 1)
        ho = (h - 1) * stride[0] - 2 * padding + kernel[0] + output_padding[0]
        wo = (w - 1) * stride[1] - 2 * padding + kernel[1] + output_padding[1]
        layer = layers.ConvTranspose2D(c_in, c_out, kernel, stride, padding, output_padding, rng=rng)
        layer.params["b"][...] = rng.standard_normal(c_out)
        if ho < 1 or wo < 1:
            return _too_small(sweep, lambda: layer.forward(x))
        W, b = layer.params["W"], layer.params["b"]
        got, expected = layer.forward(x), _conv_transpose2d_reference(x, W, b, stride, (padding,) * 2, output_padding)
        torch_expected = (None if torch is None else torch_f.conv_transpose2d(
            torch.from_numpy(x), torch.from_numpy(W), torch.from_numpy(b), stride, padding, output_padding).numpy())
    else:
        pad = (0, padding) if kind == "Conv1D" else (padding, padding)
        layer = (layers.Conv1D(c_in, c_out, kernel[1], stride[1], padding, rng=rng) if kind == "Conv1D"
                 else layers.Conv2D(c_in, c_out, kernel, stride, padding, rng=rng))
        layer.params["b"][...] = rng.standard_normal(c_out)
        W = layer.params["W"].reshape(c_out, c_in, *kernel)
        b = layer.params["b"]
        xin = x[:, :, 0, :] if kind == "Conv1D" else x
        if h + 2 * pad[0] < kernel[0] or w + 2 * pad[1] < kernel[1]:
            return _too_small(sweep, lambda: layer.forward(xin))
        got = layer.forward(xin)
        expected = _conv2d_reference(x, W, b, stride, pad)
        if kind == "Conv1D":
            expected = expected[:, :, 0, :]
        torch_expected = None
        if torch is not None:
            conv = torch_f.conv1d if kind == "Conv1D" else torch_f.conv2d
            torch_expected = conv(torch.from_numpy(xin), torch.from_numpy(layer.params["W"]), torch.from_numpy(b),
                                  stride[1] if kind == "Conv1D" else stride,
                                  padding if kind == "Conv1D" else pad).numpy()
    ok = got.shape == expected.shape and np.allclose(got, expected, rtol=1e-10, atol=1e-10)
    if torch_expected is not None:
        ok = ok and np.allclose(got, torch_expected, rtol=1e-10, atol=1e-10)
    _count(sweep, "computed" if ok else "bad")
    assert ok, (got, expected)


def _too_small(sweep, call):
    """An input smaller than the window: a ValueError that says what the layer needs (PyTorch raises too)."""
    try:
        call()
    except ValueError as err:
        ok = "needs input" in str(err) or "smaller than the kernel" in str(err) or "empty output" in str(err)
        _count(sweep, "refused" if ok else "bad")
        assert ok, str(err)
        return
    _count(sweep, "bad")
    raise AssertionError("an input smaller than the window was accepted")


def _conv_model_is_valid(input_shape, channels, code_size, kernel_size):
    """What Autoencoder.conv documents as valid, written out independently of its code."""
    if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3 and all(map(_is_size, input_shape))):
        return False
    if not (isinstance(channels, (tuple, list)) and channels and all(map(_is_size, channels))):
        return False
    if not (_is_size(code_size) and _is_size(kernel_size) and kernel_size % 2 == 1):
        return False
    c, h, w = input_shape
    factor = 2 ** len(channels)
    if h % factor or w % factor:
        return False
    stages = zip([c, *channels[:-1]], channels)
    n_inner = channels[-1] * (h // factor) * (w // factor)
    return (all(c_in * c_out * kernel_size ** 2 <= MAX_LAYER_WEIGHTS for c_in, c_out in stages)
            and n_inner * code_size <= MAX_LAYER_WEIGHTS)


CONV_BUILDER_DEFAULTS = {"input_shape": (1, 8, 8), "channels": (2,), "code_size": 2, "kernel_size": 3}
SHAPES = st.one_of(ANY_SIZE, st.tuples(ANY_SIZE, ANY_SIZE, ANY_SIZE),
                   st.tuples(st.integers(1, 3), st.sampled_from([2, 4, 6, 8]), st.sampled_from([2, 4, 8])))
CHANNELS = st.one_of(ANY_SIZE, st.lists(ANY_SIZE, max_size=3), st.lists(st.integers(1, 3), min_size=1, max_size=3))


@pytest.mark.parametrize("name, values", [("input_shape", SHAPES), ("channels", CHANNELS), ("code_size", ANY_SIZE),
                                          ("kernel_size", ANY_SIZE)])
@SWEEP
@given(data=st.data())
def test_autoencoder_conv_builds_what_it_was_given_or_refuses_it_by_name(name, values, data):
    value = data.draw(values)
    kwargs = {**CONV_BUILDER_DEFAULTS, name: value}
    sweep = f"Autoencoder.conv {name}"
    if not _conv_model_is_valid(**kwargs):
        return _refused_by_name(sweep, lambda: Autoencoder.conv(**kwargs, rng=0), name)
    model = Autoencoder.conv(**kwargs, rng=0)
    c, h, w = kwargs["input_shape"]
    recon = model.reconstruct(np.random.default_rng(0).uniform(0, 1, (2, c * h * w)))
    ok = (model.config[name] == (list(value) if isinstance(value, (tuple, list)) else value)
          and model.code_size == kwargs["code_size"] and recon.shape == (2, c * h * w)
          and np.all((recon > 0) & (recon < 1)))  # the sigmoid output
    _count(sweep, "computed" if ok else "bad")
    assert ok, (kwargs, model.config)


@SWEEP
@given(loss=st.sampled_from(["mse", "bce", "bce_logits"]), output=st.sampled_from(["sigmoid", "identity", "tanh"]),
       dtype=st.sampled_from([np.float32, np.float64, "float32", np.int64, bool, np.complex128, "float16"]),
       rng=st.sampled_from([None, 0, 7, -1, 1.5, "seed", [0]]), up=st.sampled_from(["upsample", "transpose", "x"]))
def test_autoencoder_conv_checks_loss_output_dtype_rng_and_up_by_name(loss, output, dtype, rng, up):
    sweep = "Autoencoder.conv loss/output/dtype/rng/up"

    def build():
        return Autoencoder.conv((1, 8, 8), channels=(2,), code_size=2, loss=loss, output=output, dtype=dtype,
                                rng=rng, up=up)
    bad = []
    if up not in ("upsample", "transpose"):
        bad.append("up")
    if loss == "bce_logits" and output != "identity":
        bad.append("output")
    if not (dtype in (np.float32, np.float64) or dtype == "float32"):
        bad.append("dtype")
    if not (rng is None or (isinstance(rng, int) and rng >= 0)):
        bad.append("rng")
    if bad:
        return _refused_by_name(sweep, build, *bad)
    model = build()
    ok = model.dtype == np.dtype(dtype) and model.config["up"] == up and model.config["output"] == output
    _count(sweep, "computed" if ok else "bad")
    assert ok


@pytest.fixture(scope="module")
def conv_model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("conv_file") / "conv.npz"
    io.save(Autoencoder.conv((1, 8, 8), channels=(2,), code_size=2, rng=0), path)
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


@SWEEP
@given(part=st.sampled_from(["encoder", "decoder"]),
       field=st.sampled_from(["in_channels", "out_channels", "kernel_size", "stride", "padding"]), value=ANY_SIZE)
def test_a_conv_model_file_loads_exactly_as_written_or_is_a_model_file_error(tmp_path_factory, conv_model_file,
                                                                             part, field, value):
    """One size of a Conv2D in a saved file replaced by anything: load gives a model whose layer holds exactly
    that size, or a ModelFileError (naming the field when the value is not a size); nothing else, and nothing
    is allocated for a size the file does not store."""
    sweep = f"model file Conv2D.{field}"
    arrays = dict(conv_model_file)
    description = json.loads(arrays[io.DESCRIPTION_KEY].item())
    specs = description[part]["layers"]
    index = next(i for i, spec in enumerate(specs) if spec["type"] == "Conv2D")
    specs[index][field] = value
    arrays[io.DESCRIPTION_KEY] = np.array(json.dumps(description))
    path = tmp_path_factory.mktemp("conv_file") / "edited.npz"
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    pair = field in ("kernel_size", "stride", "padding")
    minimum = 0 if field == "padding" else 1
    if not (_is_pair(value, minimum) if pair else _is_size(value, minimum)):
        return _refused_by_name(sweep, lambda: io.load(path), field)
    try:
        model = io.load(path)
    except io.ModelFileError as err:  # a valid size whose weights the file does not hold
        ok = "weights" in str(err) or "parameter" in str(err)
        _count(sweep, "refused" if ok else "bad")
        assert ok, str(err)
        return
    layer = getattr(model, part)[index]
    ok = getattr(layer, field) == (_as_pair(value) if pair else value)
    _count(sweep, "computed" if ok else "bad")
    assert ok, (field, value, layer)


CONV_CLI_OPTIONS = ["--code-size", "--hidden", "--epochs", "--batch-size", "--lr", "--seed"]


@SWEEP
@given(option=st.sampled_from(CONV_CLI_OPTIONS),
       value=st.one_of(st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.integers(-10 ** 6, 0).map(str), st.integers(1, 4).map(str),
                       st.sampled_from(["1000000000000", "8.0", "0.01", "1e6", "1"])))
def test_miniae_train_conv_refuses_a_bad_option_by_name_or_trains(tmp_path_factory, option, value):
    """miniae train conv on a tiny file of 8x8 images with one option swept: exit 2 with one line naming the
    option (argparse or miniae's own check), or exit 0 (epochs fixed at 1 unless it is the swept option)."""
    try:
        long_run = option == "--epochs" and int(value) > 3
    except ValueError:
        long_run = False
    assume(not long_run)  # valid, but a billion epochs is a long run, not a bad input
    sweep = f"miniae train conv {option}"
    data = tmp_path_factory.mktemp("cli_conv") / "images.csv"
    np.savetxt(data, np.random.default_rng(0).uniform(0, 1, (12, 64)), delimiter=",")
    code, err = train_with_option("conv", data, option, value)
    if code is None:  # argparse refused the value
        ok = option in err
        _count(sweep, "refused" if ok else "bad")
        assert ok, err
        return
    if code == 2:
        ok = err.count("\n") == 1 and err.startswith("miniae: error:") and option in err
        _count(sweep, "refused" if ok else "bad")
        assert ok, err
        return
    ok = code == 0 and option != "--hidden"  # --hidden has no layer to size in a conv model
    _count(sweep, "computed" if ok else "bad")
    assert ok, (option, value, code, err)
