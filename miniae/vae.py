"""The variational autoencoder (Kingma and Welling, 2013), every gradient by hand.

    body        h      = f(x)                                   (batch, n_hidden)
    two heads   mu     = h W_mu + b_mu,  logvar = h W_lv + b_lv  (batch, k) each
    sample      z      = mu + exp(logvar / 2) * eps,  eps ~ N(0, I) drawn from model.rng
    decoder     out    = g(z)             logits (Bernoulli) or means (Gaussian)
    loss        L      = -log p(x | z) + beta * KL(N(mu, sigma^2) || N(0, I))

Both terms are summed over features / latent units and averaged over the batch, so the
loss is in nats per image; with beta = 1 it is the negative ELBO.  The pieces (sampling,
KL, likelihoods) are small functions below, each with its maths and its gradient.
"""
import numpy as np
from scipy.special import logsumexp

from .layers import Dense, Layer, Sequential, make_activation, sigmoid
from .models import Model, dense_stack, leaf_layers
from .validation import (
    MiniaeInputError,
    check_data,
    check_float_dtype,
    check_number,
    check_positive_int,
    check_rng,
    check_sizes,
)

LOG_2PI = float(np.log(2 * np.pi))

# Log-variances are CLIPPED (hard) to this range, both the encoder's and a learned output
# variance: exp(logvar) then never overflows or underflows to 0 (so log(0) and 1/0 never
# happen), whatever the optimizer does.  Beyond the bounds the gradient is 0 (the usual
# gradient of clip); sigma = exp(logvar / 2) stays within [0.0067, 148].
LOGVAR_MIN, LOGVAR_MAX = -10.0, 10.0


# ------------------------------------------------------------------ the pieces
def clip_logvar(logvar_raw):
    """logvar_raw: (n, k) -> (clipped logvar, mask where the clip is inactive), both (n, k).

    d clip(u) / du = 1 inside [LOGVAR_MIN, LOGVAR_MAX] and 0 outside: backward multiplies by the mask.
    """
    logvar = np.clip(logvar_raw, LOGVAR_MIN, LOGVAR_MAX)
    inside = (logvar_raw > LOGVAR_MIN) & (logvar_raw < LOGVAR_MAX)
    return logvar, inside


def reparameterize(mu, logvar, eps):
    """The reparameterization trick: z = mu + sigma * eps with sigma = exp(logvar / 2).

    mu, logvar, eps: (n, k) -> z: (n, k).  eps ~ N(0, I) is drawn outside, so z is an
    ordinary differentiable function of (mu, logvar) and the randomness is an input.
    """
    return mu + np.exp(0.5 * logvar) * eps


def reparameterize_backward(grad_z, logvar, eps):
    """dL/dz: (n, k) -> (dL/dmu, dL/dlogvar), both (n, k), through z = mu + exp(logvar / 2) eps.

        dz/dmu     = 1                              -> dL/dmu     = dL/dz
        dz/dlogvar = (1/2) exp(logvar / 2) eps      -> dL/dlogvar = dL/dz * sigma * eps / 2
    """
    return grad_z, grad_z * (0.5 * np.exp(0.5 * logvar) * eps)


def kl_per_unit(mu, logvar):
    """KL(N(mu, sigma^2) || N(0, 1)) for each latent unit: mu, logvar (n, k) -> (n, k), in nats.

    For one unit, with q = N(mu, sigma^2) and p = N(0, 1)::

        KL = E_q[log q(z) - log p(z)]
           = E_q[-1/2 log sigma^2 - (z - mu)^2 / (2 sigma^2)] - E_q[-z^2 / 2]   (the log 2pi cancel)
           = -1/2 logvar - 1/2 + (sigma^2 + mu^2) / 2        (E_q (z-mu)^2 = sigma^2, E_q z^2 = sigma^2 + mu^2)
           = 1/2 (sigma^2 + mu^2 - 1 - logvar),

    which is >= 0 and is 0 exactly when mu = 0 and sigma = 1.
    """
    return 0.5 * (np.exp(logvar) + mu * mu - 1.0 - logvar)


def gaussian_kl(mu, logvar):
    """KL(N(mu, diag sigma^2) || N(0, I)) per sample: (n, k) -> (n,); the units are independent, so their KLs add."""
    return np.sum(kl_per_unit(mu, logvar), axis=1)


def gaussian_kl_backward(mu, logvar):
    """Gradient of gaussian_kl (of each sample's KL) -> (dKL/dmu, dKL/dlogvar), both (n, k).

        dKL/dmu = mu,      dKL/dlogvar = (exp(logvar) - 1) / 2    (zero at the prior: mu = 0, logvar = 0)
    """
    return mu.copy(), 0.5 * (np.exp(logvar) - 1.0)


def log_mean_exp(a, axis=0):
    """log(mean(exp(a), axis)) = logsumexp(a, axis) - log(k), k = a.shape[axis].

    scipy's logsumexp computes m + log(sum(exp(a - m))) with m = max(a): the largest exponent
    is exp(0) = 1, so nothing overflows and at least one term does not underflow; where every
    entry is -inf it returns -inf (the hand-written formula gives -inf - (-inf) = NaN).
    """
    return logsumexp(a, axis=axis) - np.log(a.shape[axis])


# ------------------------------------------------------------------ likelihoods p(x | z)
class BernoulliLikelihood:
    """Each feature x_d in [0, 1] is a Bernoulli probability target; the decoder emits logits o::

        -log p(x | z) = sum_d [softplus(o_d) - x_d o_d]
                      = sum_d [max(o_d, 0) - x_d o_d + log(1 + exp(-|o_d|))]   (finite for any o: no log(0))
        d/do_d        = sigmoid(o_d) - x_d

    This is the BCE of miniae.losses.BCE(from_logits=True) summed over features (not averaged).
    """

    name = "bernoulli"

    def __init__(self):
        self.params, self.grads = {}, {}  # nothing to learn

    def nll(self, out, x):
        """out (logits), x: (n, d) -> negative log-likelihood per sample: (n,), in nats."""
        self.out, self.x = out, x
        return np.sum(np.maximum(out, 0) - x * out + np.log1p(np.exp(-np.abs(out))), axis=1)

    def backward(self, scale=1.0):
        """-> d(scale * sum_n nll_n)/d out: (n, d), for the last nll call (scale = 1/n for a batch mean)."""
        return (sigmoid(self.out) - self.x) * scale

    def mean(self, out):
        """The decoded image: the Bernoulli means sigmoid(logits)."""
        return sigmoid(out)

    def astype(self, dtype):
        return self

    def config(self):
        return {"likelihood": "bernoulli"}


class GaussianLikelihood:
    """x_d ~ N(o_d, sigma_x^2): the decoder emits the means o; sigma_x fixed or learned per feature.

    -log p(x | z) = sum_d 1/2 [log 2pi + s_d + (x_d - o_d)^2 exp(-s_d)],   s_d = log sigma_x,d^2
    d/do_d        = (o_d - x_d) exp(-s_d)
    d/ds_d        = 1/2 [1 - (x_d - o_d)^2 exp(-s_d)]       (summed over the batch; learned s only)

    ``std="learned"`` makes s a parameter (one per feature, starting at 0, clipped like the
    encoder's logvar: a feature that never changes would otherwise drive its variance to 0
    and the likelihood to infinity); a number fixes sigma_x.
    """

    name = "gaussian"

    def __init__(self, n_features, std=1.0, dtype=np.float64):
        self.learned = isinstance(std, str)
        if self.learned and std != "learned":
            raise MiniaeInputError(f"output_std must be a positive number or 'learned', got {std!r}")
        if not self.learned:
            check_number(std, "output_std", 0, low_open=True)
        self.std = std
        logvar = np.zeros(n_features) if self.learned else np.full(n_features, 2 * np.log(float(std)))
        self.params = {"logvar": logvar.astype(dtype)} if self.learned else {}
        self.grads = {"logvar": np.zeros_like(self.params["logvar"])} if self.learned else {}
        self.fixed_logvar = None if self.learned else logvar.astype(dtype)

    @property
    def logvar(self):
        """s = log sigma_x^2 per feature: a parameter (a slice of the model's theta) when learned."""
        return self.params["logvar"] if self.learned else self.fixed_logvar

    def nll(self, out, x):
        """out (means), x: (n, d) -> negative log-likelihood per sample: (n,), in nats."""
        s, self.inside = clip_logvar(self.logvar)
        self.out, self.x, self.precision = out, x, np.exp(-s)
        self.sq = (x - out) ** 2
        return 0.5 * np.sum(LOG_2PI + s + self.sq * self.precision, axis=1)

    def backward(self, scale=1.0):
        """-> d(scale * sum_n nll_n)/d out: (n, d); fills grads["logvar"] likewise (learned variance only)."""
        if self.learned:
            grad_s = 0.5 * np.sum(1.0 - self.sq * self.precision, axis=0)
            self.grads["logvar"][...] = grad_s * self.inside * scale
        return (self.out - self.x) * (self.precision * scale)

    def mean(self, out):
        return out

    def astype(self, dtype):
        if self.learned:
            self.params["logvar"] = self.params["logvar"].astype(dtype)
            self.grads["logvar"] = np.zeros_like(self.params["logvar"])
        else:
            self.fixed_logvar = self.fixed_logvar.astype(dtype)
        return self

    def config(self):
        return {"likelihood": "gaussian", "output_std": self.std if self.learned else float(self.std)}


def make_likelihood(name, n_features, output_std=1.0, dtype=np.float64):
    """The likelihood p(x | z) named ``name``: "bernoulli", or "gaussian" over ``n_features`` features with
    standard deviation ``output_std`` ("learned": one learned per feature)."""
    if name == "bernoulli":
        return BernoulliLikelihood()
    if name == "gaussian":
        return GaussianLikelihood(n_features, output_std, dtype)
    raise MiniaeInputError(f"likelihood must be 'bernoulli' or 'gaussian', got {name!r}")


# ------------------------------------------------------------------ the model
class VAE(Model):
    """A variational autoencoder: encoder body, mu and logvar heads, decoder, likelihood.

    Parameters:

    body : Layer
        x (batch, n_features) -> h (batch, n_hidden); may be an empty Sequential.
    mu_head, logvar_head : Dense
        h -> mu and h -> log sigma^2, both (batch, k).  The head predicts the log-variance,
        not sigma: it can take any real value (a Dense output is unconstrained) while
        sigma^2 = exp(logvar) is automatically positive, and the KL is simple in it.
    decoder : Layer
        z (batch, k) -> logits (Bernoulli) or means (Gaussian), (batch, n_features).
    likelihood : "bernoulli", "gaussian", or a likelihood object
        p(x | z), the distribution of the data given the code.
    beta : float
        weight of the KL term (beta-VAE; 1 gives the ELBO).
    output_std : float or "learned"
        sigma_x of the Gaussian likelihood.
    rng : None, int or numpy Generator
        eps (and fit's shuffling) come from ``self.rng``; re-seeding it repeats a step exactly.
    """

    # The step calls these through self, so a subclass (an exercise, a variant) can swap in its own.
    reparameterize = staticmethod(reparameterize)
    reparameterize_backward = staticmethod(reparameterize_backward)
    kl_backward = staticmethod(gaussian_kl_backward)

    def __init__(self, body, mu_head, logvar_head, decoder, likelihood="bernoulli", beta=1.0,
                 output_std=1.0, rng=None):
        for name, part in (("body", body), ("decoder", decoder)):
            if not isinstance(part, Layer):
                raise MiniaeInputError(f"{name} must be a miniae Layer, got {part!r}")
        for name, head in (("mu_head", mu_head), ("logvar_head", logvar_head)):
            if not isinstance(head, Dense):
                raise MiniaeInputError(f"{name} must be a Dense layer, got {head!r}")
        self.body, self.mu_head, self.logvar_head, self.decoder = body, mu_head, logvar_head, decoder
        if isinstance(likelihood, str):
            likelihood = make_likelihood(likelihood, self.n_features, output_std, self.dtype)
        elif not all(hasattr(likelihood, attr) for attr in ("nll", "backward", "mean", "name")):
            raise MiniaeInputError(f"likelihood must be 'bernoulli', 'gaussian' or a likelihood object, "
                                   f"got {likelihood!r}")
        self.likelihood = likelihood
        self.beta = check_number(beta, "beta", 0)
        self.rng = check_rng(rng)
        self.last_terms = {}
        self.config = {}
        self.gather_parameters()  # model.theta, model.grad: every W and b is a slice of them

    def parts(self):
        return [("body.", self.body), ("mu_head.", self.mu_head), ("logvar_head.", self.logvar_head),
                ("decoder.", self.decoder), ("likelihood.", self.likelihood)]

    def first_layer(self):
        leaves = leaf_layers(self.body)
        return leaves[0] if leaves else None

    @classmethod
    def mirrored(cls, sizes, activation="relu", likelihood="bernoulli", beta=1.0, output_std=1.0,
                 init=None, rng=None, dtype=np.float64):
        """sizes [64, 128, 8] builds 64-128-(mu, logvar of 8)-128-64.

        ``activation`` follows every hidden Dense layer; the heads are linear; the decoder's
        last layer is linear (logits for Bernoulli, means for Gaussian).
        """
        sizes = check_sizes(sizes)
        rng = check_rng(rng)
        dtype = check_float_dtype(dtype)
        name = "identity" if activation in (None, "linear") else activation
        make_activation(name)  # an unknown name is refused before any layer is built
        if init is None:
            init = "he" if name in ("relu", "leaky_relu") else "glorot"

        body = dense_stack(sizes[:-1], name, name, init, rng, dtype) if len(sizes) > 2 else Sequential()
        n_hidden, code = sizes[-2], sizes[-1]
        mu_head = Dense(n_hidden, code, init="glorot", rng=rng, dtype=dtype)
        logvar_head = Dense(n_hidden, code, init="glorot", rng=rng, dtype=dtype)
        decoder = dense_stack(sizes[::-1], name, "identity", init, rng, dtype)
        model = cls(body, mu_head, logvar_head, decoder, likelihood=likelihood, beta=beta,
                    output_std=output_std, rng=rng)
        model.config = {"builder": "vae_mirrored", "sizes": sizes, "activation": name, "init": init,
                        "beta": float(beta), **model.likelihood.config(), "dtype": np.dtype(dtype).name}
        return model

    # ----------------------------------------------------------------- forward pieces
    def _posterior(self, X):
        """X -> (mu, logvar, inside): the encoder's Gaussian q(z | x); keeps what backward needs."""
        h = self.body.forward(X)
        mu = self.mu_head.forward(h)
        logvar, inside = clip_logvar(self.logvar_head.forward(h))
        return mu, logvar, inside

    def _eps(self, shape, rng=None):
        return (rng or self.rng).standard_normal(shape).astype(self.dtype, copy=False)

    # ----------------------------------------------------------------- the step
    def loss_and_grads(self, X):
        """One forward and backward pass on X: (batch, n_features); returns recon + beta * kl.

        ``last_terms`` = {"recon": mean -log p(x|z), "kl": mean KL} (nats per image, KL not
        multiplied by beta).  Every gradient below is the derivative of the batch mean.
        """
        n = X.shape[0]
        mu, logvar, inside = self._posterior(X)
        eps = self._eps(mu.shape)
        z = self.reparameterize(mu, logvar, eps)
        out = self.decoder.forward(z)
        recon = float(np.mean(self.likelihood.nll(out, X)))
        kl = float(np.mean(gaussian_kl(mu, logvar)))
        loss = recon + self.beta * kl
        # backward: reconstruction path, through the decoder and z ...
        grad_z = self.decoder.backward(self.likelihood.backward(scale=1.0 / n))
        grad_mu, grad_logvar = self.reparameterize_backward(grad_z, logvar, eps)
        # ... plus the KL path, straight into the heads
        kl_mu, kl_logvar = self.kl_backward(mu, logvar)
        grad_mu = grad_mu + (self.beta / n) * kl_mu
        grad_logvar = (grad_logvar + (self.beta / n) * kl_logvar) * inside  # clip: 0 outside
        grad_h = self.mu_head.backward(grad_mu) + self.logvar_head.backward(grad_logvar)
        self.body.backward(grad_h)  # its first layer skips dL/dX: the data's gradient is never used
        self.last_terms = {"recon": recon, "kl": kl}
        return loss

    def evaluate_terms(self, X):
        """{"recon", "kl"} on X with one eps draw and no gradients (fit's validation).

        fit logs val_loss = recon + kl, the negative ELBO, whatever beta is.
        """
        mu, logvar, _ = self._posterior(X)
        z = self.reparameterize(mu, logvar, self._eps(mu.shape))
        recon = float(np.mean(self.likelihood.nll(self.decoder.forward(z), X)))
        return {"recon": recon, "kl": float(np.mean(gaussian_kl(mu, logvar)))}

    def named_parameters(self):
        """[(name, value, grad), ...]: body.*, mu_head.*, logvar_head.*, decoder.*, likelihood.*"""
        params = (self.body.named_parameters("body.") + self.mu_head.named_parameters("mu_head.")
                  + self.logvar_head.named_parameters("logvar_head.") + self.decoder.named_parameters("decoder."))
        lik = self.likelihood
        return params + [("likelihood." + k, lik.params[k], lik.grads[k]) for k in lik.params]

    # ----------------------------------------------------------------- evaluation
    def elbo(self, X, n_samples=1, seed=None):
        """The evidence lower bound per sample, with its two terms (nats).

            ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x)

        Returns {"elbo": (n,), "recon": (n,), "kl": (n,)} with recon = -E_q[log p(x|z)]
        estimated from ``n_samples`` draws of eps and kl in closed form, so
        elbo = -(recon + kl).  beta plays no part here.
        """
        X = self.validate(X)
        n_samples = check_positive_int(n_samples, "n_samples")
        rng = np.random.default_rng(seed) if seed is not None else None
        mu, logvar, _ = self._posterior(X)
        recon = np.zeros(X.shape[0])
        for _ in range(n_samples):
            z = reparameterize(mu, logvar, self._eps(mu.shape, rng))
            recon += self.likelihood.nll(self.decoder.forward(z), X) / n_samples
        kl = gaussian_kl(mu, logvar)
        return {"elbo": -(recon + kl), "recon": recon, "kl": kl}

    def log_likelihood(self, X, k=100, seed=None):
        """Importance-weighted estimate of log p(x) per sample: (n,), in nats (Burda et al., 2015).

            log p(x) ~ log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x),    z_i ~ q(z | x)

        Each weight is handled as a log, log w_i = log p(x|z_i) + log N(z_i; 0, I) - log N(z_i; mu, sigma^2),
        and combined with log_mean_exp (no exp of a large number).  k = 1 is the ELBO estimate;
        the expected value rises towards log p(x) as k grows.
        """
        X = self.validate(X)
        k = check_positive_int(k, "k")
        rng = np.random.default_rng(seed) if seed is not None else None
        mu, logvar, _ = self._posterior(X)
        log_w = np.empty((k, X.shape[0]))
        for i in range(k):
            eps = self._eps(mu.shape, rng)
            z = reparameterize(mu, logvar, eps)
            log_px_z = -self.likelihood.nll(self.decoder.forward(z), X)
            log_pz = -0.5 * np.sum(LOG_2PI + z * z, axis=1)
            log_qz = -0.5 * np.sum(LOG_2PI + logvar + eps * eps, axis=1)  # (z - mu)^2 / sigma^2 = eps^2
            log_w[i] = log_px_z + log_pz - log_qz
        return log_mean_exp(log_w, axis=0)

    def kl_per_unit(self, X):
        """Mean KL of each latent unit over X: (k,), in nats.  A unit whose KL is ~0 is unused:
        its posterior equals the prior for every x, so it carries no information (posterior collapse)."""
        mu, logvar, _ = self._posterior(self.validate(X))
        return np.mean(kl_per_unit(mu, logvar), axis=0)

    def active_units(self, X, threshold=0.01):
        """How many latent units are active on X: their mean mu varies with the input,
        Var_x(mu_j) > ``threshold`` (Burda, Grosse & Salakhutdinov 2016; lesson 06 and exercise 6
        count the same way).  An inactive unit's mu is the same for every x: it carries nothing
        about x, and its q(z_j | x) sits on the prior (its KL, ``kl_per_unit``, is near 0)."""
        return int(np.sum(np.var(self.encode(X), axis=0) > threshold))

    # ----------------------------------------------------------------- generation and use
    @property
    def dtype(self):
        return self.mu_head.params["W"].dtype

    @property
    def n_features(self):
        for _, value, _ in self.body.named_parameters() + self.mu_head.named_parameters():
            if value.ndim == 2:
                return value.shape[0]
        return None

    @property
    def code_size(self):
        return self.mu_head.n_out

    def validate(self, X, name="X"):
        """X as a checked array of the model's dtype; values in [0, 1] for a Bernoulli likelihood."""
        X = check_data(X, name, n_features=self.n_features, dtype=self.dtype)
        if self.likelihood.name == "bernoulli" and (X.min() < 0 or X.max() > 1):
            raise MiniaeInputError(
                f"{name} has values in [{X.min():.3g}, {X.max():.3g}] but the Bernoulli likelihood reads "
                "each feature as a probability in [0, 1]; rescale it (e.g. X / X.max()) or use "
                "likelihood='gaussian'"
            )
        return X

    def encode(self, X):
        """X: (n, n_features) -> mu: (n, k), the mean of q(z | x) (no sampling)."""
        return self._posterior(self.validate(X))[0]

    def encode_distribution(self, X):
        """X -> (mu, logvar), both (n, k): the whole Gaussian q(z | x)."""
        mu, logvar, _ = self._posterior(self.validate(X))
        return mu, logvar

    def decode(self, Z):
        """Z: (n, k) -> the decoded means: (n, n_features) (probabilities for Bernoulli)."""
        Z = check_data(Z, "Z", n_features=self.code_size, dtype=self.dtype)
        return self.likelihood.mean(self.decoder.forward(Z))

    def reconstruct(self, X):
        """X -> decode(encode(X)): the reconstruction through the posterior mean."""
        return self.decode(self.encode(X))

    def sample(self, n, seed=None):
        """n new images: z ~ N(0, I) from the prior, decoded to means: (n, n_features)."""
        n = check_positive_int(n, "n")
        rng = np.random.default_rng(seed) if seed is not None else None
        return self.decode(self._eps((n, self.code_size), rng))

    def __repr__(self):
        return (f"VAE(body={self.body!r}, mu_head={self.mu_head!r}, logvar_head={self.logvar_head!r}, "
                f"decoder={self.decoder!r}, likelihood={self.likelihood.name!r}, beta={self.beta:g})")


# ------------------------------------------------------------------ KL warm-up
