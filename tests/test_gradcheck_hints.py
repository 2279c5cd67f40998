"""Feedback that teaches: deliberately wrong backward passes are caught and the hint names the cause;
code that is not written yet gives a "not implemented yet" report instead of a traceback."""
import numpy as np
import pytest

from miniae import gradcheck
from miniae.layers import Activation, Dense, Tanh
from miniae.losses import MSE
from miniae.models import Autoencoder
from miniae.penalties import KLSparsity, WeightDecay

SHAPES = [(4, 5, 3), (6, 3, 7), (5, 4, 4)]  # (batch, n_in, n_out); batch never equals a width


class TransposedW(Dense):
    """dL/dW written as dy.T @ x: transposed."""

    def backward(self, dy):
        if self.n_in == self.n_out:
            self.grads["W"][...] = dy.T @ self.x  # same shape as W: transposed values
        else:
            self.grads["W"] = dy.T @ self.x  # shape (n_out, n_in): transposed shape
        self.grads["b"][...] = dy.sum(axis=0)
        return dy @ self.params["W"].T


class MeanForBias(Dense):
    """db = dy.mean(axis=0): the batch sum forgotten (averaged instead)."""

    def backward(self, dy):
        self.grads["W"][...] = self.x.T @ dy
        self.grads["b"][...] = dy.mean(axis=0)
        return dy @ self.params["W"].T


class NoBatchSum(Dense):
    """db = dy: one row per sample, the batch sum forgotten."""

    def backward(self, dy):
        self.grads["W"][...] = self.x.T @ dy
        self.grads["b"] = dy.copy()
        return dy @ self.params["W"].T


class SignFlippedDx(Dense):
    def backward(self, dy):
        self.grads["W"][...] = self.x.T @ dy
        self.grads["b"][...] = dy.sum(axis=0)
        return -(dy @ self.params["W"].T)


class MSEMissingOneOverN(MSE):
    """2 (pred - target) / D: the mean over the batch forgotten."""

    def backward(self):
        return 2.0 * self.diff / self.diff.shape[1]


class MSEMissingFactor2(MSE):
    def backward(self):
        return self.diff / self.diff.size


class KLMissingOneOverN(KLSparsity):
    def backward(self):
        return super().backward() * self.n


def random_layer_input(layer_cls, batch, n_in, n_out, seed=0):
    rng = np.random.default_rng(seed)
    layer = layer_cls(n_in, n_out, rng=seed)
    layer.params["b"][:] = rng.standard_normal(n_out)
    return layer, rng.standard_normal((batch, n_in))


@pytest.mark.parametrize("batch, n_in, n_out", SHAPES)
def test_correct_dense_passes_at_1e7_with_no_hint(batch, n_in, n_out):
    layer, x = random_layer_input(Dense, batch, n_in, n_out)
    report = gradcheck.check_layer(layer, x, threshold=1e-7)
    assert report and report.max_error < 1e-7 and report.hints == []
    assert str(report).splitlines()[-1] == "all gradients match"


@pytest.mark.parametrize("batch, n_in, n_out", SHAPES)
def test_transposed_W_is_caught_and_named(batch, n_in, n_out):
    layer, x = random_layer_input(TransposedW, batch, n_in, n_out)
    report = gradcheck.check_layer(layer, x)
    assert not report
    assert report.first_failure.name == "W"
    assert "transpose" in report["W"].hint
    assert report["b"].passed and report["x (input)"].passed
    assert "hint:" in str(report) and "transpose" in str(report)


@pytest.mark.parametrize("batch, n_in, n_out", SHAPES)
def test_averaged_bias_gradient_is_named_as_the_batch_sum(batch, n_in, n_out):
    layer, x = random_layer_input(MeanForBias, batch, n_in, n_out)
    report = gradcheck.check_layer(layer, x)
    assert not report and report.first_failure.name == "b"
    hint = report["b"].hint
    assert f"1/N = 1/{batch}" in hint and "batch sum" in hint


def test_bias_gradient_with_one_row_per_sample_is_named_as_the_batch_sum():
    layer, x = random_layer_input(NoBatchSum, 4, 5, 3)
    report = gradcheck.check_layer(layer, x)
    assert "forgot the batch sum" in report["b"].hint and "(4, 3)" in report["b"].hint
    assert "first failure: b: no analytic value to compare" in str(report)


def test_dx_with_W_instead_of_its_transpose_is_named():
    class WNotTransposed(Dense):
        def backward(self, dy):
            self.grads["W"][...] = self.x.T @ dy
            self.grads["b"][...] = dy.sum(axis=0)
            return dy @ self.params["W"]

    layer, x = random_layer_input(WNotTransposed, 5, 4, 4)
    assert "dy @ W.T" in gradcheck.check_layer(layer, x)["x (input)"].hint


def test_sign_error_is_named():
    layer, x = random_layer_input(SignFlippedDx, 4, 5, 3)
    report = gradcheck.check_layer(layer, x)
    assert report.first_failure.name == "x (input)"
    assert "sign error" in report.first_failure.hint
    assert report.first_failure.analytic_value == pytest.approx(-report.first_failure.numeric_value, rel=1e-6)


@pytest.mark.parametrize("batch, features", [(4, 5), (7, 3)])
def test_missing_one_over_n_in_a_loss_is_named(batch, features):
    rng = np.random.default_rng(1)
    report = gradcheck.check_loss(MSEMissingOneOverN(), rng.standard_normal((batch, features)),
                                  rng.standard_normal((batch, features)))
    assert not report
    hint = report["pred"].hint
    assert f"too large by N = {batch}" in hint and "missing 1/N" in hint


def test_missing_one_over_n_in_a_penalty_is_named():
    rng = np.random.default_rng(2)
    report = gradcheck.check_penalty(KLMissingOneOverN(0.1, 2.0), rng.uniform(0.05, 0.95, (6, 4)))
    assert "too large by N = 6" in report["code"].hint


def test_missing_factor_2_is_named():
    rng = np.random.default_rng(3)
    report = gradcheck.check_loss(MSEMissingFactor2(), rng.standard_normal((4, 5)), rng.standard_normal((4, 5)))
    assert "factor 2" in report["pred"].hint


def test_forgetting_dy_in_an_activation_is_named():
    class ForgotDy(Tanh):
        def backward(self, dy):
            return 1 - self.y ** 2

    report = gradcheck.check_layer(ForgotDy(), np.random.default_rng(4).standard_normal((4, 5)))
    assert "chain rule" in report["x (input)"].hint


def test_replacing_the_grads_array_gives_a_note():
    layer, x = random_layer_input(NoBatchSum, 4, 5, 3)
    assert any("self.grads['b']" in note for note in gradcheck.check_layer(layer, x).notes)


def test_not_implemented_gives_a_friendly_failing_report():
    class Unwritten(Activation):
        def function(self, x):
            return np.tanh(x)

        def backward(self, dy):
            raise NotImplementedError()

    report = gradcheck.check_layer(Unwritten(), np.ones((3, 2)))
    assert not report and report.status == "not implemented"
    lines = str(report).splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("not implemented yet: Unwritten.backward raised NotImplementedError")


def test_not_implemented_in_a_model_penalty_and_a_function():
    class UnwrittenPenalty(WeightDecay):
        def backward(self, model):
            raise NotImplementedError

    rng = np.random.default_rng(5)
    model = Autoencoder.mirrored([4, 2], activation="tanh", penalties=[UnwrittenPenalty()], rng=0)
    X = rng.uniform(0, 1, (3, 4))
    assert gradcheck.check_model(model, X).status == "not implemented"
    assert gradcheck.check_param_penalty(UnwrittenPenalty(), model, X).status == "not implemented"

    def unwritten_gradient(a):
        raise NotImplementedError

    report = gradcheck.check_function(lambda a: float(np.sum(a ** 2)), {"a": X}, unwritten_gradient)
    assert "unwritten_gradient raised NotImplementedError" in str(report)


def test_a_shape_error_in_student_code_becomes_a_report_with_the_shapes():
    class WrongMatmul(Dense):
        def backward(self, dy):
            return dy @ self.params["W"]  # (4, 3) @ (5, 3): does not fit

    layer, x = random_layer_input(WrongMatmul, 4, 5, 3)
    report = gradcheck.check_layer(layer, x)
    assert report.status == "error"
    assert "WrongMatmul.backward" in report.problem and "W (5, 3)" in report.problem and "dy (4, 3)" in report.problem


def test_other_errors_are_not_swallowed():
    class Broken(Activation):
        def function(self, x):
            return x

        def backward(self, dy):
            raise KeyError("not a student's shape mistake")

    with pytest.raises(KeyError):
        gradcheck.check_layer(Broken(), np.ones((2, 2)))


@pytest.mark.parametrize("shape", [(3, 2), (5, 4)])
def test_check_function_and_check_param_penalty_pass_on_correct_gradients(shape):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    report = gradcheck.check_function(lambda a, b: float(np.sum(a * a * b)), {"a": a, "b": b},
                                      lambda a, b: {"a": 2 * a * b, "b": a * a}, threshold=1e-7)
    assert report and [e.name for e in report.entries] == ["a", "b"]
    model = Autoencoder.mirrored([shape[1], 2], activation="tanh", rng=1)
    report = gradcheck.check_param_penalty(WeightDecay(0.1), model, rng.uniform(0, 1, shape), threshold=1e-7)
    assert report and report["encoder.0.b"].analytic_value == 0.0


def test_check_function_catches_a_sign_error():
    rng = np.random.default_rng(7)
    report = gradcheck.check_function(lambda a: float(np.sum(np.exp(a))), {"a": rng.standard_normal((4, 3))},
                                      lambda a: (-np.exp(a),))
    assert "sign error" in report["a"].hint


@pytest.mark.parametrize("analytic, expected", [
    (None, "no gradient"),
    (np.zeros((3, 2)), "all zeros"),
    (np.full((3, 2), np.nan), "NaN"),
    (np.ones((2, 3)), "transposed"),
    (np.ones((5, 3, 2)), "batch sum"),
])
def test_diagnose_patterns(analytic, expected):
    numeric = np.arange(1.0, 7.0).reshape(3, 2)
    assert expected in gradcheck.diagnose(analytic, numeric, {"N": (5, "samples in the batch")})


def test_diagnose_says_nothing_for_unrelated_arrays():
    rng = np.random.default_rng(8)
    assert gradcheck.diagnose(rng.standard_normal((4, 3)), rng.standard_normal((4, 3))) is None
