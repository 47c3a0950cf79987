"""Counter-based random numbers: the same draw for the same (person, counter, stream).

The potential outcomes with and without the programme are simulated with common random
numbers. A sequential generator cannot give them, because the two worlds consume different
numbers of draws; a counter-based generator can: the j-th offence of person i uses the
draw keyed by (key, i, j, stream) in both worlds, whichever persons are simulated
together. The mixing function is SplitMix64's finaliser.

References
----------
Salmon, J. K., Moraes, M. A., Dror, R. O. and Shaw, D. E. (2011). Parallel random numbers:
as easy as 1, 2, 3. *Proceedings of SC11*.
Steele, G. L., Lea, D. and Flood, C. H. (2014). Fast splittable pseudorandom number
generators. *OOPSLA 2014*, 453–472.

Examples
--------
>>> float(uniform(1, [5], [2], OFFENCE_CLOCK)[0]) == float(uniform(1, [5, 6], 2, 1)[0])
True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_C_PERSON = np.uint64(0xD1B54A32D192ED03)
_C_COUNTER = np.uint64(0xAEF17502108EF2D9)
_C_STREAM = np.uint64(0x8CB92BA72F3D8DD7)

# Streams: one per use, so that no two uses share a draw.
OFFENCE_CLOCK = 1
CATEGORY = 2
SANCTION = 3
SANCTION_KIND = 4
LAG = 5
CUSTODY_LENGTH = 6
REMAND = 7
REMAND_DELAY = 8
REMAND_LENGTH = 9
ENTRY = 10
EPISODE_REASON = 12
EPISODE_TIME = 13
CONTACT = 14
REFERRAL = 15
EMIGRATION_CLOCK = 16
DROPOUT_CLOCK = 17


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def uniform(key: int, person: ArrayLike, counter: ArrayLike, stream: int) -> NDArray[np.float64]:
    """Uniform draws in (0, 1), one per element, fixed by (key, person, counter, stream)."""
    return uniforms(key, person, counter, (stream,))[0]


def uniforms(
    key: int, person: ArrayLike, counter: ArrayLike, streams: tuple[int, ...]
) -> NDArray[np.float64]:
    """Draws of several streams at once: row ``i`` equals ``uniform(..., streams[i])``."""
    p = np.atleast_1d(np.asarray(person)).astype(np.uint64)
    c = np.atleast_1d(np.asarray(counter)).astype(np.uint64)
    # Array arithmetic on uint64 wraps modulo 2**64 silently, which is what the mix needs.
    # Scalar constants are folded in Python integers (numpy warns on scalar overflow).
    offsets = np.array(
        [(int(key) + int(s) * int(_C_STREAM) + int(_GOLDEN)) % 2**64 for s in streams],
        dtype=np.uint64,
    )
    x = (p * _C_PERSON + c * _C_COUNTER)[None, :] + offsets[:, None]
    z = _mix(_mix(x) + _GOLDEN)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def exponential(
    key: int, person: ArrayLike, counter: ArrayLike, stream: int
) -> NDArray[np.float64]:
    """Unit exponential draws keyed like `uniform`."""
    return -np.log(uniform(key, person, counter, stream))


def normal(key: int, person: ArrayLike, counter: ArrayLike, stream: int) -> NDArray[np.float64]:
    """Standard normal draws keyed like `uniform` (inverse of the normal CDF)."""
    return np.asarray(ndtri(uniform(key, person, counter, stream)), dtype=np.float64)
