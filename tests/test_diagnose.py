"""miniae.diagnose on its own: the kink warning finds activations in any model's layers, and
the hint functions are importable from miniae.gradcheck as before."""
import numpy as np
import pytest

from miniae import diagnose, gradcheck
from miniae.layers import Dense, ReLU, Sequential, Tanh
from miniae.models import Autoencoder
from miniae.vae import VAE


def put_on_the_kink(dense, X, sample=0, unit=0, distance=1e-6):
    """Set the bias so that the pre-activation of (sample, unit) is ``distance`` from 0."""
    dense.params["b"][unit] = distance - (X @ dense.params["W"])[sample, unit]


def test_kink_note_names_the_vae_body():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(5, 4))
    model = VAE.mirrored([4, 6, 2], activation="relu", rng=1)
    put_on_the_kink(model.body.layers[0], X)
    report = gradcheck.check_model(model, X)
    assert any("ReLU input in the body is 1.0e-06 from its kink" in note for note in report.notes), report.notes
    assert "note: a ReLU input in the body" in str(report)


def test_kink_note_names_the_vae_decoder_and_nothing_when_far():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(5, 4))
    model = VAE.mirrored([4, 6, 2], activation="tanh", rng=1)  # no kinks anywhere
    model.loss_and_grads(X)
    assert diagnose.kink_notes(model, 1e-4) == []
    model = VAE.mirrored([4, 6, 2], activation="relu", rng=1)
    model.loss_and_grads(X)
    relu = model.decoder.layers[1]
    relu.x = relu.x.copy()
    relu.x[0, 0] = -2e-5
    notes = diagnose.kink_notes(model, 1e-4)
    assert [note.split(" is ")[0] for note in notes] == ["a ReLU input in the decoder"]


def test_kink_note_walks_nested_containers_of_an_autoencoder():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    first = Dense(3, 5, rng=2)
    encoder = Sequential(Sequential(first, ReLU()), Dense(5, 2, rng=3))
    model = Autoencoder(encoder, Sequential(Dense(2, 3, rng=4), Tanh()))
    put_on_the_kink(first, X, sample=2, unit=3)
    model.loss_and_grads(X)
    notes = diagnose.kink_notes(model, 1e-4)
    assert len(notes) == 1 and notes[0].startswith("a ReLU input in the encoder is 1.0e-06")


@pytest.mark.parametrize("name", ["diagnose", "numerical_gradient", "rel_error", "Entry", "Report",
                                  "check_layer", "check_loss", "check_penalty", "check_param_penalty",
                                  "check_function", "check_model", "nudge_from_kinks", "require_float64"])
def test_names_stay_importable_from_gradcheck(name):
    assert hasattr(gradcheck, name)
    assert gradcheck.diagnose is diagnose.diagnose
