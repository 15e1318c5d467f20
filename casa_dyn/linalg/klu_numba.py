"""KLU (SuiteSparse, LGPL-2.1; shipped inside the BSD-licensed ``nbklu`` wheel) called from
compiled code.

The time loop runs inside one Numba kernel, so the sparse LU must be callable from nopython
mode.  ``nbklu`` exports the C symbols ``klu_l_*`` from its extension module; we bind them with
ctypes (which Numba can call directly) taking every pointer as a 64-bit integer.  The
``klu_l_common`` struct lives in a caller-owned int64 buffer (``COMMON_WORDS`` words is more than
its size), and the symbolic/numeric handles live in a 2-element int64 array.

Functions here are ``@njit`` and operate on CSC arrays with int64 indices:

* ``klu_analyze(common, ap, ai, handles)`` symbolic analysis once per run (pattern fixed);
* ``klu_factor(common, ap, ai, ax, handles)`` numeric factorization with pivoting;
* ``klu_refactor(...)`` numeric-only refactorization reusing the pivot order, falling back
  to a full factorization when the reused pivots are poor;
* ``klu_solve(common, handles, b)`` in-place solve.

If nbklu's library cannot be loaded, ``AVAILABLE`` is False and callers use the SciPy path.
"""
from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

from casa_dyn._jit import njit

COMMON_WORDS = 64


def _load() -> bool:
    """Make nbklu's KLU symbols visible to the LLVM linker; False when nbklu is missing."""
    try:
        import nbklu
        from llvmlite import binding
    except ImportError:
        return False
    paths = glob.glob(os.path.join(os.path.dirname(nbklu.__file__), "_ext*.so"))
    if not paths:
        return False
    try:
        binding.load_library_permanently(paths[0])
        ctypes.CDLL(paths[0]).klu_l_refactor  # noqa: B018  (symbol presence check)
    except (OSError, RuntimeError, AttributeError):
        return False
    return True


AVAILABLE = _load()


def _fn(name, nargs):
    # Bound by symbol name at link time (not by address), so kernels calling these can be
    # cached on disk by Numba.  Every argument is a pointer or integer passed as int64.
    from numba import types

    return types.ExternalFunction(name, types.int64(*([types.int64] * nargs)))


_defaults = _fn("klu_l_defaults", 1)
_analyze = _fn("klu_l_analyze", 4)
_factor = _fn("klu_l_factor", 5)
_refactor = _fn("klu_l_refactor", 6)
_solve = _fn("klu_l_solve", 6)
_rcond = _fn("klu_l_rcond", 3)
_free_numeric = _fn("klu_l_free_numeric", 2)
_free_symbolic = _fn("klu_l_free_symbolic", 2)


@njit
def klu_analyze(common, ap, ai, handles):
    """Set defaults and run the symbolic analysis; returns True on success."""
    _defaults(common.ctypes.data)
    # halt_if_singular = FALSE: with TRUE this KLU build leaves a half-built numeric object
    # on a singular matrix that crashes when freed; we detect singularity from the status.
    common.view(np.int32)[18] = 0
    handles[0] = _analyze(ap.size - 1, ap.ctypes.data, ai.ctypes.data, common.ctypes.data)
    handles[1] = 0
    return handles[0] != 0


@njit
def _status(common):
    # klu_l_common.status: int32 at byte offset 76 (see the layout note at the end)
    return common.view(np.int32)[19]


@njit
def klu_factor(common, ap, ai, ax, handles):
    """Full numeric factorization (new pivot order); True on success, False if singular."""
    if handles[1] != 0:
        _free_numeric(handles[1:].ctypes.data, common.ctypes.data)
        handles[1] = 0  # this KLU build does not clear the handle itself
    handles[1] = _factor(ap.ctypes.data, ai.ctypes.data, ax.ctypes.data, handles[0], common.ctypes.data)
    if handles[1] != 0 and (_status(common) != 0 or not _rcond_of(common, handles) > 0.0):
        # KLU returns factors of a singular matrix (a zero pivot); they must not be used
        _free_numeric(handles[1:].ctypes.data, common.ctypes.data)
        handles[1] = 0
    return handles[1] != 0


@njit
def _rcond_of(common, handles):
    """min|U_ii| / max|U_ii| of the current factors (cheap: O(n))."""
    _rcond(handles[0], handles[1], common.ctypes.data)
    return common.view(np.float64)[_RCOND_WORD]


@njit
def klu_refactor(common, ap, ai, ax, handles, rcond_min):
    """Numeric refactorization with the previous pivots; a full factorization when there is no
    previous one, when refactor fails, or when the reciprocal pivot ratio drops below
    ``rcond_min`` (reused pivots have become poor).  True on success."""
    if handles[1] == 0:
        return klu_factor(common, ap, ai, ax, handles)
    ok = _refactor(ap.ctypes.data, ai.ctypes.data, ax.ctypes.data, handles[0], handles[1],
                   common.ctypes.data) != 0 and _status(common) == 0
    if ok:
        ok = _rcond_of(common, handles) > rcond_min
    if not ok:
        return klu_factor(common, ap, ai, ax, handles)
    return True


@njit
def klu_solve(common, handles, b):
    """Solve in place; returns True on success."""
    return _solve(handles[0], handles[1], b.size, 1, b.ctypes.data, common.ctypes.data) != 0


@njit
def _klu_free(common, handles):
    if handles[1] != 0:
        _free_numeric(handles[1:].ctypes.data, common.ctypes.data)
        handles[1] = 0  # this KLU build does not clear the handle itself
    if handles[0] != 0:
        _free_symbolic(handles[0:].ctypes.data, common.ctypes.data)
        handles[0] = 0


def klu_free(common: np.ndarray, handles: np.ndarray) -> None:
    """Release the factors (called from Python once a run ends)."""
    if AVAILABLE:
        _klu_free(common, handles)


# klu_l_common layout (SuiteSparse 7, klu.h): 5 doubles; int btf, ordering, scale (int32);
# 2 pointers; int halt_if_singular, status (int32); int64 nrealloc, structural_rank,
# numerical_rank, singular_col, noffdiag; doubles flops, rcond, condest, rgrowth, work.
# Word offsets in 8-byte units: flops = 15, rcond = 16; status is the int32 at byte 76.
# (Checked against the values klu_l_defaults and klu_l_analyze write: tests/test_klu_numba.py.)
_RCOND_WORD = 16


def new_buffers() -> tuple[np.ndarray, np.ndarray]:
    """Caller-owned storage: the common struct and the [symbolic, numeric] handle pair."""
    return np.zeros(COMMON_WORDS, dtype=np.int64), np.zeros(2, dtype=np.int64)
