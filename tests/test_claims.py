"""miniae.claims.claim: prints the value beside its band, raises outside it, records under a sweep."""
import json

import numpy as np
import pytest

from miniae.claims import ClaimError, claim


@pytest.fixture(autouse=True)
def no_sweep_log(monkeypatch):
    monkeypatch.delenv("MINIAE_CLAIMS_LOG", raising=False)


@pytest.mark.parametrize("value, above, below",
                         [(0.5, 0, 1), (0.5, None, 1), (0.5, 0, None), (np.float32(2), 1.5, None)])
def test_a_value_inside_its_band_is_returned_and_printed(value, above, below, capsys):
    assert claim("ratio", value, above=above, below=below) == pytest.approx(float(value))
    line = capsys.readouterr().out.strip()
    assert line.startswith("ratio: ") and "(claim: " in line and "NOT HELD" not in line


@pytest.mark.parametrize("value, above, below", [(1.0, 0, 1), (0.0, 0, 1), (2.0, None, 1), (-1.0, 0, None),
                                                 (float("nan"), 0, 1), (float("inf"), 0, None)])
def test_a_value_outside_or_on_the_edge_or_not_finite_raises_naming_the_claim(value, above, below, capsys):
    with pytest.raises(ClaimError, match="gap ratio measured"):
        claim("gap ratio", value, above=above, below=below)
    assert "NOT HELD" in capsys.readouterr().out
    assert issubclass(ClaimError, AssertionError)   # a failed claim stops a notebook like an assert


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "", "value": 1, "above": 0}, "non-empty string"),
    ({"name": "x", "value": 1}, "needs a band"),
    ({"name": "x", "value": 1, "above": 2, "below": 1}, "empty band"),
    ({"name": "x", "value": 1, "above": float("nan")}, "above must be a finite number"),
    ({"name": "x", "value": 1, "below": True}, "below must be a finite number"),
    ({"name": "x", "value": "0.5", "above": 0}, "measures a real number"),
    ({"name": "x", "value": True, "above": 0}, "measures a real number"),
    ({"name": "x", "value": np.array([0.5, 0.6]), "above": 0}, "measures a real number"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        claim(**kwargs)


def test_under_a_sweep_every_claim_is_recorded_and_none_raises(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("MINIAE_CLAIMS_LOG", str(log))
    claim("held", 0.5, above=0, below=1)
    claim("not held", 3.0, below=1)                   # recorded, not raised: the sweep sees every claim
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records == [{"name": "held", "value": 0.5, "above": 0.0, "below": 1.0, "inside": True},
                       {"name": "not held", "value": 3.0, "above": None, "below": 1.0, "inside": False}]
