"""Parse the short event options of ``casa-dyn run`` (``--fault BUS:T_ON:T_OFF`` ...)."""
from __future__ import annotations

from casa_dyn.errors import ScenarioError
from casa_dyn.solver.events import BranchTrip, BusFault, GenTrip


def _parts(text: str, n: tuple[int, ...], what: str, form: str):
    parts = text.split(":")
    if len(parts) not in n:
        raise ScenarioError(f"{what} {text!r}: expected {form}")
    return parts


def _num(s: str, cast, what: str, text: str):
    try:
        return cast(s)
    except ValueError:
        raise ScenarioError(f"{what} {text!r}: {s!r} is not a number") from None


def parse_fault(text: str) -> BusFault:
    """``BUS:T_ON:T_OFF`` or ``BUS:T_ON:T_OFF:R_PU:X_PU`` (fault impedance, system base)."""
    p = _parts(text, (3, 5), "--fault", "BUS:T_ON:T_OFF[:R_PU:X_PU]")
    vals = [_num(p[0], int, "--fault", text)] + [_num(x, float, "--fault", text) for x in p[1:]]
    return BusFault(vals[0], vals[1], vals[2], *(vals[3:] if len(vals) == 5 else ()))


def parse_trip_branch(text: str) -> BranchTrip:
    """``ID:T`` (a line) or ``transformer:ID:T``."""
    p = _parts(text, (2, 3), "--trip-branch", "ID:T or transformer:ID:T")
    table = "line"
    if len(p) == 3:
        table = p[0]
        p = p[1:]
    return BranchTrip(_num(p[0], int, "--trip-branch", text), _num(p[1], float, "--trip-branch", text), table)


def parse_trip_gen(text: str) -> GenTrip:
    p = _parts(text, (2,), "--trip-gen", "ID:T")
    return GenTrip(_num(p[0], int, "--trip-gen", text), _num(p[1], float, "--trip-gen", text))
