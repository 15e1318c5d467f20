"""casa_dyn: power-system transient stability simulation with LCC HVDC.

Public API (imported lazily so ``import casa_dyn`` stays fast)::

    case = casa_dyn.read_case("cases/wscc9.h5")
    pf = casa_dyn.solve_power_flow(case)
"""
from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "read_case": ("casa_dyn.io.h5case", "read_case"),
    "write_case": ("casa_dyn.io.h5case", "write_case"),
    "Case": ("casa_dyn.case.case", "Case"),
    "solve_power_flow": ("casa_dyn.network.powerflow", "solve_power_flow"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'casa_dyn' has no attribute {name!r}")
