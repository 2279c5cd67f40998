"""Corruption processes for denoising autoencoders: x -> x_tilde.

A denoising autoencoder minimises L(x, g(f(x_tilde))): it sees a corrupted input and is
scored against the clean one, so copying its input is no longer the answer.  Each
``corrupt(X, rng)`` draws fresh noise from the given Generator and returns a new array
(X itself is never modified).
"""


class Noise:
    def corrupt(self, X, rng):
        """X: (batch, n), rng: numpy Generator -> X_tilde: (batch, n), same dtype."""
        raise NotImplementedError

    def config(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


def _check_fraction(p, name="p"):
    if not 0 <= p <= 1:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {p}")
    return float(p)


class GaussianNoise(Noise):
    """x_tilde = x + sigma * e, e ~ N(0, I)."""

    def __init__(self, sigma=0.1):
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        self.sigma = float(sigma)

    def config(self):
        return {"sigma": self.sigma}

    def corrupt(self, X, rng):
        noise = rng.standard_normal(X.shape, dtype=X.dtype)
        noise *= self.sigma
        noise += X
        return noise


class MaskingNoise(Noise):
    """Each entry is set to 0 with probability p (independently): x_tilde = x * m, m ~ Bernoulli(1 - p)."""

    def __init__(self, p=0.3):
        self.p = _check_fraction(p)

    def config(self):
        return {"p": self.p}

    def corrupt(self, X, rng):
        keep = rng.random(X.shape, dtype=X.dtype) >= self.p
        return X * keep


class SaltPepperNoise(Noise):
    """A fraction p of the entries is replaced by ``low`` or ``high`` (each with probability 1/2)."""

    def __init__(self, p=0.1, low=0.0, high=1.0):
        self.p = _check_fraction(p)
        self.low, self.high = float(low), float(high)

    def config(self):
        return {"p": self.p, "low": self.low, "high": self.high}

    def corrupt(self, X, rng):
        u = rng.random(X.shape, dtype=X.dtype)
        out = X.copy()
        out[u < self.p / 2] = self.low
        out[(u >= self.p / 2) & (u < self.p)] = self.high
        return out


NOISES = {cls.__name__: cls for cls in (GaussianNoise, MaskingNoise, SaltPepperNoise)}
