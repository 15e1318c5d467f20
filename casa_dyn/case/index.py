"""Bus id -> row lookups shared by validation, the network and the models."""
from __future__ import annotations

import numpy as np

from casa_dyn.case.case import Case


def bus_index(case: Case) -> dict[int, int]:
    """Map bus id -> position (row of the bus table)."""
    return {int(b): i for i, b in enumerate(case["bus"]["id"])}


def positions(case: Case, bus_ids) -> np.ndarray:
    """Bus positions of ``bus_ids`` (vectorised; ``KeyError`` for an unknown id).  With
    duplicate bus ids the last row wins, as in ``bus_index``."""
    ids = np.asarray(case["bus"]["id"], dtype=np.int64)
    query = np.asarray(bus_ids, dtype=np.int64).ravel()
    if len(query) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    k = np.searchsorted(ids[order], query, side="right") - 1
    found = (k >= 0) & (ids[order][np.maximum(k, 0)] == query)
    if not found.all():
        raise KeyError(int(query[~found][0]))
    return order[k].astype(np.int64)
