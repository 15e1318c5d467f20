"""The model kernels as first-class function values for the compiled time loop.

``function_tables(used)`` returns two tuples, ``(eval functions, discrete-update functions)``,
in family order (``registry.FAMILY_MODULES``).  The loop indexes them at run time, so they
must all have one Numba type: each entry is a compiled wrapper's address behind Numba's
wrapper-address protocol, typed ``FunctionType(EVAL_SIG)`` or ``FunctionType(DISC_SIG)``.

Why tuples and not typed lists: building a ``numba.typed.List`` compiles its ``append`` in
every process (Numba does not cache it), about 1 s per run; a tuple of such values is typed
and unboxed without compiling anything.  Why ``used``: a family without units is never
called, so it gets a no-op stand-in and its kernel is not compiled, which keeps a cold start
to the models a case actually uses.
"""
from __future__ import annotations

from numba import types

from casa_dyn.models._dispatch import DISC, EVAL, _dc_none, _ev_none
from casa_dyn.models.base import DISC_SIG, EVAL_SIG


class _Fn(types.WrapperAddressProtocol):
    """A compiled wrapper as a first-class function value of type FunctionType(sig)."""

    def __init__(self, disp, sig):
        from numba.experimental.function_type import _get_wrapper_address

        # compiles the wrapper for ``sig`` (or loads it from the disk cache) on first use
        self._addr, self._sig = _get_wrapper_address(disp, sig), sig

    def __wrapper_address__(self):
        return self._addr

    def signature(self):
        return self._sig


_VALUES: dict = {}


def _value(disp, sig) -> _Fn:
    key = (disp.__name__, str(sig))
    if key not in _VALUES:
        _VALUES[key] = _Fn(disp, sig)
    return _VALUES[key]


def function_tables(used=None) -> tuple:
    """``(eval, discrete)`` tuples for the time loop; ``used[k]`` false gives family ``k`` a
    no-op (default: every family, all compiled)."""
    n = len(EVAL)
    used = (True,) * n if used is None else tuple(bool(u) for u in used)
    if len(used) != n:
        raise ValueError(f"function_tables: {len(used)} flags for {n} families")
    ev = tuple(_value(EVAL[k] if used[k] else _ev_none, EVAL_SIG) for k in range(n))
    dc = tuple(_value(DISC[k] if used[k] else _dc_none, DISC_SIG) for k in range(n))
    return ev, dc
