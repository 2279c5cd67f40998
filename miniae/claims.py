"""A lesson's claims: measured numbers asserted inside a band that holds on any machine.

Another BLAS kernel, thread count or seed changes every trained number in its last digits, so a
claim states the part that survives: "the denoising AE's error is below 0.9 x the plain AE's", not
"it is 0.0275". ``claim(name, value, above=..., below=...)`` prints the measured value beside its
band and raises ``ClaimError`` when the value falls outside:

    claim("denoising / plain AE error on masked digits", err_dae / err_plain, below=0.9)

The bands come from a sweep: the repository's ``tools/claims_sweep.py`` reruns a lesson over seeds
and numeric environments with ``MINIAE_CLAIMS_LOG`` naming a file. Then every claim is appended to
that file as one JSON line, and a value outside its band is recorded there instead of raised, so
one run sees all of a lesson's claims.
"""
import json
import math
import numbers
import os

__all__ = ["ClaimError", "band_text", "claim"]


class ClaimError(AssertionError):
    """A measured number fell outside the band a lesson claims for it."""


def band_text(above, below):
    """The band as claim() prints it: 'between a and b', 'above a' or 'below b'."""
    if above is not None and below is not None:
        return f"between {above:g} and {below:g}"
    return f"above {above:g}" if above is not None else f"below {below:g}"


def _bound(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"claim's {name} must be a finite number or None, got {value!r}")
    return float(value)


def claim(name, value, *, above=None, below=None):
    """Print ``name: value (claim: band)`` and assert above < value < below; return the value.

    name:  what was measured, in words (a claim's identity in the sweep table: unique in a lesson)
    value: a real number (a NumPy scalar is fine); NaN or inf is never inside a band
    above, below: the open band's ends; at least one of them

    Raises ClaimError (an AssertionError) when the value is outside, unless the environment
    variable MINIAE_CLAIMS_LOG names a file: then the claim is appended there as JSON and the run
    goes on, which is how a sweep records every claim of a lesson.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"claim's name must be a non-empty string, got {name!r}")
    above, below = _bound(above, "above"), _bound(below, "below")
    if above is None and below is None:
        raise ValueError(f"claim {name!r} needs a band: give above=, below= or both")
    if above is not None and below is not None and not above < below:
        raise ValueError(f"claim {name!r} has an empty band: above={above:g} is not below below={below:g}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"claim {name!r} measures a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    inside = math.isfinite(value) and (above is None or value > above) and (below is None or value < below)
    band = band_text(above, below)
    print(f"{name}: {value:.4g}   (claim: {band}{'' if inside else ' -- NOT HELD'})")
    log = os.environ.get("MINIAE_CLAIMS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(json.dumps({"name": name, "value": value, "above": above, "below": below,
                                   "inside": inside}) + "\n")
        return value
    if not inside:
        raise ClaimError(f"{name} measured {value:.4g}, outside the claimed band ({band}). On this machine "
                         "and seed the lesson's statement does not hold: please report it with the "
                         "printed numbers.")
    return value
