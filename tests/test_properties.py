"""Property sweep (hypothesis) over the public entry points (issue 16).

Every generated bad argument ends in a ValueError that names it; every good one builds, and
training with good hyperparameters ends with finite weights (or a DivergenceError that leaves them
finite).  Derandomized, so CI sees the same cases every run: 21 sweeps of 60 cases each.
"""
import numbers
import warnings
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miniae import cli, io, layers, losses, noise, optim, penalties
from miniae.estimators import AutoencoderTransformer
from miniae.models import Autoencoder
from miniae.train import fit
from miniae.vae import VAE
from miniae.validation import DivergenceError, MiniaeInputError

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


@SWEEP
@given(option=st.sampled_from(CLI_OPTIONS),
       value=st.one_of(st.text(max_size=5), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.integers(-10 ** 6, 0).map(str)))
def test_the_command_line_refuses_a_bad_option_by_name_or_trains(tmp_path_factory, option, value):
    """miniae train with one option swept: exit 2 naming the option (argparse or miniae's own check),
    or exit 0 with a model trained on a tiny file (epochs fixed at 1 unless it is the swept option)."""
    data = tmp_path_factory.mktemp("cli") / "d.csv"
    np.savetxt(data, X, delimiter=",")
    argv = ["train", "denoising", "--data", str(data), "--quiet"]
    if option != "--epochs":
        argv += ["--epochs", "1"]
    if value.startswith("-"):
        value = " " + value  # so argparse reads it as a value, not as an option
    stderr = StringIO()
    try:
        with redirect_stderr(stderr), redirect_stdout(StringIO()):
            code = cli.main(argv + [option, value])
    except SystemExit as exit_info:  # argparse refused the value
        assert exit_info.code == 2
        assert option in stderr.getvalue()
        return
    err = stderr.getvalue()
    assert code in (0, 2), (option, value, code)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("miniae: error:")
