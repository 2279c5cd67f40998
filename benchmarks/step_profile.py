"""Where does a training step's time go?  Each layer, the loss and Adam, timed inside training.

    python benchmarks/step_profile.py                         # large float32 (784-1024-64)
    python benchmarks/step_profile.py --shape medium --dtype float64

Runs the step of ``Autoencoder.loss_and_grads`` piece by piece (each layer's forward and
backward, the loss, then ``Adam.step``) on 5,000 synthetic samples, and reports ms per epoch
for each kind of piece next to the GEMM floor of train_speed.py (the 11 matrix products of a
step on preallocated arrays), median of several epochs.  The sum of the pieces is a whole
step; what is above the floor shows where the overhead is.
"""
import argparse
import collections
import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from miniae.models import Autoencoder  # noqa: E402
from miniae.optim import Adam  # noqa: E402
from train_speed import SHAPES, gemm_floor_epochs, synthetic_data  # noqa: E402


def profile_epoch(model, optimizer, X, batch):
    """One epoch, piece by piece: {piece: seconds}."""
    layers = model.encoder.layers + model.decoder.layers
    params = model.named_parameters()
    seconds = collections.defaultdict(float)

    def timed(piece, function, *args):
        start = time.perf_counter()
        result = function(*args)
        seconds[piece] += time.perf_counter() - start
        return result

    for start in range(0, X.shape[0], batch):
        x = X[start:start + batch]
        h = x
        for layer in layers:
            h = timed(f"{type(layer).__name__} forward", layer.forward, h)
        timed("loss", model.loss.forward, h, x)
        dy = timed("loss", model.loss.backward)
        for i, layer in reversed(list(enumerate(layers))):
            # the model skips dL/dx of the data at its first layer (backward_params), so do we
            dy = timed(f"{type(layer).__name__} backward", layer.backward if i else layer.backward_params, dy)
        timed("Adam", optimizer.step, params)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="large", choices=["medium", "large"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs after one warm-up (default 7)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    sizes, batch, _ = SHAPES[args.shape]
    dtype = np.dtype(args.dtype).type
    X = synthetic_data(5000).astype(dtype)
    model = Autoencoder.mirrored(sizes, activation="relu", rng=0, dtype=dtype)
    optimizer = Adam(1e-3)
    floor = gemm_floor_epochs(sizes, batch, X.shape[0], dtype)
    times = collections.defaultdict(list)
    with threadpool_limits(limits=args.threads):
        for epoch in range(args.epochs + 1):  # epoch 0 is the warm-up
            pieces = profile_epoch(model, optimizer, X, batch)
            pieces["GEMM floor (11 products)"] = floor()
            if epoch > 0:
                for piece, seconds in pieces.items():
                    times[piece].append(seconds)
    print(f"{'-'.join(map(str, sizes + sizes[-2::-1]))}, batch {batch}, {args.dtype}, {args.threads} threads: "
          f"ms per epoch of {X.shape[0]} samples (median of {args.epochs})")
    medians = {piece: 1000 * statistics.median(values) for piece, values in times.items()}
    for piece, ms in medians.items():
        print(f"  {piece:<26} {ms:8.1f}")
    step = sum(ms for piece, ms in medians.items() if not piece.startswith("GEMM"))
    print(f"  {'whole step (sum)':<26} {step:8.1f}   step / floor = {step / medians['GEMM floor (11 products)']:.2f}")


if __name__ == "__main__":
    main()
