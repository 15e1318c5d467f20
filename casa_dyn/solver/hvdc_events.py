"""HVDC events: converter order changes, pole blocking, DC line faults and forced
commutation failures (docs/hvdc.md).  Each changes the LCC family's parameters or discrete
state (``casa_dyn.models.hvdc``); the DC network and converter logic do the rest.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from casa_dyn.errors import ScenarioError


@dataclass(frozen=True)
class PowerOrderChange:
    """New order of LCC converter ``conv`` at ``t_s``: ``p_mw`` (power-controlled), ``i_ka``
    (current-controlled) or ``v_kv`` (the voltage-setting inverter in constant-voltage
    control), reached at ``ramp_per_s`` (that unit per second; None: the converter's
    ``p_ramp_mw_per_s`` for power orders, a step otherwise).  ``aux_mw`` instead sets the
    auxiliary power-modulation input (times ``k_aux``)."""

    conv: int
    t_s: float
    p_mw: float | None = None
    i_ka: float | None = None
    v_kv: float | None = None
    aux_mw: float | None = None
    ramp_per_s: float | None = None


@dataclass(frozen=True)
class PoleBlock:
    """Block the pole of converter ``conv`` (every converter of its DC island with the same
    pole sign; ``bipole``: both poles) at ``t_s``: firing angles go to alpha_retard and the
    valves stop when the current is zero.  Deblock at ``t_deblock_s`` with the restart ramps."""

    conv: int
    t_s: float
    t_deblock_s: float | None = None
    bipole: bool = False


@dataclass(frozen=True)
class DcLineFault:
    """Fault to ground through ``r_ohm`` at DC node ``node`` at ``t_s``.  The rectifiers of the
    faulted pole retard after ``t_detect_s``; after the current has stopped and the
    de-ionization time, they restart.  A temporary fault's arc goes out once its current is
    gone; a ``permanent`` one stays, so each restart fails until the pole locks out."""

    node: int
    t_s: float
    r_ohm: float = 1.0
    t_detect_s: float = 0.005
    permanent: bool = False


@dataclass(frozen=True)
class ForcedCommutationFailure:
    """Commutation failure of inverter ``conv`` at ``t_s`` lasting ``duration_s`` (None: its
    ``t_cf_s``)."""

    conv: int
    t_s: float
    duration_s: float | None = None


HVDC_EVENT_TYPES = (PowerOrderChange, PoleBlock, DcLineFault, ForcedCommutationFailure)


def actions(e):
    """(time, kind) pairs of one HVDC event."""
    if isinstance(e, PowerOrderChange):
        return [(e.t_s, "hvdc_order")]
    if isinstance(e, PoleBlock):
        out = [(e.t_s, "hvdc_block")]
        if e.t_deblock_s is not None:
            out.append((e.t_deblock_s, "hvdc_deblock"))
        return out
    if isinstance(e, DcLineFault):
        return [(e.t_s, "hvdc_line_fault")]
    return [(e.t_s, "hvdc_cf")]


def check(case, e, label) -> list[str]:
    """Problems of one HVDC event against the case tables."""
    errs = []
    cv = case.tables.get("lcc_converter")
    conv = {} if cv is None else {int(i): r for r, i in enumerate(cv["id"])}
    if isinstance(e, DcLineFault):
        return errs + _check_fault(case, e, label)
    r = conv.get(int(e.conv))
    if r is None:
        return [f"{label}: LCC converter {e.conv} does not exist"]
    if cv["in_service"][r] != 1:
        errs.append(f"{label}: LCC converter {e.conv} is out of service")
    if isinstance(e, PowerOrderChange):
        given = [k for k in ("p_mw", "i_ka", "v_kv", "aux_mw") if getattr(e, k) is not None]
        need = {1: "p_mw", 2: "i_ka", 3: "v_kv"}[int(cv["mode"][r])]
        if len(given) != 1:
            errs.append(f"{label}: give exactly one of p_mw, i_ka, v_kv, aux_mw")
        elif given[0] not in (need, "aux_mw"):
            errs.append(f"{label}: converter {e.conv} is in mode {cv['mode'][r]}; its order is {need}")
        if e.ramp_per_s is not None and e.ramp_per_s < 0:
            errs.append(f"{label}: ramp_per_s must be >= 0")
    elif isinstance(e, PoleBlock):
        if e.t_deblock_s is not None and e.t_deblock_s <= e.t_s:
            errs.append(f"{label}: deblocking time {e.t_deblock_s} s is not after the block {e.t_s} s")
    elif isinstance(e, ForcedCommutationFailure):
        if cv["kind"][r] != 2:
            errs.append(f"{label}: converter {e.conv} is a rectifier; commutation failure is an "
                        "inverter event")
        if e.duration_s is not None and e.duration_s <= 0:
            errs.append(f"{label}: duration_s must be > 0")
    return errs


def _check_fault(case, e, label):
    nd = case.tables.get("dc_node")
    rows = {} if nd is None else {int(i): r for r, i in enumerate(nd["id"])}
    r = rows.get(int(e.node))
    if r is None:
        return [f"{label}: DC node {e.node} does not exist"]
    errs = []
    if not e.r_ohm > 0:
        errs.append(f"{label}: r_ohm must be > 0")
    if e.t_detect_s < 0:
        errs.append(f"{label}: t_detect_s must be >= 0")
    if nd["grounded"][r] == 1 and nd["r_ground_ohm"][r] == 0:
        errs.append(f"{label}: DC node {e.node} is solidly grounded")
    elif nd["c_uf"][r] == 0 and nd["grounded"][r] == 0:
        cv, br = case.tables.get("lcc_converter"), case.tables.get("dc_branch")
        at_conv = cv is not None and bool(np.any((cv["dc_node_p"] == e.node) | (cv["dc_node_n"] == e.node)))
        inductive = br is not None and bool(np.any(((br["from_node"] == e.node) | (br["to_node"] == e.node))
                                                   & (br["l_mh"] > 0)))
        if at_conv or inductive:
            errs.append(f"{label}: DC node {e.node} has no capacitance (dc_node.c_uf = 0); put the "
                        "fault at a line node with capacitance (e.g. the mid-point of a T model)")
    return errs


# ------------------------------------------------------------------ applying
def _lcc(sysm):
    return sysm.family("lcc")


def _unit(f, conv_id):
    rows = np.flatnonzero(f.ids == conv_id)
    if not len(rows):
        raise ScenarioError(f"LCC converter {conv_id} is not in the dynamic system (out of service "
                            "or in a DC island without converters)")
    return int(rows[0])


def apply(sysm, kind, e, t) -> None:
    from casa_dyn.models.hvdc import _lcc_core as C

    f = _lcc(sysm)
    if kind == "hvdc_order":
        _order(f, _unit(f, e.conv), e, t, C)
    elif kind in ("hvdc_block", "hvdc_deblock"):
        u = _unit(f, e.conv)
        for k in _pole_units(sysm, f, u, e.bipole, C):
            if kind == "hvdc_block":
                f.ds[k, C.D_EVBLK] = 1.0
            else:
                f.ds[k, C.D_EVBLK] = 0.0
                f.ds[k, C.D_TRS if f.p[k, C.KIND] > 0 else C.D_TVR] = t
    elif kind == "hvdc_line_fault":
        _line_fault(sysm, f, e, t, C)
    elif kind == "hvdc_cf":
        u = _unit(f, e.conv)
        f.ds[u, C.D_CF] = 1.0
        f.ds[u, C.D_TCF] = t + (e.duration_s if e.duration_s is not None else f.p[u, C.TCF])


def _order(f, u, e, t, C):
    from casa_dyn.models.hvdc._blocks import ramp

    if e.aux_mw is not None:
        f.p[u, C.PAUX0] = e.aux_mw
        return
    if e.v_kv is not None and f.p[u, C.CVCTL] == 0:
        raise ScenarioError(f"converter {f.ids[u]} runs constant extinction angle, not constant DC "
                            "voltage (its power-flow gamma is fixed); it has no voltage order")
    new = next(v for v in (e.p_mw, e.i_ka, e.v_kv) if v is not None)
    now = ramp(t, f.ds[u, C.D_OT0], f.ds[u, C.D_OV0], f.ds[u, C.D_OTGT], f.ds[u, C.D_ORATE])
    rate = e.ramp_per_s
    if rate is None:
        rate = f.p[u, C.PRAMP] if e.p_mw is not None else 0.0
    f.ds[u, C.D_OT0], f.ds[u, C.D_OV0], f.ds[u, C.D_OTGT], f.ds[u, C.D_ORATE] = t, now, new, rate


def _pole_units(sysm, f, u, both, C):
    """Converters of the pole group of unit u (both poles of its DC island if ``both``)."""
    from casa_dyn.network.dc.checks import dc_islands

    cv = sysm.case["lcc_converter"]
    labels = dc_islands(sysm.case)[0]
    index = {int(i): k for k, i in enumerate(sysm.case["dc_node"]["id"])}
    row = {int(i): r for r, i in enumerate(cv["id"])}

    def island(k):
        return labels[index[int(cv["dc_node_p"][row[int(f.ids[k])]])]]

    out = [k for k in range(f.n) if island(k) == island(u)]
    if not both:
        out = [k for k in out if f.p[k, C.GROUP] == f.p[u, C.GROUP]]
    return out


def _line_fault(sysm, f, e, t, C):
    """Fault conductance at the node; the rectifiers whose terminals are joined to the node by
    branches (its pole line) start the protection sequence."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    nodes = sysm.family("dc_node")
    k = np.flatnonzero(nodes.ids == e.node)
    if not len(k):
        raise ScenarioError(f"DC node {e.node} is not in the dynamic system")
    k = int(k[0])
    nodes.p[k, nodes.pcol("g_fault_s")] = 1.0 / e.r_ohm
    nodes.p[k, nodes.pcol("fault_permanent")] = 1.0 if e.permanent else 0.0
    nodes.ds[k, 0] = t
    br = sysm.family("dc_branch")
    pos = {int(v): j for j, v in enumerate(nodes.col[:, 0])}
    nn = nodes.n
    fr = [pos[int(c)] for c in br.col[:, 1]]
    to = [pos[int(c)] for c in br.col[:, 2]]
    adj = sp.coo_matrix((np.ones(len(fr)), (fr, to)), shape=(nn, nn))
    labels = connected_components(adj, directed=False)[1]
    on_line = {int(nodes.col[j, 0]) for j in range(nn) if labels[j] == labels[k]}
    cols = f.spec.cols
    cp, cn = cols.index("v_p"), cols.index("v_n")
    for u in range(f.n):
        if f.p[u, C.KIND] > 0 and (int(f.col[u, cp]) in on_line or int(f.col[u, cn]) in on_line):
            f.ds[u, C.D_LF] = C.LF_PENDING
            f.ds[u, C.D_TLF] = t + e.t_detect_s
            f.ds[u, C.D_LFDET] = e.t_detect_s
            f.ds[u, C.D_LFPERM] = 1.0 if e.permanent else 0.0
            f.ds[u, C.D_NLF] = 0.0
