"""The generated model dispatcher is current, and function tables compile only what is used."""
from pathlib import Path

import pytest

from casa_dyn.models import registry
from casa_dyn.models._dispatch import ENTRIES, N_FAMILIES, _fn_none
from casa_dyn.models.functions import function_tables


def test_committed_dispatcher_is_generated():
    path = Path(registry.__file__).with_name("_dispatch.py")
    assert path.read_text(encoding="utf-8") == registry.dispatcher_source(), \
        "run: python -m casa_dyn.models.registry"
    assert N_FAMILIES == len(registry.FAMILY_MODULES) == len(ENTRIES)


def test_unused_families_get_the_no_op_and_are_not_compiled():
    used = tuple(m == "signal" for m in registry.FAMILY_MODULES)
    fns = function_tables(used)
    assert len(fns) == N_FAMILIES
    none = function_tables((False,) * N_FAMILIES)[0]
    assert fns[0].__wrapper_address__() != none.__wrapper_address__()
    assert all(f.__wrapper_address__() == none.__wrapper_address__() for f in fns[1:])
    # the stand-in is compiled for the one family signature only
    assert len(_fn_none.signatures) == 1


def test_wrong_number_of_flags_is_refused():
    with pytest.raises(ValueError, match="1 flags for"):
        function_tables((True,))


def test_same_values_are_reused():
    a = function_tables()
    b = function_tables()
    assert all(x is y for x, y in zip(a, b))


def test_kernels_cached_looks_for_the_time_loop_entry(tmp_path, monkeypatch):
    import numba

    from casa_dyn._jit import kernels_cached

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    assert not kernels_cached()
    (tmp_path / "solver_0123").mkdir()
    (tmp_path / "solver_0123" / "kernel.run-283.py311.nbi").write_bytes(b"")
    assert kernels_cached()
