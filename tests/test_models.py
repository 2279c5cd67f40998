"""The Autoencoder: the whole step against finite differences, builders, encode/decode."""
import numpy as np
import pytest

from miniae import gradcheck
from miniae.layers import Dense, Sequential, Sigmoid
from miniae.losses import BCE
from miniae.models import Autoencoder
from miniae.noise import GaussianNoise
from miniae.penalties import L1Sparsity, WeightDecay
from miniae.validation import MiniaeInputError

ARCHS = [([5, 3], "identity", "identity"), ([6, 4, 2], "tanh", "sigmoid"),
         ([7, 5, 3], "softplus", "identity"), ([4, 6], "sigmoid", "sigmoid"),  # overcomplete
         ([8, 6, 4, 2], "leaky_relu", "identity"), ([6, 5, 3], "relu", "identity")]


@pytest.mark.parametrize("sizes,activation,output", ARCHS)
@pytest.mark.parametrize("batch", [1, 4, 9])
def test_autoencoder_gradients(sizes, activation, output, batch):
    rng = np.random.default_rng(len(sizes) * 10 + batch)
    model = Autoencoder.mirrored(sizes, activation=activation, output=output, rng=rng)
    for _, value, _ in model.named_parameters():  # non-zero biases so every term is exercised
        value += 0.1 * rng.standard_normal(value.shape)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (batch, sizes[0])), threshold=1e-7)
    assert report, str(report)


@pytest.mark.parametrize("batch", [2, 5])
def test_gradients_with_logits_loss_penalties_and_noise(batch):
    rng = np.random.default_rng(batch)
    model = Autoencoder.mirrored([6, 4, 3], activation="tanh", loss="bce_logits",
                                 penalties=[WeightDecay(0.01)], noise=GaussianNoise(0.2), rng=rng)
    report = gradcheck.check_model(model, rng.uniform(0, 1, (batch, 6)), threshold=1e-7)
    assert report, str(report)
    assert set(model.last_terms) == {"recon", "weight_decay"}


def test_mirrored_builds_the_hourglass():
    model = Autoencoder.mirrored([64, 32, 8], activation="relu", output="sigmoid", rng=0)
    enc = [(layer.n_in, layer.n_out) for layer in model.encoder.dense_layers]
    dec = [(layer.n_in, layer.n_out) for layer in model.decoder.dense_layers]
    assert enc == [(64, 32), (32, 8)] and dec == [(8, 32), (32, 64)]
    assert isinstance(model.decoder.layers[-1], Sigmoid)
    assert model.n_features == 64 and model.code_size == 8


def test_linear_autoencoder_has_no_activations():
    model = Autoencoder.linear(10, 3, rng=0)
    assert all(isinstance(layer, Dense) for layer in model.encoder.layers + model.decoder.layers)


def test_encode_decode_reconstruct_shapes_and_consistency():
    rng = np.random.default_rng(0)
    model = Autoencoder.mirrored([10, 6, 2], activation="tanh", rng=0)
    X = rng.uniform(0, 1, (7, 10))
    code = model.encode(X)
    assert code.shape == (7, 2)
    assert np.allclose(model.decode(code), model.reconstruct(X))
    assert model.reconstruction_error(X).shape == (7,)


def test_logits_model_reconstructs_probabilities():
    model = Autoencoder.mirrored([5, 2], activation="identity", loss=BCE(from_logits=True), rng=0)
    recon = model.reconstruct(np.full((3, 5), 100.0))
    assert np.all((recon >= 0) & (recon <= 1))


def test_noise_only_during_training_steps():
    X = np.random.default_rng(1).uniform(0, 1, (4, 6))
    model = Autoencoder.mirrored([6, 3], activation="tanh", noise=GaussianNoise(1.0), rng=0)
    assert np.array_equal(model.reconstruct(X), model.reconstruct(X))  # no corruption at use time
    first = model.loss_and_grads(X)
    assert first != model.loss_and_grads(X)  # a fresh draw every step


def test_reseeding_rng_repeats_a_step_exactly():
    X = np.random.default_rng(1).uniform(0, 1, (4, 6))
    model = Autoencoder.mirrored([6, 3], activation="tanh", noise=GaussianNoise(0.5), rng=0)
    state = model.rng.bit_generator.state
    a = model.loss_and_grads(X)
    grads_a = [g.copy() for _, _, g in model.named_parameters()]
    model.rng.bit_generator.state = state
    assert model.loss_and_grads(X) == a
    assert all(np.array_equal(g, h) for g, (_, _, h) in zip(grads_a, model.named_parameters()))


def test_code_penalty_term_is_reported_and_added():
    X = np.random.default_rng(2).uniform(0, 1, (5, 6))
    model = Autoencoder.mirrored([6, 3], activation="tanh", penalties=[L1Sparsity(0.5)], rng=0)
    total = model.loss_and_grads(X)
    assert total == pytest.approx(model.last_terms["recon"] + model.last_terms["l1"])
    assert model.last_terms["l1"] > 0


def test_custom_encoder_decoder():
    enc = Sequential(Dense(4, 2, rng=0))
    dec = Sequential(Dense(2, 4, rng=1), Sigmoid())
    model = Autoencoder(enc, dec, rng=0)
    assert model.reconstruct(np.zeros((1, 4))).shape == (1, 4)
    assert [n for n, _, _ in model.named_parameters()] == ["encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b"]


def test_astype_converts_everything():
    model = Autoencoder.mirrored([6, 4, 2], activation="relu", rng=0).astype(np.float32)
    assert all(v.dtype == np.float32 and g.dtype == np.float32 for _, v, g in model.named_parameters())
    assert model.encode(np.zeros((2, 6))).dtype == np.float32


def test_weights_round_trip():
    model = Autoencoder.mirrored([6, 4, 2], rng=0)
    saved = model.get_weights()
    for _, value, _ in model.named_parameters():
        value += 1
    model.set_weights(saved)
    assert all(np.array_equal(v, saved[n]) for n, v, _ in model.named_parameters())


def test_logits_loss_with_sigmoid_output_is_refused():
    with pytest.raises(ValueError, match="needs output='identity'"):
        Autoencoder.mirrored([6, 2], output="sigmoid", loss="bce_logits")


def test_activation_object_is_copied_into_every_layer():
    from miniae.layers import Tanh
    model = Autoencoder.mirrored([6, 4, 2], activation=Tanh(), rng=0)
    acts = [layer for part in (model.encoder, model.decoder) for layer in part.layers if isinstance(layer, Tanh)]
    assert len(acts) == 2 and acts[0] is not acts[1]
    X = np.random.default_rng(0).uniform(0, 1, (3, 6))
    assert gradcheck.check_model(model, X, threshold=1e-7)


def test_unknown_activation_is_refused_even_without_hidden_layers():
    with pytest.raises(ValueError, match="activation must be one of"):
        Autoencoder.mirrored([6, 2], activation="gelu")


def test_the_step_never_computes_the_gradient_of_the_data():
    """The first Dense layer's input is the data: loss_and_grads skips dL/dX (one product fewer)."""
    model = Autoencoder.mirrored([6, 4, 2], activation="tanh", rng=0)
    X = np.random.default_rng(1).uniform(0, 1, (5, 6))
    assert model.encoder.layers[0].input_grad is False
    model.loss_and_grads(X)
    expected = {name: grad.copy() for name, _, grad in model.named_parameters()}
    model.encoder.layers[0].input_grad = True  # the same step with dL/dX computed
    model.loss_and_grads(X)
    for name, _, grad in model.named_parameters():
        assert np.array_equal(grad, expected[name]), name
    assert gradcheck.check_model(model, X)


@pytest.mark.parametrize("kwargs, name", [({"n_features": 6.0, "code_size": 2}, "n_features"),
                                          ({"n_features": 6, "code_size": "2"}, "code_size"),
                                          ({"n_features": 6, "code_size": 0}, "code_size")])
def test_linear_names_its_own_arguments(kwargs, name):
    with pytest.raises(MiniaeInputError, match=f"{name} must be a positive integer"):
        Autoencoder.linear(**kwargs)
