"""The model kernels as first-class function values for the compiled time loop.

``function_tables(used)`` returns one tuple of family entries in family order
(``registry.FAMILY_MODULES``); entry ``k`` called with ``task`` 0 evaluates family ``k``, with
1 updates its discrete state.  The loop indexes the tuple at run time, so the entries must all
have one Numba type: each is a compiled entry's address behind Numba's wrapper-address
protocol, typed ``FunctionType(FAMILY_SIG)``.

Why tuples and not typed lists: building a ``numba.typed.List`` compiles its ``append`` in
every process (Numba does not cache it), about 1 s per run; a tuple of such values is typed
and unboxed without compiling anything.  Why ``used``: a family without units is never
called, so it gets a no-op stand-in and its kernel is not compiled, which keeps a cold start
to the models a case actually uses.
"""
from __future__ import annotations

from numba import types

from casa_dyn.models._dispatch import ENTRIES, _fn_none
from casa_dyn.models.base import FAMILY_SIG


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
    """Family entries for the time loop; ``used[k]`` false gives family ``k`` a no-op (default:
    every family, all compiled)."""
    n = len(ENTRIES)
    used = (True,) * n if used is None else tuple(bool(u) for u in used)
    if len(used) != n:
        raise ValueError(f"function_tables: {len(used)} flags for {n} families")
    return tuple(_value(ENTRIES[k] if used[k] else _fn_none, FAMILY_SIG) for k in range(n))
