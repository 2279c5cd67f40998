"""How fast does miniae train?  Side by side with scikit-learn, PyTorch and JAX, each at its best.

    python benchmarks/train_speed.py --write              # the full table, into benchmarks/RESULTS.md
    python benchmarks/train_speed.py --quick --shapes small  # a smoke test (seconds)

Three autoencoders, all with ReLU hidden layers, a linear code and output, Adam (lr 1e-3)
and MSE:

    small   64-32-8-32-64         batch  64, the digits (1797 samples)
    medium  784-256-32-256-784    batch 128, synthetic 784-dim data (--n samples)
    large   784-1024-64-1024-784  batch 256, synthetic 784-dim data (--n samples)

Every column trains its own model for whole epochs (shuffle + every minibatch step), at 1
and at 2 threads, and reports the median epoch after a warm-up epoch.  The columns:

* miniae, through its public API only: ``Autoencoder.mirrored(...)``, then one
  ``fit(model, X, epochs=1, batch_size=..., optimizer=adam)`` per epoch with the same Adam
  (so every epoch also pays fit's checks of X, as a user's call would).
* scikit-learn's ``MLPRegressor`` trained as an autoencoder (X is input and target, same
  hidden layers, Adam, same batch size, alpha=0), one ``partial_fit`` per epoch.  (It puts
  ReLU on the code layer too: it has one activation for every hidden layer.)
* PyTorch (if installed): the same ``nn.Sequential`` and the usual loop (permute once per
  epoch, slice, zero_grad, backward, step), once with the default ``torch.optim.Adam`` and
  once with ``fused=True``; OpenMP's wait policy is left at its default (set
  OMP_WAIT_POLICY yourself to measure another one: the table then says so).
* JAX (if installed), a reference: the same model written in jax.numpy with a hand-written
  Adam, a whole epoch (permutation + ``lax.scan`` over the minibatches) in one ``jax.jit``.
  JAX has no thread-count setting, so it runs in a worker process per thread count, pinned
  to that many CPUs (os.sched_setaffinity), with XLA told the same (XLA_FLAGS).
* the GEMM floor: just the matrix products of the steps, in preallocated arrays: x W for
  every Dense layer forward, x^T dy for every Dense layer backward and dy W^T for every one
  but the first (11 products for these 4-layer models: dL/dx of the data is never needed,
  and miniae, PyTorch and MLPRegressor all skip it).

Threads: threadpoolctl limits NumPy's and SciPy's BLAS (miniae, MLPRegressor, the floor),
torch.set_num_threads PyTorch.  float32 is timed for every column; float64 (--dtypes) for
miniae, MLPRegressor and the floor only.  The epochs of all columns are interleaved, in a
new random order each round, so a change in the machine's load hits every column alike.
"""
import argparse
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn import __version__ as sklearn_version
from sklearn.neural_network import MLPRegressor
from threadpoolctl import ThreadpoolController, threadpool_info

try:  # optional: the PyTorch columns are skipped without it
    import torch
except ImportError:
    torch = None

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import miniae  # noqa: E402
from miniae.datasets import load_digits, pulses  # noqa: E402

SHAPES = {  # name: (sizes, batch size, data)
    "small": ([64, 32, 8], 64, "digits"),
    "medium": ([784, 256, 32], 128, "synthetic"),
    "large": ([784, 1024, 64], 256, "synthetic"),
}
# the convolutional hourglasses (Autoencoder.conv), against the same network in PyTorch eager:
# name: (input shape, channels, code size, up, batch size, data)
CONV_SHAPES = {
    "conv-upsample": ((1, 28, 28), (8, 16), 16, "upsample", 64, "images"),
    "conv-transpose": ((1, 28, 28), (8, 16), 16, "transpose", 64, "images"),
}
# the sequence hourglass (Autoencoder.sequence: LSTM encoder, RepeatVector, LSTM decoder, TimeDistributed
# Dense) against the same network with PyTorch's nn.LSTM, eager:
# name: (steps, features, hidden, code size, batch size, data)
SEQUENCE_SHAPES = {
    "sequence": (50, 1, 64, 8, 64, "pulses"),
}
LR = 1e-3
COLUMNS = {  # key: heading (ms per epoch)
    "miniae": "miniae",
    "before": "miniae before",
    "sklearn": "MLPRegressor",
    "torch": "PyTorch Adam",
    "torch_fused": "PyTorch fused Adam",
    "jax": "JAX jit",
    "floor": "GEMM floor",
}
RATIOS = {"before": "vs before", "torch_fused": "vs fused", "torch": "vs PyTorch", "sklearn": "vs MLPRegressor",
          "jax": "vs JAX"}


def synthetic_data(n, n_features=784, rank=20, seed=0):
    """n samples in [0, 1] near a rank-20 subspace (so there is something to learn)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, n_features)) / np.sqrt(rank)
    X += 0.1 * rng.normal(size=X.shape)
    return 1 / (1 + np.exp(-X))


def synthetic_images(n, size=28, seed=0):
    """n images of size x size in [0, 1]: a few smooth blobs each, flattened to rows."""
    rng = np.random.default_rng(seed)
    grid = np.arange(size)
    centres = rng.uniform(4, size - 4, (n, 3, 2))
    widths = rng.uniform(1.5, 4.0, (n, 3, 1, 1))
    rows = np.exp(-((grid[None, None, :, None] - centres[:, :, 0, None, None]) ** 2
                    + (grid[None, None, None, :] - centres[:, :, 1, None, None]) ** 2) / (2 * widths ** 2))
    return np.clip(rows.sum(axis=1), 0, 1).reshape(n, size * size)


def load(data, n):
    if data == "digits":
        return load_digits()[0]
    if data == "pulses":
        return pulses(n, seed=0)[0]
    if data == "images":
        return synthetic_images(n)
    return synthetic_data(n)


def layer_dims(sizes):
    """[64, 32, 8] -> [64, 32, 8, 32, 64]."""
    return list(sizes) + list(sizes[-2::-1])


def is_relu_after(i, sizes):
    """Whether Dense layer i (0-based) of the mirrored model is followed by a ReLU: every one but
    the code layer and the output layer."""
    return i != len(sizes) - 2 and i != 2 * len(sizes) - 3


# Each "epoch runner" below trains one more epoch of its own model each time it is called
# and returns the seconds it took.  The benchmark calls all of them once per round, in a
# shuffled order, so a machine that gets busier or quieter during the run affects every
# column alike.


def miniae_epochs(sizes, batch, X, dtype, package=miniae):
    model = package.Autoencoder.mirrored(sizes, activation="relu", output="identity", rng=0, dtype=dtype)
    return fit_epochs(package, model, X.astype(dtype), batch)


def miniae_conv_epochs(shape, batch, X, dtype, package=miniae):
    input_shape, channels, code_size, up, _, _ = CONV_SHAPES[shape]
    model = package.Autoencoder.conv(input_shape, channels=channels, code_size=code_size, up=up, rng=0, dtype=dtype)
    return fit_epochs(package, model, X.astype(dtype), batch)


def miniae_sequence_epochs(shape, batch, X, dtype, package=miniae):
    steps, features, hidden, code_size, _, _ = SEQUENCE_SHAPES[shape]
    model = package.Autoencoder.sequence(steps, features, hidden=hidden, code_size=code_size, rng=0, dtype=dtype)
    return fit_epochs(package, model, X.astype(dtype), batch)


def fit_epochs(package, model, X, batch):
    """One ``fit(model, X, epochs=1)`` a call, with one Adam kept across the calls."""
    optimizer = package.Adam(LR)

    def epoch():
        start = time.perf_counter()
        package.fit(model, X, epochs=1, batch_size=batch, optimizer=optimizer)
        return time.perf_counter() - start
    return epoch


def sklearn_epochs(sizes, batch, X, dtype):
    hidden = tuple(layer_dims(sizes)[1:-1])
    model = MLPRegressor(hidden_layer_sizes=hidden, activation="relu", solver="adam", alpha=0.0,
                         batch_size=batch, learning_rate_init=LR, shuffle=True, random_state=0)
    X = X.astype(dtype)

    def epoch():
        start = time.perf_counter()
        model.partial_fit(X, X)  # one pass over X
        seconds = time.perf_counter() - start
        assert model.coefs_[0].dtype == dtype, "MLPRegressor changed the dtype"
        return seconds
    return epoch


def torch_adam(parameters, fused):
    """torch.optim.Adam, fused if asked: (optimizer, the name of what it is)."""
    if not fused:
        return torch.optim.Adam(parameters, lr=LR), "default"
    try:
        return torch.optim.Adam(parameters, lr=LR, fused=True), "fused"
    except (RuntimeError, TypeError):  # a PyTorch without fused Adam on the CPU
        return torch.optim.Adam(parameters, lr=LR, foreach=True), "foreach (fused unsupported)"


def torch_epochs(sizes, batch, X, dtype, fused=False):
    """Runner for PyTorch; ``epoch.adam`` says which Adam it got."""
    torch.manual_seed(0)
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    dims = layer_dims(sizes)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(torch.nn.Linear(n_in, n_out, dtype=tdtype))
        if is_relu_after(i, sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer, adam = torch_adam(model.parameters(), fused)
    return torch_loop(model, optimizer, adam, X.astype(dtype), batch)


def torch_loop(model, optimizer, adam, X, batch):
    """The usual PyTorch epoch: permute once, slice, zero_grad, forward, MSE, backward, step."""
    loss_fn = torch.nn.MSELoss()
    data = torch.from_numpy(X)
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
    epoch.adam = adam
    return epoch


def torch_conv_epochs(shape, batch, X, dtype, fused=False):
    """PyTorch eager, the same hourglass as Autoencoder.conv: conv 3x3 same, ReLU, max-pool 2 per stage, Dense
    to the code; Dense back, ReLU, then per stage nearest upsampling 2x and a conv 3x3 (or one transposed conv,
    stride 2), ReLU between stages and a sigmoid at the output; MSE, Adam."""
    torch.manual_seed(0)
    (c, h, w), channels, code_size, up, _, _ = CONV_SHAPES[shape]
    nn = torch.nn
    encoder, c_in = [nn.Unflatten(1, (c, h, w))], c
    for c_out in channels:
        encoder += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c_out
    inner = (channels[-1], h >> len(channels), w >> len(channels))
    n_inner = inner[0] * inner[1] * inner[2]
    encoder += [nn.Flatten(), nn.Linear(n_inner, code_size)]
    decoder = [nn.Linear(code_size, n_inner), nn.ReLU(), nn.Unflatten(1, inner)]
    outs = [*channels[-2::-1], c]
    for i, (c_in, c_out) in enumerate(zip(channels[::-1], outs)):
        if up == "upsample":
            decoder += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)]
        else:
            decoder += [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
        decoder += [nn.Sigmoid() if i == len(channels) - 1 else nn.ReLU()]
    model = nn.Sequential(*encoder, *decoder, nn.Flatten()).to({np.float32: torch.float32}[dtype])
    optimizer, adam = torch_adam(model.parameters(), fused)
    return torch_loop(model, optimizer, adam, X.astype(dtype), batch)


def torch_sequence_epochs(shape, batch, X, dtype, fused=False):
    """PyTorch eager, the same hourglass as Autoencoder.sequence: nn.LSTM read to its last hidden state, a
    Linear to the code, the code repeated at every step, nn.LSTM returning every step, a Linear per step;
    MSE, Adam."""
    torch.manual_seed(0)
    steps, features, hidden, code_size, _, _ = SEQUENCE_SHAPES[shape]
    nn = torch.nn

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.code = nn.LSTM(features, hidden, batch_first=True), nn.Linear(hidden, code_size)
            self.decoder, self.out = nn.LSTM(code_size, hidden, batch_first=True), nn.Linear(hidden, features)

        def forward(self, x):
            _, (h, _) = self.encoder(x.view(-1, steps, features))
            z = self.code(h[-1])
            y, _ = self.decoder(z[:, None, :].expand(-1, steps, -1))
            return self.out(y).reshape(-1, steps * features)

    model = Sequence().to({np.float32: torch.float32}[dtype])
    optimizer, adam = torch_adam(model.parameters(), fused)
    return torch_loop(model, optimizer, adam, X.astype(dtype), batch)


def gemm_floor_epochs(sizes, batch, n, dtype):
    """An epoch's worth of just the matrix products of the steps (preallocated outputs)."""
    rng = np.random.default_rng(0)
    dims = layer_dims(sizes)
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


# ---------------------------------------------------------------------------- JAX
# JAX reads its thread settings once, when it starts, so each thread count gets its own
# worker process (this script with --jax-worker N).  The worker reads one JSON command per
# line on stdin and answers one JSON line on stdout:
#   {"shape": "small", "n": 10000}  -> {"ok": true}      (builds the model, compiles, runs one epoch)
#   {"epoch": true}                 -> {"seconds": 0.01, "loss": 0.05}  (one more epoch; its mean batch loss)


def jax_available():
    return importlib.util.find_spec("jax") is not None


def jax_worker(threads):
    """The worker's loop (runs in its own process; see above)."""
    os.environ["XLA_FLAGS"] = (f"--xla_cpu_multi_thread_eigen={'false' if threads == 1 else 'true'} "
                               f"intra_op_parallelism_threads={threads}")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if hasattr(os, "sched_setaffinity"):  # Linux
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
    import jax  # here, after XLA_FLAGS (an optional dependency, read when it starts)
    import jax.numpy as jnp

    def build(sizes, batch, X):
        """(jitted epoch, initial state): He-normal weights, zero biases, Adam moments at 0."""
        dims = layer_dims(sizes)
        rng = np.random.default_rng(0)
        params = [(jnp.asarray(rng.normal(size=(a, b)) * np.sqrt(2 / a), jnp.float32), jnp.zeros(b, jnp.float32))
                  for a, b in zip(dims[:-1], dims[1:])]
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        state = (params, zeros, zeros, jnp.zeros((), jnp.float32), jax.random.PRNGKey(0))
        n, d = X.shape
        n_full = n // batch

        def loss(params, x):
            h = x
            for i, (W, b) in enumerate(params):
                h = h @ W + b
                if is_relu_after(i, sizes):
                    h = jax.nn.relu(h)
            return jnp.mean((h - x) ** 2)

        def step(state, x):  # Adam, the textbook formulas
            params, m, v, t, key = state
            value, grads = jax.value_and_grad(loss)(params, x)
            t = t + 1
            m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
            v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
            lr_t = LR * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            params = jax.tree_util.tree_map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + 1e-8), params, m, v)
            return (params, m, v, t, key), value

        @jax.jit
        def epoch(state, X):
            key, sub = jax.random.split(state[4])
            shuffled = X[jax.random.permutation(sub, n)]
            state = state[:4] + (key,)
            state, losses = jax.lax.scan(step, state, shuffled[:n_full * batch].reshape(n_full, batch, d))
            if n_full * batch < n:  # the last, smaller minibatch
                state, _ = step(state, shuffled[n_full * batch:])
            return state, jnp.mean(losses)
        return epoch, state

    epoch = state = X = None
    for line in sys.stdin:
        command = json.loads(line)
        if "shape" in command:
            sizes, batch, data = SHAPES[command["shape"]]
            X = jnp.asarray(load(data, command["n"]), jnp.float32)
            epoch, state = build(sizes, batch, X)
            state, _ = jax.block_until_ready(epoch(state, X))  # compiles
            answer = {"ok": True}
        else:
            start = time.perf_counter()
            state, loss = jax.block_until_ready(epoch(state, X))
            answer = {"seconds": time.perf_counter() - start, "loss": float(loss)}
        print(json.dumps(answer), flush=True)


class JaxWorker:
    """The main process's end of one worker process (one thread count)."""

    def __init__(self, threads):
        self.log = tempfile.TemporaryFile(mode="w+")  # the worker's stderr, shown if it fails
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--jax-worker", str(threads)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def ask(self, command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            self.log.seek(0)
            raise RuntimeError("the JAX worker stopped:\n" + self.log.read()[-2000:])
        return json.loads(answer)

    def epochs(self, shape, n):
        """Runner: the worker's next epoch of shape ``shape``."""
        self.ask({"shape": shape, "n": n})
        return lambda: self.ask({"epoch": True})["seconds"]

    def close(self):
        try:
            self.process.stdin.close()
        except BrokenPipeError:  # it had stopped
            pass
        self.process.wait()
        self.log.close()


# ---------------------------------------------------------------------------- the run


def load_package(checkout):
    """The miniae package of another checkout, imported as ``miniae_before`` beside this one."""
    init = os.path.join(os.path.abspath(checkout), "miniae", "__init__.py")
    spec = importlib.util.spec_from_file_location("miniae_before", init,
                                                  submodule_search_locations=[os.path.dirname(init)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["miniae_before"] = module
    spec.loader.exec_module(module)
    return module


def git_head(checkout):
    done = subprocess.run(["git", "-C", checkout, "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    return done.stdout.strip()[:60] or "?"


def set_threads(controller, threads):
    """Limit NumPy's and SciPy's BLAS and PyTorch to ``threads`` (JAX is set per worker)."""
    controller.limit(limits=threads, user_api="blas")
    if torch is not None:
        torch.set_num_threads(threads)


def run(shape_names, dtypes, thread_counts, epochs, n_synthetic, include_torch=True, include_jax=True, before=None):
    """One row per (shape, dtype, threads): {column: median seconds per epoch, ...}.

    before: another miniae package (``load_package``), timed in the same rounds as "miniae before"."""
    rows, notes = [], {}
    controller = ThreadpoolController()
    jax_workers = {}
    if include_jax and jax_available():
        jax_workers = {threads: JaxWorker(threads) for threads in thread_counts}
    try:
        for name in shape_names:
            conv = name in CONV_SHAPES or name in SEQUENCE_SHAPES  # float32 rows against PyTorch eager only
            if name in SEQUENCE_SHAPES:
                steps, features, hidden, code_size, batch, data = SEQUENCE_SHAPES[name]
                X = load(data, max(1, n_synthetic // 5))
                label = f"sequence LSTM T={steps} features {features} H={hidden} code {code_size}"
            elif conv:
                (c, h, w), channels, code_size, up, batch, data = CONV_SHAPES[name]
                X = load(data, max(1, n_synthetic // 5))
                label = f"conv {up} {c}x{h}x{w} {'-'.join(map(str, channels))} code {code_size}"
            else:
                sizes, batch, data = SHAPES[name]
                X = load(data, n_synthetic)
                label = "-".join(map(str, layer_dims(sizes)))
            n = X.shape[0]
            for dtype in dtypes:
                if conv and dtype is not np.float32:
                    continue  # the conv and sequence rows are float32 only
                runners = {}
                for threads in thread_counts:
                    set_threads(controller, threads)
                    if name in SEQUENCE_SHAPES:
                        runners["miniae", threads] = miniae_sequence_epochs(name, batch, X, dtype)
                        if include_torch and torch is not None:
                            runners["torch", threads] = torch_sequence_epochs(name, batch, X, dtype)
                        continue
                    if conv:
                        runners["miniae", threads] = miniae_conv_epochs(name, batch, X, dtype)
                        if before is not None and hasattr(before.Autoencoder, "conv"):
                            runners["before", threads] = miniae_conv_epochs(name, batch, X, dtype, package=before)
                        if include_torch and torch is not None:
                            runners["torch", threads] = torch_conv_epochs(name, batch, X, dtype)
                            runners["torch_fused", threads] = torch_conv_epochs(name, batch, X, dtype, fused=True)
                        continue
                    runners["miniae", threads] = miniae_epochs(sizes, batch, X, dtype)
                    if before is not None:
                        runners["before", threads] = miniae_epochs(sizes, batch, X, dtype, package=before)
                    runners["sklearn", threads] = sklearn_epochs(sizes, batch, X, dtype)
                    runners["floor", threads] = gemm_floor_epochs(sizes, batch, n, dtype)
                    if dtype is np.float32 and include_torch and torch is not None:
                        runners["torch", threads] = torch_epochs(sizes, batch, X, dtype)
                        runners["torch_fused", threads] = torch_epochs(sizes, batch, X, dtype, fused=True)
                        notes["torch_fused"] = runners["torch_fused", threads].adam
                    if dtype is np.float32 and threads in jax_workers:
                        try:
                            runners["jax", threads] = jax_workers[threads].epochs(name, n_synthetic)
                        except RuntimeError as error:  # a broken JAX: the column is skipped
                            print(f"JAX column skipped: {error}", file=sys.stderr)
                            jax_workers.pop(threads).close()
                times = {key: [] for key in runners}
                order = list(runners)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # MLPRegressor's "not converged yet"
                    for round_ in range(epochs + 1):  # round 0 is the warm-up
                        random.Random(round_).shuffle(order)
                        for key in order:
                            set_threads(controller, key[1])
                            seconds = runners[key]()
                            if round_ > 0:
                                times[key].append(seconds)
                for threads in thread_counts:
                    row = {"shape": name, "sizes": label, "batch": batch, "n": n,
                           "dtype": np.dtype(dtype).name, "threads": threads}
                    row.update({key[0]: statistics.median(values) for key, values in times.items()
                                if key[1] == threads})
                    rows.append(row)
                    print(format_row(row), flush=True)
    finally:
        for worker in jax_workers.values():
            worker.close()
    return rows, notes


def header():
    """The table's heading; the PyTorch columns say so when OMP_WAIT_POLICY is not PyTorch's default."""
    policy = os.environ.get("OMP_WAIT_POLICY")
    names = {key: f"{name} (OMP_WAIT_POLICY={policy})" if policy and key.startswith("torch") else name
             for key, name in COLUMNS.items()}
    cells = ["model", "batch", "dtype", "threads", *(f"{name} ms" for name in names.values()),
             *RATIOS.values(), "miniae / floor"]
    return "| " + " | ".join(cells) + " |"


def format_row(row):
    ms = lambda key: f"{1000 * row[key]:.1f}" if row.get(key) else "-"  # noqa: E731
    ratio = lambda key: f"{row[key] / row['miniae']:.2f}x" if row.get(key) else "-"  # noqa: E731
    cells = [row["sizes"], str(row["batch"]), row["dtype"], str(row["threads"]), *map(ms, COLUMNS),
             *map(ratio, RATIOS), f"{row['miniae'] / row['floor']:.2f}" if row.get("floor") else "-"]
    return "| " + " | ".join(cells) + " |"


def float_ratios(rows):
    lines = []
    by = {(r["sizes"], r["dtype"], r["threads"]): r for r in rows}
    for (sizes, dtype, threads), r in by.items():
        if dtype == "float32" and (sizes, "float64", threads) in by:
            lines.append(f"- {sizes}, {threads} thread{'s' * (threads > 1)}: miniae's float64 epoch takes "
                         f"{by[sizes, 'float64', threads]['miniae'] / r['miniae']:.2f}x its float32 epoch")
    return lines


def target_checks(rows):
    """Issue 22's targets (float32, every thread count), each with the measured number and met / MISSED."""
    lines = []

    def check(row, text, key, ok):
        where = f"{row['sizes']} float32, {row['threads']} thread{'s' * (row['threads'] > 1)}"
        if not row.get(key):
            lines.append(f"- {where}: {text}: not measured ({COLUMNS[key]} not run)")
            return
        speedup = row[key] / row["miniae"]
        lines.append(f"- {where}: {text}: {COLUMNS[key]} takes {speedup:.2f}x miniae's time "
                     f"-> {'met' if ok(speedup) else 'MISSED'}")

    by = {(r["shape"], r["dtype"], r["threads"]): r for r in rows}
    for row in rows:
        if row["dtype"] != "float32":
            continue
        if row["shape"] == "small":
            check(row, ">= 2.5x faster than PyTorch fused Adam", "torch_fused", lambda s: s >= 2.5)
            check(row, ">= 2.5x faster than MLPRegressor", "sklearn", lambda s: s >= 2.5)
        elif row["shape"] in CONV_SHAPES:
            check(row, "within 1.5x of PyTorch eager", "torch", lambda s: 1 / s <= 1.5)
        elif row["shape"] in SEQUENCE_SHAPES:
            check(row, "within 2x of PyTorch eager nn.LSTM (issue 24)", "torch", lambda s: 1 / s <= 2)
        else:
            check(row, "faster than PyTorch default Adam", "torch", lambda s: s >= 1)
            least = 0.9 if row["threads"] == 1 else 0.8
            check(row, f"at least {least}x of PyTorch fused Adam", "torch_fused", lambda s, least=least: s >= least)
        one = by.get((row["shape"], "float32", 1))
        if row["threads"] > 1 and one is not None:
            slower = row["miniae"] / one["miniae"]
            lines.append(f"- {row['sizes']} float32: {row['threads']} threads take {slower:.2f}x the time of 1 "
                         f"-> {'met' if slower <= 1 else 'MISSED'} (never slower than 1 thread)")
    return lines


TARGETS = ("Targets (issue 22), float32: 64-32-8-32-64 at least 2.5x faster than PyTorch fused Adam and than "
           "MLPRegressor, at 1 and 2 threads; 784-256-32-256-784 and 784-1024-64-1024-784 faster than PyTorch's "
           "default Adam, at least 0.9x of fused Adam at 1 thread and 0.8x at 2; 2 threads never slower than 1; "
           "both conv hourglasses within 1.5x of PyTorch eager. Issue 24: the sequence hourglass (T = 50, 1 feature, "
           "H = 64, batch 64) within 2x of PyTorch eager nn.LSTM.")


def machine_info(thread_counts):
    try:
        cpu = [line.split(":", 1)[1].strip() for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True).stdout.splitlines() if line.startswith("Model name")][0]
    except (OSError, IndexError):
        cpu = platform.processor() or "unknown"
    blas = [f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')} kernel, "
            f"{os.path.basename(i['filepath'])})" for i in threadpool_info() if i["user_api"] == "blas"]
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info = {"CPU": f"{cpu}, {os.cpu_count()} logical CPUs ({usable} usable)",
            "Python": platform.python_version(), "miniae": getattr(miniae, "__version__", "?"),
            "NumPy": np.__version__, "BLAS (NumPy, SciPy)": "; ".join(blas) or "unknown",
            "scikit-learn": sklearn_version}
    if torch is not None:
        info["PyTorch"] = f"{torch.__version__} ({torch.__config__.parallel_info().splitlines()[-1].strip()})"
    else:
        info["PyTorch"] = "not installed (columns skipped)"
    if jax_available():
        info["JAX"] = subprocess.run([sys.executable, "-c", "import jax, jaxlib; print(jax.__version__, "
                                      "'(jaxlib', jaxlib.__version__ + ')')"], capture_output=True, text=True,
                                     env={**os.environ, "JAX_PLATFORMS": "cpu"}).stdout.strip() or "?"
    else:
        info["JAX"] = "not installed (column skipped)"
    info["threads"] = (f"{' and '.join(map(str, thread_counts))}: threadpoolctl for the BLAS, "
                       "torch.set_num_threads for PyTorch, a JAX worker process per count pinned to that many "
                       "CPUs with XLA_FLAGS intra_op_parallelism_threads")
    info["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "unset (PyTorch's default)")
    flags = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS",
                                        "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    info["thread/BLAS environment"] = ", ".join(f"{k}={v}" for k, v in flags.items()) or "none set"
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="small,medium,large,conv-upsample,conv-transpose,sequence",
                        help="comma-separated: small, medium, large, conv-upsample, conv-transpose, sequence")
    parser.add_argument("--before", metavar="PATH",
                        help="a checkout of an earlier miniae (e.g. a git worktree): timed in the same rounds")
    parser.add_argument("--coretype", metavar="KERNEL",
                        help="rerun under OPENBLAS_CORETYPE=KERNEL (e.g. Haswell): a second kernel, same machine")
    parser.add_argument("--dtypes", default="float32,float64",
                        help="comma-separated (float64: miniae, MLPRegressor and the floor only)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs after one warm-up epoch (default 7)")
    parser.add_argument("--n", type=int, default=5_000, help="synthetic samples (default 5000)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--no-jax", action="store_true", help="skip JAX even if it is installed")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1024 samples: a smoke test")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    parser.add_argument("--out", default="RESULTS.md", help="file name in benchmarks/ for --write")
    parser.add_argument("--jax-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jax_worker:
        return jax_worker(args.jax_worker)
    if args.coretype and os.environ.get("OPENBLAS_CORETYPE") != args.coretype:
        # OpenBLAS reads its kernel when it loads, before this script could change it: start again with it set
        env = {**os.environ, "OPENBLAS_CORETYPE": args.coretype}
        return subprocess.run([sys.executable, os.path.abspath(__file__), *(argv or sys.argv[1:])], env=env).returncode
    if args.quick:
        args.epochs, args.n = 2, 1024
    shapes = args.shapes.split(",")
    dtypes = [np.dtype(name).type for name in args.dtypes.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    known = [*SHAPES, *CONV_SHAPES, *SEQUENCE_SHAPES]
    unknown = set(shapes) - set(known)
    if unknown:
        parser.error(f"unknown shapes {sorted(unknown)}; choose from {sorted(known)}")
    info = machine_info(thread_counts)
    info["load average (1, 5 min) at start"] = "{:.2f}, {:.2f}".format(*os.getloadavg())
    for key, value in info.items():
        print(f"{key}: {value}")
    print(header())
    start = time.perf_counter()
    before = load_package(args.before) if args.before else None
    if before is not None:
        info["miniae before"] = f"{args.before} (git {git_head(args.before)})"
    rows, notes = run(shapes, dtypes, thread_counts, args.epochs, args.n,
                      include_torch=not args.no_torch, include_jax=not args.no_jax, before=before)
    info["load average (1, 5 min) at end"] = "{:.2f}, {:.2f}".format(*os.getloadavg())
    info["run time"] = f"{time.perf_counter() - start:.0f} s"
    if "torch_fused" in notes:
        info["PyTorch fused column"] = f"torch.optim.Adam {notes['torch_fused']}"
    print("\n".join(float_ratios(rows)))
    print(TARGETS)
    print("\n".join(target_checks(rows)))
    print(f"load average: {info['load average (1, 5 min) at start']} at start, "
          f"{info['load average (1, 5 min) at end']} at end; run time {info['run time']}")
    if args.write:
        write_results(rows, info, args)


NOTES = """How to read it:

- ms per epoch, median of the timed epochs; lower is better.  "vs X" is X's time over
  miniae's: how many times faster miniae is (below 1: X is faster).
- "GEMM floor" is the time of the matrix products alone, the 11 a step computes (x W forward
  for each of the 4 Dense layers, x^T dy backward for each, dy W^T for all but the first:
  nobody needs dL/dx of the data), run on preallocated arrays in the same rounds;
  miniae / floor is what everything else costs on top (activations, loss, Adam, Python).
- The tools do not run the identical model: MLPRegressor puts ReLU on the code layer too
  (one activation for all hidden layers); miniae, PyTorch and JAX keep the code linear.
  miniae's epoch is a whole `fit(..., epochs=1)` call, its checks of X included.
- PyTorch runs with OpenMP's default wait policy: its threads spin for a while before they
  sleep.  On a machine that other jobs share, that and the wake-ups of 2-thread calls make a
  2-thread epoch slower; OMP_WAIT_POLICY=PASSIVE (which an earlier version of this script
  set) slows PyTorch 1.2-1.7x instead.  Compare columns within one table (same load), and see
  the load average above: a run on a busy machine says little.
- PyTorch's default Adam, for CPU tensors, loops over the parameter tensors in Python (it
  picks neither its foreach nor its fused version); `fused=True` updates them in one kernel.
- JAX is a reference: one compiled program per epoch, no Python per step.
- Peak memory of a fit: `python benchmarks/memory.py --write`, in benchmarks/MEMORY.md.
- Where a step's time goes (each layer, the loss, Adam, next to the floor):
  `python benchmarks/step_profile.py [--shape medium --dtype float64]`.
- The optional benchmark dependencies (PyTorch, JAX): `benchmarks/requirements.txt`."""


def write_results(rows, info, args):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), args.out)
    head = header()
    lines = ["# Training speed: miniae vs scikit-learn, PyTorch and JAX", "",
             f"Made by `python benchmarks/train_speed.py {' '.join(sys.argv[1:])}` (median of {args.epochs} "
             "epochs after one warm-up epoch, every column's epochs interleaved in a shuffled order; "
             f"{args.n} synthetic samples for the 784 shapes, the 1797 digits for 64-32-8, {max(1, args.n // 5)} "
             f"synthetic 28x28 images for the conv rows and {max(1, args.n // 5)} detector pulses (datasets.pulses) "
             "for the sequence row).", "", "Machine:", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", head, "|" + "---|" * (head.count("|") - 1)]
    lines += [format_row(row) for row in rows]
    lines += ["", *float_ratios(rows), "", TARGETS, "", *target_checks(rows), "", NOTES, ""]
    findings = os.path.join(os.path.dirname(path), "findings.md")  # what the profiles found, written by hand
    if os.path.exists(findings):
        with open(findings) as f:
            lines += [f.read()]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
