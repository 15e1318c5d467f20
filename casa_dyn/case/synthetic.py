"""Synthetic transmission grids of any size, for scaling tests and benchmarks.

Layout: ``n_bus`` buses on a jittered square lattice (spacing ``spacing_km``), cut into 3 x 3
blocks.  In each block the centre is a 500 kV substation, one corner a generator terminal
(18-22 kV) and the other seven places are 230 kV substations.  The 230 kV buses form a meshed
network of lines to their lattice neighbours (some dropped, some diagonals added, connectivity
restored); the 500 kV substations are joined by a backbone to the neighbouring blocks' centres
plus some longer ties two blocks away, and each feeds the 230 kV network through autotransformers.
Every generator terminal connects through a step-up transformer to its block's 500 kV
substation or to a neighbouring 230 kV bus; some plants have two units.  Loads sit on most
230 kV buses; 500 kV line charging is mostly compensated by shunt reactors, as on real EHV lines.

Electrical data are typical textbook values (overhead lines: Kundur, "Power System Stability and
Control", 1994, table 6.1 gives r, x_L, b_C per km for 230 and 500 kV lines; Kundur Example 12.6
uses r 0.0001, x 0.001, b 0.00175 pu/km on 100 MVA, 230 kV, which the 230 kV row here matches;
generator and transformer reactances: Kundur chapters 3 and 6).  Everything is deterministic for
a given ``seed``.  Generation is dispatched in proportion to unit capacity so that, with the
estimated losses, the slack unit stays near its own share (see ``_dispatch``).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from casa_dyn.case.case import Case
from casa_dyn.case.tables import PQ, PV, SLACK

#: per-km line data by voltage level: resistance, reactance (ohm/km), charging (uS/km), rating
LINE_DATA = {
    230.0: dict(r_ohm_km=0.050, x_ohm_km=0.488, b_us_km=3.37, rate_mva=400.0),
    500.0: dict(r_ohm_km=0.018, x_ohm_km=0.325, b_us_km=5.00, rate_mva=2000.0),
}
ROUTE_FACTOR = 1.15          # line length / straight distance
REACTOR_SHARE = 0.90         # share of 500 kV line charging absorbed by shunt reactors
LOAD_SHARE = 0.85            # share of 230 kV buses with a load
LOSS_ESTIMATE = 0.006        # first guess of losses / load for the dispatch


def synthetic_grid(n_bus: int, seed: int = 0, *, spacing_km: float = 40.0,
                   mean_load_mw: float = 40.0, reserve: float = 0.30, freq_hz: float = 60.0,
                   base_mva: float = 100.0, balance: bool = True) -> Case:
    """A connected, meshed synthetic grid with exactly ``n_bus`` buses and one slack unit.

    ``reserve`` is installed capacity above load.  With ``balance`` the dispatch is corrected
    once by an AC power flow so that the slack unit produces about its planned share; without
    it the slack carries the error of the loss estimate (of order 0.5 % of the load).
    """
    if n_bus < 12:
        raise ValueError(f"synthetic_grid needs at least 12 buses, got {n_bus}")
    rng = np.random.default_rng(seed)
    lat = _lattice(n_bus, spacing_km, rng)
    bus = _buses(lat)
    lines = _lines(lat, rng, base_mva)
    loads = _loads(lat, rng, mean_load_mw)
    trafos, gens = _plants(lat, rng, loads, reserve, base_mva)
    shunts = _reactors(lat, lines, base_mva)
    bus["type"][gens["_slack_bus"] - 1] = SLACK
    tables = {"bus": bus, "line": lines, "transformer": trafos, "generator": gens,
              "load": loads, "shunt": shunts}
    tables = {t: {k: v for k, v in cols.items() if not k.startswith("_")}
              for t, cols in tables.items()}
    case = Case.from_tables(f"synthetic{n_bus}_s{seed}", tables, base_mva=base_mva,
                            freq_hz=freq_hz, source="casa_dyn.case.synthetic.synthetic_grid",
                            citation=f"synthetic_grid(n_bus={n_bus}, seed={seed})")
    if balance:
        _balance_slack(case)
    return case


# ---------------------------------------------------------------------------- geometry
class _Lattice:
    """Positions and roles of the buses (row-major on a ``rows x cols`` lattice)."""

    def __init__(self, n, spacing_km, rng):
        self.n = n
        self.cols = math.ceil(math.sqrt(n))
        self.rows = math.ceil(n / self.cols)
        p = np.arange(n)
        self.r, self.c = p // self.cols, p % self.cols
        jitter = rng.uniform(-0.3, 0.3, size=(n, 2))
        self.x_km = (self.c + jitter[:, 0]) * spacing_km
        self.y_km = (self.r + jitter[:, 1]) * spacing_km
        br, bc = self.r % 3, self.c % 3
        self.hub = (br == 1) & (bc == 1)          # 500 kV substation
        self.gt = (br == 0) & (bc == 0)           # generator terminal
        self.hv = ~(self.hub | self.gt)           # 230 kV substation

    def at(self, r, c):
        """Bus position at lattice (r, c), -1 where there is none."""
        r, c = np.asarray(r), np.asarray(c)
        p = r * self.cols + c
        ok = (r >= 0) & (c >= 0) & (c < self.cols) & (p < self.n)
        return np.where(ok, p, -1)

    def length_km(self, a, b):
        return np.hypot(self.x_km[a] - self.x_km[b], self.y_km[a] - self.y_km[b]) * ROUTE_FACTOR


def _lattice(n, spacing_km, rng) -> _Lattice:
    return _Lattice(n, spacing_km, rng)


def _buses(lat: _Lattice) -> dict:
    kv = np.where(lat.hub, 500.0, np.where(lat.gt, np.where(lat.c % 2 == 0, 18.0, 22.0), 230.0))
    return {"id": np.arange(1, lat.n + 1), "base_kv": kv,
            "type": np.where(lat.gt, PV, PQ), "area": 1 + (lat.r // 30) * 100 + lat.c // 30}


# ---------------------------------------------------------------------------- lines
def _pairs(lat: _Lattice, mask, dr, dc):
    """Lattice pairs (p, p + (dr, dc)) with both ends in ``mask``."""
    a = np.flatnonzero(mask)
    b = lat.at(lat.r[a] + dr, lat.c[a] + dc)
    keep = b >= 0
    a, b = a[keep], b[keep]
    keep = mask[b]
    return a[keep], b[keep]


def _lines(lat: _Lattice, rng, base_mva) -> dict:
    hv = lat.hv
    # 230 kV: lattice neighbours, some dropped, 10 % of diagonals added
    straight = [_pairs(lat, hv, 0, 1), _pairs(lat, hv, 1, 0)]
    diag = [_pairs(lat, hv, 1, 1), _pairs(lat, hv, 1, -1)]
    sf = np.concatenate([p[0] for p in straight])
    st = np.concatenate([p[1] for p in straight])
    df = np.concatenate([p[0] for p in diag])
    dt = np.concatenate([p[1] for p in diag])
    keep = _drop_some(lat.n, sf, st, rng.random(len(sf)) >= 0.15)
    add = rng.random(len(df)) < 0.10
    f230 = np.concatenate([sf[keep], df[add]])
    t230 = np.concatenate([st[keep], dt[add]])
    spare_f = np.concatenate([sf[~keep], df[~add]])
    spare_t = np.concatenate([st[~keep], dt[~add]])
    # 500 kV: backbone to neighbouring block centres, plus ties two blocks away
    bb = [_pairs(lat, lat.hub, 0, 3), _pairs(lat, lat.hub, 3, 0)]
    ties = [_pairs(lat, lat.hub, 0, 6), _pairs(lat, lat.hub, 6, 0), _pairs(lat, lat.hub, 3, 3)]
    tf = np.concatenate([p[0] for p in ties])
    tt = np.concatenate([p[1] for p in ties])
    pick = rng.random(len(tf)) < 0.12
    f500 = np.concatenate([p[0] for p in bb] + [tf[pick]])
    t500 = np.concatenate([p[1] for p in bb] + [tt[pick]])
    # the rest of the network (transformers) is added in _plants; connectivity of the 230 kV
    # mesh is what matters here: restore it from the spare lattice edges
    f230, t230 = _connect(lat.n, hv, f230, t230, spare_f, spare_t)
    fr = np.concatenate([f230, f500])
    to = np.concatenate([t230, t500])
    kv = np.concatenate([np.full(len(f230), 230.0), np.full(len(f500), 500.0)])
    return _line_table(lat, fr, to, kv, rng, base_mva)


def _drop_some(n, fr, to, keep):
    """Undo the drops next to buses left with fewer than two lines (no long radial chains)."""
    deg = np.bincount(fr[keep], minlength=n) + np.bincount(to[keep], minlength=n)
    weak = deg < 2
    return keep | weak[fr] | weak[to]


def _connect(n, mask, fr, to, spare_f, spare_t):
    """Add the fewest spare edges that join all buses in ``mask`` into one component."""
    adj = sp.coo_matrix((np.ones(len(fr)), (fr, to)), shape=(n, n))
    ncomp, lab = connected_components(adj, directed=False)
    members = np.unique(lab[mask])
    if len(members) <= 1:
        return fr, to
    a, b = lab[spare_f], lab[spare_t]
    cross = a != b
    a, b, idx = a[cross], b[cross], np.flatnonzero(cross)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * ncomp + hi
    ukey, first = np.unique(key, return_index=True)
    g = sp.coo_matrix((np.ones(len(ukey)), (ukey // ncomp, ukey % ncomp)), shape=(ncomp,) * 2)
    tree = minimum_spanning_tree(g.tocsr()).tocoo()
    tkey = np.minimum(tree.row, tree.col) * ncomp + np.maximum(tree.row, tree.col)
    chosen = idx[first[np.searchsorted(ukey, tkey)]]
    fr = np.concatenate([fr, spare_f[chosen]])
    to = np.concatenate([to, spare_t[chosen]])
    adj = sp.coo_matrix((np.ones(len(fr)), (fr, to)), shape=(n, n))
    _, lab = connected_components(adj, directed=False)
    if len(np.unique(lab[mask])) > 1:
        raise ValueError("synthetic_grid: could not connect the 230 kV network "
                         "(grid too small for its shape)")
    return fr, to


def _line_table(lat, fr, to, kv, rng, base_mva) -> dict:
    km = lat.length_km(fr, to)
    zb = kv**2 / base_mva  # base impedance, ohm
    spread = rng.uniform(0.9, 1.1, size=(3, len(fr)))
    d = {k: np.array([LINE_DATA[v][k] for v in (230.0, 500.0)]) for k in LINE_DATA[230.0]}
    lvl = (kv == 500.0).astype(int)
    return {
        "id": np.arange(1, len(fr) + 1), "from_bus": fr + 1, "to_bus": to + 1,
        "r_pu": d["r_ohm_km"][lvl] * km * spread[0] / zb,
        "x_pu": d["x_ohm_km"][lvl] * km * spread[1] / zb,
        "b_pu": d["b_us_km"][lvl] * 1e-6 * km * spread[2] * zb,
        "rate_mva": d["rate_mva"][lvl],
        "_kv": kv,
    }


# ---------------------------------------------------------------------------- loads, plants
def _loads(lat: _Lattice, rng, mean_load_mw) -> dict:
    draw = rng.random(lat.n)
    size = rng.lognormal(0.0, 0.5, lat.n) / math.exp(0.125)  # mean 1
    pf = rng.uniform(0.92, 0.98, lat.n)
    at = np.flatnonzero(lat.hv & (draw < LOAD_SHARE))
    p = np.round(mean_load_mw * size[at], 2)
    return {"id": np.arange(1, len(at) + 1), "bus": at + 1, "p_mw": p,
            "q_mvar": np.round(p * np.tan(np.arccos(pf[at])), 2)}


def _plants(lat: _Lattice, rng, loads, reserve, base_mva):
    """Generator units and all transformers (step-up and 500/230 kV autotransformers)."""
    gt = np.flatnonzero(lat.gt)
    r, c = lat.r[gt], lat.c[gt]
    hub = lat.at(r + 1, c + 1)
    hv_side = np.full(len(gt), -1)
    for dr, dc in ((0, 1), (1, 0), (-1, 0), (0, -1)):  # four fixed directions, not buses
        cand = lat.at(r + dr, c + dc)
        ok = (hv_side < 0) & (cand >= 0)
        ok[ok] = lat.hv[cand[ok]]
        hv_side[ok] = cand[ok]
    to_hub = (hub >= 0) & ((rng.random(len(gt)) < 0.35) | (hv_side < 0))
    # slack: the plant nearest the middle of the grid, on the 500 kV network when possible
    mid = np.hypot(r - lat.rows / 2, c - lat.cols / 2)
    slack = int(np.argmin(np.where(hub >= 0, mid, mid + 1e9)))
    to_hub[slack] = hub[slack] >= 0
    hv = np.where(to_hub, hub, hv_side)
    if np.any(hv < 0):
        raise ValueError("synthetic_grid: a generator terminal has no neighbour (grid too small)")
    cap = _plant_capacity(lat, rng, loads, gt, to_hub, slack, reserve)
    gens = _units(rng, gt, cap, slack, base_mva, loads)
    plant_mva = np.bincount(np.searchsorted(gt, gens["bus"] - 1), weights=gens["mbase_mva"],
                            minlength=len(gt))
    gsu = dict(fr=hv, to=gt, mva=plant_mva, x=rng.uniform(0.12, 0.15, len(gt)), r=0.003)
    hubs = np.flatnonzero(lat.hub)  # autotransformers to the 230 kV buses above and below
    af = np.concatenate([hubs, hubs])
    at = np.concatenate([lat.at(lat.r[hubs] - 1, lat.c[hubs]), lat.at(lat.r[hubs] + 1, lat.c[hubs])])
    ok = at >= 0
    af, at = af[ok], at[ok]
    auto = dict(fr=af, to=at, mva=np.full(len(af), 1500.0), x=rng.uniform(0.10, 0.13, len(af)),
                r=0.002)
    trafos = _transformer_table([gsu, auto], base_mva)
    return trafos, gens


def _plant_capacity(lat, rng, loads, gt, to_hub, slack, reserve):
    """Installed MW per plant: local (block) load times a random factor, scaled so that the
    fleet has ``reserve`` above the total load; 500 kV plants and the slack are bigger."""
    block = (lat.r // 3) * ((lat.cols + 2) // 3) + lat.c // 3
    block_load = np.bincount(block[loads["bus"] - 1], weights=loads["p_mw"],
                             minlength=block.max() + 1)
    local = block_load[block[gt]] + 0.2 * loads["p_mw"].mean()
    cap = local * rng.uniform(0.5, 1.5, len(gt)) * np.where(to_hub, 1.6, 1.0)
    cap[slack] *= 2.0
    return cap * (1.0 + reserve) * loads["p_mw"].sum() / cap.sum()


def _units(rng, gt, cap, slack, base_mva, loads) -> dict:
    """One or two units per plant; dispatch in proportion to capacity (see ``_dispatch``)."""
    two = rng.random(len(gt)) < 0.30
    plant = np.concatenate([np.arange(len(gt)), np.flatnonzero(two)])
    split = np.where(two, 0.6, 1.0)
    p_max = np.concatenate([cap * split, cap[two] * 0.4])
    order = np.argsort(plant, kind="stable")
    plant, p_max = plant[order], np.round(p_max[order], 1)
    mbase = np.round(p_max / 0.9, 1)
    vm_set = np.round(rng.uniform(1.00, 1.03, len(gt)), 3)[plant]
    alpha = loads["p_mw"].sum() * (1.0 + LOSS_ESTIMATE) / p_max.sum()
    return {
        "id": np.arange(1, len(plant) + 1), "bus": gt[plant] + 1,
        "p_mw": np.round(alpha * p_max, 2), "q_mvar": np.zeros(len(plant)),
        "vm_set_pu": vm_set, "q_max_mvar": np.round(0.5 * mbase, 1),
        "q_min_mvar": np.round(-0.3 * mbase, 1), "p_min_mw": np.round(0.2 * p_max, 1),
        "p_max_mw": p_max, "mbase_mva": mbase, "_slack_bus": gt[slack] + 1,
    }


def _transformer_table(groups, base_mva) -> dict:
    fr = np.concatenate([g["fr"] for g in groups])
    to = np.concatenate([g["to"] for g in groups])
    scale = np.concatenate([base_mva / g["mva"] for g in groups])  # own base -> system base
    x = np.concatenate([g["x"] for g in groups]) * scale
    r = np.concatenate([np.broadcast_to(g["r"], len(g["fr"])) for g in groups]) * scale
    return {"id": np.arange(1, len(fr) + 1), "from_bus": fr + 1, "to_bus": to + 1,
            "r_pu": r, "x_pu": x, "rate_mva": np.round(np.concatenate([g["mva"] for g in groups]))}


def _reactors(lat: _Lattice, lines, base_mva) -> dict:
    """Shunt reactors at 500 kV substations for ``REACTOR_SHARE`` of the line charging."""
    ehv = lines["_kv"] == 500.0
    half_b = np.concatenate([lines["b_pu"][ehv], lines["b_pu"][ehv]]) / 2.0
    ends = np.concatenate([lines["from_bus"][ehv], lines["to_bus"][ehv]]) - 1
    b = np.bincount(ends, weights=half_b, minlength=lat.n) * base_mva
    at = np.flatnonzero(b > 0)
    return {"id": np.arange(1, len(at) + 1), "bus": at + 1,
            "b_mvar": -np.round(REACTOR_SHARE * b[at], 1)}


def _balance_slack(case: Case) -> None:
    """Dispatch for the actual losses, in place.

    The losses are estimated as sum(r |I|^2) with the series currents of a *lossless* AC power
    flow (all r = 0, so generation equals load exactly and the slack keeps its planned share);
    the other units are then scaled together to cover load plus these losses.  This keeps the
    slack unit within a few tenths of a percent of the load of its planned output at any size,
    where a fixed loss percentage would leave it gigawatts off on a 100k-bus grid.
    """
    from casa_dyn.network.powerflow import PowerFlowOptions, solve_power_flow  # network sits above case
    from casa_dyn.network.ybus import branches

    gen, bus = case["generator"], case["bus"]
    at_slack = np.isin(gen["bus"], bus["id"][bus["type"] == SLACK])
    others = ~at_slack
    load_mw = case["load"]["p_mw"].sum()

    def scale_others(g, total_mw):
        g["p_mw"][others] = np.round(g["p_mw"][others] * (total_mw - g["p_mw"][at_slack].sum())
                                     / g["p_mw"][others].sum(), 2)

    lossless = case.copy()
    for t in ("line", "transformer"):
        lossless[t]["r_pu"][:] = 0.0
    scale_others(lossless["generator"], load_mw)
    res = solve_power_flow(lossless, PowerFlowOptions(flat_start=True, enforce_q_limits=False),
                           raise_on_failure=False)
    if not res.converged:
        return
    v = res.v_complex()
    br = branches(case)
    # series current seen from the to side: I = -(ytf Vf + (ytt - jb/2) Vt) ... simpler: the
    # series admittance carries ys (V_f / t - V_t) for both lines (t = 1) and transformers
    r = np.concatenate([case["line"]["r_pu"], case["transformer"]["r_pu"]])
    z = r + 1j * np.concatenate([case["line"]["x_pu"], case["transformer"]["x_pu"]])
    tap = np.concatenate([np.ones(case.n("line")), case["transformer"]["ratio_pu"]
                          * np.exp(1j * np.deg2rad(case["transformer"]["shift_deg"]))])
    i_series = (v[br.f] / tap - v[br.t]) / z
    scale_others(gen, load_mw + float(np.sum(r * np.abs(i_series) ** 2)) * case.base_mva)
