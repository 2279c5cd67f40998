"""The VAE experiments behind lesson 06 and its figures (all on the digits, fixed seeds).

``train_digits_vae`` and ``beta_sweep`` are what the lesson calls; ``make_figures`` draws
every lesson-06 PNG for ``miniae figures``.
"""
from pathlib import Path

import numpy as np

from .datasets import load_digits
from .models import Autoencoder
from .optim import Adam
from .train import KLWarmup, fit
from .vae import VAE

FIGURES = {
    "vae_manifold.png": "lesson 06: the decoded 2-D latent grid of a VAE",
    "vae_latent.png": "lesson 06: test digits in a 2-D VAE latent space, coloured by class",
    "vae_samples.png": "lesson 06: digits sampled from the prior of an 8-D VAE",
    "vae_beta.png": "lesson 06: beta trades reconstruction for KL and active units",
    "vae_vs_ae.png": "lesson 06: random latent points decoded by a plain AE and by a VAE",
    "vae_reparam.png": "lesson 06: the reparameterization trick as two computation graphs",
}


def train_digits_vae(code_size=8, beta=1.0, epochs=30, hidden=128, warmup=None, lr=2e-3, seed=0, data=None):
    """A 64-hidden-(code_size)-hidden-64 Bernoulli VAE trained with Adam on the digits' training part.

    ``data``: (X_train, X_test) to reuse (default: load_digits(split="both")).
    ``warmup``: number of KL warm-up epochs (None: none).  Returns (model, history).
    """
    X_train, X_test = data if data is not None else load_digits(split="both")[:2]
    model = VAE.mirrored([64, hidden, code_size], likelihood="bernoulli", beta=beta, rng=seed)
    callbacks = [KLWarmup(warmup)] if warmup else []
    history = fit(model, X_train, epochs=epochs, batch_size=64, optimizer=Adam(lr=lr), validation=X_test,
                  callbacks=callbacks)
    return model, history


def train_digits_autoencoder(code_size=2, epochs=30, hidden=128, lr=2e-3, seed=0, data=None):
    """The plain autoencoder with the same layers and the same (Bernoulli) reconstruction loss."""
    X_train, X_test = data if data is not None else load_digits(split="both")[:2]
    model = Autoencoder.mirrored([64, hidden, code_size], activation="relu", loss="bce_logits", rng=seed)
    fit(model, X_train, epochs=epochs, batch_size=64, optimizer=Adam(lr=lr), validation=X_test)
    return model


def beta_sweep(betas=(0.25, 1.0, 4.0), code_size=8, epochs=30, seed=0, data=None, trained=None):
    """Train one VAE per beta; rows of test-set numbers (nats per image).

    Each row: beta, recon (-E_q log p(x|z)), kl, neg_elbo (recon + kl, the beta = 1 objective),
    active (units with KL > 0.01 nats) and kl_per_unit.  ``trained``: {beta: model} already
    trained with these settings (e.g. {1.0: the model of train_digits_vae}), reused as is.
    """
    data = data if data is not None else load_digits(split="both")[:2]
    trained = trained or {}
    rows = []
    for beta in betas:
        model = trained.get(beta) or train_digits_vae(code_size, beta=beta, epochs=epochs, seed=seed, data=data)[0]
        terms = model.elbo(data[1], seed=seed)
        rows.append({"beta": float(beta), "recon": float(np.mean(terms["recon"])),
                     "kl": float(np.mean(terms["kl"])), "neg_elbo": float(-np.mean(terms["elbo"])),
                     "active": model.active_units(data[1]), "kl_per_unit": model.kl_per_unit(data[1])})
    return rows


def plot_beta_sweep(rows, path=None):
    """Left: reconstruction and KL against beta; right: each unit's KL (sorted) for each beta."""
    import matplotlib.pyplot as plt

    from .plot import save_figure

    betas = [row["beta"] for row in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.plot(betas, [row["recon"] for row in rows], "o-", label="reconstruction  $-E_q \\log p(x|z)$")
    left.plot(betas, [row["kl"] for row in rows], "s-", label="KL$(q(z|x)\\,\\|\\,p(z))$")
    left.plot(betas, [row["neg_elbo"] for row in rows], "^--", color="gray", label="sum (negative ELBO)")
    left.set_xscale("log")
    left.set_xticks(betas, [f"{b:g}" for b in betas])
    left.set_xlabel("beta")
    left.set_ylabel("nats per test image")
    left.legend(fontsize=7)
    for row in rows:
        per_unit = np.sort(row["kl_per_unit"])[::-1]
        right.plot(np.arange(1, len(per_unit) + 1), per_unit, "o-",
                   label=f"beta={row['beta']:g}: {row['active']} active")
    right.axhline(0.01, color="gray", lw=0.8, ls=":")
    right.set_yscale("log")
    right.set_xlabel("latent unit (sorted by KL)")
    right.set_ylabel("KL per unit (nats)")
    right.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def random_latent_points(model, X, n=24, seed=0):
    """n random latent points: from the prior N(0, I) for a VAE; for a plain AE (no prior), uniform
    in the box spanned by the codes of X, which is the only 'anywhere' it offers."""
    rng = np.random.default_rng(seed)
    if isinstance(model, VAE):
        return rng.standard_normal((n, model.code_size))
    codes = model.encode(X)
    return rng.uniform(codes.min(axis=0), codes.max(axis=0), (n, codes.shape[1]))


def nearest_distance(images, reference):
    """Mean Euclidean distance from each image (n, d) to its nearest neighbour in reference (m, d).

    A rough "does it look like a real digit" score: a real test digit is about 1.1 from
    its nearest training digit (pixels in [0, 1]); garbage is further away.
    """
    squared = (np.sum(images ** 2, axis=1)[:, None] - 2 * images @ reference.T
               + np.sum(reference ** 2, axis=1)[None, :])
    return float(np.mean(np.sqrt(np.maximum(squared.min(axis=1), 0.0))))


def plot_ae_vs_vae(ae2, vae2, ae8, vae8, X, labels, X_reference, n=24, seed=0, path=None):
    """Top: test codes of a 2-D plain AE and a 2-D VAE.  Bottom: random latent points of the
    8-D models decoded, titled with their mean distance to the nearest reference digit."""
    import matplotlib.pyplot as plt

    from .plot import save_figure, latent_scatter, tile_images

    fig, axes = plt.subplots(2, 2, figsize=(9, 7.2), gridspec_kw={"height_ratios": [3, 1.4]})
    models = [("plain autoencoder", ae2, ae8), ("VAE (mu of q(z|x))", vae2, vae8)]
    for col, (name, model2, model8) in enumerate(models):
        latent_scatter(model2.encode(X), labels, ax=axes[0, col], title=f"{name}, 2-D code", size=4)
        decoded = model8.decode(random_latent_points(model8, X, n, seed))
        axes[1, col].imshow(tile_images(decoded, 12), cmap="gray_r", vmin=0, vmax=1)
        axes[1, col].set_axis_off()
        where = "prior N(0, I)" if isinstance(model8, VAE) else "uniform in the box of the codes"
        axes[1, col].set_title(f"8-D code, random points ({where}) decoded\n"
                               f"nearest real digit at {nearest_distance(decoded, X_reference):.2f} on average",
                               fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_reparameterization(path=None):
    """Two computation graphs: z sampled inside the graph (no gradient reaches mu, sigma) and
    z = mu + sigma * eps with eps an input (gradients flow along the solid arrows)."""
    import matplotlib.pyplot as plt

    from .plot import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.3))
    boxes = {"x": (0.08, 0.5), "encoder": (0.27, 0.5), "mu": (0.47, 0.72), "sigma": (0.47, 0.28),
             "z": (0.66, 0.5), "decoder": (0.92, 0.5), "eps": (0.68, 0.12)}
    labels = {"x": "$x$", "encoder": "encoder", "mu": "$\\mu$", "sigma": "$\\sigma = e^{\\log\\sigma^2/2}$",
              "decoder": "decoder\n+ loss", "eps": "$\\epsilon \\sim N(0, I)$"}
    edges = [("x", "encoder"), ("encoder", "mu"), ("encoder", "sigma"), ("mu", "z"), ("sigma", "z"), ("z", "decoder")]
    for ax, reparam in zip(axes, (False, True)):
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        names = list(labels) + ["z"]
        for name in names:
            if name == "eps" and not reparam:
                continue
            text = labels.get(name) or ("$z = \\mu + \\sigma\\,\\epsilon$" if reparam else "$z \\sim N(\\mu, \\sigma^2)$")
            random_node = (name == "z" and not reparam) or name == "eps"
            ax.text(*boxes[name], text, ha="center", va="center", fontsize=9,
                    bbox=dict(boxstyle="round", fc="#fde0c5" if random_node else "#dbe9f6", ec="gray"))
        for a, b in edges + ([("eps", "z")] if reparam else []):
            blocked = not reparam and b == "z"
            ax.annotate("", xy=boxes[b], xytext=boxes[a],
                        arrowprops=dict(arrowstyle="->", color="gray", shrinkA=22, shrinkB=22,
                                        linestyle=":" if blocked else "-"))
        ax.set_title("sampling inside the graph: no derivative through z" if not reparam else
                     "reparameterized: the noise is an input, z is a function", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)


def make_figures(folder, quick=False):
    """Draw every lesson-06 figure into ``folder``; returns the written paths."""
    import matplotlib.pyplot as plt

    from .plot import decoded_grid, image_grid, latent_scatter

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    X_train, X_test, _, y_test = load_digits(split="both")
    if quick:  # a smoke test: a slice of the data, two epochs
        X_train, X_test, y_test = X_train[:300], X_test[:100], y_test[:100]
    data = (X_train, X_test)
    epochs_2d, epochs_8d = (2, 2) if quick else (40, 30)  # the lesson uses the same numbers
    paths = []

    vae2, _ = train_digits_vae(code_size=2, epochs=epochs_2d, data=data)
    paths.append(folder / "vae_manifold.png")
    decoded_grid(vae2.decode, extent=2.5, n=15, path=paths[-1],
                 title="2-D VAE: the decoder over a grid of latent points")
    paths.append(folder / "vae_latent.png")
    latent_scatter(vae2.encode(X_test), y_test, path=paths[-1], title="test digits: mu of q(z|x), 2-D VAE")

    vae8, _ = train_digits_vae(code_size=8, epochs=epochs_8d, data=data)
    paths.append(folder / "vae_samples.png")
    image_grid(vae8.sample(40, seed=0), n_cols=10, path=paths[-1], title="8-D VAE: samples from the prior")

    rows = beta_sweep((0.25, 1.0, 4.0) if quick else (0.1, 0.25, 1.0, 2.0, 4.0), epochs=epochs_8d, data=data,
                      trained={1.0: vae8})
    paths.append(folder / "vae_beta.png")
    plot_beta_sweep(rows, path=paths[-1])

    ae2 = train_digits_autoencoder(code_size=2, epochs=epochs_2d, data=data)
    ae8 = train_digits_autoencoder(code_size=8, epochs=epochs_8d, data=data)
    paths.append(folder / "vae_vs_ae.png")
    plot_ae_vs_vae(ae2, vae2, ae8, vae8, X_test, y_test, X_train, path=paths[-1])
    paths.append(folder / "vae_reparam.png")
    plot_reparameterization(path=paths[-1])
    plt.close("all")
    return [str(p) for p in paths]
