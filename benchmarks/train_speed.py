"""How fast does miniae train?  Side by side with scikit-learn and (if installed) PyTorch.

    python benchmarks/train_speed.py            # full table, ~3 minutes on 2 cores
    python benchmarks/train_speed.py --quick    # fewer epochs, smaller data (a smoke test)
    python benchmarks/train_speed.py --write    # also write benchmarks/RESULTS.md

Three autoencoders, each in float32 and float64, all with ReLU hidden layers, Adam
(lr 1e-3) and MSE:

    small   64-32-8-32-64         batch  64, the digits (1797 samples)
    medium  784-256-32-256-784    batch 128, synthetic 784-dim data
    large   784-1024-64-1024-784  batch 256, synthetic 784-dim data

For each we time whole epochs (shuffle + every minibatch step) and report the median
epoch after a warm-up epoch, and samples per second.  Peers:

* scikit-learn's ``MLPRegressor`` trained as an autoencoder (X is input and target,
  same hidden layers, Adam, same batch size, alpha=0), one ``partial_fit`` per epoch.
  (It puts ReLU on the code layer too: it has one activation for every hidden layer.)
* PyTorch on the CPU, when it is installed: the same ``nn.Sequential``, its default
  ``torch.optim.Adam``, the usual loop (permute once per epoch, slice, zero_grad,
  backward, step).
* the GEMM floor: the time of just the matrix products one step needs (one per Dense
  layer forward; x^T dy for every Dense and dy W^T for every Dense but the first,
  whose input needs no gradient), in preallocated arrays.  ``step / floor`` shows how
  much time goes to everything else.

Everything runs on 2 threads (threadpoolctl for NumPy's BLAS, torch.set_num_threads).
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from miniae.datasets import load_digits  # noqa: E402
from miniae.layers import Dense  # noqa: E402
from miniae.models import Autoencoder  # noqa: E402
from miniae.optim import Adam  # noqa: E402
from miniae.train import Callback, fit  # noqa: E402

THREADS = 2
SHAPES = {  # name: (sizes, batch size, data)
    "small": ([64, 32, 8], 64, "digits"),
    "medium": ([784, 256, 32], 128, "synthetic"),
    "large": ([784, 1024, 64], 256, "synthetic"),
}


def synthetic_data(n, n_features=784, rank=20, seed=0):
    """n samples in [0, 1] near a rank-20 subspace (so there is something to learn)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, n_features)) / np.sqrt(rank)
    X += 0.1 * rng.normal(size=X.shape)
    return 1 / (1 + np.exp(-X))


def load(data, n):
    if data == "digits":
        return load_digits()[0]
    return synthetic_data(n)


class EpochTimer(Callback):
    def on_train_begin(self):
        self.times = []

    def on_epoch_begin(self, epoch):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs):
        self.times.append(time.perf_counter() - self.start)
        return False


def time_miniae(sizes, batch, X, dtype, epochs):
    model = Autoencoder.mirrored(sizes, activation="relu", rng=0, dtype=dtype)
    timer = EpochTimer()
    fit(model, X.astype(dtype), epochs=epochs + 1, batch_size=batch, optimizer=Adam(1e-3), callbacks=[timer])
    return timer.times[1:]


def time_sklearn(sizes, batch, X, dtype, epochs):
    import warnings

    from sklearn.neural_network import MLPRegressor

    hidden = tuple(sizes[1:]) + tuple(sizes[-2:0:-1])
    model = MLPRegressor(hidden_layer_sizes=hidden, activation="relu", solver="adam", alpha=0.0,
                         batch_size=batch, learning_rate_init=1e-3, shuffle=True, random_state=0)
    X = X.astype(dtype)
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(epochs + 1):
            start = time.perf_counter()
            model.partial_fit(X, X)
            times.append(time.perf_counter() - start)
    assert model.coefs_[0].dtype == dtype, "MLPRegressor changed the dtype"
    return times[1:]


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def time_torch(sizes, batch, X, dtype, epochs):
    import torch

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    dims = list(sizes) + list(sizes[-2::-1])
    layers = []
    code_index = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(torch.nn.Linear(n_in, n_out, dtype=tdtype))
        if i + 1 != code_index and i + 1 != len(dims) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    data = torch.from_numpy(X.astype(dtype))
    n = data.shape[0]
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        shuffled = data[torch.randperm(n)]
        for i in range(0, n, batch):
            xb = shuffled[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), xb)
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return times[1:]


def gemm_floor(sizes, batch, n, dtype, repeats=30):
    """Seconds per epoch spent in just the matrix products of the steps (preallocated outputs)."""
    rng = np.random.default_rng(0)
    dims = list(sizes) + list(sizes[-2::-1])
    steps = []  # (batch rows, products) per distinct batch size of an epoch
    sizes_of_batches = [min(batch, n - start) for start in range(0, n, batch)]
    per_batch = {}
    for rows in set(sizes_of_batches):
        xs = [rng.random((rows, d)).astype(dtype) for d in dims]
        Ws = [rng.random((a, b)).astype(dtype) for a, b in zip(dims[:-1], dims[1:])]
        gWs = [np.empty_like(W) for W in Ws]

        def step():
            for i, W in enumerate(Ws):  # forward
                np.matmul(xs[i], W, out=xs[i + 1])
            for i in reversed(range(len(Ws))):  # backward
                np.matmul(xs[i].T, xs[i + 1], out=gWs[i])
                if i > 0:
                    np.matmul(xs[i + 1], Ws[i].T, out=xs[i])

        step()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        per_batch[rows] = statistics.median(times)
        steps.append(rows)
    return sum(per_batch[rows] for rows in sizes_of_batches)


def machine_info():
    try:
        cpu = [line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if line.startswith("Model name")][0]
    except (OSError, IndexError):
        cpu = platform.processor() or "unknown"
    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')} kernel)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    import sklearn
    info = {"CPU": cpu, "cores used": str(THREADS), "Python": platform.python_version(),
            "NumPy": np.__version__, "BLAS": "; ".join(blas) or "unknown", "scikit-learn": sklearn.__version__}
    if torch_available():
        import torch
        info["PyTorch"] = torch.__version__
    flags = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    info["OpenBLAS env"] = ", ".join(f"{k}={v}" for k, v in flags.items()) or "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"
    return info


def run(shape_names, epochs, n_synthetic, include_torch=True):
    rows = []
    for name in shape_names:
        sizes, batch, data = SHAPES[name]
        X = load(data, n_synthetic)
        n = X.shape[0]
        for dtype in (np.float32, np.float64):
            row = {"shape": name, "sizes": "-".join(map(str, sizes + sizes[-2::-1])), "batch": batch,
                   "n": n, "dtype": np.dtype(dtype).name}
            row["miniae"] = statistics.median(time_miniae(sizes, batch, X, dtype, epochs))
            row["sklearn"] = statistics.median(time_sklearn(sizes, batch, X, dtype, epochs))
            row["torch"] = (statistics.median(time_torch(sizes, batch, X, dtype, epochs))
                            if include_torch and torch_available() else None)
            row["floor"] = gemm_floor(sizes, batch, n, dtype)
            rows.append(row)
            print(format_row(row), flush=True)
    return rows


HEADER = ("| model | batch | dtype | miniae ms/epoch | samples/s | MLPRegressor ms | vs sklearn "
          "| PyTorch ms | vs torch | GEMM floor ms | step/floor |")


def format_row(row):
    ms = lambda t: "-" if t is None else f"{1000 * t:.1f}"  # noqa: E731
    ratio = lambda t: "-" if t is None else f"{t / row['miniae']:.2f}x"  # noqa: E731
    return (f"| {row['sizes']} | {row['batch']} | {row['dtype']} | {ms(row['miniae'])} "
            f"| {row['n'] / row['miniae']:,.0f} | {ms(row['sklearn'])} | {ratio(row['sklearn'])} "
            f"| {ms(row['torch'])} | {ratio(row['torch'])} | {ms(row['floor'])} "
            f"| {row['miniae'] / row['floor']:.2f} |")


def float_ratios(rows):
    lines = []
    for name in dict.fromkeys(r["shape"] for r in rows):
        by_dtype = {r["dtype"]: r for r in rows if r["shape"] == name}
        if {"float32", "float64"} <= set(by_dtype):
            lines.append(f"- {by_dtype['float32']['sizes']}: float32 is "
                         f"{by_dtype['float64']['miniae'] / by_dtype['float32']['miniae']:.2f}x faster than float64")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="small,medium,large", help="comma-separated: small, medium, large")
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs after one warm-up epoch (default 7)")
    parser.add_argument("--n", type=int, default=10_000, help="synthetic samples (default 10000)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 2048 samples: a smoke test")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.n = 2, 2048
    info = machine_info()
    for key, value in info.items():
        print(f"{key}: {value}")
    print(HEADER)
    with threadpool_limits(limits=THREADS):
        info["BLAS"] = "; ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')} kernel, "
                                 f"{i['num_threads']} threads)" for i in threadpool_info() if i["user_api"] == "blas")
        rows = run(args.shapes.split(","), args.epochs, args.n, include_torch=not args.no_torch)
    print("\n".join(float_ratios(rows)))
    if args.write:
        write_results(rows, info, args)


def write_results(rows, info, args):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
    lines = ["# Training speed: miniae vs scikit-learn vs PyTorch", "",
             f"Made by `python benchmarks/train_speed.py --write` (median of {args.epochs} epochs after "
             "one warm-up epoch; ms per epoch, lower is better; \"vs\" columns are how many times "
             "faster miniae is).", "", "Machine:", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    lines += [format_row(row) for row in rows]
    lines += ["", *float_ratios(rows), ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
