"""The benchmark scripts still run (smoke test on the smallest shape; timings are not checked)."""
import importlib.util
import os

import numpy as np

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "benchmarks")


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCHMARKS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_speed_runs_and_reports_every_target_of_its_shapes(capsys):
    train_speed = load_script("train_speed")
    train_speed.main(["--quick", "--no-torch", "--shapes", "small", "--threads", "1"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| 64-32-8-32-64 |")]
    assert [row.split("|")[3].strip() for row in rows] == ["float32", "float64"]
    for row in rows:
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        assert float(cells[3]) > 0 and float(cells[9]) > 0  # miniae ms/epoch, GEMM floor ms
    assert out.count("faster than MLPRegressor") == 2


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


def test_memory_script_counts_the_data_and_its_shuffled_copy():
    """memory.py reports peaks with the data included (what it compares with 2 x data + 50 MB);
    that fit adds nothing that grows with N is test_performance_invariants' job."""
    memory = load_script("memory")
    data_bytes, peak = memory.peak_of_fit(500, sizes=(64, 16, 4), batch=50, epochs=1)
    assert data_bytes == 500 * 64 * 4
    assert 2 * data_bytes < peak < 2 * data_bytes + 2 ** 20


def test_step_profile_times_every_piece_of_the_step(capsys):
    step_profile = load_script("step_profile")
    step_profile.main(["--shape", "medium", "--epochs", "1", "--threads", "1"])
    out = capsys.readouterr().out
    for piece in ("Dense forward", "ReLU backward", "loss", "Adam", "GEMM floor", "step / floor"):
        assert piece in out
