"""miniae.compare: the compare-pca command, its data loading and its figures."""

import numpy as np
import pytest

from miniae import MiniaeInputError
from miniae import compare
from miniae.cli import main


def test_quick_command_on_digits_prints_table_and_writes_figures(tmp_path, capsys):
    assert main(["compare-pca", "--quick", "--max-code", "2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "PCA MSE" in out and "max angle" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:2].strip().isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2]
    pca_mse, linear_mse, nonlinear_mse = (float(v) for v in rows[1][1:4])
    assert linear_mse <= 1.01 * pca_mse
    assert nonlinear_mse < pca_mse
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


@pytest.mark.parametrize("content,suffix,message", [
    ("1,2,3\n4,oops,6\n", ".csv", "only numbers"),
    ("a,b\n1,2\n", ".csv", "no header"),
    ("1,2\n3,4\n5,6\n", ".txt", ".npy or .csv"),
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
    assert "no file" in capsys.readouterr().err


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
