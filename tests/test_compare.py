"""miniae.compare: the compare-pca command, its training recipes, its data loading and its figures."""

import numpy as np
import pytest

from miniae import Callback, MiniaeInputError, compare
from miniae import pca as P
from miniae.cli import main


def test_quick_command_on_digits_prints_table_and_writes_figures(tmp_path, capsys):
    assert main(["compare-pca", "--quick", "--max-code", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "PCA MSE" in out and "max angle" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:2].strip().isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2]
    pca_mse, linear_mse = (float(v) for v in rows[1][1:3])             # training rows
    pca_held_out, nonlinear_held_out = (float(v) for v in rows[1][-3:-1])  # held-out rows, then the time
    assert linear_mse <= 1.01 * pca_mse
    assert nonlinear_held_out < pca_held_out
    assert "held-out" in out
    for name in ("pca_vs_ae.png", "pca_vs_ae_reconstructions.png"):  # the command's own figures
        assert (tmp_path / name).stat().st_size > 5000


def test_csv_data_that_is_not_square_images(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3)) @ rng.standard_normal((3, 7)) + 0.05 * rng.standard_normal((120, 7))
    path = tmp_path / "data.csv"
    np.savetxt(path, X, delimiter=",")
    assert main(["compare-pca", "--data", str(path), "--quick", "--max-code", "3",
                 "--out", str(tmp_path / "figs")]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.strip()[:2].strip().isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2]  # --quick keeps 1, 2, 4, 8 below d=7 and --max-code 3
    assert (tmp_path / "figs" / "pca_vs_ae_reconstructions.png").exists()


@pytest.mark.parametrize("content,suffix,message", [  # io.read_data's messages, and compare's own size check
    ("1,2,3\n4,oops,6\n", ".csv", "line 2 column 2 is 'oops', not a number"),
    ("a,b\n1,2\n", ".csv", "header row"),
    ("1,2\n3,4\n5,6\n", ".json", ".npy or .csv"),
    ("1,2\n3,4\n", ".csv", "at least 3 rows"),
])
def test_bad_data_files_give_clear_errors(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(MiniaeInputError, match=message):
        compare.load_data(path)


def test_bad_npy_and_missing_file(tmp_path, capsys):
    path = tmp_path / "nan.npy"
    np.save(path, np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]))
    with pytest.raises(MiniaeInputError, match="NaN"):
        compare.load_data(path)
    np.save(tmp_path / "words.npy", np.array([["a", "b"]] * 3))
    with pytest.raises(MiniaeInputError, match="numbers"):
        compare.load_data(tmp_path / "words.npy")
    assert main(["compare-pca", "--data", str(tmp_path / "missing.npy")]) == 2
    assert "no data file" in capsys.readouterr().err


def test_split_holds_out_a_quarter_of_the_rows_apart_from_the_training_rows():
    X = np.arange(40.0).reshape(20, 2)
    train, held = compare.split(X, seed=3)
    assert len(held) == 5 and len(train) == 15
    assert sorted(np.r_[train[:, 0], held[:, 0]]) == sorted(X[:, 0])   # every row once, in one part
    assert not np.array_equal(held, compare.split(X, seed=4)[1])       # the seed picks the rows


def test_code_sizes_stay_below_the_feature_count():
    X = np.zeros((50, 5))
    assert compare.code_sizes_for(X, 16, False, 2) == [1, 2, 3, 4]
    assert compare.code_sizes_for(X, 16, True, 2) == [1, 2, 4]
    with pytest.raises(MiniaeInputError, match="positive"):
        compare.code_sizes_for(X, 0, False, 2)


def test_quick_run_leaves_the_committed_figures_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare-pca", "--quick", "--max-code", "1", "--show-code", "1"]) == 0
    assert (tmp_path / "compare-pca-figures" / "pca_vs_ae.png").exists()
    assert "compare-pca-figures" in capsys.readouterr().out


def test_make_figures_writes_only_the_commands_two_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(compare, "QUICK_CODE_SIZES", (2,))  # one code size is enough here
    paths = compare.make_figures(tmp_path, quick=True)
    assert sorted(p.rsplit("/", 1)[-1] for p in paths) == sorted(compare.FIGURES) == [
        "pca_vs_ae.png", "pca_vs_ae_reconstructions.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(compare.FIGURES)


# The training recipes: the numbers the command relies on (digits, fixed seeds).
_TRAINED = {}


def trained_linear_ae(X, k):
    """train_linear_ae(X, k, seed=0), trained once per test session."""
    if k not in _TRAINED:
        _TRAINED[k] = compare.train_linear_ae(X, k, seed=0)
    return _TRAINED[k]


@pytest.mark.parametrize("k", [2, 4, 10])
def test_linear_ae_reaches_pca(digits, digits_pca, k):
    model = trained_linear_ae(digits, k)
    mse = float(np.mean((model.reconstruct(digits) - digits) ** 2))
    assert mse <= 1.01 * P.PCA(k).fit(digits).reconstruction_mse(digits)
    angle = P.max_principal_angle(P.decoder_subspace(model), digits_pca.components_[:k].T)
    assert angle < 2.0


def test_trained_basis_is_neither_orthogonal_nor_ordered_but_recoverable(digits, digits_pca):
    model = trained_linear_ae(digits, 4)
    W_dec = P.linear_ae_weights(model)[2]
    gram = W_dec @ W_dec.T
    assert np.abs(gram - np.diag(np.diag(gram))).max() > 0.05  # the raw basis is not orthogonal
    directions, variances = P.components_from_linear_ae(model, digits)
    np.testing.assert_allclose(variances, digits_pca.explained_variance_[:4], rtol=0.02)
    assert np.all(P.direction_angles(directions, digits_pca.components_[:4]) < 3.0)


def test_weight_decay_makes_the_decoder_alone_give_the_directions(digits, digits_pca):
    model = compare.train_linear_ae(digits, 4, weight_decay=1e-3, seed=0)
    W_enc, _, W_dec, _ = P.linear_ae_weights(model)
    np.testing.assert_allclose(W_enc, W_dec.T, atol=1e-3)  # the encoder is the decoder's transpose
    directions, singular_values = P.decoder_directions(model)  # weights only, no data
    assert np.all(P.direction_angles(directions, digits_pca.components_[:4]) < 5.0)
    assert np.all(np.diff(singular_values) < 0)  # ordered like the variances
    # ...but the raw rows are still rotated (free O): ordered decay fixes that (test_ordered_decay.py)
    assert P.direction_angles(W_dec, digits_pca.components_[:4]).max() > 10.0


def test_train_linear_ae_passes_callbacks_to_both_fits(digits):
    class Counter(Callback):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, epoch, logs):
            self.epochs += 1
            return False

    counter = Counter()
    compare.train_linear_ae(digits[:200], 2, epochs=2, full_batch_steps=3, callbacks=[counter])
    assert counter.epochs == 5


def test_nonlinear_ae_beats_pca_at_code_size_2(digits):
    model = compare.train_nonlinear_ae(digits, 2, seed=0)
    mse = float(np.mean((model.reconstruct(digits) - digits) ** 2))
    assert mse <= 0.75 * P.PCA(2).fit(digits).reconstruction_mse(digits)


def test_ordered_decay_as_a_strength_becomes_the_penalty_weights(digits):
    model = compare.train_linear_ae(digits[:200], 2, ordered_decay=0.8, epochs=1, full_batch_steps=0)
    (penalty,) = model.penalties
    np.testing.assert_allclose(penalty.lams, P.ordered_decay_weights(digits[:200], 2, strength=0.8))
