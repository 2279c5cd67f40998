"""Bad input across the public API, divergence, extreme scales, and determinism.

The table lists what a person might pass by mistake, the error they get and a fragment
of its message: every entry must be a clear, named error raised at the door.
"""
import re

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from miniae import io, layers, losses, noise, optim, penalties
from miniae.datasets import load_digits
from miniae.estimators import AutoencoderTransformer, VAETransformer
from miniae.models import Autoencoder
from miniae.train import EarlyStopping, fit
from miniae.vae import VAE
from miniae.validation import DivergenceError, MiniaeInputError

X = np.random.default_rng(0).uniform(0, 1, (20, 6))


def model():
    return Autoencoder.mirrored([6, 4, 2], rng=0)


def _with(value, index=(3, 2)):
    bad = X.copy()
    bad[index] = value
    return bad


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return path


# (id, call(tmp_path), expected error type, message fragment)
BAD_INPUTS = [
    ("fit: NaN in X", lambda t: fit(model(), _with(np.nan)), MiniaeInputError, "X contains 1 NaN or infinite"),
    ("fit: inf in X", lambda t: fit(model(), _with(np.inf)), MiniaeInputError, "NaN or infinite value(s); remove"),
    ("fit: 1-D X", lambda t: fit(model(), X[0]), MiniaeInputError, "use X.reshape(1, -1)"),
    ("fit: images not flattened", lambda t: fit(model(), np.zeros((5, 2, 3))), MiniaeInputError,
     "must be 2-D with shape (n_samples, n_features), got 3-D"),
    ("fit: wrong feature count", lambda t: fit(model(), X[:, :5]), MiniaeInputError,
     "X has 5 features but the model was built for 6"),
    ("fit: empty X", lambda t: fit(model(), np.zeros((0, 6))), MiniaeInputError, "X is empty"),
    ("fit: strings", lambda t: fit(model(), X.astype(str)), MiniaeInputError, "must hold numbers"),
    ("fit: complex", lambda t: fit(model(), X + 1j), MiniaeInputError, "must hold numbers"),
    ("fit: None", lambda t: fit(model(), None), MiniaeInputError, "X is None"),
    ("fit: ragged list", lambda t: fit(model(), [[1.0, 2.0], [3.0]]), MiniaeInputError,
     "X could not be turned into an array"),
    ("fit: float64 data beyond float32", lambda t: fit(Autoencoder.mirrored([6, 2], dtype=np.float32), X * 1e300),
     MiniaeInputError, "beyond the range of float32"),
    ("fit: epochs=0", lambda t: fit(model(), X, epochs=0), MiniaeInputError, "epochs must be a positive integer"),
    ("fit: batch_size=2.5", lambda t: fit(model(), X, batch_size=2.5), MiniaeInputError,
     "batch_size must be a positive integer"),
    ("fit: validation of another width", lambda t: fit(model(), X, validation=X[:, :4]), MiniaeInputError,
     "validation has 4 features but the model was built for 6"),
    ("fit: early stopping without validation", lambda t: fit(model(), X, callbacks=[EarlyStopping()]),
     ValueError, "pass validation=... or monitor='loss'"),
    ("fit: unknown optimizer", lambda t: fit(model(), X, optimizer="rmsprop"), ValueError,
     "optimizer must be one of"),
    ("encode: 1-D sample", lambda t: model().encode(X[0]), MiniaeInputError, "X.reshape(1, -1)"),
    ("decode: code of the wrong width", lambda t: model().decode(np.zeros((3, 5))), MiniaeInputError,
     "Z has 5 features but the model was built for 2"),
    ("mirrored: one size", lambda t: Autoencoder.mirrored([64]), MiniaeInputError, "at least two positive sizes"),
    ("mirrored: negative size", lambda t: Autoencoder.mirrored([64, -8]), MiniaeInputError,
     "at least two positive sizes"),
    ("mirrored: unknown activation", lambda t: Autoencoder.mirrored([6, 4, 2], activation="gelu"), ValueError,
     "activation must be one of"),
    ("mirrored: unknown loss", lambda t: Autoencoder.mirrored([6, 2], loss="hinge"), ValueError,
     "loss must be 'mse', 'bce' or 'bce_logits'"),
    ("Dense: zero width", lambda t: layers.Dense(0, 3), ValueError, "n_in must be a positive integer, got 0"),
    ("Dense: unknown init", lambda t: layers.Dense(3, 3, init="orthogonal"), ValueError,
     "init must be 'glorot' or 'he'"),
    ("MSE: shapes differ", lambda t: losses.MSE().forward(np.zeros((2, 3)), np.zeros((2, 4))), MiniaeInputError,
     "nothing is broadcast"),
    ("MSE: integer arrays", lambda t: losses.MSE().forward(np.zeros((2, 3), int), np.zeros((2, 3))),
     MiniaeInputError, "pred must be a float ndarray"),
    ("BCE: NaN target", lambda t: losses.BCE().forward(np.full((2, 2), 0.5), np.full((2, 2), np.nan)),
     MiniaeInputError, "target contains 4 NaN"),
    ("Adam: negative lr", lambda t: optim.Adam(lr=-1), ValueError, "lr must be a finite number > 0, got -1.0"),
    ("Momentum: momentum 1", lambda t: optim.Momentum(momentum=1.0), ValueError,
     "momentum must be a finite number in [0, 1), got 1.0"),
    ("KLSparsity: rho 1.5", lambda t: penalties.KLSparsity(rho=1.5), ValueError, "rho must lie strictly between"),
    ("MaskingNoise: p 2", lambda t: noise.MaskingNoise(p=2), ValueError,
     "p must be a finite number in [0, 1], got 2.0"),
    ("GaussianNoise: sigma -1", lambda t: noise.GaussianNoise(-1), ValueError,
     "sigma must be a finite number >= 0, got -1.0"),
    ("estimator: transform before fit", lambda t: AutoencoderTransformer().transform(X), NotFittedError,
     "is not fitted yet"),
    ("estimator: code_size 0", lambda t: AutoencoderTransformer(code_size=0).fit(X), MiniaeInputError,
     "code_size must be a positive integer, got 0"),
    ("estimator: hidden_sizes 'big'", lambda t: AutoencoderTransformer(hidden_sizes="big").fit(X),
     MiniaeInputError, "each entry of hidden_sizes must be a positive integer"),
    ("estimator: negative sparsity", lambda t: AutoencoderTransformer(sparsity=-1).fit(X), MiniaeInputError,
     "sparsity must be a finite number >= 0"),
    ("estimator: learning_rate 0", lambda t: AutoencoderTransformer(learning_rate=0).fit(X), MiniaeInputError,
     "learning_rate must be > 0"),
    ("estimator: wrong width at transform",
     lambda t: AutoencoderTransformer(epochs=1).fit(X).transform(X[:, :3]), ValueError,
     "X has 3 features, but AutoencoderTransformer is expecting 6 features"),
    ("estimator: unknown optimizer", lambda t: AutoencoderTransformer(optimizer="lbfgs").fit(X), MiniaeInputError,
     "optimizer must be one of ['adam', 'momentum', 'sgd']"),
    ("estimator: NaN", lambda t: AutoencoderTransformer(epochs=1).fit(_with(np.nan)), ValueError,
     "Input X contains NaN"),
    ("io.load: missing file", lambda t: io.load(t / "nope.npz"), FileNotFoundError, "no model file at"),
    ("io.load: a text file", lambda t: io.load(_write(t, "m.npz", "hello")), io.ModelFileError,
     "not a miniae model file"),
    ("io.read_data: header", lambda t: io.read_data(_write(t, "d.csv", "a,b\n1,2\n")), MiniaeInputError,
     "a header row"),
    ("io.read_data: missing value", lambda t: io.read_data(_write(t, "d.csv", "1,2\n,3\n")), MiniaeInputError,
     "missing value"),
    # issue 16: every argument is checked by name (finite, in range, of the right kind)
    ("Adam: lr inf", lambda t: optim.Adam(lr=np.inf), MiniaeInputError, "lr must be a finite number > 0, got inf"),
    ("SGD: lr nan", lambda t: optim.SGD(np.nan), MiniaeInputError, "lr must be a finite number > 0, got nan"),
    ("SGD: lr '0.1'", lambda t: optim.SGD("0.1"), MiniaeInputError, "lr must be a number, got '0.1' (str)"),
    ("Adam: beta1 1", lambda t: optim.Adam(beta1=1), MiniaeInputError, "beta1 must be a finite number in [0, 1)"),
    ("Adam: beta1 -3", lambda t: optim.Adam(beta1=-3), MiniaeInputError, "beta1 must be a finite number in [0, 1)"),
    ("Adam: beta2 1", lambda t: optim.Adam(beta2=1.0), MiniaeInputError, "beta2 must be a finite number in [0, 1)"),
    ("Adam: beta2 1.5", lambda t: optim.Adam(beta2=1.5), MiniaeInputError, "beta2 must be a finite number in [0, 1)"),
    ("Adam: eps -1e-3", lambda t: optim.Adam(eps=-1e-3), MiniaeInputError, "eps must be a finite number > 0"),
    ("Momentum: nesterov 'yes'", lambda t: optim.Momentum(nesterov="yes"), MiniaeInputError,
     "nesterov must be True or False, got 'yes'"),
    ("L1Sparsity: negative lam", lambda t: penalties.L1Sparsity(-1e-3), MiniaeInputError,
     "lam must be a finite number >= 0, got -0.001"),
    ("WeightDecay: negative lam", lambda t: penalties.WeightDecay(-1), MiniaeInputError,
     "lam must be a finite number >= 0"),
    ("KLSparsity: negative beta", lambda t: penalties.KLSparsity(beta=-3), MiniaeInputError,
     "beta must be a finite number >= 0"),
    ("Contractive: lam inf", lambda t: penalties.Contractive(np.inf), MiniaeInputError,
     "lam must be a finite number >= 0, got inf"),
    ("GaussianNoise: sigma nan", lambda t: noise.GaussianNoise(np.nan), MiniaeInputError,
     "sigma must be a finite number >= 0, got nan"),
    ("SaltPepperNoise: high inf", lambda t: noise.SaltPepperNoise(high=np.inf), MiniaeInputError,
     "high must be a finite number"),
    ("BCE: eps -1", lambda t: losses.BCE(eps=-1), MiniaeInputError, "eps must be a finite number in (0, 0.5)"),
    ("BCE: from_logits 'False'", lambda t: losses.BCE(from_logits="False"), MiniaeInputError,
     "from_logits must be True or False"),
    ("BCE: targets in [0, 5]", lambda t: losses.BCE().forward(np.full((2, 2), 0.5), np.full((2, 2), 5.0)),
     MiniaeInputError, "target has values in [5, 5] but BCE reads each value as a probability in [0, 1]; use MSE"),
    ("LeakyReLU: slope nan", lambda t: layers.LeakyReLU(np.nan), MiniaeInputError,
     "slope must be a finite number in [0, 1], got nan"),
    ("Dense: size 4.7", lambda t: layers.Dense(4.7, 2), ValueError, "n_in must be a positive integer, got 4.7"),
    ("Dense: int64 dtype", lambda t: layers.Dense(4, 2, dtype=np.int64), MiniaeInputError,
     "dtype must be a floating-point dtype"),
    ("mirrored: sizes [4.7, 2.2]", lambda t: Autoencoder.mirrored([4.7, 2.2]), MiniaeInputError,
     "sizes must be a list of positive integers, got [4.7, 2.2] (4.7 is not an integer)"),
    ("mirrored: sizes '42'", lambda t: Autoencoder.mirrored("42"), MiniaeInputError,
     "sizes must be a list of positive integers such as [64, 32, 8], got '42'"),
    ("mirrored: int64 dtype", lambda t: Autoencoder.mirrored([6, 2], dtype=np.int64), MiniaeInputError,
     "dtype must be a floating-point dtype"),
    ("mirrored: penalties 'l1'", lambda t: Autoencoder.mirrored([6, 2], penalties="l1"), MiniaeInputError,
     "penalties must be a list of Penalty objects"),
    ("mirrored: penalties ['l1']", lambda t: Autoencoder.mirrored([6, 2], penalties=["l1"]), MiniaeInputError,
     "penalties must hold Penalty objects"),
    ("mirrored: unknown noise", lambda t: Autoencoder.mirrored([6, 2], noise="pink"), MiniaeInputError,
     "noise must be None, a Noise such as GaussianNoise(0.1) or one of ['gaussian', 'masking', 'salt_pepper']"),
    ("mirrored: rng 'abc'", lambda t: Autoencoder.mirrored([6, 2], rng="abc"), MiniaeInputError,
     "rng must be None, a non-negative integer seed or a numpy Generator"),
    ("Autoencoder: encoder a list", lambda t: Autoencoder([layers.Dense(6, 2)], layers.Dense(2, 6)),
     MiniaeInputError, "encoder must be a miniae Layer"),
    ("fit: BCE model on data in [0, 5]", lambda t: fit(Autoencoder.mirrored([6, 2], loss="bce_logits"), X * 5),
     MiniaeInputError, "X has values in [0.0"),
    ("fit: shuffle 'no'", lambda t: fit(model(), X, shuffle="no"), MiniaeInputError, "shuffle must be True or False"),
    ("fit: callbacks a class", lambda t: fit(model(), X, callbacks=[EarlyStopping]), MiniaeInputError,
     "callbacks must hold Callback objects"),
    ("fit: optimizer 3", lambda t: fit(model(), X, optimizer=3), MiniaeInputError, "optimizer must be one of"),
    ("VAE.mirrored: complex dtype", lambda t: VAE.mirrored([6, 2], dtype=np.complex128), MiniaeInputError,
     "dtype must be a floating-point dtype"),
    ("VAE.mirrored: output_std inf", lambda t: VAE.mirrored([6, 2], likelihood="gaussian", output_std=np.inf),
     MiniaeInputError, "output_std must be a finite number > 0, got inf"),
    ("VAE.mirrored: beta nan", lambda t: VAE.mirrored([6, 2], beta=np.nan), MiniaeInputError,
     "beta must be a finite number >= 0, got nan"),
    ("VAE.mirrored: unknown activation", lambda t: VAE.mirrored([6, 2], activation="gelu"), ValueError,
     "activation must be one of"),
    ("VAE: fit Bernoulli on data in [0, 5]", lambda t: fit(VAE.mirrored([6, 2], rng=0), X * 5), MiniaeInputError,
     "Bernoulli likelihood reads each feature as a probability in [0, 1]"),
    ("estimator: learning_rate inf", lambda t: AutoencoderTransformer(learning_rate=np.inf).fit(X), MiniaeInputError,
     "learning_rate must be a finite number >= 0, got inf"),
    ("estimator: VAE beta 1.8e308", lambda t: VAETransformer(beta=float("1.8e308")).fit(X), MiniaeInputError,
     "beta must be a finite number >= 0, got inf"),
    ("estimator: random_state 'abc'", lambda t: AutoencoderTransformer(random_state="abc").fit(X), MiniaeInputError,
     "random_state must be None, a non-negative int"),
    ("io.read_data: a row of commas", lambda t: io.read_data(_write(t, "d.csv", "1,2\n,\n3,4\n")),
     MiniaeInputError, "line 2 column 1 is empty"),
    ("io.read_data: 1_000", lambda t: io.read_data(_write(t, "d.csv", "1_000,2\n")), MiniaeInputError,
     "line 1 column 1 is '1_000', not a number"),
    ("io.read_data: full-width digits", lambda t: io.read_data(_write(t, "d.csv", "\uff11\uff12,2\n")),
     MiniaeInputError, "not a number"),
]


@pytest.mark.parametrize("call, error, fragment", [case[1:] for case in BAD_INPUTS],
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_gives_a_clear_error(tmp_path, call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call(tmp_path)


def test_the_table_is_wide():
    assert len(BAD_INPUTS) >= 15
    assert len({case[0].split(":")[0] for case in BAD_INPUTS}) >= 10  # entry points covered


def test_every_input_error_is_a_value_error():
    assert issubclass(MiniaeInputError, ValueError) and issubclass(DivergenceError, ValueError)


# ------------------------------------------------------------------ divergence
@pytest.fixture(scope="module")
def digits():
    return load_digits()[0][:500]


@pytest.mark.parametrize("optimizer", [optim.SGD(lr=10), optim.Momentum(lr=10)], ids=["sgd", "momentum"])
def test_divergence_at_lr_10_is_caught_and_weights_stay_finite(digits, optimizer):
    m = Autoencoder.mirrored([64, 32, 8], rng=0)
    start = m.get_weights()
    with pytest.raises(DivergenceError, match=r"became nan in epoch 1 .*Lower the learning rate \(it is 10\)"):
        fit(m, digits, epochs=5, optimizer=optimizer)
    for name, value, _ in m.named_parameters():
        assert np.all(np.isfinite(value)), name
        assert np.array_equal(value, start[name]), name  # the weights of the start of the failing epoch


def test_divergence_after_good_epochs_keeps_the_last_good_weights(digits):
    m = Autoencoder.mirrored([64, 32, 8], rng=0)
    fit(m, digits, epochs=2, optimizer=optim.SGD(lr=0.1))
    good = m.get_weights()
    with pytest.raises(DivergenceError):
        fit(m, digits, epochs=3, optimizer=optim.SGD(lr=10))
    assert all(np.array_equal(value, good[name]) for name, value, _ in m.named_parameters())


def test_estimator_reports_divergence(digits):
    est = AutoencoderTransformer(code_size=4, epochs=5, optimizer="sgd", learning_rate=10, random_state=0)
    with pytest.raises(DivergenceError, match="Lower the learning rate"):
        est.fit(digits)
    assert not hasattr(est, "model_")  # nothing half-trained is left behind as if fitted


def test_adam_at_lr_10_is_caught_although_the_loss_never_becomes_nan(digits):
    """Adam's step is bounded by about lr, so at lr=10 the loss explodes without reaching NaN;
    fit stops it by the growth rule and puts back the weights the model started with."""
    m = Autoencoder.mirrored([64, 32, 8], rng=0)
    start = m.get_weights()
    with pytest.raises(DivergenceError, match=r"grew from .* \(epoch 0\) to .* in epoch 1: training diverged"):
        fit(m, digits, epochs=5, optimizer=optim.Adam(lr=10))
    assert all(np.array_equal(value, start[name]) for name, value, _ in m.named_parameters())


# ------------------------------------------------------------------ extreme scales
ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"]


@pytest.mark.parametrize("scale", [1e6, 1e-12])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_layers_stay_finite_at_extreme_scales(scale, activation):
    rng = np.random.default_rng(0)
    x = scale * rng.standard_normal((5, 4))
    for layer in (layers.make_activation(activation), layers.Dense(4, 3, rng=rng)):
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(y) * scale)
        assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
        assert all(np.all(np.isfinite(g)) for g in layer.grads.values())


@pytest.mark.parametrize("scale", [1e6, 1e-12])
@pytest.mark.parametrize("loss", [losses.MSE(), losses.BCE(), losses.BCE(from_logits=True)], ids=repr)
def test_losses_stay_finite_at_extreme_scales(scale, loss):
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 1, (5, 4))
    for pred in (scale * rng.standard_normal((5, 4)), np.full((5, 4), scale), np.full((5, 4), -scale)):
        value = loss.forward(pred, target)
        grad = loss.backward()
        assert np.isfinite(value) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("scale", [1e6, 1e-12])
@pytest.mark.parametrize("build", [
    lambda: Autoencoder.mirrored([64, 16, 4], activation="tanh", rng=0),
    lambda: Autoencoder.mirrored([64, 16, 4], activation="softplus", loss="bce_logits", rng=0),
    lambda: Autoencoder.mirrored([64, 16], code_activation="sigmoid", penalties=[penalties.KLSparsity()], rng=0),
    lambda: Autoencoder.mirrored([64, 16, 4], penalties=[penalties.L1Sparsity(), penalties.WeightDecay()],
                                 noise=noise.GaussianNoise(0.1), rng=0),
], ids=["tanh", "softplus_bce_logits", "kl_sparsity", "l1_weight_decay_noise"])
def test_training_at_extreme_scales_has_no_nan(digits, scale, build):
    m = build()
    if isinstance(m.loss, losses.BCE) and scale > 1:  # no probabilities any more: refused, not trained
        with pytest.raises(MiniaeInputError, match=r"reads each value as a probability in \[0, 1\]; use MSE"):
            fit(m, digits * scale, epochs=2)
        return
    history = fit(m, digits * scale, epochs=2)
    assert all(np.all(np.isfinite(v)) for key, v in history.history.items())
    assert all(np.all(np.isfinite(value)) for _, value, _ in m.named_parameters())
    assert np.all(np.isfinite(m.reconstruct(digits * scale)))


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_bit_identical_training(digits):
    def train(seed):
        m = Autoencoder.mirrored([64, 16, 4], noise=noise.MaskingNoise(0.3), rng=seed)
        history = fit(m, digits, epochs=3, batch_size=32)
        return m.get_weights(), history["loss"]

    (w1, l1), (w2, l2), (w3, _) = train(5), train(5), train(6)
    assert l1 == l2
    assert all(np.array_equal(w1[name], w2[name]) for name in w1)
    assert not np.array_equal(w1["encoder.0.W"], w3["encoder.0.W"])


# ------------------------------------------------------------------ issue 25: optimizers, numbers at the edges
@pytest.mark.parametrize("make", [optim.SGD, optim.Momentum, optim.Adam])
def test_an_optimizer_belongs_to_the_model_it_first_steps(make):
    optimizer = make(lr=1e-3)
    first = model()
    fit(first, X, epochs=1, optimizer=optimizer)
    fit(first, X, epochs=1, optimizer=optimizer)  # the same model again: its state continues
    for other in (model(), Autoencoder.mirrored([6, 3], rng=0)):  # same sizes (silently wrong before), other sizes
        start = other.theta.copy()
        with pytest.raises(MiniaeInputError, match="already steps another model.*make a new optimizer"):
            fit(other, X, epochs=1, optimizer=optimizer)
        assert np.array_equal(other.theta, start)


def test_an_optimizer_refuses_a_parameter_list_of_another_size():
    optimizer = optim.Adam()
    w, g = np.zeros(4), np.ones(4)
    optimizer.step([("w", w, g)])
    with pytest.raises(MiniaeInputError, match="keeps state for 'w' of 4 numbers but was given 3"):
        optimizer.step([("w", np.zeros(3), np.ones(3))])


def test_a_0d_float64_beyond_float32_is_refused_by_name():
    m = Autoencoder.mirrored([1, 1], dtype=np.float32, rng=0)
    with pytest.raises(MiniaeInputError, match="X has values up to 1e.300, beyond the range of float32"):
        m.reconstruct(np.array(1e300))
    with pytest.raises(MiniaeInputError, match="beyond the range of float32"):
        m.reconstruct(np.float64(-1e300))


def test_float32_reconstruction_error_of_huge_finite_data_is_finite_and_right():
    m = Autoencoder.mirrored([6, 3], dtype=np.float32, rng=0)
    m.theta[:] = 0  # reconstructs 0: the error is mean(X^2)
    big = (X * 1.5e19).astype(np.float32)  # finite, and so is each square, but not their sum
    error = m.reconstruction_error(big)
    exact = np.mean((m.reconstruct(big).astype(np.float64) - big.astype(np.float64)) ** 2, axis=1)
    assert error.dtype == np.float32 and np.all(np.isfinite(error))
    assert np.allclose(error, exact, rtol=1e-5)
    with pytest.raises(MiniaeInputError, match="reconstruction error of X is beyond the range of float32"):
        m.reconstruction_error(np.full((2, 6), 3e38, dtype=np.float32))


def test_sgd_at_an_absurd_rate_is_caught_by_the_growth_of_the_weights():
    """SGD(lr=1e200) for one epoch made weights of 3e200 whose loss stayed finite: fit returned normally."""
    m = model()
    start = m.theta.copy()
    with pytest.raises(DivergenceError, match="the largest weight grew from .* in epoch 1"):
        fit(m, X, epochs=1, batch_size=64, optimizer=optim.SGD(lr=1e200))
    assert np.array_equal(m.theta, start)  # the true start of epoch 1


def test_a_divergence_error_restores_weights_the_fit_accepted():
    """Before, epoch 1 ended with weights of 3e200 and epoch 2's NaN restored those as 'finite'."""
    m = model()
    start = m.theta.copy()
    with pytest.raises(DivergenceError, match="start of epoch 1"):
        fit(m, X, epochs=3, batch_size=64, optimizer=optim.SGD(lr=1e200))
    assert np.array_equal(m.theta, start) and np.max(np.abs(m.theta)) < 10


def test_ordinary_training_is_not_mistaken_for_growth(digits):
    m = Autoencoder.mirrored([64, 32, 8], rng=0)
    history = fit(m, digits, epochs=5, optimizer=optim.Adam(3e-3))  # digits are 0..16: the biases grow a lot
    assert history.loss[-1] < history.loss[0]
