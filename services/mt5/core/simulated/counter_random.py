"""Counter-based random numbers: hashes of (key, counter), so any slice of a stream is computable alone.

numpy's generators are sequential: reaching the numbers of one minute in a year would mean drawing all
before it. Hashing counters with splitmix64 gives the same quality of bits with random access, and
vectorises over any set of periods at once.
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective scramble of uint64 counters into uniform bits."""
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def period_keys(key: np.uint64, stream: int, periods: np.ndarray) -> np.ndarray:
    """One key per period index of a stream; the stream salt keeps streams independent of each other."""
    salt = np.uint64((stream * 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF)
    base = mix(np.array([key ^ salt], dtype=np.uint64))[0]
    return mix(periods.astype(np.uint64) * GOLDEN + base)


def slot_bits(keys: np.ndarray, slots: int) -> np.ndarray:
    """(len(keys), slots) hashes: slot j of period i is mix(key_i + (j + 1) * golden)."""
    return mix(keys[:, None] + np.arange(1, slots + 1, dtype=np.uint64) * GOLDEN)


def uniform_hi(h: np.ndarray) -> np.ndarray:
    """Uniform in (0, 1) from the high 32 bits."""
    return ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32


def uniform_lo(h: np.ndarray) -> np.ndarray:
    """Uniform in [0, 1) from the low 32 bits."""
    return (h & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32


def normals(h: np.ndarray) -> np.ndarray:
    """Standard normals from 64-bit hashes (Box-Muller on the two 32-bit halves)."""
    return np.sqrt(-2.0 * np.log(uniform_hi(h))) * np.cos(2.0 * np.pi * uniform_lo(h))


def brownian_bridges(start: np.ndarray, end: np.ndarray, z: np.ndarray, step_sigma: float) -> np.ndarray:
    """Brownian bridges from start to end in z.shape[1] equal steps: (n, steps + 1) points, both ends."""
    steps = z.shape[1]
    walk = np.cumsum(z * step_sigma, axis=1)
    frac = np.arange(1, steps + 1) / steps
    inner = start[:, None] + frac * (end - start)[:, None] + walk - frac * walk[:, -1:]
    return np.concatenate([start[:, None], inner], axis=1)
