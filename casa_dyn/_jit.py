"""The one place that imports numba and holds its defaults (sgkit style).

Every compiled kernel in casa_dyn is decorated with ``njit`` from here: nopython mode,
``cache=True`` so a second process does not compile again, and fastmath off because the
Newton iterations rely on IEEE semantics for NaN detection.
"""
from __future__ import annotations

import numba

DEFAULTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)


def njit(*args, **kwargs):
    """``numba.njit`` with the project defaults; usable bare or with keyword overrides."""
    opts = {**DEFAULTS, **kwargs}
    if args and callable(args[0]):
        return numba.njit(**opts)(args[0])
    return numba.njit(*args, **opts)


prange = numba.prange
