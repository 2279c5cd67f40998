"""Bad input to fit, encode and reconstruct: one clear ValueError that names the problem."""
import numpy as np
import pytest

import miniae as ma
from miniae.validation import (
    MAX_LAYER_WEIGHTS,
    MiniaeInputError,
    check_shape,
    check_size,
    check_size_pair,
    check_sizes,
    check_weight_count,
)


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


# ------------------------------------------------------------------ issue 25: one way to read a size
@pytest.mark.parametrize("value", [8.0, 8.5, "8", None, float("nan"), float("inf"), (3, 3), [3], True, 0, -2])
def test_a_size_is_an_integer_or_refused_by_its_name(value):
    with pytest.raises(MiniaeInputError, match="my_size"):
        check_size(value, "my_size")


def test_a_size_keeps_numpy_integers_and_a_padding_may_be_zero():
    assert check_size(np.int64(3), "n") == 3 and type(check_size(np.int64(3), "n")) is int
    assert check_size(0, "padding", minimum=0) == 0
    with pytest.raises(ValueError, match="padding must be an integer >= 0, got -1"):
        check_size(-1, "padding", minimum=0)


@pytest.mark.parametrize("value, expected", [(3, (3, 3)), ((2, 3), (2, 3)), ([np.int32(1), 4], (1, 4))])
def test_a_pair_is_one_size_or_two(value, expected):
    assert check_size_pair(value, "kernel_size") == expected


@pytest.mark.parametrize("value, fragment", [((3, 3, 3), "kernel_size must be an integer or a pair"),
                                             ((3, 2.5), r"kernel_size\[1\]"), ("3", "kernel_size"),
                                             (float("nan"), "kernel_size")])
def test_a_bad_pair_is_refused_by_name(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_size_pair(value, "kernel_size")


@pytest.mark.parametrize("value, fragment", [((1, 8.5, 8), r"input_shape\[1\]"), ((1, 8), "3 positive integers"),
                                             ("816", "input_shape must be a tuple"), (None, "input_shape"),
                                             ((), "input_shape")])
def test_a_bad_shape_is_refused_by_name(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_shape(value, "input_shape", length=3)


def test_a_layer_beyond_the_weight_limit_is_refused_before_allocating():
    assert check_weight_count(MAX_LAYER_WEIGHTS, "a layer") == MAX_LAYER_WEIGHTS
    with pytest.raises(ValueError, match="a layer would have 1e\\+12 weights, more than miniae's limit"):
        check_weight_count(10 ** 12, "a layer")
    with pytest.raises(ValueError, match=r"sizes \[4, 1000000000000\]: the layer 4 -> 1000000000000"):
        check_sizes([4, 10 ** 12])
