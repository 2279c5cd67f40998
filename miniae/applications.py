"""What autoencoders are for: the reproducible experiments of lessons 07 and 08.

Each function runs one experiment with fixed seeds and returns its numbers (and the trained
model), so the lessons, the tests and ``miniae figures`` all show the same result:

    smile_vector_experiment        edit faces along a direction found from 20 + 20 labelled faces
    digits_anomaly_experiment      train on digits 0-4, flag 5-9 by reconstruction error (ROC AUC)
    spectra_anomaly_experiment     train on normal spectra, flag spectra with an extra peak
    spectra_compression_experiment reconstruction error against code size, PCA and autoencoder
    spectra_features_experiment    codes as features for a regressor of the peak parameters

Everything here runs with one BLAS/OpenMP thread (``threads.single_threaded``, which says why).
"""
from pathlib import Path

import numpy as np

from .datasets import load_digits, smiley_faces, spectra
from .latent import anomaly_scores, anomaly_threshold, apply_attribute, attribute_vector, interpolate
from .models import Autoencoder
from .optim import Adam
from .threads import single_threaded
from .train import fit

FIGURES = {
    "faces.png": "lesson 07: the smiley-face data set, ordered by smile",
    "face_interpolation.png": "lesson 07: interpolation through AE and VAE codes vs pixel cross-fade",
    "smile_vector.png": "lesson 07: the smile vector applied to frowning test faces",
    "latent_tsne.png": "lesson 07: 2-D code, t-SNE on pixels, t-SNE on 32-D codes (digits)",
    "anomaly_roc.png": "lesson 08: ROC curves, digits 5-9 and spectra with an extra peak",
    "spectra_compression.png": "lesson 08: spectra, reconstruction error vs code size (PCA, AE)",
}


@single_threaded
def train_autoencoder(X, sizes, activation="relu", output="identity", epochs=30, batch_size=64, lr=2e-3,
                      seed=0):
    """A mirrored autoencoder trained on X with Adam; float32 for speed, returned in float64.

    X: (n, sizes[0]).  Returns (model, history).
    """
    model = Autoencoder.mirrored(sizes, activation=activation, output=output, rng=seed, dtype=np.float32)
    history = fit(model, X, epochs=epochs, batch_size=batch_size, optimizer=Adam(lr=lr))
    return model.astype(np.float64), history


# --------------------------------------------------------------------------- faces (lesson 07)
@single_threaded
def face_autoencoder(n_train=2000, code_size=6, epochs=20, seed=0):
    """Train the lesson-07 face model: 1024-256-``code_size``-256-1024, tanh, sigmoid output.

    A small code (6 numbers for 5 attributes) behind smooth tanh hidden units keeps the code
    space regular enough for straight lines in it to decode to faces.  Returns (model, X_train, attributes_train).
    """
    X, attributes = smiley_faces(n_train, seed=seed)
    model, _ = train_autoencoder(X, [X.shape[1], 256, code_size], activation="tanh", output="sigmoid",
                                 epochs=epochs, batch_size=64, lr=2e-3, seed=seed)
    return model, X, attributes


@single_threaded
def face_vae(n_train=2000, code_size=6, epochs=20, seed=0):
    """The same faces and sizes as ``face_autoencoder``, as a VAE (Bernoulli likelihood, beta = 1).

    Returns the trained ``miniae.vae.VAE`` (float64); its code is the posterior mean mu.
    """
    from .vae import VAE

    X, _ = smiley_faces(n_train, seed=seed)
    model = VAE.mirrored([X.shape[1], 256, code_size], activation="tanh", likelihood="bernoulli", rng=seed,
                         dtype=np.float32)
    fit(model, X, epochs=epochs, batch_size=64, optimizer=Adam(lr=2e-3))
    return model.astype(np.float64)


@single_threaded
def smile_meter(X, smile, alpha=1.0):
    """A ridge regressor from raw face images (n, 1024) to the smile attribute: the "measurement"."""
    from sklearn.linear_model import Ridge

    return Ridge(alpha=alpha).fit(X, smile)


@single_threaded
def smile_vector_experiment(model=None, n_labelled=20, threshold=0.6, amounts=(0.0, 0.5, 1.0, 1.5), seed=0):
    """Find the smile vector from ``n_labelled`` smiling and frowning faces, apply it, measure the smile.

    Steps: train (or take) the face model; take ``n_labelled`` faces with smile > threshold and
    ``n_labelled`` with smile < -threshold from a separate labelled set; v = mean code(smiling) -
    mean code(frowning); add ``amount * v`` to the codes of the frowning faces of a test set and
    decode.  A ridge regressor trained on raw images (R^2 ~ 0.98) measures the smile of each result.

    Returns a dict: model, vector, meter, test_frowning (n, 1024), edited (n, len(amounts), 1024),
    amounts, measured (len(amounts),) mean measured smile of the edits, measured_original (mean of
    the raw test faces), gap (measured smiling minus frowning labelled faces), shift_fraction
    ((measured at amount 1 - measured at amount 0) / gap; needs 0 and 1 in amounts).
    """
    if model is None:
        model, X_train, attributes_train = face_autoencoder(seed=seed)
    else:
        X_train, attributes_train = smiley_faces(2000, seed=seed)
    meter = smile_meter(X_train, attributes_train["smile"])
    X_lab, lab = smiley_faces(400, seed=seed + 2)
    smiling = X_lab[lab["smile"] > threshold][:n_labelled]
    frowning = X_lab[lab["smile"] < -threshold][:n_labelled]
    vector = attribute_vector(model, smiling, frowning)
    X_test, test = smiley_faces(600, seed=seed + 1)
    test_frowning = X_test[test["smile"] < -threshold]
    amounts = np.asarray(amounts, dtype=np.float64)
    edited = apply_attribute(model, test_frowning, vector, amounts)
    measured = np.array([meter.predict(edited[:, i]).mean() for i in range(len(amounts))])
    gap = meter.predict(smiling).mean() - meter.predict(frowning).mean()
    result = {"model": model, "vector": vector, "meter": meter, "test_frowning": test_frowning,
              "edited": edited, "amounts": amounts, "measured": measured,
              "measured_original": float(meter.predict(test_frowning).mean()), "gap": float(gap),
              "smiling": smiling, "frowning": frowning}
    if 0.0 in amounts and 1.0 in amounts:
        at = {float(a): m for a, m in zip(amounts, measured)}
        result["shift_fraction"] = float((at[1.0] - at[0.0]) / gap)
    return result


# --------------------------------------------------------------------------- anomalies (lesson 08)
def _roc(is_anomaly, scores):
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(is_anomaly, scores)
    return float(roc_auc_score(is_anomaly, scores)), fpr, tpr


@single_threaded
def digits_anomaly_experiment(normal_classes=(0, 1, 2, 3, 4), code_size=8, epochs=100, seed=0):
    """Train on the training digits of ``normal_classes`` only; score every test digit.

    Model 64-32-``code_size``-32-64 (ReLU, sigmoid output).  Anomalies are the test digits of the
    other classes.  Returns a dict: model, scores (n_test,), is_anomaly (n_test,) bool, labels,
    auc, fpr, tpr, threshold (95% quantile of the training scores), train_scores.
    """
    X_train, X_test, y_train, y_test = load_digits(split="both", seed=seed)
    normal_train = np.isin(y_train, normal_classes)
    model, _ = train_autoencoder(X_train[normal_train], [64, 32, code_size], output="sigmoid",
                                 epochs=epochs, batch_size=32, lr=2e-3, seed=seed)
    scores = anomaly_scores(model, X_test)
    is_anomaly = ~np.isin(y_test, normal_classes)
    auc, fpr, tpr = _roc(is_anomaly, scores)
    train_scores = anomaly_scores(model, X_train[normal_train])
    return {"model": model, "scores": scores, "is_anomaly": is_anomaly, "labels": y_test, "auc": auc,
            "fpr": fpr, "tpr": tpr, "train_scores": train_scores,
            "threshold": anomaly_threshold(train_scores, 0.95)}


@single_threaded
def spectra_autoencoder(X, code_size, epochs=60, seed=0):
    """The spectra model: n_points-128-``code_size``-128-n_points, ReLU, linear output."""
    model, _ = train_autoencoder(X, [X.shape[1], 128, code_size], epochs=epochs, batch_size=32, lr=2e-3,
                                 seed=seed)
    return model


@single_threaded
def spectra_anomaly_experiment(n_train=2000, n_test=500, code_size=8, epochs=60, model=None, seed=0):
    """Train on normal spectra; score ``n_test`` new normal ones and ``n_test`` with an extra peak.

    Returns a dict: model, scores (2 n_test,), is_anomaly (2 n_test,) bool, auc, fpr, tpr,
    X_normal, X_anomalous, params_anomalous, train_scores, threshold (95% quantile).
    """
    X_train, _ = spectra(n_train, seed=seed)
    if model is None:
        model = spectra_autoencoder(X_train, code_size, epochs=epochs, seed=seed)
    X_normal, _ = spectra(n_test, seed=seed + 1)
    X_anomalous, params_anomalous = spectra(n_test, extra_peak=True, seed=seed + 2)
    scores = np.concatenate([anomaly_scores(model, X_normal), anomaly_scores(model, X_anomalous)])
    is_anomaly = np.repeat([False, True], n_test)
    auc, fpr, tpr = _roc(is_anomaly, scores)
    train_scores = anomaly_scores(model, X_train)
    return {"model": model, "scores": scores, "is_anomaly": is_anomaly, "auc": auc, "fpr": fpr, "tpr": tpr,
            "X_normal": X_normal, "X_anomalous": X_anomalous, "params_anomalous": params_anomalous,
            "train_scores": train_scores, "threshold": anomaly_threshold(train_scores, 0.95)}


# --------------------------------------------------------------------------- compression (lesson 08)
@single_threaded
def spectra_compression_experiment(code_sizes=(2, 4, 8, 16), n_train=2000, n_test=500, epochs=60, seed=0):
    """Reconstruction MSE on new spectra against code size, for PCA and for an autoencoder.

    MSE is the mean over every entry (as everywhere in miniae); the counting noise alone gives
    ``noise_floor`` (the MSE of the noise-free curves, which no model can beat on average).
    Returns a dict: code_sizes, pca_mse, ae_mse (lists), noise_floor, models (code size -> AE),
    X_test, pca (code size -> fitted sklearn PCA).
    """
    from sklearn.decomposition import PCA

    X_train, _ = spectra(n_train, seed=seed)
    X_test, _ = spectra(n_test, seed=seed + 1)
    clean_test, _ = spectra(n_test, counts=10**9, seed=seed + 1)  # nearly noise-free, same spectra
    pca_mse, ae_mse, models, pcas = [], [], {}, {}
    for k in code_sizes:
        pca = PCA(n_components=k).fit(X_train)
        pcas[k] = pca
        pca_mse.append(float(np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)))
        models[k] = spectra_autoencoder(X_train, k, epochs=epochs, seed=seed)
        ae_mse.append(float(np.mean(anomaly_scores(models[k], X_test))))
    return {"code_sizes": list(code_sizes), "pca_mse": pca_mse, "ae_mse": ae_mse,
            "noise_floor": float(np.mean((clean_test - X_test) ** 2)), "models": models, "pca": pcas,
            "X_test": X_test}


@single_threaded
def spectra_features_experiment(code_size=4, n_train=2000, n_test=500, model=None, epochs=60, seed=0):
    """Codes as features: R^2 of a ridge regressor predicting peak centers and heights.

    Features compared: the autoencoder's code (``code_size`` numbers), PCA scores (as many
    numbers) and the raw spectrum (n_points numbers).  Returns {feature name: {target: R^2}}.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .latent import codes

    X_train, p_train = spectra(n_train, seed=seed)
    X_test, p_test = spectra(n_test, seed=seed + 1)
    if model is None:
        model = spectra_autoencoder(X_train, code_size, epochs=epochs, seed=seed)
    pca = PCA(n_components=code_size).fit(X_train)
    features = {f"autoencoder code ({code_size})": (codes(model, X_train), codes(model, X_test)),
                f"PCA scores ({code_size})": (pca.transform(X_train), pca.transform(X_test)),
                f"raw spectrum ({X_train.shape[1]})": (X_train, X_test)}
    table = {}
    for name, (F_train, F_test) in features.items():
        table[name] = {}
        for target in ("center", "height"):
            regressor = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(F_train, p_train[target])
            table[name][target] = float(r2_score(p_test[target], regressor.predict(F_test)))
    return table


# --------------------------------------------------------------------------- figures
def _save(fig, folder, name, written):
    import matplotlib.pyplot as plt

    path = Path(folder) / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    written.append(path)


@single_threaded
def make_figures(folder, quick=False):
    """Draw every figure in FIGURES into ``folder``; returns the written paths.

    quick=True trains for fewer epochs and uses fewer points (a smoke test, not the real figures).
    """
    import matplotlib.pyplot as plt

    from . import plot
    from .latent import codes, tsne

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    # the face data set, ordered by smile
    X_faces, faces = smiley_faces(30, seed=5)
    order = np.argsort(faces["smile"])
    fig = plot.image_grid(X_faces[order], n_cols=10, titles=[f"{s:+.2f}" for s in faces["smile"][order]])
    fig.suptitle("smiley_faces: each face drawn from known attributes (above each: its smile)", y=1.06)
    _save(fig, folder, "faces.png", written)

    # smile vector and interpolation
    model, _, _ = face_autoencoder(n_train=600 if quick else 2000, epochs=3 if quick else 20)
    smile = smile_vector_experiment(model=model, amounts=(0.0, 0.5, 1.0, 1.5, 2.0))
    shown = smile["edited"][:6]
    rows = [smile["test_frowning"][:6]] + [shown[:, i] for i in range(shown.shape[1])]
    labels = ["original"] + [f"+{a:g} v" for a in smile["amounts"]]
    measured = ["raw"] + [f"{m:+.2f}" for m in smile["measured"]]
    fig = plot.interpolation_strip([np.stack(r) for r in zip(*rows)],
                                   col_labels=[f"{l}\nsmile {m}" for l, m in zip(labels, measured)])
    fig.suptitle(f"smile vector from 20 + 20 labelled faces; measured smile moves by "
                 f"{smile['shift_fraction']:.2f} of the frown-smile gap at +1 v", fontsize=9)
    _save(fig, folder, "smile_vector.png", written)

    vae = face_vae(n_train=600 if quick else 2000, epochs=3 if quick else 20)
    X_test, _ = smiley_faces(40, seed=7)
    pairs = [(X_test[0], X_test[1]), (X_test[2], X_test[3])]
    strips, row_labels = [], []
    for x_a, x_b in pairs:
        path = interpolate(model, x_a, x_b, steps=8)
        strips += [path.latent, interpolate(vae, x_a, x_b, steps=8).latent, path.pixel]
        row_labels += ["AE code", "VAE code", "pixel fade"]
    fig = plot.interpolation_strip(strips, row_labels=row_labels,
                                   col_labels=[f"t={t:.2f}" for t in np.linspace(0, 1, 8)],
                                   title="interpolation through the code of an AE and a VAE, vs the pixel cross-fade")
    _save(fig, folder, "face_interpolation.png", written)

    # latent maps of the digits: 2-D code, t-SNE of pixels, t-SNE of 32-D codes
    X_digits, y_digits = load_digits()
    n_show, epochs = (150, 5) if quick else (600, 60)
    ae_2d, _ = train_autoencoder(X_digits, [64, 128, 2], output="sigmoid", epochs=epochs, batch_size=32, seed=0)
    ae_32, _ = train_autoencoder(X_digits, [64, 128, 32], output="sigmoid", epochs=epochs, batch_size=32, seed=0)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    plot.latent_scatter(codes(ae_2d, X_digits[:n_show]), y_digits[:n_show], ax=axes[0],
                        title="autoencoder with a 2-D code")
    max_iter = 250 if quick else 500
    plot.latent_scatter(tsne(X_digits[:n_show], max_iter=max_iter), y_digits[:n_show], ax=axes[1],
                        title="t-SNE of the 64 pixels")
    plot.latent_scatter(tsne(X_digits[:n_show], ae_32, max_iter=max_iter), y_digits[:n_show], ax=axes[2],
                        title="autoencoder to 32-D, then t-SNE")
    for ax in axes[1:]:
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
    _save(fig, folder, "latent_tsne.png", written)

    # anomaly detection: ROC curves
    digits = digits_anomaly_experiment(epochs=10 if quick else 100)
    spec = spectra_anomaly_experiment(n_train=500 if quick else 2000, epochs=5 if quick else 60)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    axes[0].plot(digits["fpr"], digits["tpr"], label=f"digits 5-9 vs 0-4 (AUC {digits['auc']:.3f})")
    axes[0].plot(spec["fpr"], spec["tpr"], label=f"spectra with an extra peak (AUC {spec['auc']:.3f})")
    axes[0].plot([0, 1], [0, 1], ":", color="0.5", label="chance")
    axes[0].set_xlabel("false alarm rate (normal flagged)")
    axes[0].set_ylabel("detection rate (anomalies flagged)")
    axes[0].legend(fontsize=8, loc="lower right")
    axes[0].set_title("ROC: threshold on reconstruction error")
    normal, anomalous = spec["scores"][~spec["is_anomaly"]], spec["scores"][spec["is_anomaly"]]
    bins = np.logspace(np.log10(spec["scores"].min()), np.log10(spec["scores"].max()), 40)
    axes[1].hist(normal, bins=bins, alpha=0.6, label="normal spectra")
    axes[1].hist(anomalous, bins=bins, alpha=0.6, label="with an extra peak")
    axes[1].axvline(spec["threshold"], color="k", ls="--", label="95% of training scores")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("anomaly score (per-spectrum MSE)")
    axes[1].legend(fontsize=8)
    axes[1].set_title("spectra: score distributions")
    _save(fig, folder, "anomaly_roc.png", written)

    # compression of spectra
    comp = spectra_compression_experiment(code_sizes=(2, 4) if quick else (2, 4, 8, 16),
                                          n_train=500 if quick else 2000, epochs=5 if quick else 60)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(comp["code_sizes"], comp["pca_mse"], "o-", label="PCA")
    axes[0].plot(comp["code_sizes"], comp["ae_mse"], "s-", label="autoencoder")
    axes[0].axhline(comp["noise_floor"], color="0.4", ls=":", label="counting noise alone")
    axes[0].set_xscale("log", base=2)
    axes[0].set_yscale("log")
    axes[0].set_xticks(comp["code_sizes"], [str(k) for k in comp["code_sizes"]])
    axes[0].set_xlabel("code size (numbers kept per spectrum)")
    axes[0].set_ylabel("test MSE")
    axes[0].legend(fontsize=8)
    axes[0].set_title("compressing 200-point spectra")
    energy = np.linspace(0, 100, comp["X_test"].shape[1])
    x = comp["X_test"][:1]
    axes[1].plot(energy, x[0], color="0.6", lw=1, label="measured")
    k = 4
    axes[1].plot(energy, comp["pca"][k].inverse_transform(comp["pca"][k].transform(x))[0], label=f"PCA, {k} numbers")
    axes[1].plot(energy, comp["models"][k].reconstruct(x)[0], label=f"autoencoder, {k} numbers")
    axes[1].set_xlabel("energy transfer (meV)")
    axes[1].set_ylabel("intensity")
    axes[1].legend(fontsize=8)
    axes[1].set_title("one test spectrum, code size 4")
    _save(fig, folder, "spectra_compression.png", written)
    return written
