"""The benchmark scripts still run (smoke tests on tiny settings; timings are not checked).

PyTorch and JAX are optional benchmark dependencies (benchmarks/requirements.txt): without
them their columns are skipped, and the tests that need them are skipped too.
"""
import importlib.util
import os

import numpy as np
import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCHMARKS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cells(line):
    return [cell.strip() for cell in line.split("|")[1:-1]]


def table_rows(out, sizes):
    """The table rows of one model, each a {heading: cell} dict."""
    header = next(cells(line) for line in out.splitlines() if line.startswith("| model |"))
    return [dict(zip(header, cells(line))) for line in out.splitlines() if line.startswith(f"| {sizes} |")]


def test_train_speed_skips_the_missing_frameworks_and_reports_every_target(capsys, monkeypatch):
    """As on a machine without PyTorch and JAX: their columns and targets say so, the rest is measured."""
    train_speed = load_script("train_speed")
    monkeypatch.setattr(train_speed, "torch", None)
    monkeypatch.setattr(train_speed, "jax_available", lambda: False)
    train_speed.main(["--quick", "--shapes", "small", "--threads", "1"])
    out = capsys.readouterr().out
    rows = table_rows(out, "64-32-8-32-64")
    assert [(cell["dtype"], cell["threads"]) for cell in rows] == [("float32", "1"), ("float64", "1")]
    for cell in rows:
        assert float(cell["miniae ms"]) > 0 and float(cell["GEMM floor ms"]) > 0
        assert float(cell["MLPRegressor ms"]) > 0 and cell["vs MLPRegressor"].endswith("x")
        for skipped in ("PyTorch Adam ms", "PyTorch fused Adam ms", "JAX jit ms", "vs fused", "vs JAX"):
            assert cell[skipped] == "-"
    assert "PyTorch: not installed" in out and "JAX: not installed" in out
    assert out.count("than MLPRegressor: MLPRegressor takes") == 1
    assert "than PyTorch fused Adam: not measured" in out


def test_train_speed_torch_runners_train_with_default_and_fused_adam():
    torch = pytest.importorskip("torch")
    train_speed = load_script("train_speed")
    X = np.random.default_rng(0).random((40, 6))
    torch.set_num_threads(1)
    for fused, adam in ((False, "default"), (True, "fused")):
        epoch = train_speed.torch_epochs([6, 4, 2], 16, X, np.float32, fused=fused)
        assert epoch.adam.startswith(adam)
        assert epoch() > 0


def test_train_speed_jax_worker_trains_the_same_model():
    """The JAX column's worker process: a jitted epoch of the digits model whose loss falls."""
    pytest.importorskip("jax")
    train_speed = load_script("train_speed")
    worker = train_speed.JaxWorker(1)
    try:
        worker.ask({"shape": "small", "n": 0})
        answers = [worker.ask({"epoch": True}) for _ in range(3)]
    finally:
        worker.close()
    assert all(answer["seconds"] > 0 for answer in answers)
    assert answers[2]["loss"] < answers[0]["loss"]


def test_the_gemm_floor_does_the_products_of_a_step():
    """11 products for a 4-Dense-layer step: no dL/dx for the first layer (the data)."""
    train_speed = load_script("train_speed")
    calls = []
    original = np.matmul

    def counting_matmul(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)
    epoch = train_speed.gemm_floor_epochs([6, 4, 2], 5, 5, np.float64)
    np.matmul = counting_matmul
    try:
        epoch()
    finally:
        np.matmul = original
    assert len(calls) == 11


def test_memory_script_counts_the_data_and_no_copy_of_it():
    """memory.py reports peaks with the data included (what it compares with data + 50 MB);
    that fit adds nothing that grows with N is test_performance_invariants' job."""
    memory = load_script("memory")
    data_bytes, peak = memory.peak_of_fit(500, sizes=(64, 16, 4), batch=50, epochs=1)
    assert data_bytes == 500 * 64 * 4
    assert data_bytes < peak < data_bytes + 2 ** 20


def test_step_profile_times_every_piece_of_the_step(capsys):
    step_profile = load_script("step_profile")
    step_profile.main(["--shape", "medium", "--epochs", "1", "--n", "300", "--threads", "1"])
    out = capsys.readouterr().out
    for piece in ("Dense forward", "ReLU backward", "Dense backward, 1st", "loss", "loss_and_grads (whole)",
                  "Adam step", "GEMM floor", "step / floor"):
        assert piece in out
