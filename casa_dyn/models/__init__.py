"""Dynamic device models, one folder per family and one small module per model.

Model modules register their parameter table (``casa_dyn.case.schema.register``) and their
compiled kernels at import.  ``load_all`` imports every model module so the schema registry is
complete; it is called lazily (only when tables are needed) to keep ``import casa_dyn`` fast.
"""
from __future__ import annotations

import importlib

_loaded = False


def load_all() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from casa_dyn.models.registry import FAMILY_MODULES

    for mod in FAMILY_MODULES:
        importlib.import_module(f"casa_dyn.models.{mod}")
