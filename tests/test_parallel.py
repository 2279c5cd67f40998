"""A batch split over threads (miniae.parallel): the same gradient as one pass, chosen only where it
pays and is safe, and nothing left behind (threads, BLAS limits) however fit ends."""
import sys
import threading
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import miniae as ma
from miniae import parallel
from miniae.exercises import own_work
from miniae.layers import Conv2D
from miniae.penalties import KLSparsity
from miniae.validation import MiniaeInputError


def conv_model(size=8, up="upsample", dtype=np.float64, **kwargs):
    """A small conv hourglass; ``kwargs`` (noise, penalties) rebuild it as Autoencoder(encoder, decoder, ...)."""
    model = ma.Autoencoder.conv((1, size, size), channels=(3, 4), code_size=5, up=up, rng=0, dtype=dtype)
    return ma.Autoencoder(model.encoder, model.decoder, rng=0, **kwargs) if kwargs else model


def images(n, size=8, seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, size=(n, size * size))


def split_threads():
    return [t for t in threading.enumerate() if t.name.startswith("miniae-split")]


def blas_thread_counts():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def conv1d_model():
    from miniae.layers import Conv1D, Dense, Flatten, ReLU, Reshape, Sequential
    encoder = Sequential(Reshape((1, 64)), Conv1D(1, 3, 5, stride=2, padding=2, rng=0), ReLU(), Flatten(),
                         Dense(96, 4, rng=0))
    decoder = Sequential(Dense(4, 64, rng=0))
    return ma.Autoencoder(encoder, decoder, rng=0)


@pytest.mark.parametrize("build", [lambda: conv_model(), lambda: conv_model(up="transpose"), conv1d_model,
                                   lambda: ma.Autoencoder.mirrored([64, 16, 4], output="sigmoid", loss="bce", rng=0),
                                   lambda: ma.Autoencoder.sequence(8, 8, hidden=5, code_size=3, rng=0)],
                         ids=["conv-upsample", "conv-transpose", "conv1d", "dense-bce", "lstm"])
@pytest.mark.parametrize("rows, workers", [(8, 2), (7, 2), (7, 3), (2, 3)])
def test_split_gives_the_gradient_of_one_pass(build, rows, workers):
    model = build()
    X = images(rows)
    loss = model.loss_and_grads(X)
    grad, terms = model.grad.copy(), dict(model.last_terms)
    model.grad[...] = np.nan  # the split must write every entry
    with parallel.BatchSplit(model, workers) as split:
        split_loss = split.loss_and_grads(X)
    np.testing.assert_allclose(split_loss, loss, rtol=1e-12)
    np.testing.assert_allclose(model.grad, grad, rtol=1e-10, atol=1e-15)
    assert model.last_terms.keys() == terms.keys()
    np.testing.assert_allclose(list(model.last_terms.values()), list(terms.values()), rtol=1e-12)
    # a wrong weighting is rejected: the plain mean of unequal parts is off by far more
    if rows % workers and rows > workers:
        halves = np.array_split(X, workers)
        unweighted = np.mean([model.loss_and_grads(part) for part in halves])
        assert abs(unweighted - loss) > 1e-6 * abs(loss)


def test_a_replica_shares_theta_and_owns_its_grad():
    model = conv_model()
    twin = parallel.replica(model)
    assert twin.theta is model.theta and twin.grad is not model.grad
    for (_, value, _), (_, twin_value, twin_grad) in zip(model.named_parameters(), twin.named_parameters()):
        assert np.shares_memory(value, twin_value)
        assert not np.shares_memory(twin_grad, model.grad)
    model.theta[...] += 0.01  # an optimizer's step is seen by the replica
    X = images(4)
    np.testing.assert_array_equal(twin.reconstruct(X), model.reconstruct(X))
    twin.loss_and_grads(X)
    assert not np.any(model.grad)  # the replica's backward wrote its own grad only


def test_a_replica_does_not_copy_what_the_layers_kept_of_the_last_batch():
    model = conv_model()
    model.loss_and_grads(images(8))
    twin = parallel.replica(model)
    conv = twin.encoder.layers[1]
    assert conv.cols is None and model.encoder.layers[1].cols is not None
    twin.loss_and_grads(images(3))  # its own forward makes its own
    assert conv.cols.shape[0] == 3 * 8 * 8


def test_gather_parameters_refuses_a_theta_that_does_not_fit():
    model = conv_model()
    with pytest.raises(ValueError, match="cannot hold"):
        conv_model().gather_parameters(theta=model.theta[:-1])
    with pytest.raises(ValueError, match="cannot hold"):
        conv_model().gather_parameters(theta=model.theta.astype(np.float32))


def test_fit_split_trains_as_one_pass_and_repeats_its_bits():
    X = images(100, size=12)
    runs = {}
    for workers in (1, 2, 2):
        model = conv_model(size=12)
        history = ma.fit(model, X, epochs=3, batch_size=32, optimizer=ma.Adam(3e-3), validation=X[:20],
                         workers=workers)
        runs.setdefault(workers, []).append((model.theta.copy(), history["loss"]))
    (one, one_loss), = runs[1]
    (two, two_loss), (again, again_loss) = runs[2]
    assert one_loss[-1] < 0.95 * one_loss[0]  # it trains
    np.testing.assert_allclose(two, one, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(two_loss, one_loss, rtol=1e-9)
    np.testing.assert_array_equal(again, two)  # the same thread count gives the same bits


def test_fit_ends_its_threads_and_restores_blas_threads(monkeypatch):
    before = blas_thread_counts()
    model = conv_model()
    ma.fit(model, images(64), epochs=2, batch_size=32, workers=2)
    assert split_threads() == [] and blas_thread_counts() == before

    def broken(self, X):
        raise RuntimeError("a layer broke")
    monkeypatch.setattr(ma.Autoencoder, "loss_and_grads", broken)  # the class's own step: still splittable
    with pytest.raises(RuntimeError, match="a layer broke"):
        ma.fit(model, images(64), epochs=2, batch_size=32, workers=2)
    assert split_threads() == [] and blas_thread_counts() == before


def test_blas_is_one_thread_while_split_and_restored_after():
    model = conv_model()
    seen = []
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_thread_counts()
        with parallel.BatchSplit(model, 2) as split:
            seen = blas_thread_counts()
            split.loss_and_grads(images(8))
        assert blas_thread_counts() == outside
    assert seen and all(count == 1 for count in seen)


def test_a_diverging_split_fit_leaves_finite_weights():
    model = conv_model(size=12)
    X = images(64, size=12) * 1e3
    with pytest.raises(ma.DivergenceError):
        ma.fit(model, X, epochs=20, batch_size=32, optimizer=ma.SGD(lr=10.0), workers=2)
    assert np.all(np.isfinite(model.theta))
    assert split_threads() == []


def test_each_part_runs_under_the_callers_errstate(monkeypatch):
    def overflowing(self, X):  # the step of a model whose numbers overflow
        self.last_terms = {"recon": float(np.float32(3e38) * np.float32(10))}
        return self.last_terms["recon"]
    monkeypatch.setattr(ma.Autoencoder, "loss_and_grads", overflowing)
    model = conv_model(dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"), parallel.BatchSplit(model, 2) as split:
            assert split.loss_and_grads(images(8).astype(np.float32)) == np.inf  # no warning from a thread
        with np.errstate(over="raise"), parallel.BatchSplit(model, 2) as split:
            with pytest.raises(FloatingPointError):
                split.loss_and_grads(images(8).astype(np.float32))


def test_a_watched_fit_stays_on_the_watching_thread():
    """A profile hook (the exercises' own_work, coverage, a debugger) sees only its own thread: while
    one is set, fit does not split, so a check that refuses miniae's Conv2D still catches it."""
    model = conv_model(size=28)
    X = images(64, size=28)
    threads = set()

    def hook(frame, event, arg):
        if event == "call" and frame.f_code is Conv2D.backward.__code__:
            threads.add(threading.get_ident())
    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        ma.fit(model, X, epochs=1, batch_size=32, workers=2)
    finally:
        sys.setprofile(previous)
    assert threads == {threading.get_ident()}
    with pytest.raises(AssertionError, match="Conv2D"):
        with own_work(Conv2D):
            ma.fit(model, X, epochs=1, batch_size=64, workers=2)


def test_auto_splits_only_where_it_pays_and_is_safe(monkeypatch):
    monkeypatch.setattr(parallel, "blas_threads", lambda: 2)
    big = ma.Autoencoder.conv((1, 28, 28), channels=(8, 16), code_size=16, rng=0)
    assert parallel.auto_workers(big, 64) == 2  # 32 images of 784 pixels a part
    assert parallel.auto_workers(ma.Autoencoder.conv((1, 28, 28), up="transpose", rng=0), 64) == 2
    assert parallel.auto_workers(big, 16) == 1  # 8 a part: measured not to pay
    assert parallel.auto_workers(conv_model(), 64) == 1  # 8 x 8 images: too little work a call
    assert parallel.auto_workers(ma.Autoencoder.mirrored([784, 256, 32], rng=0), 256) == 1  # BLAS uses both
    assert parallel.auto_workers(ma.Autoencoder.sequence(50, 1, hidden=16, code_size=4, rng=0), 256) == 1
    noisy = ma.Autoencoder(big.encoder, big.decoder, noise="gaussian", rng=0)
    sparse = ma.Autoencoder(big.encoder, big.decoder, penalties=[KLSparsity(0.05, 1.0)], rng=0)
    assert parallel.auto_workers(noisy, 64) == 1 and parallel.auto_workers(sparse, 64) == 1

    class MyConv(Conv2D):  # a layer the user wrote (an exercise's answer) runs on the user's thread
        pass
    mine = ma.Autoencoder.conv((1, 28, 28), rng=0)
    layers = mine.encoder.layers
    layers[1] = MyConv(1, 8, 3, padding=1, rng=0)
    mine.gather_parameters()
    assert parallel.auto_workers(mine, 64) == 1
    monkeypatch.setattr(parallel, "blas_threads", lambda: 1)
    assert parallel.auto_workers(big, 64) == 1


def test_fit_splits_a_big_conv_model_by_itself(monkeypatch):
    monkeypatch.setattr(parallel, "blas_threads", lambda: 2)
    threads = set()
    step = ma.Autoencoder.loss_and_grads

    def watched_step(self, X):
        threads.add(threading.get_ident())
        return step(self, X)
    monkeypatch.setattr(ma.Autoencoder, "loss_and_grads", watched_step)  # still the class's own step
    model = ma.Autoencoder.conv((1, 28, 28), channels=(2, 4), code_size=4, rng=0, dtype=np.float32)
    ma.fit(model, images(64, size=28).astype(np.float32), epochs=1, batch_size=64)
    assert len(threads) == 2
    threads.clear()
    ma.fit(model, images(64, size=28).astype(np.float32), epochs=1, batch_size=64, workers=1)
    assert threads == {threading.get_ident()}


def test_blas_threads_reads_the_limit():
    with threadpool_limits(limits=1, user_api="blas"):
        assert parallel.blas_threads() == 1


@pytest.mark.parametrize("workers", [0, -1, 2.5, True, "2"])
def test_bad_workers_are_refused_by_name(workers):
    with pytest.raises(MiniaeInputError, match="workers"):
        ma.fit(conv_model(), images(16), epochs=1, workers=workers)


def wrapped_user_layer_model():
    from miniae.layers import Dense

    class MyDense(Dense):
        pass
    model = ma.Autoencoder.sequence(8, 8, hidden=5, code_size=3, rng=0)  # rows of 64, as images(16)
    model.decoder.layers[2].layer = MyDense(5, 8, rng=0)
    model.gather_parameters()
    return model


@pytest.mark.parametrize("build, reason", [
    (wrapped_user_layer_model, "MyDense"),
    (lambda: conv_model(noise="gaussian"), "noise"),
    (lambda: conv_model(penalties=[KLSparsity(0.05, 1.0)]), "penalty"),
    (lambda: ma.VAE.mirrored([64, 16, 4], rng=0), "VAE"),
])
def test_workers_on_a_model_that_cannot_be_split_is_refused(build, reason):
    model = build()
    with pytest.raises(MiniaeInputError, match=f"workers=2.*{reason}"):
        ma.fit(model, images(16), epochs=1, workers=2)
    assert split_threads() == []

