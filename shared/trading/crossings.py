"""The compiled crossing scan of the built-in strategies. It has a module of its own, imported when signals
are first computed, so that numba (~0.2 s to import) is not part of every service's start-up."""

from __future__ import annotations

import numpy as np

from shared.jit import njit


@njit(cache=True)
def crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(crossed_above(a, b), crossed_below(a, b)) in one pass: one read of each series, no temporaries."""
    n = a.shape[0]
    up, down = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    was_above = was_below = False
    for i in range(n):
        above, below = a[i] > b[i], a[i] < b[i]  # NaN: neither
        up[i], down[i] = was_below & above, was_above & below
        was_above, was_below = above, below
    return up, down
