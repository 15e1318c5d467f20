"""Bus admittance matrix and branch admittance primitives.

Branch model (MATPOWER manual, Zimmerman & Murillo-Sanchez, section 3.2, eq. 3.2-3.4):
the pi model with a series admittance ``ys = 1/(r + jx)``, total charging ``jb`` split
half to each end, and an ideal transformer ``t = ratio * exp(j*shift)`` at the from side::

    [If]   [ (ys + jb/2)/|t|^2   -ys/conj(t) ] [Vf]
    [It] = [ -ys/t                ys + jb/2  ] [Vt]

Transformer magnetizing admittance ``g + jb`` is connected at the from (winding 1) bus, as in
PSS/E.  Shunts are given as MW/Mvar drawn/injected at 1 pu: ``Y = (g_mw + j b_mvar)/base``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from casa_dyn.case.case import Case
from casa_dyn.case.index import bus_index, positions  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class Branches:
    """All AC branches (lines first, then transformers) as arrays of bus positions and the four
    primitive admittances; ``table``/``row`` say where each came from."""

    f: np.ndarray
    t: np.ndarray
    yff: np.ndarray
    yft: np.ndarray
    ytf: np.ndarray
    ytt: np.ndarray
    on: np.ndarray
    table: np.ndarray  # 0 = line, 1 = transformer
    row: np.ndarray
    ids: np.ndarray

    @property
    def n(self) -> int:
        return len(self.f)


def branches(case: Case) -> Branches:
    ln, tr = case["line"], case["transformer"]
    # lines
    ys_l = 1.0 / (ln["r_pu"] + 1j * ln["x_pu"])
    bc = 0.5j * ln["b_pu"]
    # transformers
    ys_t = 1.0 / (tr["r_pu"] + 1j * tr["x_pu"])
    tap = tr["ratio_pu"] * np.exp(1j * np.deg2rad(tr["shift_deg"]))
    ymag = tr["g_pu"] + 1j * tr["b_pu"]
    return Branches(
        f=np.concatenate([positions(case, ln["from_bus"]), positions(case, tr["from_bus"])]),
        t=np.concatenate([positions(case, ln["to_bus"]), positions(case, tr["to_bus"])]),
        yff=np.concatenate([ys_l + bc, ys_t / (tap * np.conj(tap)) + ymag]),
        yft=np.concatenate([-ys_l, -ys_t / np.conj(tap)]),
        ytf=np.concatenate([-ys_l, -ys_t / tap]),
        ytt=np.concatenate([ys_l + bc, ys_t]),
        on=np.concatenate([ln["in_service"], tr["in_service"]]).astype(bool),
        table=np.concatenate([np.zeros(len(ys_l), np.int64), np.ones(len(ys_t), np.int64)]),
        row=np.concatenate([np.arange(len(ys_l)), np.arange(len(ys_t))]).astype(np.int64),
        ids=np.concatenate([ln["id"], tr["id"]]).astype(np.int64),
    )


def shunt_admittance(case: Case) -> np.ndarray:
    """Fixed-shunt admittance per bus (pu on the system base)."""
    nb = case.n("bus")
    sh = case["shunt"]
    on = sh["in_service"] == 1
    y = np.zeros(nb, dtype=complex)
    np.add.at(y, positions(case, sh["bus"][on]), (sh["g_mw"][on] + 1j * sh["b_mvar"][on]) / case.base_mva)
    return y


def build_ybus(case: Case, br: Branches | None = None, keep_pattern: bool = False) -> sp.csr_matrix:
    """Assemble Y-bus (complex CSR, sorted indices, duplicates summed).

    With ``keep_pattern`` the entries of out-of-service branches are kept as explicit zeros so
    that switching them later changes values only, never the sparsity pattern.
    """
    br = branches(case) if br is None else br
    nb = case.n("bus")
    w = br.on.astype(float)
    rows = np.concatenate([br.f, br.f, br.t, br.t, np.arange(nb)])
    cols = np.concatenate([br.f, br.t, br.f, br.t, np.arange(nb)])
    vals = np.concatenate([br.yff * w, br.yft * w, br.ytf * w, br.ytt * w, shunt_admittance(case)])
    if not keep_pattern:
        keep = np.concatenate([br.on, br.on, br.on, br.on, np.ones(nb, bool)])
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
    y = sp.coo_matrix((vals, (rows, cols)), shape=(nb, nb)).tocsr()
    y.sum_duplicates()
    y.sort_indices()
    return y
