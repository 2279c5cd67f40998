"""fit: it learns, it beats PCA on the digits, it stops early, it survives divergence."""
import io

import numpy as np
import pytest
from sklearn.decomposition import PCA

import miniae as ma
from miniae.datasets import load_digits
from miniae.train import evaluate


@pytest.fixture(scope="module")
def digits():
    return load_digits()[0]


def test_digits_autoencoder_beats_pca_with_eight_components(digits):
    pca = PCA(8).fit(digits)
    pca_mse = np.mean((pca.inverse_transform(pca.transform(digits)) - digits) ** 2)
    model = ma.Autoencoder.mirrored([64, 32, 8], activation="relu", output="sigmoid", rng=0)
    history = ma.fit(model, digits, epochs=100, batch_size=64, optimizer=ma.Adam(3e-3))
    ae_mse = np.mean((model.reconstruct(digits) - digits) ** 2)
    assert ae_mse < pca_mse, (ae_mse, pca_mse)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert len(history) == 100


def test_float32_trains_end_to_end_and_stays_float32(digits):
    X = digits.astype(np.float32)
    model = ma.Autoencoder.mirrored([64, 16, 4], activation="relu", output="sigmoid", rng=0, dtype=np.float32)
    seen = []
    step = model.loss_and_grads

    def spy(batch):  # record the dtype of every array the step leaves behind
        loss = step(batch)
        seen.extend(g.dtype for _, _, g in model.named_parameters())
        seen.extend(layer.__dict__[k].dtype for part in (model.encoder, model.decoder) for layer in part.layers
                    for k in ("x", "y") if isinstance(layer.__dict__.get(k), np.ndarray))
        return loss

    model.loss_and_grads = spy
    history = ma.fit(model, X, epochs=5, batch_size=64, optimizer=ma.Adam(3e-3))
    assert set(seen) == {np.dtype(np.float32)}
    assert all(v.dtype == np.float32 for _, v, _ in model.named_parameters())
    assert history["loss"][-1] < history["loss"][0]
    assert model.reconstruct(X).dtype == np.float32


def test_each_optimizer_decreases_the_loss(digits):
    X = digits[:300]
    for optimizer in (ma.SGD(0.5), ma.Momentum(0.1), ma.Momentum(0.1, nesterov=True), ma.Adam(1e-2)):
        model = ma.Autoencoder.mirrored([64, 16], activation="identity", rng=0)
        history = ma.fit(model, X, epochs=15, batch_size=32, optimizer=optimizer)
        assert history["loss"][-1] < 0.7 * history["loss"][0], optimizer


def test_validation_and_terms_are_logged(digits):
    model = ma.Autoencoder.mirrored([64, 8], activation="tanh", penalties=[ma.L1Sparsity(1e-3)], rng=0)
    history = ma.fit(model, digits[:200], epochs=3, batch_size=50, validation=digits[200:300])
    for key in ("loss", "recon", "l1", "val_loss", "val_recon", "val_l1"):
        assert len(history[key]) == 3, key
    assert history["loss"][0] == pytest.approx(history["recon"][0] + history["l1"][0])
    terms = evaluate(model, model.validate(digits[200:300]))
    assert terms["loss"] == pytest.approx(history["val_loss"][-1])


def test_early_stopping_restores_best_weights(digits):
    model = ma.Autoencoder.mirrored([64, 8], activation="identity", rng=0)
    # a learning rate high enough that validation loss bounces, so patience runs out
    stopper = ma.EarlyStopping(monitor="val_loss", patience=3)
    history = ma.fit(model, digits[:400], epochs=200, batch_size=400, optimizer=ma.SGD(2.5),
                     validation=digits[400:600], callbacks=[stopper])
    assert stopper.stopped_epoch is not None and len(history) < 200
    best = min(history["val_loss"])
    final = evaluate(model, model.validate(digits[400:600]))["loss"]
    assert final == pytest.approx(best, rel=1e-9)


def test_learning_rate_schedule_sets_lr_each_epoch(digits):
    optimizer = ma.Adam(1e-2)
    seen = []

    class Record(ma.Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(self.optimizer.lr)

    ma.fit(ma.Autoencoder.linear(64, 2, rng=0), digits[:100], epochs=4, batch_size=50, optimizer=optimizer,
           callbacks=[ma.LearningRateSchedule(lambda epoch, lr: lr / epoch), Record()])
    assert seen == pytest.approx([1e-2, 5e-3, 1e-2 / 3, 2.5e-3])


def test_progress_prints_one_line_per_reported_epoch(digits):
    out = io.StringIO()
    ma.fit(ma.Autoencoder.linear(64, 2, rng=0), digits[:100], epochs=20, batch_size=50,
           callbacks=[ma.Progress(every=5, stream=out)])
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1/20", "5/20", "10/20", "15/20", "20/20"]
    assert "loss" in lines[0]


def test_verbose_false_prints_nothing(digits, capsys):
    ma.fit(ma.Autoencoder.linear(64, 2, rng=0), digits[:100], epochs=2, verbose=False)
    assert capsys.readouterr().out == ""
    ma.fit(ma.Autoencoder.linear(64, 2, rng=0), digits[:100], epochs=2, verbose=True)
    assert "epoch 2/2" in capsys.readouterr().out


def test_divergence_stops_with_clear_error_and_finite_weights(digits):
    model = ma.Autoencoder.mirrored([64, 32, 8], activation="relu", rng=0)
    with pytest.raises(ma.DivergenceError, match=r"epoch \d+.*finite weights"):
        ma.fit(model, digits * 1000, epochs=50, batch_size=32, optimizer=ma.SGD(10.0))
    assert all(np.all(np.isfinite(v)) for _, v, _ in model.named_parameters())
    assert np.all(np.isfinite(model.reconstruct(digits[:5])))


def test_same_seed_same_result(digits):
    def run():
        model = ma.Autoencoder.mirrored([64, 8], activation="tanh", noise=ma.MaskingNoise(0.2), rng=5)
        ma.fit(model, digits[:200], epochs=3, batch_size=32)
        return model.get_weights()

    a, b = run(), run()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_growing_loss_is_divergence_and_best_weights_come_back(digits):
    # full-batch SGD at lr 6 on a linear AE: the loss bounces, then grows without bound
    model = ma.Autoencoder.mirrored([64, 8], activation="identity", rng=0)
    start = model.get_weights()
    with pytest.raises(ma.DivergenceError, match=r"grew from 0.3346 \(epoch 0\) to .* in epoch 3"):
        ma.fit(model, digits[:400], epochs=50, batch_size=400, optimizer=ma.SGD(6.0))
    assert all(np.array_equal(value, start[name]) for name, value, _ in model.named_parameters())
