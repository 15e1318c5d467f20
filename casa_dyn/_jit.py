"""The one place that imports numba and holds its defaults (sgkit style).

Every compiled kernel in casa_dyn is decorated with ``njit`` from here: nopython mode,
``cache=True`` so a second process does not compile again, and fastmath off because the
Newton iterations rely on IEEE semantics for NaN detection.

Numba keys a cached function on its own file's timestamp only, so a cached time loop would
keep calling an *old* model kernel after that model's file changed.  We therefore put the disk
cache in a folder named by a fingerprint of every casa_dyn source file: any change to the
compiled code (an upgrade, an edit) starts a fresh cache.  Base folder: ``$CASA_DYN_CACHE_DIR``, else
``$NUMBA_CACHE_DIR``, else ``~/.cache/casa_dyn/numba``.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import warnings

import numba

DEFAULTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)


def source_fingerprint() -> str:
    """SHA-1 over the relative path and bytes of every casa_dyn source file that holds compiled
    code (mentions ``njit``); edits to the CLI, I/O or studies keep the cache."""
    root = pathlib.Path(__file__).resolve().parent
    h = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if b"njit" in data:
            h.update(str(path.relative_to(root)).encode())
            h.update(data)
    return h.hexdigest()[:16]


def cache_dir() -> str:
    base = (os.environ.get("CASA_DYN_CACHE_DIR") or os.environ.get("NUMBA_CACHE_DIR")
            or os.path.join(os.path.expanduser("~"), ".cache", "casa_dyn", "numba"))
    return os.path.join(base, source_fingerprint())


numba.config.CACHE_DIR = cache_dir()

# the time loop calls the models through first-class function values on purpose
# (casa_dyn.models.functions); Numba flags the feature as experimental on every use
warnings.filterwarnings("ignore", message="First-class function type feature is experimental",
                        category=numba.NumbaExperimentalFeatureWarning)


def kernels_cached() -> bool:
    """True once the time loop's entry point has been compiled into the disk cache for the
    present sources (a first run, or the first after an upgrade, compiles for a minute or two)."""
    return any(pathlib.Path(numba.config.CACHE_DIR).glob("*/kernel.run-*.nbi"))


def njit(*args, **kwargs):
    """``numba.njit`` with the project defaults; usable bare or with keyword overrides."""
    opts = {**DEFAULTS, **kwargs}
    if args and callable(args[0]):
        return numba.njit(**opts)(args[0])
    return numba.njit(*args, **opts)


prange = numba.prange
