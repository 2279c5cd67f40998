"""miniae.estimators: the scikit-learn contract (check_estimator), Pipelines, GridSearchCV."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from miniae import io
from miniae.datasets import load_digits
from miniae.estimators import AutoencoderTransformer, VAETransformer


def _fast_estimators():
    """Tiny instances, so the ~45 checks of each estimator take seconds, not minutes."""
    return [AutoencoderTransformer(code_size=2, hidden_sizes=(4,), epochs=3),
            VAETransformer(code_size=2, hidden_sizes=(4,), epochs=3)]


# No check is skipped by us.  scikit-learn itself skips check_array_api_input unless the
# environment sets SCIPY_ARRAY_API=1 (our estimators compute in NumPy and do not claim
# array-API support, so that check does not apply).
@parametrize_with_checks(_fast_estimators())
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits()
    return X[:600]


def test_transform_is_the_code_and_inverse_transform_decodes(digits):
    est = AutoencoderTransformer(code_size=8, hidden_sizes=(32,), epochs=40, learning_rate=3e-3,
                                 random_state=0).fit(digits)
    code = est.transform(digits)
    assert code.shape == (600, 8)
    assert np.array_equal(code, est.model_.encode(digits))
    recon = est.inverse_transform(code)
    assert recon.shape == digits.shape
    mse = np.mean((recon - digits) ** 2)
    assert est.score(digits) == pytest.approx(-mse)
    # much better than predicting the mean image
    assert mse < 0.5 * np.mean((digits - digits.mean(axis=0)) ** 2)
    assert list(est.get_feature_names_out()) == [f"autoencodertransformer{i}" for i in range(8)]
    assert est.n_features_in_ == 64 and est.n_iter_ == 40 and len(est.history_["loss"]) == 40


def test_same_random_state_gives_bit_identical_results(digits):
    make = AutoencoderTransformer(code_size=3, epochs=5, noise_std=0.1, random_state=7).fit
    assert np.array_equal(make(digits).transform(digits), make(digits).transform(digits))
    other = AutoencoderTransformer(code_size=3, epochs=5, noise_std=0.1, random_state=8).fit(digits)
    assert not np.array_equal(make(digits).transform(digits), other.transform(digits))


def test_in_a_pipeline_after_a_scaler(digits):
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(code_size=4, epochs=10, random_state=0))
    code = pipe.fit_transform(digits)
    assert code.shape == (600, 4) and np.all(np.isfinite(code))
    assert np.isfinite(pipe.score(digits))
    assert list(pipe.get_feature_names_out())[:2] == ["autoencodertransformer0", "autoencodertransformer1"]


def test_grid_search_prefers_the_larger_code(digits):
    """score = -reconstruction error, so a wider code must win on held-out folds."""
    grid = GridSearchCV(AutoencoderTransformer(hidden_sizes=(), epochs=30, learning_rate=1e-2, random_state=0),
                        {"code_size": [1, 12]}, cv=3)
    grid.fit(digits)
    assert grid.best_params_ == {"code_size": 12}
    scores = grid.cv_results_["mean_test_score"]
    assert scores[1] > scores[0]


@pytest.mark.parametrize("params", [dict(sparsity=1e-3), dict(weight_decay=1e-3), dict(noise_std=0.2),
                                    dict(activation="identity", hidden_sizes=()),
                                    dict(loss="bce", output="sigmoid", activation="tanh")])
def test_every_option_builds_the_model_it_names(digits, params):
    est = AutoencoderTransformer(code_size=4, epochs=2, random_state=0, **params).fit(digits)
    model = est.model_
    names = {p.name for p in model.penalties}
    assert ("l1" in names) == ("sparsity" in params)
    assert ("weight_decay" in names) == ("weight_decay" in params)
    assert (model.noise is not None) == ("noise_std" in params)
    assert np.all(np.isfinite(est.transform(digits)))


def test_hyperparameters_are_untouched_and_cloneable():
    est = AutoencoderTransformer(code_size=5, hidden_sizes=[16, 8])
    assert est.get_params()["hidden_sizes"] == [16, 8]
    assert clone(est).get_params() == est.get_params()


def test_unfitted_transform_is_refused():
    with pytest.raises(NotFittedError):
        AutoencoderTransformer().transform(np.zeros((2, 3)))


def test_fitted_model_can_be_saved_with_miniae_io(digits, tmp_path):
    est = AutoencoderTransformer(code_size=3, epochs=3, random_state=0).fit(digits)
    io.save(est.model_, tmp_path / "est.npz")
    assert np.array_equal(io.load(tmp_path / "est.npz").encode(digits), est.transform(digits))


def test_vae_transformer_in_a_pipeline_gives_posterior_means(digits):
    pipe = make_pipeline(StandardScaler(), VAETransformer(code_size=4, epochs=20, learning_rate=3e-3, random_state=0))
    code = pipe.fit_transform(digits)
    vae = pipe[-1].model_
    assert code.shape == (600, 4)
    assert np.array_equal(code, vae.encode(pipe[0].transform(digits)))  # mu, not a sample
    assert np.array_equal(code, pipe.transform(digits))  # deterministic
    scaled = pipe[0].transform(digits)
    assert pipe.score(digits) > -np.mean((scaled - scaled.mean(axis=0)) ** 2)  # beats the mean image
    assert list(pipe.get_feature_names_out()) == [f"vaetransformer{i}" for i in range(4)]
