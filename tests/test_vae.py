"""The VAE: its pieces and its whole step against finite differences, the KL against Monte Carlo,
the ELBO and the importance-weighted bound on the digits, generation, stability and bad input."""
import numpy as np
import pytest

from miniae import VAE, Adam, KLWarmup, fit, gradcheck
from miniae.datasets import load_digits
from miniae.vae import (
    gaussian_kl,
    gaussian_kl_backward,
    kl_per_unit,
    log_mean_exp,
    reparameterize,
    reparameterize_backward,
)
from miniae.validation import DivergenceError, MiniaeInputError

ARCHS = [([6, 5, 3], "tanh"), ([8, 3], "relu"), ([5, 9, 4], "relu"), ([7, 6, 2], "softplus"),
         ([10, 7, 6, 2], "sigmoid")]
LIKELIHOODS = [("bernoulli", 1.0), ("gaussian", 0.5), ("gaussian", "learned")]


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("sizes,activation", ARCHS)
@pytest.mark.parametrize("likelihood,output_std", LIKELIHOODS)
@pytest.mark.parametrize("batch", [1, 5])
def test_vae_loss_gradients(sizes, activation, likelihood, output_std, batch):
    rng = np.random.default_rng(len(sizes) * 10 + batch)
    model = VAE.mirrored(sizes, activation=activation, likelihood=likelihood, output_std=output_std,
                         beta=0.7, rng=rng)
    for _, value, _ in model.named_parameters():  # non-zero biases and output variances
        value += 0.1 * rng.standard_normal(value.shape)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (batch, sizes[0])), threshold=1e-7)
    assert report, str(report)
    assert set(model.last_terms) == {"recon", "kl"}


@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (7, 8)])
def test_kl_gradient_alone(shape):
    rng = np.random.default_rng(shape[0] * shape[1])
    mu, logvar = rng.standard_normal(shape), rng.uniform(-2, 2, shape)
    weights = rng.standard_normal(shape[0])  # f = sum_n w_n KL_n checks every sample's gradient
    grad_mu, grad_logvar = gaussian_kl_backward(mu, logvar)

    def f():
        return float(np.sum(weights * gaussian_kl(mu, logvar)))
    assert gradcheck.rel_error(weights[:, None] * grad_mu, gradcheck.numerical_gradient(f, mu)) < 1e-7
    assert gradcheck.rel_error(weights[:, None] * grad_logvar, gradcheck.numerical_gradient(f, logvar)) < 1e-7


@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (7, 8)])
def test_reparameterization_gradient_alone(shape):
    rng = np.random.default_rng(shape[0] + 100 * shape[1])
    mu, logvar, eps = rng.standard_normal(shape), rng.uniform(-2, 2, shape), rng.standard_normal(shape)
    grad_z = rng.standard_normal(shape)  # f = sum(z * grad_z) has dL/dz = grad_z
    grad_mu, grad_logvar = reparameterize_backward(grad_z, logvar, eps)

    def f():
        return float(np.sum(reparameterize(mu, logvar, eps) * grad_z))
    assert gradcheck.rel_error(grad_mu, gradcheck.numerical_gradient(f, mu)) < 1e-7
    assert gradcheck.rel_error(grad_logvar, gradcheck.numerical_gradient(f, logvar)) < 1e-7


def test_gradient_check_repeats_eps_through_the_rng():
    model = VAE.mirrored([6, 4, 2], rng=0)
    X = np.random.default_rng(1).uniform(size=(3, 6))
    state = model.rng.bit_generator.state
    first = model.loss_and_grads(X)
    model.rng.bit_generator.state = state
    assert model.loss_and_grads(X) == first
    assert model.loss_and_grads(X) != first  # a fresh eps changes the loss


def test_a_subclass_can_swap_the_kl_gradient_and_check_model_catches_a_wrong_one():
    def kl_backward_missing_half(mu, logvar):  # dKL/dlogvar without its factor 1/2
        return mu.copy(), np.exp(logvar) - 1.0

    class WrongKL(VAE):
        kl_backward = staticmethod(kl_backward_missing_half)

    X = np.random.default_rng(2).uniform(size=(4, 6))
    right = VAE.mirrored([6, 5, 3], activation="tanh", rng=3)
    wrong = WrongKL.mirrored([6, 5, 3], activation="tanh", rng=3)
    assert isinstance(wrong, WrongKL)
    assert gradcheck.check_model(right, X, threshold=1e-7)
    report = gradcheck.check_model(wrong, X, threshold=1e-7)
    assert not report, str(report)
    right.rng, wrong.rng = np.random.default_rng(4), np.random.default_rng(4)
    assert wrong.loss_and_grads(X) == right.loss_and_grads(X)  # same loss: only the gradient is wrong


# ------------------------------------------------------------------ the KL
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_kl_matches_monte_carlo(seed):
    rng = np.random.default_rng(seed)
    mu, logvar = rng.uniform(-1.5, 1.5, (1, 4)), rng.uniform(-2, 1, (1, 4))
    eps = rng.standard_normal((100_000, 4))
    z = mu + np.exp(0.5 * logvar) * eps
    log_q = -0.5 * np.sum(np.log(2 * np.pi) + logvar + eps ** 2, axis=1)
    log_p = -0.5 * np.sum(np.log(2 * np.pi) + z ** 2, axis=1)
    monte_carlo = np.mean(log_q - log_p)
    closed = gaussian_kl(mu, logvar)[0]
    assert abs(monte_carlo - closed) / closed < 0.01


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert np.all(kl_per_unit(np.zeros((2, 3)), np.zeros((2, 3))) == 0)
    rng = np.random.default_rng(0)
    assert np.all(kl_per_unit(rng.standard_normal((50, 3)), rng.uniform(-3, 3, (50, 3))) > 0)


def test_log_mean_exp_is_stable():
    a = np.array([[1000.0, -1000.0], [1000.0, -1001.0]])
    assert np.allclose(log_mean_exp(a, axis=0), [1000.0, -1000.0 + np.log((1 + np.exp(-1)) / 2)])
    assert np.isclose(log_mean_exp(np.log(np.array([1.0, 2.0, 3.0]))), np.log(2.0))


# ------------------------------------------------------------------ the digits
@pytest.fixture(scope="module")
def digits_vae():
    X_train, X_test, _, _ = load_digits(split="both", test_size=0.2, seed=0)
    model = VAE.mirrored([64, 128, 8], likelihood="bernoulli", beta=1.0, rng=0)
    history = fit(model, X_train, epochs=30, batch_size=64, optimizer=Adam(lr=2e-3), validation=X_test)
    return model, history, X_test


def test_digits_negative_elbo_and_importance_weighted_bound(digits_vae):
    model, history, X_test = digits_vae
    elbo = model.elbo(X_test, seed=1)
    neg_elbo = -float(np.mean(elbo["elbo"]))
    neg_log_p = -float(np.mean(model.log_likelihood(X_test, k=100, seed=2)))
    print(f"test negative ELBO {neg_elbo:.2f} nats, -log p (k=100) {neg_log_p:.2f} nats")
    assert np.allclose(elbo["elbo"], -(elbo["recon"] + elbo["kl"]))
    assert neg_elbo < 30.0  # an untrained model sits above 44 nats per image
    assert neg_log_p <= neg_elbo
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_digits_active_units(digits_vae):
    model, _, X_test = digits_vae
    per_unit = model.kl_per_unit(X_test)
    assert per_unit.shape == (8,) and np.all(per_unit >= 0)
    assert model.active_units(X_test) >= 4
    assert np.isclose(per_unit.sum(), np.mean(model.elbo(X_test, seed=0)["kl"]))


def test_samples_and_decoding(digits_vae):
    model, _, X_test = digits_vae
    samples = model.sample(20, seed=0)
    assert samples.shape == (20, 64) and samples.min() >= 0 and samples.max() <= 1
    assert np.array_equal(model.sample(5, seed=3), model.sample(5, seed=3))
    assert model.encode(X_test).shape == (X_test.shape[0], 8)
    assert np.allclose(model.reconstruct(X_test[:4]), model.decode(model.encode(X_test[:4])))
    assert model.reconstruction_error(X_test).shape == (X_test.shape[0],)


def test_untrained_model_is_far_from_the_trained_elbo():
    X_test = load_digits(split="test")[0]
    model = VAE.mirrored([64, 128, 8], rng=0)
    assert -np.mean(model.elbo(X_test, seed=1)["elbo"]) > 44.0


# ------------------------------------------------------------------ beta and warm-up
def test_kl_warmup_raises_beta_from_zero_and_restores_it():
    seen = []

    class Record(KLWarmup):
        def on_epoch_begin(self, epoch):
            super().on_epoch_begin(epoch)
            seen.append(self.model.beta)

    X = np.random.default_rng(0).uniform(size=(20, 6))
    model = VAE.mirrored([6, 4, 2], beta=2.0, rng=0)
    fit(model, X, epochs=6, batch_size=10, callbacks=[Record(epochs=4)])
    assert seen == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert model.beta == 2.0


def test_beta_weights_only_the_kl():
    X = np.random.default_rng(0).uniform(size=(5, 6))
    model = VAE.mirrored([6, 4, 2], rng=0)
    state = model.rng.bit_generator.state
    loss_1 = model.loss_and_grads(X)
    model.beta, model.rng.bit_generator.state = 3.0, state
    loss_3 = model.loss_and_grads(X)
    assert np.isclose(loss_3 - loss_1, 2.0 * model.last_terms["kl"])


# ------------------------------------------------------------------ stability and bad input
def test_extreme_logvar_gives_no_nan():
    model = VAE.mirrored([6, 4, 2], likelihood="gaussian", output_std="learned", rng=0)
    model.logvar_head.params["b"][...] = [500.0, -500.0]  # far outside the clip range
    model.likelihood.params["logvar"][...] = -1e4
    X = np.random.default_rng(0).uniform(size=(5, 6))
    loss = model.loss_and_grads(X)
    assert np.isfinite(loss)
    assert all(np.all(np.isfinite(grad)) for _, _, grad in model.named_parameters())
    assert np.all(np.isfinite(model.log_likelihood(X, k=5, seed=0)))


def test_nan_weights_give_a_nan_loss_and_fit_stops_with_divergence_error():
    model = VAE.mirrored([6, 4, 2], rng=0)
    model.decoder.layers[-1].params["W"][0, 0] = np.nan
    X = np.random.default_rng(0).uniform(size=(3, 6))
    assert np.isnan(model.loss_and_grads(X))
    with pytest.raises(DivergenceError, match="became nan in epoch 1"):
        fit(model, X, epochs=1)


def test_bad_input_messages():
    model = VAE.mirrored([6, 4, 2], rng=0)
    with pytest.raises(MiniaeInputError, match="Bernoulli"):
        model.elbo(np.full((2, 6), 3.0))
    with pytest.raises(MiniaeInputError, match="built for 6"):
        model.encode(np.zeros((2, 5)))
    with pytest.raises(MiniaeInputError, match="Z has 3 features but the model was built for 2"):
        model.decode(np.zeros((2, 3)))
    with pytest.raises(MiniaeInputError, match="likelihood"):
        VAE.mirrored([6, 4, 2], likelihood="poisson")
    with pytest.raises(MiniaeInputError, match="output_std"):
        VAE.mirrored([6, 4, 2], likelihood="gaussian", output_std=-1)
    with pytest.raises(MiniaeInputError, match="k must"):
        model.log_likelihood(np.zeros((2, 6)), k=0)


def test_float32_end_to_end_and_weights_round_trip():
    X = np.random.default_rng(0).uniform(size=(16, 6))
    model = VAE.mirrored([6, 4, 2], likelihood="gaussian", output_std="learned", rng=0).astype(np.float32)
    fit(model, X, epochs=2, batch_size=8)
    assert all(value.dtype == np.float32 for _, value, _ in model.named_parameters())
    assert model.sample(3, seed=0).dtype == np.float32
    weights = model.get_weights()
    other = VAE.mirrored([6, 4, 2], likelihood="gaussian", output_std="learned", rng=1).astype(np.float32)
    other.set_weights(weights)
    assert np.allclose(other.encode(X), model.encode(X))
    assert model.config["dtype"] == "float32" and model.config["likelihood"] == "gaussian"


def test_the_vae_step_never_computes_the_gradient_of_the_data():
    model = VAE.mirrored([6, 5, 3], activation="tanh", rng=0)
    X = np.random.default_rng(1).uniform(0, 1, (4, 6))
    assert model.body.layers[0].input_grad is False and model.mu_head.input_grad is True
    assert gradcheck.check_model(model, X)


def test_log_mean_exp_is_scipys_logsumexp_and_survives_all_minus_inf():
    from miniae.vae import log_mean_exp
    a = np.array([[-np.inf, 0.0], [-np.inf, np.log(3.0)]])
    result = log_mean_exp(a, axis=0)
    assert result[0] == -np.inf and result[1] == pytest.approx(np.log(2.0), abs=1e-15)
    big = np.array([1000.0, 1000.0 + np.log(3.0)])
    assert log_mean_exp(big) == pytest.approx(1000.0 + np.log(2.0), abs=1e-12)
