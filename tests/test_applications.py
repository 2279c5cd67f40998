"""The lesson 07-08 experiments reach their targets with fixed seeds (numbers, not pictures)."""
from pathlib import Path

import numpy as np
import pytest

from miniae import applications
from miniae.datasets import smiley_faces
from miniae.latent import apply_attribute, attribute_vector


@pytest.fixture(scope="module")
def smile():
    return applications.smile_vector_experiment(seed=0)


def test_smile_vector_moves_measured_smile_by_at_least_half_the_gap(smile):
    """Frowning test faces, moved by +1 smile vector, are measured (ridge on raw images) as
    smiling more by at least half of the measured smile-frown gap of the labelled faces."""
    assert smile["gap"] > 1.2  # the meter separates smiling and frowning faces
    assert smile["shift_fraction"] >= 0.5, f"moved by {smile['shift_fraction']:.2f} of the gap"
    assert np.all(np.diff(smile["measured"]) > 0)  # more of the vector, more smile


def test_a_vector_between_two_unlabelled_groups_does_not_make_faces_smile(smile):
    """The control: the same recipe with 20 + 20 faces picked without looking at the smile."""
    X, _ = smiley_faces(400, seed=2)
    shifts = []
    for seed in range(3):
        picked = np.random.default_rng(seed).permutation(len(X))[:40]
        vector = attribute_vector(smile["model"], X[picked[:20]], X[picked[20:]])
        moved = apply_attribute(smile["model"], smile["test_frowning"], vector, [0.0, 1.0])
        measured = [smile["meter"].predict(moved[:, i]).mean() for i in range(2)]
        shifts.append((measured[1] - measured[0]) / smile["gap"])
    assert max(np.abs(shifts)) < 0.2 < smile["shift_fraction"]


def test_digit_anomalies_are_found_by_reconstruction_error():
    result = applications.digits_anomaly_experiment(seed=0)
    assert result["auc"] >= 0.85, f"ROC AUC {result['auc']:.3f}"
    # the 95% threshold raises about 5% false alarms on the training digits
    assert np.mean(result["train_scores"] > result["threshold"]) == pytest.approx(0.05, abs=0.01)


@pytest.fixture(scope="module")
def spectra_anomaly():
    return applications.spectra_anomaly_experiment(seed=0)


def test_spectra_with_an_extra_peak_are_found(spectra_anomaly):
    assert spectra_anomaly["auc"] >= 0.95, f"ROC AUC {spectra_anomaly['auc']:.3f}"
    assert spectra_anomaly["scores"].shape == (1000,) and spectra_anomaly["is_anomaly"].sum() == 500


def test_autoencoder_with_code_4_compresses_spectra_better_than_pca_with_4():
    result = applications.spectra_compression_experiment(code_sizes=(4,), seed=0)
    ae, pca = result["ae_mse"][0], result["pca_mse"][0]
    assert ae < pca, f"AE {ae:.5f} vs PCA {pca:.5f}"
    assert result["noise_floor"] < ae  # nobody beats the counting noise


def test_autoencoder_codes_predict_peak_centers_better_than_pca_scores():
    table = applications.spectra_features_experiment(code_size=4, seed=0)
    ae, pca = table["autoencoder code (4)"]["center"], table["PCA scores (4)"]["center"]
    assert ae > 0.9 and ae > pca + 0.05, f"R^2 AE {ae:.3f}, PCA {pca:.3f}"


def test_make_figures_writes_every_listed_figure(tmp_path):
    paths = applications.make_figures(tmp_path, quick=True)
    assert sorted(Path(p).name for p in paths) == sorted(applications.FIGURES)
    assert all(Path(p).stat().st_size > 5000 for p in paths)
