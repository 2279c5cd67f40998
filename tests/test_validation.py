"""Bad input to fit, encode and reconstruct: one clear ValueError that names the problem."""
import numpy as np
import pytest

import miniae as ma


@pytest.fixture
def model():
    return ma.Autoencoder.mirrored([6, 4, 2], activation="tanh", rng=0)


GOOD = np.random.default_rng(0).uniform(0, 1, (10, 6))
BAD_INPUTS = [
    (GOOD[0], "must be 2-D.*reshape\\(1, -1\\)"),                  # wrong rank (1-D)
    (GOOD.reshape(10, 2, 3), "must be 2-D.*3-D"),                  # wrong rank (3-D)
    (GOOD[:, :5], "has 5 features but the model was built for 6"),  # wrong feature count
    (np.where(np.eye(10, 6) > 0, np.nan, GOOD), "6 NaN or infinite"),
    (np.where(np.eye(10, 6) > 0, np.inf, GOOD), "NaN or infinite"),
    (np.empty((0, 6)), "is empty"),
    (np.array([["a"] * 6] * 2), "must hold numbers.*dtype <U1"),
    (np.array([[object()] * 6] * 2), "must hold numbers.*object"),
    (None, "is None"),
]


@pytest.mark.parametrize("X,message", BAD_INPUTS)
@pytest.mark.parametrize("entry", ["fit", "encode", "reconstruct"])
def test_bad_input_gives_clear_error(model, X, message, entry):
    call = {"fit": lambda X: ma.fit(model, X, epochs=1),
            "encode": model.encode, "reconstruct": model.reconstruct}[entry]
    with pytest.raises(ma.MiniaeInputError, match=message):
        call(X)


def test_integers_and_booleans_are_converted(model):
    assert model.encode(np.ones((3, 6), dtype=int)).dtype == np.float64
    assert model.encode(np.ones((3, 6), dtype=bool)).shape == (3, 2)
    assert model.encode([[0, 1, 0, 1, 0, 1]]).shape == (1, 2)


def test_bad_validation_data_is_named(model):
    with pytest.raises(ma.MiniaeInputError, match="validation has 3 features"):
        ma.fit(model, GOOD, epochs=1, validation=GOOD[:, :3])


@pytest.mark.parametrize("kwargs,message", [({"epochs": 0}, "epochs must be a positive integer"),
                                            ({"batch_size": -1}, "batch_size must be a positive integer"),
                                            ({"epochs": 2.5}, "epochs must be a positive integer"),
                                            ({"optimizer": "rmsprop"}, "optimizer must be one of")])
def test_bad_fit_arguments(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ma.fit(model, GOOD, **kwargs)


def test_decode_checks_code_size(model):
    with pytest.raises(ma.MiniaeInputError, match="Z has 3 features but the model was built for 2"):
        model.decode(np.zeros((1, 3)))


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="at least two positive sizes"):
        ma.Autoencoder.mirrored([6])
    with pytest.raises(ValueError, match="at least two positive sizes"):
        ma.Autoencoder.mirrored([6, 0])
