"""The ``miniae`` command (also ``python -m miniae``).

Each sub-command is a function ``cmd_NAME(args)`` returning an exit code, registered in
``build_parser``.  Bad input ends with a one-line ``miniae: error: ...`` and exit code 2.
"""
import argparse
import sys

import numpy as np


def cmd_gradcheck(args):
    """Gradient-check every built-in layer, loss and penalty and a whole model; print the tables."""
    from . import gradcheck, layers, losses, penalties
    from .models import Autoencoder

    rng = np.random.default_rng(args.seed)
    reports = []
    reports.append(gradcheck.check_layer(layers.Dense(5, 3, rng=rng), rng.standard_normal((4, 5))))
    for name in ("identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus"):
        reports.append(gradcheck.check_layer(layers.make_activation(name), rng.standard_normal((4, 5))))
    target = rng.uniform(0, 1, (4, 5))
    reports.append(gradcheck.check_loss(losses.MSE(), rng.standard_normal((4, 5)), target))
    reports.append(gradcheck.check_loss(losses.BCE(), rng.uniform(0.05, 0.95, (4, 5)), target))
    reports.append(gradcheck.check_loss(losses.BCE(from_logits=True), 3 * rng.standard_normal((4, 5)), target))
    reports.append(gradcheck.check_penalty(penalties.L1Sparsity(0.1), rng.standard_normal((4, 3))))
    reports.append(gradcheck.check_penalty(penalties.KLSparsity(0.1, 2.0), rng.uniform(0.05, 0.95, (4, 3))))
    model = Autoencoder.mirrored([6, 4, 2], activation="tanh", penalties=[penalties.WeightDecay(1e-2)], rng=rng)
    reports.append(gradcheck.check_model(model, rng.uniform(0, 1, (5, 6))))
    for report in reports:
        print(report)
        print()
    failed = [r.title for r in reports if not r]
    print(f"{len(reports) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


# Sub-commands that live in their own module: name -> (module, help).  Each module defines
# ``add_arguments(parser)`` and ``run(args) -> exit code``.
MODULE_COMMANDS = {
    "compare-pca": ("miniae.compare", "linear AE, PCA and a nonlinear AE side by side (the main tour)"),
    "figures": ("miniae.figures", "regenerate every PNG in figures/"),
}


def build_parser():
    import importlib

    parser = argparse.ArgumentParser(prog="miniae", description="Autoencoders from scratch in NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in MODULE_COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        p = sub.add_parser(name, help=help_text, description=module.run.__doc__)
        module.add_arguments(p)
        p.set_defaults(func=module.run)

    p = sub.add_parser("gradcheck", help="gradient-check every built-in layer, loss and penalty",
                       description=cmd_gradcheck.__doc__)
    p.add_argument("--seed", type=int, default=0, help="seed for the random test inputs (default 0)")
    p.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # MiniaeInputError is a ValueError
        print(f"miniae: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
