"""Peak memory of a fit: is it the data plus a constant set of buffers?

    python benchmarks/memory.py            # prints the numbers
    python benchmarks/memory.py --write    # also writes benchmarks/MEMORY.md

Traces (tracemalloc, which sees every NumPy array) a 10-epoch fit of 784-256-32-256-784,
batch 128, float32, on 10,000 synthetic 784-dim samples, counting the data itself, and
checks the peak against data + 50 MB (fit gathers each minibatch from X by a shuffled index:
it makes no copy of the data).  Then it trains 1,000 and 20,000 samples and compares the
peaks above the data: what a fit allocates on top of X should not grow with N.
"""
import argparse
import os
import sys
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from miniae.models import Autoencoder  # noqa: E402
from miniae.train import fit  # noqa: E402

MB = 2 ** 20


def peak_of_fit(n, sizes=(784, 256, 32), batch=128, epochs=10, dtype=np.float32):
    """(bytes of X, peak traced bytes during data creation + fit)."""
    model = Autoencoder.mirrored(list(sizes), activation="relu", rng=0, dtype=dtype)
    tracemalloc.start()
    rng = np.random.default_rng(0)
    X = rng.random((n, sizes[0]), dtype=dtype)
    tracemalloc.reset_peak()
    fit(model, X, epochs=epochs, batch_size=batch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return X.nbytes, peak


def measure():
    """The report, as lines of text."""
    data, peak = peak_of_fit(10_000)
    limit = data + 50 * MB
    lines = ["10-epoch fit, 10,000 x 784 float32 (784-256-32-256-784, batch 128):",
             f"  data {data / MB:.1f} MB, peak traced {peak / MB:.1f} MB "
             f"({peak / data:.2f} x data), target < data + 50 MB = {limit / MB:.1f} MB: "
             f"{'met' if peak < limit else 'MISSED'}"]
    for n in (1_000, 20_000):
        data, peak = peak_of_fit(n, epochs=3)
        lines.append(f"  n = {n:>6}: data {data / MB:6.1f} MB, peak - data = {(peak - data) / MB:5.2f} MB")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write benchmarks/MEMORY.md")
    args = parser.parse_args(argv)
    lines = measure()
    print("\n".join(lines))
    if args.write:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MEMORY.md")
        with open(path, "w") as f:
            f.write("# Memory of a fit\n\nMade by `python benchmarks/memory.py --write` (tracemalloc peak "
                    "during a fit, the data included):\n\n```\n" + "\n".join(lines) + "\n```\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
