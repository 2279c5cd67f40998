"""PCA by SVD, and the bridge between a linear autoencoder and PCA.

Centre the data, Xc = X - mean, and take the thin SVD Xc = U S V^T.  The rows of V^T are the
principal directions, lambda_i = S_i^2 / (n - 1) the variances along them.  A linear
autoencoder x -> (x W_enc + b_enc) W_dec + b_dec trained with squared error reaches the
same optimum as PCA with k components: the span of W_dec's rows is the top-k principal
subspace, but its basis is any invertible mix of the directions (Baldi & Hornik 1989).
``components_from_linear_ae`` undoes the mix (Plaut 2018); weight decay fixes the
decoder's scale and makes W_enc = W_dec^T (Kunin et al. 2019) but leaves a rotation of the
code free; a distinct weight per code unit (``OrderedWeightDecay``) removes it, so the
decoder's rows become the ordered principal directions (Bao et al. 2020).
"""
import numpy as np
from scipy.linalg import subspace_angles

from .models import Autoencoder
from .validation import MiniaeInputError, check_data, check_positive_int


def _check_k(k, n_samples, n_features, name="n_components"):
    k = check_positive_int(k, name)
    if k > min(n_samples, n_features):
        raise MiniaeInputError(f"{name}={k} is larger than min(n_samples, n_features) = "
                               f"{min(n_samples, n_features)}; pass at most that many")
    return k


class PCA:
    """Principal component analysis by the SVD of the centred data.

    Learned state (after ``fit(X)``, X: (n, d)):
    ``mean_`` (d,), ``components_`` (k, d) orthonormal rows, ordered by variance,
    ``explained_variance_`` (k,) = S_i^2 / (n - 1), ``explained_variance_ratio_`` (k,),
    ``singular_values_`` (k,).
    Each direction's sign is arbitrary (as in any SVD); compare subspaces and variances.
    """

    def __init__(self, n_components=2):
        self.n_components = n_components

    def fit(self, X):
        """X: (n, d) -> self.  Xc = X - mean = U S V^T; ``components_ = V^T[:k]``."""
        X = check_data(X, "X")
        n, d = X.shape
        k = _check_k(self.n_components, n, d)
        self.mean_ = X.mean(axis=0)
        _, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        total_variance = S ** 2 / max(n - 1, 1)
        self.n_features_in_ = d
        self.components_ = Vt[:k]
        self.singular_values_ = S[:k]
        self.explained_variance_ = total_variance[:k]
        self.explained_variance_ratio_ = total_variance[:k] / total_variance.sum()
        self.all_variances_ = total_variance  # every lambda_i, for eigengaps and the optimum
        return self

    def _check_fitted(self):
        if not hasattr(self, "components_"):
            raise MiniaeInputError("this PCA is not fitted yet; call fit(X) first")

    def transform(self, X):
        """X: (n, d) -> codes Z = (X - mean) V_k: (n, k)."""
        self._check_fitted()
        X = check_data(X, "X", n_features=self.n_features_in_)
        return (X - self.mean_) @ self.components_.T

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        """Z: (n, k) -> Z V_k^T + mean: (n, d), the projection back into data space."""
        self._check_fitted()
        Z = check_data(Z, "Z", n_features=self.components_.shape[0])
        return Z @ self.components_ + self.mean_

    def reconstruct(self, X):
        """X: (n, d) -> its projection onto the principal subspace: (n, d)."""
        return self.inverse_transform(self.transform(X))

    def reconstruction_mse(self, X):
        """mean((X - reconstruct(X))^2) over every entry (miniae's MSE convention)."""
        X = check_data(X, "X", n_features=self.n_features_in_)
        return float(np.mean((X - self.reconstruct(X)) ** 2))

    def __repr__(self):
        return f"PCA(n_components={self.n_components})"


def principal_angles(A, B):
    """Principal angles in degrees between the column spaces of A: (d, p) and B: (d, q).

    With orthonormal bases Q_A, Q_B the cosines of the angles are the singular values of
    Q_A^T Q_B; returned in decreasing order (largest angle first, as scipy does), min(p, q)
    of them.  0 everywhere means one space contains the other.
    """
    A = check_data(A, "A")
    B = check_data(B, "B")
    if A.shape[0] != B.shape[0]:
        raise MiniaeInputError(f"A and B must have the same number of rows (the ambient dimension), "
                               f"got A {A.shape} and B {B.shape}; pass directions as columns")
    return np.degrees(subspace_angles(A, B))


def max_principal_angle(A, B):
    """The largest principal angle (degrees) between the column spaces of A and B."""
    return float(principal_angles(A, B).max())


def eigengaps(variances):
    """Relative eigengaps (lambda_k - lambda_{k+1}) / lambda_k for k = 1..len-1: (len - 1,).

    Where this is small, the top-k subspace barely changes the error when tilted
    towards direction k+1, so it is ill-determined by the data (and by training).
    """
    lam = np.asarray(variances, dtype=np.float64)
    return (lam[:-1] - lam[1:]) / lam[:-1]


def linear_ae_optimum(X, k):
    """The closed-form minimiser of mean((X - (X W_enc + b_enc) W_dec - b_dec)^2) with code size k.

    With V_k: (d, k) the top-k principal directions (columns) and mu the mean::

        W_enc = V_k, b_enc = -mu V_k, W_dec = V_k^T, b_dec = mu

    so the reconstruction is mu + (x - mu) V_k V_k^T, the orthogonal projection onto the
    principal subspace.  Any W_enc G, G^{-1} W_dec (G invertible, k x k) is optimal too.
    The optimal MSE is sum_{i>k} lambda_i (n-1) / (n d).

    Returns a dict {"W_enc", "b_enc", "W_dec", "b_dec", "mse"}.
    """
    X = check_data(X, "X")
    pca = PCA(k).fit(X)
    V = pca.components_.T
    n, d = X.shape
    mse = float(pca.all_variances_[k:].sum() * (n - 1) / (n * d))
    return {"W_enc": V, "b_enc": -pca.mean_ @ V, "W_dec": V.T.copy(), "b_dec": pca.mean_.copy(), "mse": mse}


def linear_ae_at_optimum(X, k):
    """``Autoencoder.linear(d, k)`` with the weights of ``linear_ae_optimum(X, k)`` (no training).

    It reconstructs exactly as PCA with k components does: mu + (x - mu) V_k V_k^T.
    """
    opt = linear_ae_optimum(X, k)
    model = Autoencoder.linear(opt["W_enc"].shape[0], k)
    model.set_weights({"encoder.0.W": opt["W_enc"], "encoder.0.b": opt["b_enc"],
                       "decoder.0.W": opt["W_dec"], "decoder.0.b": opt["b_dec"]})
    return model


def _single_dense(part, what):
    layers = part.dense_layers if hasattr(part, "dense_layers") else []
    if len(layers) != 1 or len(getattr(part, "layers", [])) != 1:
        raise MiniaeInputError(f"{what} must be one Dense layer with no activation (a linear autoencoder "
                               f"from Autoencoder.linear(n_features, k)); got {part!r}")
    return layers[0]


def linear_ae_weights(model):
    """(W_enc (d, k), b_enc (k,), W_dec (k, d), b_dec (d,)) of a linear autoencoder."""
    enc = _single_dense(model.encoder, "the encoder")
    dec = _single_dense(model.decoder, "the decoder")
    return enc.params["W"], enc.params["b"], dec.params["W"], dec.params["b"]


def decoder_subspace(model):
    """The subspace a linear AE reconstructs into, as columns: W_dec^T: (d, k)."""
    return linear_ae_weights(model)[2].T


def components_from_linear_ae(model, X):
    """Ordered principal directions and variances from a trained linear autoencoder.

    The reconstructions of the centred codes, R = (H - mean(H)) W_dec: (n, d), lie in the
    learned subspace.  Their SVD R = U S V^T gives orthonormal, ordered directions V^T[:k]
    and variances S^2 / (n - 1); at the optimum R is the PCA projection of X, so these are
    PCA's top-k components and variances (Plaut 2018).  Signs are arbitrary.

    Returns (directions (k, d), variances (k,)).
    """
    W_enc, b_enc, W_dec, _ = linear_ae_weights(model)
    X = check_data(X, "X", n_features=W_enc.shape[0])
    code = X @ W_enc + b_enc
    recon_centred = (code - code.mean(axis=0)) @ W_dec
    _, S, Vt = np.linalg.svd(recon_centred, full_matrices=False)
    k = W_dec.shape[0]
    return Vt[:k], S[:k] ** 2 / max(X.shape[0] - 1, 1)


def align_signs(directions, reference):
    """Flip rows of directions (k, d) so each has a non-negative dot product with reference's row."""
    signs = np.sign(np.sum(directions * reference, axis=1))
    signs[signs == 0] = 1
    return directions * signs[:, None]


def direction_angles(directions, reference):
    """Angle in degrees between each row of directions (k, d) and the same row of reference, signs ignored."""
    a = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    b = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    cos = np.clip(np.abs(np.sum(a * b, axis=1)), 0.0, 1.0)
    return np.degrees(np.arccos(cos))


def decoder_directions(model):
    """Left singular directions of the decoder weights alone (no data): (k, d), and singular values (k,).

    With weight decay lam (Kunin et al. 2019) the optimum is W_enc = W_dec^T and
    W_dec = O diag(sqrt(1 - lam' / lambda_i)) V_k^T for some orthogonal O: the decoder's
    singular vectors are the ordered principal directions, read off the weights alone.
    """
    W_dec = linear_ae_weights(model)[2]
    _, S, Vt = np.linalg.svd(W_dec, full_matrices=False)
    return Vt, S


def ordered_decay_weights(X, k, strength=0.8):
    """Penalty weights for ``OrderedWeightDecay`` on a linear AE of code size k: (k,).

        lams[j] = strength * (j + 1) / k * mu_k,     mu_k = lambda_k (n - 1) / (n d)

    mu_k is the k-th PCA variance in the units of miniae's MSE (which averages over the d
    features too).  The weights grow with j, so unit 1 is the cheapest and takes the largest
    variance; every lams[j] <= strength * mu_k < mu_j, so no unit is switched off (0 < strength < 1).
    Larger strength breaks the rotation faster but shrinks the weights more (by sqrt(1 - lams[j] / mu_j)).
    """
    X = check_data(X, "X")
    n, d = X.shape
    k = _check_k(k, n, d, name="k")
    if not 0 < strength < 1:
        raise MiniaeInputError(f"strength must lie strictly between 0 and 1 (lams below the variances), "
                               f"got {strength!r}")
    mu_k = PCA(k).fit(X).explained_variance_[-1] * (n - 1) / (n * d)
    return strength * mu_k * np.arange(1, k + 1) / k
