"""The ``miniae`` command: --help everywhere, train, and one-line errors with exit code 2."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from miniae import cli, datasets, io, penalties

REPO = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", [[], ["train"], ["gradcheck"], ["compare-pca"], ["figures"]])
def test_help_everywhere(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv + ["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: miniae")
    if argv == ["train"]:
        for option in ("--data", "--code-size", "--epochs", "--seed", "--out"):
            assert option in out


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 0 and "train" in out and "gradcheck" in out


def test_train_ae_on_digits_prints_progress_metrics_and_saves(capsys, tmp_path):
    code, out, err = run(capsys, "train", "ae", "--epochs", "3", "--code-size", "4", "--out",
                         str(tmp_path / "m.npz"))
    assert code == 0, err
    assert "epoch 1/3" in out and "epoch 3/3" in out and "val_loss" in out
    assert "test MSE" in out and "PCA with 4 components" in out
    model = io.load(tmp_path / "m.npz")
    assert model.code_size == 4 and model.n_features == 64


@pytest.mark.parametrize("kind", ["sparse", "denoising", "contractive", "vae"])
def test_train_each_kind(capsys, kind, tmp_path):
    code, out, err = run(capsys, "train", kind, "--epochs", "2", "--quiet", "--out", str(tmp_path / "m.npz"))
    assert code == 0, err
    assert "test MSE" in out
    assert type(io.load(tmp_path / "m.npz")).__name__ == ("VAE" if kind == "vae" else "Autoencoder")


@pytest.mark.parametrize("name", ["digits", "faces", "spectra", "patches"])
def test_each_named_dataset_trains_or_gives_a_clear_error(capsys, name):
    code, out, err = run(capsys, "train", "ae", "--data", name, "--epochs", "1", "--quiet")
    if hasattr(datasets, cli.DATASETS[name]):
        assert code == 0, err
        assert f"training ae on {name}" in out
    else:  # its module has not landed yet
        assert code == 2 and err.count("\n") == 1
        assert f"needs miniae.datasets.{cli.DATASETS[name]}, which this version of miniae does not have yet" in err


def test_train_never_overwrites_the_data_or_an_existing_file_unasked(capsys, tmp_path):
    data = tmp_path / "d.csv"
    np.savetxt(data, np.random.default_rng(0).uniform(size=(30, 4)), delimiter=",")
    before = data.read_bytes()
    code, _, err = run(capsys, "train", "ae", "--data", str(data), "--out", str(data), "--epochs", "1", "--force")
    assert code == 2 and "--data file" in err and data.read_bytes() == before
    other = tmp_path / "m.npz"
    other.write_bytes(b"keep me")
    code, _, err = run(capsys, "train", "ae", "--data", str(data), "--out", str(other), "--epochs", "1")
    assert code == 2 and "--force" in err and other.read_bytes() == b"keep me"
    code, _, _ = run(capsys, "train", "ae", "--data", str(data), "--out", str(other), "--epochs", "1", "--quiet",
                     "--hidden", "0", "--code-size", "2", "--force")
    assert code == 0 and io.load(other).code_size == 2


def test_train_kinds_build_the_penalty_or_noise_they_name(capsys, tmp_path):
    for kind, check in (("sparse", lambda m: isinstance(m.penalties[0], penalties.L1Sparsity)),
                        ("denoising", lambda m: m.noise is not None and not m.penalties)):
        run(capsys, "train", kind, "--epochs", "1", "--quiet", "--out", str(tmp_path / f"{kind}.npz"))
        assert check(io.load(tmp_path / f"{kind}.npz")), kind


def test_train_on_a_csv_file(capsys, tmp_path):
    X = np.random.default_rng(0).uniform(0, 1, (50, 5))
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    code, out, err = run(capsys, "train", "ae", "--data", str(tmp_path / "x.csv"), "--code-size", "2",
                         "--epochs", "2", "--quiet")
    assert code == 0, err
    assert "40 train / 10 test samples, 5 features" in out


def test_same_seed_gives_bit_identical_saved_models(capsys, tmp_path):
    for name in ("a", "b"):
        run(capsys, "train", "denoising", "--epochs", "2", "--quiet", "--seed", "3", "--out", str(tmp_path / name))
    a, b = io.load(tmp_path / "a"), io.load(tmp_path / "b")
    for (name, x, _), (_, y, _) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(x, y), name


def _bad_files(tmp_path):
    (tmp_path / "header.csv").write_text("x1,x2,x3\n1,2,3\n4,5,6\n")
    (tmp_path / "missing.csv").write_text("1,2,3\n4,,6\n")
    np.save(tmp_path / "images.npy", np.zeros((5, 8, 8)))
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [2.0, 3.0]]))
    return {
        "no such file": ([str(tmp_path / "nope.csv")], "no data file at"),
        "csv with a header": ([str(tmp_path / "header.csv")], "not a number (a header row"),
        "csv with missing values": ([str(tmp_path / "missing.csv")], "is empty (a missing value)"),
        "wrong shape": ([str(tmp_path / "images.npy")], "must be 2-D"),
        "NaN in data": ([str(tmp_path / "nan.npy")], "NaN or infinite"),
        "unknown dataset": (["cifar"], "neither a dataset"),
    }


@pytest.mark.parametrize("case", ["no such file", "csv with a header", "csv with missing values",
                                  "wrong shape", "NaN in data", "unknown dataset"])
def test_bad_data_gives_one_line_and_exit_code_2(capsys, tmp_path, case):
    data, fragment = _bad_files(tmp_path)[case]
    code, out, err = run(capsys, "train", "ae", "--epochs", "1", "--data", *data)
    assert code == 2
    assert err.startswith("miniae: error: ") and err.count("\n") == 1
    assert fragment in err


@pytest.mark.parametrize("argv, fragment", [
    (["train", "gan"], "invalid choice"),
    (["train", "ae", "--epochs", "0"], "expected a positive integer"),
    (["train", "ae", "--lr", "nan"], "expected a positive number"),
    (["train", "ae", "--code-size", "two"], "expected a positive integer"),
])
def test_bad_options_exit_2_with_usage(capsys, argv, fragment):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    assert fragment in capsys.readouterr().err


def test_python_dash_m_miniae_never_shows_a_traceback(tmp_path):
    (tmp_path / "header.csv").write_text("a,b\n1,2\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "miniae", "train", "ae", "--data", str(tmp_path / "header.csv")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "a header row" in result.stderr


@pytest.mark.parametrize("argv,name", [(["train", "ae", "--seed", "-1"], "--seed"),
                                       (["train", "denoising", "--noise", "nan"], "--noise"),
                                       (["train", "denoising", "--noise", "1.5"], "--noise"),
                                       (["gradcheck", "--seed", "x"], "--seed")])
def test_bad_arguments_are_refused_by_name(capsys, argv, name):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2 and name in capsys.readouterr().err



# ------------------------------------------------------------------ issue 25
@pytest.mark.parametrize("argv, name", [
    (["train", "ae", "--code-size", "1000000000000"], "--code-size"),
    (["train", "conv", "--code-size", "1000000000000"], "--code-size"),
    (["train", "vae", "--hidden", "1000000000"], "--hidden"),
    (["train", "ae", "--hidden", "100000", "--code-size", "100000"], "--hidden and --code-size"),
    (["train", "conv", "--hidden", "16"], "--hidden does not apply to train conv"),
    (["train", "contractive", "--hidden", "0"], "--hidden does not apply to train contractive"),
])
def test_sizes_that_cannot_be_built_exit_2_with_one_line_naming_the_option(capsys, argv, name):
    code, out, err = run(capsys, *argv, "--epochs", "1", "--quiet")
    assert code == 2 and err.startswith("miniae: error: ") and err.count("\n") == 1
    assert name in err and "training" not in out  # refused before any model is built


def test_an_absurd_learning_rate_is_refused_up_front(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "conv", "--lr", "1e6", "--epochs", "1"])
    assert stop.value.code == 2 and "--lr" in capsys.readouterr().err


def test_a_model_no_better_than_the_mean_is_reported(capsys):
    """At --lr 1 the conv autoencoder's ReLUs die and it outputs the same image for every input."""
    code, out, err = run(capsys, "train", "conv", "--lr", "1", "--epochs", "2", "--quiet")
    assert code == 0 and "no better than the mean sample" in err


def test_out_into_a_missing_folder_names_the_users_path_before_training(capsys, tmp_path):
    out = tmp_path / "missing" / "m.npz"
    code, stdout, err = run(capsys, "train", "ae", "--epochs", "1", "--quiet", "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and str(out) in err and ".tmp" not in err
    assert "training" not in stdout
