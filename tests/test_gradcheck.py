"""The gradient checker itself: it passes right gradients, catches wrong ones, explains itself."""
import numpy as np
import pytest

from miniae import gradcheck, penalties
from miniae.cli import main as cli_main
from miniae.gradcheck import check_model
from miniae.layers import Dense, ReLU, Sigmoid
from miniae.models import Autoencoder
from miniae.vae import VAE


class WrongSigmoid(Sigmoid):
    """Forgets the (1 - y) factor of the derivative."""

    def derivative(self, x, y):
        return y.copy()


class TransposedDense(Dense):
    """Writes dx with W instead of W^T (only possible for square W)."""

    def backward(self, dy):
        super().backward(dy)
        return dy @ self.params["W"]


class NoBatchSumDense(Dense):
    """Uses only the first sample for db."""

    def backward(self, dy):
        dx = super().backward(dy)
        self.grads["b"][...] = dy[0]
        return dx


def test_numerical_gradient_of_known_function():
    x = np.array([1.0, -2.0, 3.0])
    for order in (2, 4):
        grad = gradcheck.numerical_gradient(lambda v: float(np.sum(v ** 3)), x, order=order)
        assert np.allclose(grad, 3 * x ** 2, rtol=1e-8)
    assert np.array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_fourth_order_is_more_accurate_than_second():
    x = np.array([0.7])
    exact = np.cos(0.7)
    err2 = abs(gradcheck.numerical_gradient(lambda v: float(np.sin(v[0])), x, h=1e-3, order=2)[0] - exact)
    err4 = abs(gradcheck.numerical_gradient(lambda v: float(np.sin(v[0])), x, h=1e-3, order=4)[0] - exact)
    assert err4 < err2 / 1000


def test_rel_error_definition():
    assert gradcheck.rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert gradcheck.rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert gradcheck.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="equal shapes"):
        gradcheck.rel_error(np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("layer,name", [(WrongSigmoid(), "x (input)"),
                                        (TransposedDense(4, 4, rng=0), "x (input)"),
                                        (NoBatchSumDense(4, 3, rng=0), "b")])
def test_wrong_backward_is_caught_and_named(layer, name):
    x = np.random.default_rng(0).standard_normal((5, 4))
    report = gradcheck.check_layer(layer, x)
    assert not report
    assert report.first_failure.name == name
    assert report.first_failure.error > 1e-3
    text = str(report)
    assert "FAIL" in text and f"first failure: {name} at index" in text


def test_report_is_truthy_and_prints_a_table():
    report = gradcheck.check_layer(Dense(3, 2, rng=0), np.ones((2, 3)))
    assert report and report.passed and report.max_error < 1e-9
    lines = str(report).splitlines()
    assert lines[1].split()[:3] == ["parameter", "norm", "error"]
    assert [line.split()[0] for line in lines[2:5]] == ["W", "b", "x"]
    assert lines[-1] == "all gradients match"
    assert report["W"].passed


def test_float32_is_refused_with_a_reason():
    layer = Dense(3, 2, rng=0, dtype=np.float32)
    with pytest.raises(gradcheck.GradcheckDtypeError, match="float64.*rounding error"):
        gradcheck.check_layer(layer, np.ones((2, 3), dtype=np.float32))
    model = Autoencoder.mirrored([4, 2], rng=0, dtype=np.float32)
    with pytest.raises(ValueError, match="float64"):
        gradcheck.check_model(model, np.ones((2, 4)))


def test_relu_inputs_at_the_kink_are_nudged():
    x = np.array([[0.0, 1e-9, -1e-9, 0.5, -0.5]])
    report = gradcheck.check_layer(ReLU(), x, threshold=1e-7)
    assert report, str(report)


def test_check_model_leaves_rng_and_grads_as_they_were():
    rng = np.random.default_rng(0)
    from miniae.noise import MaskingNoise
    model = Autoencoder.mirrored([5, 3], activation="tanh", noise=MaskingNoise(0.3), rng=1)
    X = rng.uniform(0, 1, (4, 5))
    state = model.rng.bit_generator.state
    report = gradcheck.check_model(model, X, threshold=1e-7)
    assert report, str(report)
    assert model.rng.bit_generator.state == state


def test_check_model_subsamples_entries():
    model = Autoencoder.mirrored([30, 20], activation="tanh", rng=0)
    X = np.random.default_rng(0).uniform(0, 1, (3, 30))
    report = gradcheck.check_model(model, X, max_entries=10, threshold=1e-7)
    assert report
    assert {e.n_checked for e in report.entries if e.analytic.size > 10} == {10}


def test_cli_gradcheck_checks_everything(capsys):
    assert cli_main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    for name in ("Dense", "ReLU", "Sigmoid", "Tanh", "Softplus", "LeakyReLU", "MSE", "BCE(from_logits=True)",
                 "L1Sparsity", "KLSparsity", "Autoencoder (Contractive)", "Autoencoder (MaskingNoise)",
                 "VAE (BernoulliLikelihood)", "VAE (GaussianLikelihood)", "RNN(3, 4", "LSTM(3, 4",
                 "Autoencoder (sequence)"):
        assert f"gradient check of {name}" in out, name
    assert "21 passed, 0 failed" in out


# ------------------------------------------------------------------ issue 16: each term on its own
class _HalfWeightDecay(penalties.WeightDecay):
    """A weight decay whose gradient forgot its factor 2."""

    def backward(self, model):
        for W, grad in self._weights(model):
            grad += self.lam * W


def test_a_small_terms_wrong_gradient_fails_the_model_check():
    X = np.random.default_rng(0).uniform(0, 1, (5, 6))
    model = Autoencoder.mirrored([6, 4, 3], activation="tanh", penalties=[_HalfWeightDecay(1e-7)], rng=0)
    report = check_model(model, X)
    assert all(report[name].passed for name, _, _ in model.named_parameters())  # hidden in the whole gradient
    assert not report and report.first_failure.name == "term weight_decay: encoder.0.W"
    assert report.first_failure.error == pytest.approx(1 / 3, rel=1e-3)
    assert "factor 2" in report.first_failure.hint


@pytest.mark.parametrize("build, rows", [
    (lambda: Autoencoder.mirrored([6, 4, 3], activation="tanh", rng=0,
                                  penalties=[penalties.L1Sparsity(1e-2), penalties.WeightDecay(1e-3)]),
     ["term recon: output", "term l1: code", "term weight_decay: encoder.0.W", "term weight_decay: decoder.2.W"]),
    (lambda: Autoencoder.mirrored([6, 4], code_activation="sigmoid", rng=0, loss="bce_logits",
                                  penalties=[penalties.KLSparsity(), penalties.Contractive(0.1)]),
     ["term recon: output", "term kl_sparsity: code", "term contractive: encoder.0.W",
      "term contractive: encoder.0.b"]),
    (lambda: VAE.mirrored([6, 5, 2], rng=0), ["term recon: output", "term kl: mu", "term kl: logvar"]),
], ids=["l1_weight_decay", "kl_contractive", "vae"])
def test_every_term_has_its_own_passing_row(build, rows):
    X = np.random.default_rng(1).uniform(0, 1, (5, 6))
    report = check_model(build(), X)
    names = [entry.name for entry in report.entries]
    assert all(row in names for row in rows), names
    assert report, str(report)
