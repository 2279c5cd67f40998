"""Recurrent layers and the sequence autoencoder: the step functions and the layers against finite
differences in float64 on several shapes (T = 1 and batch 1 included), each gate and path of the
LSTM step on its own, known answers computed by hand, wrong backward passes the checks reject,
saving and loading, float32, bad input, and a sequence autoencoder that learns the pulses."""
import numpy as np
import pytest

import miniae as ma
from miniae import cli, io
from miniae.datasets import PULSE_KINDS, pulses
from miniae.gradcheck import DEFAULT_THRESHOLD, check_layer, check_model, numerical_gradient, rel_error
from miniae.layers import (
    LSTM,
    RNN,
    Dense,
    RepeatVector,
    Tanh,
    TimeDistributed,
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from miniae.validation import MiniaeInputError

SHAPES = [  # batch, T, n_in, H
    (3, 5, 2, 4),
    (1, 1, 1, 1),
    (1, 6, 3, 2),
    (4, 1, 2, 3),
    (2, 3, 1, 5),
]


def random_biases(layer, rng):
    layer.params["b"][...] = rng.standard_normal(layer.params["b"].shape)
    return layer


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-D{}-H{}".format(*s))
def test_recurrent_layer_gradients(cls, return_sequences, shape):
    rng = np.random.default_rng(0)
    n, T, d, H = shape
    layer = random_biases(cls(d, H, return_sequences=return_sequences, rng=rng), rng)
    report = check_layer(layer, rng.standard_normal((n, T, d)))
    assert report, report
    assert {entry.name for entry in report.entries} == {"Wx", "Wh", "b", "x (input)"}


def step_inputs(n, d, H, gates, rng):
    return (rng.standard_normal((n, d)), rng.standard_normal((n, H)), rng.standard_normal((d, gates * H)),
            rng.standard_normal((H, gates * H)) / np.sqrt(H), rng.standard_normal(gates * H))


@pytest.mark.parametrize("n, d, H", [(3, 2, 4), (1, 1, 1), (2, 5, 3)])
def test_rnn_step_backward_matches_finite_differences_for_every_input(n, d, H):
    rng = np.random.default_rng(1)
    x, prev_h, Wx, Wh, b = step_inputs(n, d, H, 1, rng)
    dnext_h = rng.standard_normal((n, H))
    next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
    analytic = dict(zip(["x", "prev_h", "Wx", "Wh", "b"], rnn_step_backward(dnext_h, cache)))
    values = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "b": b}
    for name, value in values.items():
        def f():
            return np.sum(rnn_step_forward(*values.values())[0] * dnext_h)
        numeric = numerical_gradient(f, value)
        assert rel_error(analytic[name], numeric) < DEFAULT_THRESHOLD, name


@pytest.mark.parametrize("n, d, H", [(3, 2, 4), (1, 1, 1), (2, 5, 3)])
@pytest.mark.parametrize("through", ["h", "c", "both"])
def test_lstm_step_backward_matches_finite_differences_for_every_input(n, d, H, through):
    """Each input's gradient, with the loss reading next_h only, next_c only (the forget gate's path
    to prev_c, no output gate), or both."""
    rng = np.random.default_rng(2)
    x, prev_h, Wx, Wh, b = step_inputs(n, d, H, 4, rng)
    prev_c = rng.standard_normal((n, H))
    dnext_h = rng.standard_normal((n, H)) * (through != "c")
    dnext_c = rng.standard_normal((n, H)) * (through != "h")
    _, _, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    analytic = dict(zip(["x", "prev_h", "prev_c", "Wx", "Wh", "b"], lstm_step_backward(dnext_h, dnext_c, cache)))
    values = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "b": b}
    for name, value in values.items():
        def f():
            next_h, next_c, _ = lstm_step_forward(*values.values())
            return np.sum(next_h * dnext_h) + np.sum(next_c * dnext_c)
        numeric = numerical_gradient(f, value)
        assert rel_error(analytic[name], numeric) < DEFAULT_THRESHOLD, (name, through)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_lstm_step_forward_known_answer_with_the_gates_in_order_i_f_o_g():
    """One sample, H = 1: the gates' pre-activations are the four entries of b (x = 0, prev_h = 0),
    so the answer is c = sigmoid(b_f) c_prev + sigmoid(b_i) tanh(b_g), h = sigmoid(b_o) tanh(c)."""
    b = np.array([0.5, -1.0, 2.0, 0.3])  # i, f, o, g
    next_h, next_c, _ = lstm_step_forward(np.zeros((1, 1)), np.zeros((1, 1)), np.full((1, 1), 0.7),
                                          np.ones((1, 4)), np.ones((1, 4)), b)
    c = sigmoid(-1.0) * 0.7 + sigmoid(0.5) * np.tanh(0.3)
    assert np.isclose(next_c[0, 0], c, rtol=1e-14)
    assert np.isclose(next_h[0, 0], sigmoid(2.0) * np.tanh(c), rtol=1e-14)


def test_rnn_layer_known_answer_two_steps():
    layer = RNN(1, 1, rng=0)
    layer.params["Wx"][...] = 0.5
    layer.params["Wh"][...] = -2.0
    layer.params["b"][...] = 0.1
    h = layer.forward(np.array([[[1.0], [3.0]]]))
    h1 = np.tanh(0.5 + 0.1)
    assert np.allclose(h[0, :, 0], [h1, np.tanh(1.5 - 2.0 * h1 + 0.1)], rtol=1e-14)


def test_return_sequences_false_is_the_last_step_of_the_full_output():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3))
    full = LSTM(3, 5, rng=7).forward(x)
    last = LSTM(3, 5, return_sequences=False, rng=7).forward(x)
    assert full.shape == (2, 4, 5) and last.shape == (2, 5)
    assert np.array_equal(full[:, -1], last)


def test_lstm_parameters_follow_the_contract():
    layer = LSTM(3, 5, rng=0)
    assert {k: v.shape for k, v in layer.params.items()} == {"Wx": (3, 20), "Wh": (5, 20), "b": (20,)}
    assert np.array_equal(layer.params["b"], np.r_[np.zeros(5), np.ones(5), np.zeros(10)])  # forget bias 1
    for gate in range(4):  # each gate's recurrent block starts orthogonal
        block = layer.params["Wh"][:, 5 * gate:5 * (gate + 1)]
        assert np.allclose(block.T @ block, np.eye(5), atol=1e-12)


@pytest.mark.parametrize("mistake", ["no-forget-path", "no-tanh-c-in-output-gate", "last-step-weights-only",
                                     "gates-swapped"])
def test_gradient_check_rejects_classic_lstm_mistakes(mistake, monkeypatch):
    """A wrong backward pass (the ones students write) fails the layer's check: the check can fail."""
    import miniae.recurrent as rec

    def wrong_step_backward(dnext_h, dnext_c, cache):
        x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
        do = dnext_h * (1 if mistake == "no-tanh-c-in-output-gate" else tanh_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        df, dprev_c = dc * prev_c, (0 * dc if mistake == "no-forget-path" else dc * f)
        di, dg = dc * g, dc * i
        blocks = [di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)]
        if mistake == "gates-swapped":
            blocks[1], blocks[2] = blocks[2], blocks[1]
        da = np.concatenate(blocks, axis=1)
        return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    monkeypatch.setattr(rec.LSTM, "step_backward", staticmethod(wrong_step_backward))
    layer = LSTM(2, 3, rng=0)
    if mistake == "last-step-weights-only":
        original = rec.LSTM.backward

        def backward(self, dy):
            dx = original(self, dy)
            dWx = rec.lstm_step_backward(np.zeros((2, 3)), np.zeros((2, 3)), self.caches[-1])[3]
            self.grads["Wx"][...] = dWx  # as if the sum over the steps were forgotten
            return dx
        monkeypatch.setattr(rec.LSTM, "step_backward", staticmethod(lstm_step_backward))
        monkeypatch.setattr(rec.LSTM, "backward", backward)
    assert not check_layer(layer, np.random.default_rng(4).standard_normal((2, 4, 2)))


def test_repeat_vector_and_time_distributed_gradients():
    rng = np.random.default_rng(5)
    assert check_layer(RepeatVector(4), rng.standard_normal((3, 2)))
    assert check_layer(TimeDistributed(Dense(3, 2, rng=rng)), rng.standard_normal((2, 5, 3)))
    assert check_layer(TimeDistributed(Tanh()), rng.standard_normal((2, 4, 3)))


def test_time_distributed_applies_the_layer_at_every_step():
    rng = np.random.default_rng(6)
    dense = Dense(3, 2, rng=rng)
    x = rng.standard_normal((2, 4, 3))
    y = TimeDistributed(dense).forward(x)
    assert y.shape == (2, 4, 2)
    for t in range(4):
        assert np.allclose(y[:, t], x[:, t] @ dense.params["W"] + dense.params["b"])


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_sequence_autoencoder_whole_model_gradient_check(cell):
    rng = np.random.default_rng(7)
    model = ma.Autoencoder.sequence(6, 2, hidden=3, code_size=2, cell=cell, rng=0)
    assert check_model(model, rng.standard_normal((3, 12)))


def test_sequence_autoencoder_layout_and_float32():
    model = ma.Autoencoder.sequence(10, 2, hidden=4, code_size=3, rng=0, dtype=np.float32)
    assert model.n_features == 20 and model.code_size == 3
    X = np.random.default_rng(8).standard_normal((5, 20)).astype(np.float32)
    assert model.reconstruct(X).dtype == np.float32 and model.encode(X).shape == (5, 3)
    model.loss_and_grads(X)
    assert model.grad.dtype == np.float32 and np.all(np.isfinite(model.grad))


def test_sequence_autoencoder_learns_the_pulses():
    """Trained below a fifth of its untrained error and below the mean sequence's on held-out pulses."""
    X, _ = pulses(600, seed=0)
    X_test, _ = pulses(200, seed=1)
    model = ma.Autoencoder.sequence(50, 1, hidden=16, code_size=4, rng=0, dtype=np.float32)
    untrained = model.reconstruction_error(X_test.astype(np.float32)).mean()
    ma.fit(model, X.astype(np.float32), epochs=15, batch_size=32, optimizer=ma.Adam(5e-3))
    trained = model.reconstruction_error(X_test.astype(np.float32)).mean()
    mean_sequence = np.mean((X_test - X.mean(axis=0)) ** 2)
    assert trained < 0.2 * untrained, (trained, untrained)
    assert trained < 0.5 * mean_sequence, (trained, mean_sequence)


def test_sequence_model_saves_and_loads_bit_exactly(tmp_path):
    model = ma.Autoencoder.sequence(8, 1, hidden=5, code_size=2, cell="lstm", rng=3, dtype=np.float32)
    X = np.random.default_rng(9).standard_normal((4, 8)).astype(np.float32)
    ma.fit(model, X, epochs=2, batch_size=2)
    io.save(model, tmp_path / "seq.npz")
    loaded = io.load(tmp_path / "seq.npz")
    assert repr(loaded) == repr(model)
    assert np.array_equal(loaded.theta, model.theta) and loaded.theta.dtype == np.float32
    assert np.array_equal(loaded.reconstruct(X), model.reconstruct(X))


def test_command_line_trains_a_sequence_autoencoder(tmp_path, capsys):
    out = tmp_path / "seq.npz"
    assert cli.main(["train", "sequence", "--data", "pulses", "--epochs", "1", "--code-size", "4",
                     "--hidden", "8", "--out", str(out)]) == 0
    assert "LSTM" in repr(io.load(out))


@pytest.mark.parametrize("make, message", [
    (lambda: LSTM(0, 3), "n_in"),
    (lambda: RNN(2, 2.5), "n_hidden"),
    (lambda: LSTM(2, 3, return_sequences="yes"), "return_sequences"),
    (lambda: RepeatVector(-1), "steps"),
    (lambda: ma.Autoencoder.sequence(10, cell="gru"), "cell"),
    (lambda: ma.Autoencoder.sequence(10, hidden=10 ** 6), "hidden"),
    (lambda: LSTM(2, 10 ** 5), "LSTM"),
])
def test_bad_sizes_are_refused_by_name(make, message):
    with pytest.raises(MiniaeInputError, match=message):
        make()


def test_wrong_input_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\(batch, time steps, 3\)"):
        LSTM(3, 2).forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="19 features but the model was built for 20"):
        ma.Autoencoder.sequence(10, 2).reconstruct(np.zeros((2, 19)))


def test_pulses_are_deterministic_and_documented():
    X, info = pulses(400, anomaly_fraction=0.25, seed=3)
    again, _ = pulses(400, anomaly_fraction=0.25, seed=3)
    assert np.array_equal(X, again) and X.shape == (400, 50)
    assert set(info["kind"]) <= set(PULSE_KINDS)
    assert np.array_equal(info["anomaly"], info["kind"] != "normal")
    assert 0.15 < info["anomaly"].mean() < 0.35
    normal = X[~info["anomaly"]]
    assert np.all(normal.max(axis=1) > 0.3) and -0.2 < X.min() and X.max() < 1.6
    peak = normal.argmax(axis=1)
    assert np.all((peak >= 5) & (peak < 30))  # arrival 5-15 samples, then a rise of a few samples
    slow = X[info["kind"] == "slow"]
    assert slow[:, -10:].mean() > 2 * normal[:, -10:].mean()  # the slow tail is still there at the end
    with pytest.raises(ValueError, match="anomaly_fraction"):
        pulses(10, anomaly_fraction=1.5)
    with pytest.raises(ValueError, match="length"):
        pulses(10, length=10)
