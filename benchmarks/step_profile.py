"""Where does a training step's time go?  Each layer, the loss and the optimizer, timed inside training.

    python benchmarks/step_profile.py                         # large float32 (784-1024-64)
    python benchmarks/step_profile.py --shape medium --dtype float64

On synthetic 784-dim data (--n samples), every minibatch is run twice:

* piece by piece, through the public pieces of a step: each layer's ``forward``, the
  loss's ``forward`` and ``backward``, each layer's ``backward`` (the first layer's backward
  also computes dL/dx of the data, which the model's own step skips: it is shown apart);
* as training does it: ``model.loss_and_grads(batch)`` then the optimizer's step.

It reports ms per epoch for each kind of piece, the whole ``loss_and_grads`` and the
optimizer step, next to the GEMM floor of train_speed.py (the 11 matrix products of a step
on preallocated arrays), median of several epochs.  What is above the floor shows where
the overhead is.
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
import miniae  # noqa: E402
from train_speed import SHAPES, gemm_floor_epochs, layer_dims, synthetic_data  # noqa: E402


def step(optimizer, model):
    """One optimizer update of the model's parameters from the gradients loss_and_grads left
    (the optimizer updates the model's flat parameter vector model.theta in one call)."""
    optimizer.step(model)


def profile_epoch(model, optimizer, X, batch):
    """One epoch, each minibatch piece by piece and then as a training step: {piece: seconds}."""
    layers = model.encoder.layers + model.decoder.layers
    optimizer_name = type(optimizer).__name__
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
            piece = f"{type(layer).__name__} backward" if i else f"{type(layer).__name__} backward, 1st (+dL/dx)"
            dy = timed(piece, layer.backward, dy)
        timed("loss_and_grads (whole)", model.loss_and_grads, x)
        timed(f"{optimizer_name} step", step, optimizer, model)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="large", choices=["medium", "large"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--epochs", type=int, default=7, help="timed epochs after one warm-up (default 7)")
    parser.add_argument("--n", type=int, default=5000, help="synthetic samples (default 5000)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    sizes, batch, _ = SHAPES[args.shape]
    dtype = np.dtype(args.dtype).type
    X = synthetic_data(args.n).astype(dtype)
    model = miniae.Autoencoder.mirrored(sizes, activation="relu", output="identity", rng=0, dtype=dtype)
    optimizer = miniae.Adam(1e-3)
    floor = gemm_floor_epochs(sizes, batch, X.shape[0], dtype)
    floor_name = "GEMM floor (11 products)"
    times = collections.defaultdict(list)
    with threadpool_limits(limits=args.threads):
        for epoch in range(args.epochs + 1):  # epoch 0 is the warm-up
            pieces = profile_epoch(model, optimizer, X, batch)
            pieces[floor_name] = floor()
            if epoch > 0:
                for piece, seconds in pieces.items():
                    times[piece].append(seconds)
    print(f"{'-'.join(map(str, layer_dims(sizes)))}, batch {batch}, {args.dtype}, {args.threads} threads: "
          f"ms per epoch of {X.shape[0]} samples (median of {args.epochs})")
    medians = {piece: 1000 * statistics.median(values) for piece, values in times.items()}
    whole = ("loss_and_grads (whole)", f"{type(optimizer).__name__} step", floor_name)
    print("  the pieces, one by one:")
    for piece, ms in medians.items():
        if piece not in whole:
            print(f"    {piece:<32} {ms:8.1f}")
    print(f"    {'sum of the pieces':<32} {sum(ms for p, ms in medians.items() if p not in whole):8.1f}")
    print("  a training step:")
    for piece in whole:
        print(f"    {piece:<32} {medians[piece]:8.1f}")
    step_ms = medians[whole[0]] + medians[whole[1]]
    print(f"    {'whole step':<32} {step_ms:8.1f}   step / floor = {step_ms / medians[floor_name]:.2f}")


if __name__ == "__main__":
    main()
