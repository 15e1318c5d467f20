"""Synthetic transmission grids of any size, for scaling tests and benchmarks.

Layout.  ``n_bus`` buses sit on a jittered square lattice (spacing ``spacing_km``), row-major,
grouped into areas of ``AREA`` x ``AREA`` lattice places.  Every third place in both directions
is a generator terminal (18 or 22 kV); each area's centre is a 500 kV substation; all other
places are 230 kV substations.  Inside an area the 230 kV buses form a mesh of lines to lattice
neighbours (15 % dropped, never leaving a bus with fewer than two lines; 10 % of the diagonals
added).  Between areas only ``TIES_PER_BOUNDARY`` 230 kV line crosses each area boundary; the
500 kV substations form a backbone to the neighbouring areas (plus diagonal ties for a quarter
of them) and feed the 230 kV mesh through two autotransformers each.  Connectivity is restored
from the unused lattice edges if the random choices split the network.

Why areas: a uniform 2-D mesh has separators of about sqrt(n) buses, so sparse LU work grows
like n^1.5.  Measured with KLU (AMD) on the Newton Jacobian of the first, uniform version of
this generator: L alone held 7.0 M entries and KLU estimated 3.5 Gflop at 100k buses, against
0.44 M and 72 Mflop at 10k (49x the work for 10x the size; 2 s per factorization).  Real grids
are meshed regionally and joined by fewer ties; with this layout L + U hold 34 / 36 / 38
entries and KLU estimates 330 / 370 / 550 flop per bus at 1k / 10k / 100k buses
(``benchmarks/bench_powerflow.py`` prints these).

Generation.  Each generator terminal is a plant of one or (30 %) two units behind a step-up
transformer to a neighbouring 230 kV bus, or to the 500 kV substation for the plant next to it.
Plant capacity follows the load of its 3 x 3 block, each area is scaled to its load times
1 +- m (``_area_factor``), and the fleet to ``1 + reserve`` times the total load.  All units
run at the same share of capacity, set (``_balance_slack``) so that generation covers the load
and the losses estimated from a lossless AC power flow; the slack unit then stays within a few
percent of its planned output.  mbase = p_max / 0.9; Q limits +0.5 / -0.3 mbase.

Flat start.  The first Newton step from a flat start cannot see the losses (they are second
order in the angles), so it sends all of them to the slack.  Two choices keep that step small
at 100k buses: light loading (``mean_load_mw`` 10 MW per loaded bus, about 8.5 MW per bus, so
the losses are about 0.3 % of the load) and a slack plant sized to at least ``SLACK_SHARE`` of
the load, connected at 500 kV.

Electrical data are typical values: overhead lines per km (r, x_L, b_C) as in Kundur, "Power
System Stability and Control", 1994, table 6.1 (230 kV: 0.050 ohm, 0.488 ohm, 3.371 uS; 500 kV:
0.028 ohm, 0.325 ohm, 5.200 uS; the 230 kV row agrees with Kundur's Example 12.6 data of r 0.0001,
x 0.001, b 0.00175 pu/km on 100 MVA), each line varied by +-10 %; transformer reactances 10-15 %
on their own rating; shunt reactors absorb 90 % of the line charging that a bus's own load does
not; loads on 85 % of the 230 kV buses at power factor 0.92-0.98.  Deterministic for a seed.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from casa_dyn.case.case import Case
from casa_dyn.case.tables import PQ, PV, SLACK
from casa_dyn.network.powerflow import PowerFlowOptions, solve_power_flow
from casa_dyn.network.ybus import branches

#: per-km line data by voltage level: resistance, reactance (ohm/km), charging (uS/km), rating
LINE_DATA = {
    230.0: dict(r_ohm_km=0.050, x_ohm_km=0.488, b_us_km=3.371, rate_mva=400.0),
    500.0: dict(r_ohm_km=0.028, x_ohm_km=0.325, b_us_km=5.200, rate_mva=2000.0),
}
AREA = 15                    # area side, lattice places (odd: the centre is a 500 kV bus)
TIES_PER_BOUNDARY = 1        # 230 kV lines across each boundary between neighbouring areas
ROUTE_FACTOR = 1.15          # line length / straight distance
REACTOR_SHARE = 0.90         # share of surplus line charging absorbed by shunt reactors
LOAD_SHARE = 0.85            # share of 230 kV buses with a load
SLACK_SHARE = 0.004          # slack plant capacity at least this share of the total load


def synthetic_grid(n_bus: int, seed: int = 0, *, spacing_km: float = 20.0,
                   mean_load_mw: float = 10.0, reserve: float = 0.30, freq_hz: float = 60.0,
                   base_mva: float = 100.0, balance: bool = True) -> Case:
    """A connected, meshed synthetic grid with exactly ``n_bus`` buses and one slack unit.

    ``reserve`` is installed capacity above the load.  With ``balance`` (default) the dispatch
    covers the losses estimated from a lossless AC power flow, so the slack unit produces about
    its planned share; without it the other units cover the load alone.
    """
    if n_bus < 12:
        raise ValueError(f"synthetic_grid needs at least 12 buses, got {n_bus}")
    rng = np.random.default_rng(seed)
    lat = _Lattice(n_bus, spacing_km, rng)
    bus = _buses(lat)
    lines = _lines(lat, rng, base_mva)
    loads = _loads(lat, rng, mean_load_mw)
    trafos, gens = _plants(lat, rng, loads, reserve, base_mva)
    shunts = _reactors(lat, lines, loads, base_mva)
    bus["type"][gens.pop("_slack_bus") - 1] = SLACK
    lines.pop("_kv")
    tables = {"bus": bus, "line": lines, "transformer": trafos, "generator": gens,
              "load": loads, "shunt": shunts}
    case = Case.from_tables(f"synthetic{n_bus}_s{seed}", tables, base_mva=base_mva,
                            freq_hz=freq_hz, source="casa_dyn.network.synthetic.synthetic_grid",
                            citation=f"synthetic_grid(n_bus={n_bus}, seed={seed})")
    _scale_others(case, loads["p_mw"].sum())
    if balance:
        _balance_slack(case)
    return case


# ---------------------------------------------------------------------------- geometry
class _Lattice:
    """Positions, areas and roles of the buses (row-major on a ``rows x cols`` lattice)."""

    def __init__(self, n, spacing_km, rng):
        self.n = n
        self.cols = math.ceil(math.sqrt(n))
        self.rows = math.ceil(n / self.cols)
        p = np.arange(n)
        self.r, self.c = p // self.cols, p % self.cols
        jitter = rng.uniform(-0.3, 0.3, size=(n, 2))
        self.x_km = (self.c + jitter[:, 0]) * spacing_km
        self.y_km = (self.r + jitter[:, 1]) * spacing_km
        self.area = (self.r // AREA) * (-(-self.cols // AREA)) + self.c // AREA
        self.hub = (self.r % AREA == AREA // 2) & (self.c % AREA == AREA // 2)  # 500 kV
        self.gt = (self.r % 3 == 0) & (self.c % 3 == 0)                          # generator
        self.hv = ~(self.hub | self.gt)                                           # 230 kV

    def at(self, r, c):
        """Bus position at lattice (r, c), -1 where there is none."""
        r, c = np.asarray(r), np.asarray(c)
        p = r * self.cols + c
        ok = (r >= 0) & (c >= 0) & (c < self.cols) & (p < self.n)
        return np.where(ok, p, -1)

    def pairs(self, mask, dr, dc):
        """Pairs (p, p + (dr, dc)) with both ends in ``mask``."""
        a = np.flatnonzero(mask)
        b = self.at(self.r[a] + dr, self.c[a] + dc)
        a, b = a[b >= 0], b[b >= 0]
        keep = mask[b]
        return a[keep], b[keep]

    def length_km(self, a, b):
        return np.hypot(self.x_km[a] - self.x_km[b], self.y_km[a] - self.y_km[b]) * ROUTE_FACTOR


def _buses(lat: _Lattice) -> dict:
    kv = np.where(lat.hub, 500.0, np.where(lat.gt, np.where(lat.c % 2 == 0, 18.0, 22.0), 230.0))
    return {"id": np.arange(1, lat.n + 1), "base_kv": kv,
            "type": np.where(lat.gt, PV, PQ), "area": lat.area + 1}


# ---------------------------------------------------------------------------- lines
def _cat(pairs):
    return (np.concatenate([p[0] for p in pairs]).astype(np.int64),
            np.concatenate([p[1] for p in pairs]).astype(np.int64))


def _lines(lat: _Lattice, rng, base_mva) -> dict:
    hv = lat.hv
    sf, st = _cat([lat.pairs(hv, 0, 1), lat.pairs(hv, 1, 0)])
    df, dt = _cat([lat.pairs(hv, 1, 1), lat.pairs(hv, 1, -1)])
    inside = lat.area[sf] == lat.area[st]
    keep = np.where(inside, rng.random(len(sf)) >= 0.15, _ties(lat, sf, st, rng))
    keep = _protect_degree(lat.n, sf, st, keep, inside)
    add = (lat.area[df] == lat.area[dt]) & (rng.random(len(df)) < 0.10)
    f230, t230 = np.concatenate([sf[keep], df[add]]), np.concatenate([st[keep], dt[add]])
    f230, t230 = _connect(lat.n, hv, f230, t230,
                          np.concatenate([sf[~keep], df[~add]]),
                          np.concatenate([st[~keep], dt[~add]]))
    hub = lat.hub
    bf, bt = _cat([lat.pairs(hub, 0, AREA), lat.pairs(hub, AREA, 0)])
    xf, xt = lat.pairs(hub, AREA, AREA)
    pick = rng.random(len(xf)) < 0.25
    f500 = np.concatenate([bf, xf[pick]])
    t500 = np.concatenate([bt, xt[pick]])
    fr, to = np.concatenate([f230, f500]), np.concatenate([t230, t500])
    kv = np.concatenate([np.full(len(f230), 230.0), np.full(len(f500), 500.0)])
    return _line_table(lat, fr, to, kv, rng, base_mva)


def _ties(lat: _Lattice, sf, st, rng):
    """Keep ``TIES_PER_BOUNDARY`` randomly chosen lines across each boundary between areas."""
    a, b = lat.area[sf], lat.area[st]
    key = np.minimum(a, b) * (lat.area.max() + 1) + np.maximum(a, b)
    order = np.lexsort((rng.random(len(key)), key))
    ks = key[order]
    start = np.r_[0, np.flatnonzero(ks[1:] != ks[:-1]) + 1]
    rank = np.arange(len(ks)) - np.repeat(start, np.diff(np.r_[start, len(ks)]))
    keep = np.empty(len(key), dtype=bool)
    keep[order] = rank < TIES_PER_BOUNDARY
    return keep


def _protect_degree(n, fr, to, keep, droppable):
    """Undo the drops next to buses left with fewer than two lines (no long radial chains)."""
    deg = np.bincount(fr[keep], minlength=n) + np.bincount(to[keep], minlength=n)
    weak = deg < 2
    return keep | (droppable & (weak[fr] | weak[to]))


def _connect(n, mask, fr, to, spare_f, spare_t):
    """Add spare edges (a spanning tree of the components) so that ``mask`` is connected."""
    adj = sp.coo_matrix((np.ones(len(fr)), (fr, to)), shape=(n, n))
    ncomp, lab = connected_components(adj, directed=False)
    if len(np.unique(lab[mask])) <= 1:
        return fr, to
    a, b = lab[spare_f], lab[spare_t]
    idx = np.flatnonzero(a != b)
    key = np.minimum(a[idx], b[idx]) * ncomp + np.maximum(a[idx], b[idx])
    ukey, first = np.unique(key, return_index=True)
    g = sp.coo_matrix((np.ones(len(ukey)), (ukey // ncomp, ukey % ncomp)), shape=(ncomp,) * 2)
    tree = minimum_spanning_tree(g.tocsr()).tocoo()
    tkey = np.minimum(tree.row, tree.col) * ncomp + np.maximum(tree.row, tree.col)
    chosen = idx[first[np.searchsorted(ukey, tkey)]]
    fr = np.concatenate([fr, spare_f[chosen]])
    to = np.concatenate([to, spare_t[chosen]])
    _, lab = connected_components(sp.coo_matrix((np.ones(len(fr)), (fr, to)), shape=(n, n)),
                                  directed=False)
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
    hub = np.where((hub >= 0) & lat.hub[np.maximum(hub, 0)], hub, -1)
    hv = hub.copy()
    for dr, dc in ((0, 1), (1, 0), (-1, 0), (0, -1)):  # four directions, not a loop over buses
        cand = lat.at(r + dr, c + dc)
        ok = (hv < 0) & (cand >= 0)
        ok[ok] = lat.hv[cand[ok]]
        hv[ok] = cand[ok]
    if np.any(hv < 0):
        raise ValueError("synthetic_grid: a generator terminal has no neighbour (grid too small)")
    # slack: the 500 kV plant nearest the middle (any plant in grids without one)
    mid = np.hypot(r - lat.rows / 2, c - lat.cols / 2) + np.where(hub >= 0, 0.0, 1e9)
    slack = int(np.argmin(mid))
    cap = _plant_capacity(lat, rng, loads, gt, hub >= 0, slack, reserve)
    gens = _units(rng, gt, cap, slack)
    plant_mva = np.bincount(np.searchsorted(gt, gens["bus"] - 1), weights=gens["mbase_mva"],
                            minlength=len(gt))
    gsu = dict(fr=hv, to=gt, mva=plant_mva, x=rng.uniform(0.12, 0.15, len(gt)), r=0.003)
    hubs = np.flatnonzero(lat.hub)  # autotransformers to the 230 kV buses above and below
    af = np.concatenate([hubs, hubs])
    at = np.concatenate([lat.at(lat.r[hubs] - 1, lat.c[hubs]),
                         lat.at(lat.r[hubs] + 1, lat.c[hubs])])
    ok = at >= 0
    auto = dict(fr=af[ok], to=at[ok], mva=np.full(ok.sum(), 1500.0),
                x=rng.uniform(0.10, 0.13, ok.sum()), r=0.002)
    return _transformer_table([gsu, auto], base_mva), gens


def _plant_capacity(lat, rng, loads, gt, big, slack, reserve):
    """Installed MW per plant: the load of its 3 x 3 block times U(0.5, 1.5) (x1.6 for 500 kV
    plants), each area scaled to its load times ``_area_factor``, the slack plant x1.5, and
    the fleet to ``1 + reserve`` times the total load."""
    block = (lat.r // 3) * (-(-lat.cols // 3)) + lat.c // 3
    lb = loads["bus"] - 1
    block_load = np.bincount(block[lb], weights=loads["p_mw"], minlength=block.max() + 1)
    cap = (block_load[block[gt]] + 0.2 * loads["p_mw"].mean()) * rng.uniform(0.5, 1.5, len(gt))
    cap *= np.where(big, 1.6, 1.0)
    na = lat.area.max() + 1
    area_load = np.bincount(lat.area[lb], weights=loads["p_mw"], minlength=na)
    area_cap = np.bincount(lat.area[gt], weights=cap, minlength=na)
    target = np.where(area_load > 0, area_load, area_cap) * _area_factor(lat, rng, na)
    cap *= (target / np.where(area_cap > 0, area_cap, 1.0))[lat.area[gt]]
    # the slack unit is the largest plant: in the first Newton step from flat start it takes
    # all of the (yet unseen) losses, so its connection must carry them
    cap[slack] = max(1.5 * cap[slack], SLACK_SHARE * loads["p_mw"].sum())
    return cap * (1.0 + reserve) * loads["p_mw"].sum() / cap.sum()


def _area_factor(lat, rng, na):
    """Capacity / load per area: 1 +- m, with + and - alternating like a chessboard and one
    m ~ U(0, 0.2) per 2 x 2 group of areas.  Exports are balanced by neighbouring imports, so
    the angle spread stays bounded; independent random factors per area would not (in a 2-D
    network the angle variance from independent imbalances grows with the grid's width)."""
    per_row = -(-lat.cols // AREA)
    ar, ac = np.arange(na) // per_row, np.arange(na) % per_row
    group = (ar // 2) * (-(-per_row // 2)) + ac // 2
    m = rng.uniform(0.0, 0.2, group.max() + 1)[group]
    return 1.0 + np.where((ar + ac) % 2 == 0, m, -m)


def _units(rng, gt, cap, slack) -> dict:
    """One or two units per plant, all at the same share of capacity for now."""
    two = rng.random(len(gt)) < 0.30
    plant = np.concatenate([np.arange(len(gt)), np.flatnonzero(two)])
    p_max = np.concatenate([cap * np.where(two, 0.6, 1.0), cap[two] * 0.4])
    order = np.argsort(plant, kind="stable")
    plant, p_max = plant[order], np.round(p_max[order], 1)
    mbase = np.round(p_max / 0.9, 1)
    vm_set = np.round(rng.uniform(1.00, 1.03, len(gt)), 3)[plant]
    return {
        "id": np.arange(1, len(plant) + 1), "bus": gt[plant] + 1,
        "p_mw": np.round(p_max / 1.3, 2), "q_mvar": np.zeros(len(plant)),
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


def _reactors(lat: _Lattice, lines, loads, base_mva) -> dict:
    """Shunt reactors for ``REACTOR_SHARE`` of the line charging (half of each line's b at
    each end, at 1 pu) that the bus's own load does not absorb, where that exceeds 1 Mvar."""
    half_b = np.concatenate([lines["b_pu"], lines["b_pu"]]) / 2.0
    ends = np.concatenate([lines["from_bus"], lines["to_bus"]]) - 1
    surplus = (np.bincount(ends, weights=half_b, minlength=lat.n) * base_mva
               - np.bincount(loads["bus"] - 1, weights=loads["q_mvar"], minlength=lat.n))
    at = np.flatnonzero(surplus > 1.0)
    return {"id": np.arange(1, len(at) + 1), "bus": at + 1,
            "b_mvar": -np.round(REACTOR_SHARE * surplus[at], 1)}


def _slack_units(case: Case) -> np.ndarray:
    gen, bus = case["generator"], case["bus"]
    return np.isin(gen["bus"], bus["id"][bus["type"] == SLACK])


def _scale_others(case: Case, total_mw: float) -> None:
    """Scale every unit but the slack's, together, so that all units produce ``total_mw``."""
    gen, at_slack = case["generator"], _slack_units(case)
    others = ~at_slack
    gen["p_mw"][others] = np.round(gen["p_mw"][others] * (total_mw - gen["p_mw"][at_slack].sum())
                                   / gen["p_mw"][others].sum(), 2)


def _balance_slack(case: Case) -> None:
    """Dispatch for the actual losses, in place.

    The losses are estimated as sum(r |I|^2) with the series currents of a *lossless* AC power
    flow (all r = 0, so generation equals load exactly and the slack keeps its planned share);
    the other units are then scaled together to cover load plus these losses.  This keeps the
    slack unit near its planned output at any size, where a fixed loss percentage would not
    (an error of 0.1 % of the 0.75 TW load of the 100k-bus grid is 750 MW).  If the lossless
    power flow fails, the dispatch is left as it is.
    """
    load_mw = case["load"]["p_mw"].sum()
    lossless = case.copy()
    for t in ("line", "transformer"):
        lossless[t]["r_pu"][:] = 0.0
    res = solve_power_flow(lossless, PowerFlowOptions(flat_start=True, enforce_q_limits=False),
                           raise_on_failure=False)
    if not res.converged:
        return
    v = res.v_complex()
    br = branches(case)
    # the series impedance carries (V_f / t - V_t) / z for lines (t = 1) and transformers
    ln, tr = case["line"], case["transformer"]
    r = np.concatenate([ln["r_pu"], tr["r_pu"]])
    z = r + 1j * np.concatenate([ln["x_pu"], tr["x_pu"]])
    tap = np.concatenate([np.ones(case.n("line")),
                          tr["ratio_pu"] * np.exp(1j * np.deg2rad(tr["shift_deg"]))])
    i_series = np.where(br.on, (v[br.f] / tap - v[br.t]) / z, 0.0)
    _scale_others(case, load_mw + float(np.sum(r * np.abs(i_series) ** 2)) * case.base_mva)
