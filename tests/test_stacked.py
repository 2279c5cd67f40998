"""Greedy layer-wise training and stacking (miniae.train.train_greedy, stack)."""
import numpy as np
import pytest

from miniae import Adam, Autoencoder, MaskingNoise, fit, gradcheck
from miniae.datasets import load_digits
from miniae.penalties import Contractive
from miniae.train import stack, train_greedy


def test_stack_runs_the_shallow_encoders_in_order_and_decoders_in_reverse():
    rng = np.random.default_rng(0)
    first = Autoencoder.mirrored([6, 4], activation="tanh", code_activation="tanh", rng=rng)
    second = Autoencoder.mirrored([4, 2], activation="tanh", code_activation="tanh", output="tanh", rng=rng)
    deep = stack([first, second])
    X = rng.uniform(0, 1, (5, 6))
    assert np.allclose(deep.encode(X), second.encode(first.encode(X)))
    assert np.allclose(deep.reconstruct(X), first.decode(second.decode(deep.encode(X))))
    # the deep model owns copies: training it leaves the shallow ones as they were
    before = first.get_weights()
    fit(deep, X, epochs=2, batch_size=5)
    assert all(np.array_equal(before[k], v) for k, v in first.get_weights().items())


def test_stack_refuses_mismatched_sizes():
    with pytest.raises(ValueError, match="cannot stack"):
        stack([Autoencoder.mirrored([6, 4], rng=0), Autoencoder.mirrored([3, 2], rng=0)])


@pytest.mark.parametrize("sizes", [[8, 5, 3], [7, 6, 4, 2]])
def test_stacked_model_gradient(sizes):
    rng = np.random.default_rng(len(sizes))
    X = rng.uniform(0, 1, (20, sizes[0]))
    deep, shallow, histories = train_greedy(sizes, X, activation="tanh", output="sigmoid", epochs=2, rng=rng)
    assert len(shallow) == len(histories) == len(sizes) - 1
    assert deep.code_size == sizes[-1] and deep.n_features == sizes[0]
    report = gradcheck.check_model(deep, X[:4], threshold=1e-7)
    assert report, str(report)


def test_greedy_layers_can_be_contractive_and_denoising():
    X, _ = load_digits("train")
    deep, shallow, _ = train_greedy([64, 32, 16], X[:300], penalties=[Contractive(0.01)], noise=MaskingNoise(0.2),
                                    epochs=2, rng=0)
    assert all(isinstance(m.penalties[0], Contractive) for m in shallow)
    assert shallow[0].penalties[0] is not shallow[1].penalties[0]  # each layer its own copy
    assert deep.penalties == [] and deep.noise is None


def test_greedy_pretraining_then_fine_tuning_beats_direct_training_on_the_same_budget():
    """64-32-8-32-64 sigmoid AE on the digits: 20 epochs per layer + 20 of fine-tuning vs 40 epochs direct."""
    X_train, X_test, _, _ = load_digits("both")
    deep, shallow, _ = train_greedy([64, 32, 8], X_train, epochs=20, lr=3e-3, rng=0)
    pretrained = deep.reconstruction_error(X_test).mean()
    fit(deep, X_train, epochs=20, optimizer=Adam(3e-3))
    stacked = deep.reconstruction_error(X_test).mean()
    direct = Autoencoder.mirrored([64, 32, 8], activation="sigmoid", code_activation="sigmoid", output="sigmoid",
                                  rng=0)
    fit(direct, X_train, epochs=40, optimizer=Adam(3e-3))
    direct_error = direct.reconstruction_error(X_test).mean()
    assert stacked < pretrained  # fine-tuning end to end improves on the stacked layers
    assert stacked < direct_error, (stacked, direct_error)
