"""miniae.fit_lbfgs: full-batch L-BFGS on the model's flat parameters (the classic sparse-AE exercise's trainer)."""
import pytest

from miniae import Autoencoder, fit_lbfgs
from miniae.datasets import load_digits


def test_fit_lbfgs_lowers_the_full_batch_loss_and_leaves_the_model_at_the_result():
    X = 0.1 + 0.8 * load_digits()[0][:200]
    model = Autoencoder.mirrored([64, 8], activation="sigmoid", code_activation="sigmoid", output="sigmoid", rng=0)
    before = sum(model.evaluate_terms(X).values())
    result = fit_lbfgs(model, X, max_iter=50)
    assert result.nit <= 50 and result.fun < 0.5 * before, (result.fun, before)
    assert model.loss_and_grads(X) == pytest.approx(result.fun)
