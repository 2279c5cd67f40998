"""The ``miniae`` command (also ``python -m miniae``).

Each sub-command is a function ``cmd_NAME(args)`` returning an exit code, registered in
``build_parser``.  Bad input ends with a one-line ``miniae: error: ...`` and exit code 2.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from . import compare, datasets, figures, gradcheck, io, layers, losses, noise, penalties
from .models import Autoencoder
from .optim import Adam
from .train import fit
from .vae import VAE
from .validation import MiniaeInputError, check_data, check_weight_count


def _describe(model):
    """A short label for a model in the gradcheck listing."""
    parts = [type(p).__name__ for p in getattr(model, "penalties", [])]
    if getattr(model, "noise", None) is not None:
        parts.append(type(model.noise).__name__)
    if hasattr(model, "likelihood"):
        parts.append(f"{type(model.likelihood).__name__}")
    builder = getattr(model, "config", {}).get("builder")
    if builder in ("conv", "sequence"):
        parts.insert(0, builder)
    return ", ".join(parts) or "plain"


def cmd_gradcheck(args):
    """Gradient-check every built-in layer, loss and penalty and a whole model; print the tables."""
    rng = np.random.default_rng(args.seed)
    reports = []
    reports.append(gradcheck.check_layer(layers.Dense(5, 3, rng=rng), rng.standard_normal((4, 5))))
    for name in ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"):
        reports.append(gradcheck.check_layer(layers.make_activation(name), rng.standard_normal((4, 5))))
    # recurrent layers: backpropagation through time, every step's output read (RNN) or the last (LSTM)
    reports.append(gradcheck.check_layer(layers.RNN(3, 4, rng=rng), rng.standard_normal((2, 5, 3))))
    reports.append(gradcheck.check_layer(layers.LSTM(3, 4, return_sequences=False, rng=rng),
                                         rng.standard_normal((2, 5, 3))))
    target = rng.uniform(0, 1, (4, 5))
    reports.append(gradcheck.check_loss(losses.MSE(), rng.standard_normal((4, 5)), target))
    reports.append(gradcheck.check_loss(losses.BCE(), rng.uniform(0.05, 0.95, (4, 5)), target))
    reports.append(gradcheck.check_loss(losses.BCE(from_logits=True), 3 * rng.standard_normal((4, 5)), target))
    reports.append(gradcheck.check_penalty(penalties.L1Sparsity(0.1), rng.standard_normal((4, 3))))
    reports.append(gradcheck.check_penalty(penalties.KLSparsity(0.1, 2.0), rng.uniform(0.05, 0.95, (4, 3))))
    X = rng.uniform(0, 1, (5, 6))
    models = [  # whole models: every parameter through the full step, penalties and noise included
        Autoencoder.mirrored([6, 4, 2], activation="tanh", penalties=[penalties.WeightDecay(1e-2)], rng=rng),
        Autoencoder.mirrored([6, 3], activation="sigmoid", code_activation="sigmoid",
                             penalties=[penalties.Contractive(0.1)], rng=rng),
        Autoencoder.linear(6, 3, penalties=[penalties.OrderedWeightDecay([0.01, 0.02, 0.03])], rng=rng),
        Autoencoder.mirrored([6, 4, 2], activation="softplus", noise=noise.MaskingNoise(0.3), rng=rng),
        VAE.mirrored([6, 5, 2], activation="tanh", likelihood="bernoulli", rng=rng),
        VAE.mirrored([6, 5, 2], activation="tanh", likelihood="gaussian", rng=rng),
        Autoencoder.sequence(6, 1, hidden=4, code_size=2, rng=rng),
    ]
    for model in models:
        report = gradcheck.check_model(model, X)
        report.title += f" ({_describe(model)})"
        reports.append(report)
    for report in reports:
        print(report)
        print()
    failed = [r.title for r in reports if not r]
    print(f"{len(reports) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


# ----------------------------------------------------------------- miniae train
KINDS = ("ae", "sparse", "denoising", "contractive", "vae", "conv", "sequence")

# --data NAME -> the loader in miniae.datasets
DATASETS = {"digits": "load_digits", "faces": "smiley_faces", "spectra": "spectra", "patches": "image_patches",
            "pulses": "pulses", "mnist": "load_mnist", "fashion": "load_mnist"}


def load_training_data(source, seed, n_samples=2000):
    """--data: a dataset name (see DATASETS) or the path of a .npy/.csv file -> X (n, d), float64."""
    if source not in DATASETS:
        if not Path(source).suffix and not Path(source).exists():
            raise MiniaeInputError(f"--data {source!r} is neither a dataset ({', '.join(DATASETS)}) "
                                   "nor a .npy/.csv file path")
        return io.read_data(source)
    loader = getattr(datasets, DATASETS[source])
    if source == "digits":
        X = loader()[0]
    elif source in ("mnist", "fashion"):  # the training part, from the user's files (see load_mnist)
        X = loader("digits" if source == "mnist" else "fashion", split="train")[0]
    else:
        out = loader(n_samples, seed=seed)
        X = out[0] if isinstance(out, tuple) else out
    X = np.asarray(X, dtype=np.float64)
    return check_data(X.reshape(len(X), -1), f"the {source} data")


# the kinds whose layers are fixed by their builder: --hidden would be ignored, so it is refused
NO_HIDDEN = ("conv", "contractive")
DEFAULT_HIDDEN = 32


def check_size_options(kind, n_features, args):
    """Refuse --hidden where it has no layer to size, and sizes whose layers would be too big to allocate
    (each named by its option, before any weight is made)."""
    if kind in NO_HIDDEN and args.hidden is not None:
        raise MiniaeInputError(f"--hidden does not apply to train {kind} (its layers are fixed: see "
                               "miniae.Autoencoder.conv and the contractive kind's one-layer encoder); drop it")
    hidden = DEFAULT_HIDDEN if args.hidden is None else args.hidden
    layers_by_option = [("--code-size", n_features, args.code_size)]  # conv's Dense to the code: n_features too
    if kind not in NO_HIDDEN and hidden:
        layers_by_option = [("--hidden", n_features, hidden), ("--hidden and --code-size", hidden, args.code_size)]
    for option, n_in, n_out in layers_by_option:
        check_weight_count(n_in * n_out + n_out, f"{option}: the layer {n_in} -> {n_out}")
    return [hidden] if hidden and kind not in NO_HIDDEN else []


def build_model(kind, n_features, args, X):
    """The model that ``miniae train KIND`` trains, seeded by --seed."""
    if kind == "sequence":  # each row one sequence of n_features steps, one number a step
        hidden = DEFAULT_HIDDEN if args.hidden is None else args.hidden
        return Autoencoder.sequence(n_features, 1, hidden=hidden, code_size=args.code_size, rng=args.seed)
    hidden = check_size_options(kind, n_features, args)
    sizes = [n_features, *hidden, args.code_size]
    if kind == "vae":
        in_unit_interval = X.min() >= 0 and X.max() <= 1
        return VAE.mirrored(sizes, activation="relu", likelihood="bernoulli" if in_unit_interval else "gaussian",
                            rng=args.seed)
    if kind == "conv":
        side = int(round(np.sqrt(n_features)))
        if side * side != n_features or side % 4:
            raise MiniaeInputError(f"train conv needs square one-channel images whose side is divisible by 4 "
                                   f"(64 = 8x8, 784 = 28x28), got {n_features} features")
        in_unit_interval = X.min() >= 0 and X.max() <= 1
        return Autoencoder.conv((1, side, side), code_size=args.code_size,
                                output="sigmoid" if in_unit_interval else "identity", rng=args.seed)
    if kind == "contractive":
        # the contractive penalty is exact for a one-layer encoder: input -> sigmoid code
        return Autoencoder.mirrored([n_features, args.code_size], code_activation="sigmoid",
                                    penalties=[penalties.Contractive(args.lam)], rng=args.seed)
    extra = {"sparse": {"penalties": [penalties.L1Sparsity(args.lam)]},
             "denoising": {"noise": noise.MaskingNoise(args.noise)}}.get(kind, {})
    return Autoencoder.mirrored(sizes, activation="relu", rng=args.seed, **extra)


def split_train_test(X, seed, test_fraction=0.2):
    """A seeded shuffle split; no test part for fewer than 5 samples."""
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(test_fraction * len(X))) if len(X) >= 5 else 0
    return X[order[n_test:]], X[order[:n_test]]


def cmd_train(args):
    """Train one kind of autoencoder on a dataset or a .npy/.csv file, print progress and
    final metrics (with PCA of the same code size for reference), and optionally save it."""
    if args.out:
        check_output_path(args.out, args.data, args.force)
    X = load_training_data(args.data, args.seed)
    X_train, X_test = split_train_test(X, args.seed)
    model = build_model(args.kind, X.shape[1], args, X_train)
    print(f"training {args.kind} on {args.data}: {len(X_train)} train / {len(X_test)} test samples, "
          f"{X.shape[1]} features, code size {args.code_size}", flush=True)
    start = time.perf_counter()
    fit(model, X_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr),
        validation=X_test if len(X_test) else None, verbose=not args.quiet)
    seconds = time.perf_counter() - start

    def mse(part):
        return float(np.mean((model.reconstruct(part) - part) ** 2))

    train_mse = mse(X_train)
    print(f"train MSE {train_mse:.5g}", end="")
    if len(X_test):
        print(f"  test MSE {mse(X_test):.5g}", end="")
        if args.code_size <= min(X_train.shape):
            pca = PCA(args.code_size).fit(X_train)
            pca_mse = float(np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2))
            print(f"  (PCA with {args.code_size} components: test MSE {pca_mse:.5g})", end="")
    print(f"  in {seconds:.1f}s")
    warn_if_no_better_than_the_mean(train_mse, X_train)
    if args.out:
        print(f"saved to {io.save(model, args.out)}")
    return 0


def warn_if_no_better_than_the_mean(train_mse, X_train):
    """A model that reconstructs no better than the mean sample ignores its input (dead ReLUs after too
    large a learning rate, or too few epochs): say so on stderr, so the exit code 0 is not read as success."""
    mean_mse = float(np.mean((X_train - X_train.mean(axis=0)) ** 2))
    if train_mse >= mean_mse:
        print(f"miniae: warning: the model reconstructs no better than the mean sample (train MSE {train_mse:.5g}, "
              f"the mean's {mean_mse:.5g}); lower --lr or train more --epochs", file=sys.stderr)


def check_output_path(out, data, force):
    """Refuse an --out that is the input data, or an existing file without --force."""
    out_path = Path(out)
    if Path(data).exists() and out_path.exists() and out_path.resolve() == Path(data).resolve():
        raise MiniaeInputError(f"--out {out!r} is the --data file: saving would replace your data with a model; "
                               "choose another --out")
    if not out_path.parent.is_dir():
        raise MiniaeInputError(f"--out {out!r}: the folder {str(out_path.parent)!r} does not exist; create it first "
                               "or choose another path")
    if out_path.exists() and not force:
        raise MiniaeInputError(f"--out {out!r} already exists; pass --force to overwrite it or choose another path")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative_int(text):
    return 0 if text.strip() == "0" else _positive_int(text)


def _fraction(text):
    """A number in [0, 1): the share of inputs the masking noise sets to 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


MAX_LR = 1.0  # Adam moves every weight by about lr a step: above 1 that is more than a weight's own size


def _learning_rate(text):
    """A positive number up to MAX_LR: an absurd rate (--lr 1e6) is refused before training, not trained
    into a useless model (a sigmoid output keeps the loss bounded, so nothing would diverge visibly)."""
    value = _positive_float(text)
    if value > MAX_LR:
        raise argparse.ArgumentTypeError(f"expected a learning rate up to {MAX_LR:g} (Adam moves each weight by "
                                         f"about lr a step), got {text!r}")
    return value


def add_train_arguments(p):
    """Add the arguments of ``miniae train`` (KIND, --data, sizes, training, --out, --force) to the parser ``p``."""
    p.add_argument("kind", choices=KINDS, metavar="KIND", help="one of: " + ", ".join(KINDS))
    p.add_argument("--data", default="digits",
                   help="a dataset (" + ", ".join(DATASETS) + ") or a .npy/.csv file, one sample per row, "
                        "no header (default digits)")
    p.add_argument("--code-size", type=_positive_int, default=8, help="width of the code (default 8)")
    p.add_argument("--hidden", type=_non_negative_int, default=None,
                   help=f"width of the hidden layer on each side, 0 for none (default {DEFAULT_HIDDEN}; "
                        f"not for {' or '.join(NO_HIDDEN)}, whose layers are fixed)")
    p.add_argument("--epochs", type=_positive_int, default=100, help="training epochs (default 100)")
    p.add_argument("--batch-size", type=_positive_int, default=64, help="minibatch size (default 64)")
    p.add_argument("--lr", type=_learning_rate, default=3e-3,
                   help=f"Adam learning rate, at most {MAX_LR:g} (default 3e-3)")
    p.add_argument("--lam", type=_positive_float, default=1e-3,
                   help="penalty weight for sparse (L1) and contractive (default 1e-3)")
    p.add_argument("--noise", type=_fraction, default=0.3,
                   help="denoising: fraction of inputs masked to 0 (default 0.3)")
    p.add_argument("--seed", type=_non_negative_int, default=0,
                   help="seed for weights, split and shuffling (default 0)")
    p.add_argument("--out", default=None, help="save the trained model to this .npz file")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress lines")


# Sub-commands that live in their own module: name -> (module, help).  Each module defines
# ``add_arguments(parser)`` and ``run(args) -> exit code``.
MODULE_COMMANDS = {
    "compare-pca": (compare, "linear AE, PCA and a nonlinear AE side by side (the main tour)"),
    "figures": (figures, "regenerate the README's figures by executing the lessons"),
}


def build_parser():
    """The ``miniae`` command's argparse parser, one subcommand each: compare-pca, figures, train, gradcheck."""
    parser = argparse.ArgumentParser(prog="miniae", description="Autoencoders from scratch in NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in MODULE_COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=module.run.__doc__)
        module.add_arguments(p)
        p.set_defaults(func=module.run)

    p = sub.add_parser("train", help="train an autoencoder (ae, sparse, denoising, contractive, vae, conv, sequence)",
                       description=cmd_train.__doc__)
    add_train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("gradcheck", help="gradient-check every built-in layer, loss and penalty",
                       description=cmd_gradcheck.__doc__)
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed for the random test inputs (default 0)")
    p.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None):
    """Run the ``miniae`` command with ``argv`` (default: sys.argv); returns the exit code, 2 with one
    error line for bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # MiniaeInputError is a ValueError
        message = " ".join(str(exc).split())  # one line, whatever the message
        print(f"miniae: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
