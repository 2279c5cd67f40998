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
* the GEMM floor: the time of just the matrix products of one step, in preallocated
  arrays: x W for every Dense layer forward, x^T dy for every Dense layer backward and
  dy W^T for every one but the first (11 products for these 4-layer models: dL/dx of the
  data is never needed, and miniae, PyTorch and MLPRegressor all skip it).  ``step /
  floor`` shows how much time goes to everything else.

Everything runs on 2 threads (threadpoolctl for NumPy's BLAS, torch.set_num_threads).
The epochs of all columns are interleaved (one of each in turn), so a change in the
machine's load hits every column alike.  PyTorch's OpenMP threads spin while they wait;
on a machine that other work shares this makes it many times slower, so unless you set
OMP_WAIT_POLICY yourself the script sets it to PASSIVE (on an idle machine it makes
little difference).
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before PyTorch is imported (see above)
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from miniae.datasets import load_digits  # noqa: E402
from miniae.models import Autoencoder  # noqa: E402
from miniae.optim import Adam  # noqa: E402
from miniae.train import fit  # noqa: E402

THREADS = 2  # --threads changes it
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


# Each "epoch runner" below trains one more epoch of its model each time it is called and
# returns the seconds it took.  The benchmark calls them in turn (miniae, MLPRegressor,
# PyTorch, GEMM floor, miniae, ...), so a machine that gets busier or quieter during the
# run affects every column alike.


def miniae_epochs(sizes, batch, X, dtype):
    model = Autoencoder.mirrored(sizes, activation="relu", rng=0, dtype=dtype)
    optimizer, X = Adam(1e-3), X.astype(dtype)

    def epoch():
        start = time.perf_counter()
        fit(model, X, epochs=1, batch_size=batch, optimizer=optimizer)
        return time.perf_counter() - start
    return epoch


def sklearn_epochs(sizes, batch, X, dtype):
    from sklearn.neural_network import MLPRegressor

    hidden = tuple(sizes[1:]) + tuple(sizes[-2:0:-1])
    model = MLPRegressor(hidden_layer_sizes=hidden, activation="relu", solver="adam", alpha=0.0,
                         batch_size=batch, learning_rate_init=1e-3, shuffle=True, random_state=0)
    X = X.astype(dtype)

    def epoch():
        start = time.perf_counter()
        model.partial_fit(X, X)  # one pass over X
        seconds = time.perf_counter() - start
        assert model.coefs_[0].dtype == dtype, "MLPRegressor changed the dtype"
        return seconds
    return epoch


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def torch_epochs(sizes, batch, X, dtype):
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

    def epoch():
        start = time.perf_counter()
        shuffled = data[torch.randperm(n)]
        for i in range(0, n, batch):
            xb = shuffled[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), xb)
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start
    return epoch


def gemm_floor_epochs(sizes, batch, n, dtype):
    """An epoch's worth of just the matrix products of the steps (preallocated outputs)."""
    rng = np.random.default_rng(0)
    dims = list(sizes) + list(sizes[-2::-1])
    batches = [min(batch, n - start) for start in range(0, n, batch)]
    arrays = {}
    for rows in set(batches):
        # values of size about 1 at every layer (W scaled by 1/sqrt(n_in)), so nothing overflows
        xs = [rng.standard_normal((rows, d)).astype(dtype) for d in dims]  # layer inputs
        dys = [rng.standard_normal((rows, d)).astype(dtype) for d in dims]  # gradients
        Ws = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(dtype) for a, b in zip(dims[:-1], dims[1:])]
        arrays[rows] = xs, dys, Ws, [np.empty_like(W) for W in Ws]

    def step(xs, dys, Ws, gWs):
        for i, W in enumerate(Ws):  # forward: x W
            np.matmul(xs[i], W, out=xs[i + 1])
        for i in reversed(range(len(Ws))):  # backward: x^T dy, dy W^T
            np.matmul(xs[i].T, dys[i + 1], out=gWs[i])
            if i > 0:  # the first layer's dL/dx (the data's gradient) is skipped, as in miniae
                np.matmul(dys[i + 1], Ws[i].T, out=dys[i])

    def epoch():
        start = time.perf_counter()
        for rows in batches:
            step(*arrays[rows])
        return time.perf_counter() - start
    return epoch


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
    info["OMP_WAIT_POLICY (PyTorch)"] = os.environ.get("OMP_WAIT_POLICY", "unset")
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
            runners = {"miniae": miniae_epochs(sizes, batch, X, dtype),
                       "sklearn": sklearn_epochs(sizes, batch, X, dtype),
                       "floor": gemm_floor_epochs(sizes, batch, n, dtype)}
            if include_torch and torch_available():
                runners["torch"] = torch_epochs(sizes, batch, X, dtype)
            times = {key: [] for key in runners}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # MLPRegressor's "not converged yet"
                for round_ in range(epochs + 1):  # round 0 is the warm-up
                    for key, epoch in runners.items():
                        seconds = epoch()
                        if round_ > 0:
                            times[key].append(seconds)
            row = {"shape": name, "sizes": "-".join(map(str, sizes + sizes[-2::-1])), "batch": batch,
                   "n": n, "dtype": np.dtype(dtype).name, "torch": None}
            row.update({key: statistics.median(values) for key, values in times.items()})
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


def target_checks(rows):
    """The issue's targets, each with the measured number and met / MISSED."""
    by = {(r["shape"], r["dtype"]): r for r in rows}
    lines = []

    def check(text, value, ok):
        lines.append(f"- {text}: {value} -> {'met' if ok else 'MISSED'}")

    for (shape, dtype), r in by.items():
        speedup_torch = r["torch"] / r["miniae"] if r["torch"] else None
        speedup_sklearn = r["sklearn"] / r["miniae"]
        if shape == "small":
            check(f"{r['sizes']} {dtype}: >= 2.5x faster than MLPRegressor", f"{speedup_sklearn:.2f}x",
                  speedup_sklearn >= 2.5)
            if speedup_torch:
                check(f"{r['sizes']} {dtype}: >= 3x faster than PyTorch", f"{speedup_torch:.2f}x", speedup_torch >= 3)
        if shape == "medium":
            check(f"{r['sizes']} {dtype}: >= 1.25x faster than MLPRegressor", f"{speedup_sklearn:.2f}x",
                  speedup_sklearn >= 1.25)
            if speedup_torch:
                check(f"{r['sizes']} {dtype}: at least as fast as PyTorch", f"{speedup_torch:.2f}x", speedup_torch >= 1)
        if shape == "large" and dtype == "float32":
            ratio = r["miniae"] / r["floor"]
            check(f"{r['sizes']} {dtype}: step within 1.3x of the GEMM floor", f"{ratio:.2f}x", ratio <= 1.3)
            if speedup_torch:
                check(f"{r['sizes']} {dtype}: within 10% of PyTorch", f"miniae takes {1 / speedup_torch:.2f}x "
                      "PyTorch's time", speedup_torch >= 1 / 1.1)
    for shape in ("medium", "large"):
        if (shape, "float32") in by and (shape, "float64") in by:
            ratio = by[shape, "float64"]["miniae"] / by[shape, "float32"]["miniae"]
            check(f"{by[shape, 'float32']['sizes']}: float32 >= 1.5x faster than float64", f"{ratio:.2f}x",
                  ratio >= 1.5)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="small,medium,large", help="comma-separated: small, medium, large")
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs after one warm-up epoch (default 7)")
    parser.add_argument("--n", type=int, default=10_000, help="synthetic samples (default 10000)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 2048 samples: a smoke test")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / PyTorch threads (default 2)")
    parser.add_argument("--out", default="RESULTS.md", help="file name in benchmarks/ for --write")
    args = parser.parse_args(argv)
    global THREADS
    THREADS = args.threads
    if args.quick:
        args.epochs, args.n = 2, 2048
    info = machine_info()
    info["load average (1 min) at start"] = f"{os.getloadavg()[0]:.1f}"
    for key, value in info.items():
        print(f"{key}: {value}")
    print(HEADER)
    with threadpool_limits(limits=THREADS):
        info["BLAS"] = "; ".join(f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')} kernel, "
                                 f"{i['num_threads']} threads)" for i in threadpool_info() if i["user_api"] == "blas")
        rows = run(args.shapes.split(","), args.epochs, args.n, include_torch=not args.no_torch)
    info["load average (1 min) at end"] = f"{os.getloadavg()[0]:.1f}"
    print("\n".join(float_ratios(rows)))
    print("\n".join(target_checks(rows)))
    print(f"load average: {info['load average (1 min) at start']} at start, {info['load average (1 min) at end']} at end")
    if args.write:
        write_results(rows, info, args)


NOTES = """How to read it:

- "GEMM floor" is the time of the matrix products alone, the 11 a step computes (x W forward
  for each of the 4 Dense layers, x^T dy backward for each, dy W^T for all but the first:
  nobody needs dL/dx of the data), run on preallocated arrays in the same interleaved
  rounds; step/floor is what everything else costs on top (activations, loss, Adam, Python).
  Most of that is Adam: its ~12 elementwise passes over every parameter do not shrink with
  the batch, while the products do.
- The three tools do not run the identical model: MLPRegressor puts ReLU on the code layer
  too (one activation for all hidden layers); miniae and PyTorch keep the code linear.
- On a machine that other jobs share (see the load average), 2-thread BLAS calls wait for
  both threads to be scheduled, which can make a 2-thread epoch several times slower than a
  1-thread one; compare columns within one table, not across runs.
- Peak memory of a fit: `python benchmarks/memory.py --write`, in benchmarks/MEMORY.md.
- Where a step's time goes (each layer, the loss, Adam, next to the floor):
  `python benchmarks/step_profile.py [--shape medium --dtype float64]`."""


def write_results(rows, info, args):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), args.out)
    lines = ["# Training speed: miniae vs scikit-learn vs PyTorch", "",
             f"Made by `python benchmarks/train_speed.py {' '.join(sys.argv[1:])}` (median of {args.epochs} epochs after "
             "one warm-up epoch, the columns' epochs interleaved; ms per epoch, lower is better; "
             "\"vs\" columns are how many times faster miniae is).", "", "Machine:", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    lines += [format_row(row) for row in rows]
    lines += ["", *float_ratios(rows), "", "Targets of issue 9:", "", *target_checks(rows), "", NOTES, ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
