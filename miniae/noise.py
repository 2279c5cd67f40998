"""Corruption processes for denoising autoencoders: x -> x_tilde.

A denoising autoencoder minimises L(x, g(f(x_tilde))): it sees a corrupted input and is
scored against the clean one, so copying its input is no longer the answer.  Each
``corrupt(X, rng)`` draws fresh noise from the given Generator and returns a new array
(X itself is never modified).

``make_noise`` accepts a noise object or one of the names in ``NOISE_NAMES`` ("gaussian",
"masking", "salt_pepper"), which build the class with its default parameters.
"""
from .validation import MiniaeInputError, check_number


class Noise:
    """Base class of the corruption processes: ``corrupt(X, rng)`` returns a corrupted copy of X."""
    def corrupt(self, X, rng):
        """X: (batch, n), rng: numpy Generator -> X_tilde: (batch, n), same dtype."""
        raise NotImplementedError

    def config(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


def _check_fraction(p, name="p"):
    return check_number(p, name, 0, 1)


class GaussianNoise(Noise):
    """x_tilde = x + sigma * e, e ~ N(0, I)."""

    def __init__(self, sigma=0.1):
        self.sigma = check_number(sigma, "sigma", 0)

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
        self.low, self.high = check_number(low, "low"), check_number(high, "high")

    def config(self):
        return {"p": self.p, "low": self.low, "high": self.high}

    def corrupt(self, X, rng):
        u = rng.random(X.shape, dtype=X.dtype)
        out = X.copy()
        out[u < self.p / 2] = self.low
        out[(u >= self.p / 2) & (u < self.p)] = self.high
        return out


NOISES = {cls.__name__: cls for cls in (GaussianNoise, MaskingNoise, SaltPepperNoise)}
NOISE_NAMES = {"gaussian": GaussianNoise, "masking": MaskingNoise, "salt_pepper": SaltPepperNoise}


def make_noise(noise):
    """None, a Noise object (passed through) or a name in NOISE_NAMES (the class with its defaults)."""
    if noise is None or (isinstance(noise, Noise) and type(noise) is not Noise):
        return noise
    if isinstance(noise, str) and noise.lower() in NOISE_NAMES:
        return NOISE_NAMES[noise.lower()]()
    raise MiniaeInputError(f"noise must be None, a Noise such as GaussianNoise(0.1) or one of "
                           f"{sorted(NOISE_NAMES)}, got {noise!r}")
