"""Write case files with plain h5py (not casa_dyn.io) so tests can craft broken files.

``good_tables()`` is a small valid 4-bus case whose element ids differ from their row numbers,
so a message that names the id cannot pass by accident with the row number.
"""
from __future__ import annotations

import numpy as np
import h5py


def good_tables() -> dict:
    return {
        "bus": {"id": [1, 2, 3, 4], "name": ["north", "east", "south", "lv"],
                "base_kv": [230.0, 230.0, 230.0, 115.0], "type": [3, 2, 1, 1]},
        "line": {"id": [10, 20], "from_bus": [1, 2], "to_bus": [2, 3],
                 "r_pu": [0.01, 0.02], "x_pu": [0.1, 0.2], "b_pu": [0.02, 0.04]},
        "transformer": {"id": [7], "from_bus": [3], "to_bus": [4], "x_pu": [0.08]},
        "generator": {"id": [101, 102], "bus": [1, 2], "p_mw": [0.0, 50.0],
                      "vm_set_pu": [1.02, 1.01], "q_min_mvar": [-50.0, -30.0],
                      "q_max_mvar": [80.0, 40.0]},
        "load": {"id": [31, 41], "bus": [3, 4], "p_mw": [60.0, 20.0], "q_mvar": [15.0, 5.0]},
        "shunt": {"id": [5], "bus": [3], "b_mvar": [10.0]},
    }


def good_attrs() -> dict:
    return {"format": "casa_dyn-case", "format_version": np.int64(1), "name": "four-bus",
            "base_mva": 100.0, "freq_hz": 50.0, "source": "test fixture", "citation": ""}


def write_h5(path, tables: dict | None = None, attrs: dict | None = None) -> str:
    """Write ``{table: {column: values}}`` as groups of datasets; text lists become UTF-8."""
    tables = good_tables() if tables is None else tables
    attrs = good_attrs() if attrs is None else attrs
    with h5py.File(path, "w") as f:
        for k, v in attrs.items():
            f.attrs[k] = v
        for tname, cols in tables.items():
            grp = f.create_group(tname)
            for cname, values in cols.items():
                if len(values) and isinstance(values[0], str):
                    grp.create_dataset(cname, data=list(values), dtype=h5py.string_dtype("utf-8"))
                else:
                    grp.create_dataset(cname, data=np.asarray(values))
    return str(path)
