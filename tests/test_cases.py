"""The reference cases in ``cases/``: committed files match their sources, validate, and the
power flow reproduces the published solutions.

Sources of every reference value are named next to it.  The power-flow physics check (power
injected at the buses = branch losses) runs on every case.
"""
from __future__ import annotations

import importlib.util
import math
import pathlib

import numpy as np
import pytest

from casa_dyn.case.validate import check_case
from casa_dyn.io.h5case import read_case

CASES = pathlib.Path(__file__).resolve().parent.parent / "cases"
NAMES = ("wscc9", "kundur2area", "ieee39")


def _import(path: pathlib.Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_BUILD_ALL = _import(CASES / "src" / "build_all.py", "casa_dyn_cases_build_all")
_SOURCES = {n: _BUILD_ALL.load_source(n) for n in NAMES}


def source(name: str):
    return _SOURCES[name]


@pytest.fixture(scope="module")
def solve():
    """The power flow, solved once per (case, enforce_q_limits) for this module.

    The published solutions were all computed without reactive limits: WSCC and Kundur give
    none, and MATPOWER's stored case39 solution violates two (noted in case39.m), so the
    default here is ``enforce_q_limits=False``.
    """
    from casa_dyn.network.powerflow import PowerFlowOptions, solve_power_flow

    cache = {}

    def run(name, enforce_q_limits=False):
        key = (name, enforce_q_limits)
        if key not in cache:
            case = source(name).build()
            opts = PowerFlowOptions(enforce_q_limits=enforce_q_limits)
            cache[key] = (case, solve_power_flow(case, opts))
        return cache[key]

    return run


def row_of(case, table, element_id):
    return int(np.flatnonzero(case[table]["id"] == element_id)[0])


def branch_index(case, table, element_id):
    """Position of a branch in the result arrays: lines first, then transformers."""
    offset = 0 if table == "line" else case.n("line")
    return offset + row_of(case, table, element_id)


# --------------------------------------------------------------------------- (a) files = sources
@pytest.mark.parametrize("name", NAMES)
def test_committed_file_matches_source(name):
    # the committed file must be what `python cases/src/build_all.py` writes today
    committed = read_case(str(CASES / f"{name}.h5"))
    assert committed.content_hash() == source(name).build().content_hash()


@pytest.mark.parametrize("name", NAMES)
def test_build_all_lists_every_case(name):
    assert name in _BUILD_ALL.CASE_MODULES


# --------------------------------------------------------------------------- (b) validation
@pytest.mark.parametrize("name", NAMES)
def test_case_validates(name):
    case = source(name).build()
    assert check_case(case) == []
    assert case.name == name
    assert case.freq_hz == 60.0 and case.base_mva == 100.0
    assert case.source and case.citation


# counts from the sources: A&F Fig. 2.18; Kundur Fig. E12.8 (7-8 and 8-9 double circuit);
# MATPOWER case39.m (46 branches of which 12 have a tap ratio, 10 generators, 21 buses with load)
@pytest.mark.parametrize("name, counts", [
    ("wscc9", dict(bus=9, line=6, transformer=3, generator=3, load=3, shunt=0)),
    ("kundur2area", dict(bus=11, line=8, transformer=4, generator=4, load=2, shunt=2)),
    ("ieee39", dict(bus=39, line=34, transformer=12, generator=10, load=21, shunt=0)),
])
def test_element_counts(name, counts):
    case = source(name).build()
    assert {t: case.n(t) for t in counts} == counts


@pytest.mark.parametrize("name, slack_bus", [("wscc9", 1), ("kundur2area", 3), ("ieee39", 31)])
def test_one_slack_at_the_published_bus(name, slack_bus):
    bus = source(name).build()["bus"]
    assert bus["id"][bus["type"] == 3].tolist() == [slack_bus]


def test_kundur_line_data_per_km():
    # Kundur Ex. 12.6: r, xL, bC = 0.0001, 0.001, 0.00175 pu/km; a 110 km section is therefore
    # 0.011 + j0.11, B 0.1925 -- the same numbers PST's two-area file uses for its 110 km lines
    # (sandialabs/snl-pstess:data/d2asbeg.m).  Transformer j0.15 on 900 MVA = j0.016667 on 100.
    case = source("kundur2area").build()
    ln, tr = case["line"], case["transformer"]
    for lid in (7081, 7082, 8091, 8092):
        r = row_of(case, "line", lid)
        assert ln["r_pu"][r] == pytest.approx(0.011, rel=1e-12)
        assert ln["x_pu"][r] == pytest.approx(0.11, rel=1e-12)
        assert ln["b_pu"][r] == pytest.approx(0.1925, rel=1e-12)
    np.testing.assert_allclose(tr["x_pu"], 0.15 / 9.0, rtol=1e-12)


def test_wscc_dynamic_data_back_on_the_system_base():
    # REFERENCE.md 4.3 (A&F Table 2.1, 100 MVA base): x'd 0.0608/0.1198/0.1813, H 23.64/6.40/3.01
    mod = source("wscc9")
    mbase = dict(zip(mod.build()["generator"]["id"].tolist(),
                     mod.build()["generator"]["mbase_mva"].tolist()))
    rows = {r["gen"]: r for r in mod.DYNAMIC["gencls"]}
    for g, xdp, h in ((1, 0.0608, 23.64), (2, 0.1198, 6.40), (3, 0.1813, 3.01)):
        assert rows[g]["xdp_pu"] * 100.0 / mbase[g] == pytest.approx(xdp, rel=1e-12)
        assert rows[g]["h_s"] * mbase[g] / 100.0 == pytest.approx(h, rel=1e-12)


def test_kundur_saturation_conversion():
    # S(psi) = A_sat exp(B_sat (psi - psi_T1)) / psi with A 0.015, B 9.6, psi_T1 0.9 (Kundur
    # Ex. 12.6, REFERENCE.md 4.2): S(1.0) = 0.015 e^0.96, S(1.2) = 0.015 e^2.88 / 1.2
    row = source("kundur2area").DYNAMIC["genrou"][0]
    assert row["s10"] == pytest.approx(0.015 * math.exp(0.96), rel=1e-12)
    assert row["s12"] == pytest.approx(0.015 * math.exp(2.88) / 1.2, rel=1e-12)
    assert 0.0391 < row["s10"] < 0.0392 and 0.2226 < row["s12"] < 0.2228


@pytest.mark.parametrize("name", NAMES)
def test_dynamic_rows_reference_existing_generators(name):
    mod = source(name)
    gens = set(mod.build()["generator"]["id"].tolist())
    for model, rows in mod.DYNAMIC.items():
        assert sorted(r["gen"] for r in rows) == sorted(gens), model


# --------------------------------------------------------------------------- (c) power flow
def _p(res, k):
    return float(res.gen_p_mw[k]), float(res.gen_q_mvar[k])


def test_wscc9_power_flow(solve):
    # Anderson & Fouad Example 2.6 / REFERENCE.md 4.3 and table 6 #20: Pg1 = 71.64 MW,
    # Qg1/Qg2/Qg3 = 27.05 / 6.65 / -10.86 Mvar; tolerance 0.05 MW/Mvar
    case, res = solve("wscc9")
    assert res.converged
    published = {1: (71.64, 27.05), 2: (163.0, 6.65), 3: (85.0, -10.86)}
    for gid, (p_mw, q_mvar) in published.items():
        p, q = _p(res, row_of(case, "generator", gid))
        assert p == pytest.approx(p_mw, abs=0.05), f"G{gid} P"
        assert q == pytest.approx(q_mvar, abs=0.05), f"G{gid} Q"


def test_wscc9_internal_voltages(solve):
    # E' = V + j x'd I from the power flow and the classical-machine data: A&F / REFERENCE.md
    # table 6 #19: 1.0566/2.27, 1.0502/19.73, 1.0170/13.17 (pu, deg); tolerance 5e-4 pu, 0.02 deg.
    # Checks the machine-base conversion of DYNAMIC["gencls"] as well as the network.
    case, res = solve("wscc9")
    rows = {r["gen"]: r for r in source("wscc9").DYNAMIC["gencls"]}
    g = case["generator"]
    published = {1: (1.0566, 2.27), 2: (1.0502, 19.73), 3: (1.0170, 13.17)}
    for gid, (e_pu, e_deg) in published.items():
        k = row_of(case, "generator", gid)
        b = row_of(case, "bus", int(g["bus"][k]))
        v = res.vm_pu[b] * np.exp(1j * np.deg2rad(res.va_deg[b]))
        s_pu = (res.gen_p_mw[k] + 1j * res.gen_q_mvar[k]) / case.base_mva
        x_sys = rows[gid]["xdp_pu"] * case.base_mva / g["mbase_mva"][k]
        e = v + 1j * x_sys * np.conj(s_pu / v)
        assert abs(e) == pytest.approx(e_pu, abs=5e-4), f"G{gid} |E'|"
        assert np.rad2deg(np.angle(e)) == pytest.approx(e_deg, abs=0.02), f"G{gid} angle E'"


def test_kundur_power_flow(solve):
    # Kundur Ex. 12.6 load-flow results (REFERENCE.md 4.2 and table 6 #15): P + jQ (MW, Mvar),
    # |V| (pu), angle (deg); tolerances 2 MW / 2 Mvar and 0.2 deg, G3 is the slack at -6.8 deg
    case, res = solve("kundur2area")
    assert res.converged
    published = {1: (700.0, 185.0, 1.03, 20.2), 2: (700.0, 235.0, 1.01, 10.5),
                 3: (719.0, 176.0, 1.03, -6.8), 4: (700.0, 202.0, 1.01, -17.0)}
    for gid, (p_mw, q_mvar, vm, va) in published.items():
        k = row_of(case, "generator", gid)
        b = row_of(case, "bus", int(case["generator"]["bus"][k]))
        p, q = _p(res, k)
        assert p == pytest.approx(p_mw, abs=2.0), f"G{gid} P"
        assert q == pytest.approx(q_mvar, abs=2.0), f"G{gid} Q"
        assert res.vm_pu[b] == pytest.approx(vm, abs=1e-6), f"G{gid} V"
        assert res.va_deg[b] == pytest.approx(va, abs=0.2), f"G{gid} angle"


def test_kundur_tie_flow(solve):
    # "about 400 MW" from area 1 to area 2 (Kundur Ex. 12.6; Dynawo reproduces 400.4 MW,
    # REFERENCE.md 4.2): the two 7-8 circuits at bus 7 carry it; tolerance 2 MW
    case, res = solve("kundur2area")
    tie = sum(res.branch_p_from_mw[branch_index(case, "line", i)] for i in (7081, 7082))
    assert tie == pytest.approx(400.0, abs=2.0)


def test_ieee39_power_flow(solve):
    # MATPOWER case39.m's stored solution (MATPOWER/matpower data/case39.m @ 4b224ab9; solved
    # without Q-limit enforcement), transcribed in cases/src/ieee39.py PUBLISHED_SOLUTION.
    # Tolerances: |V| 1e-5 pu, angle 1e-4 deg, P/Q 1e-3 MW/Mvar (the file prints 6-8 digits).
    case, res = solve("ieee39")
    assert res.converged
    sol = source("ieee39").PUBLISHED_SOLUTION
    for bus_id, vm, va in sol["bus_vm_va"]:
        b = row_of(case, "bus", bus_id)
        assert res.vm_pu[b] == pytest.approx(vm, abs=1e-5), f"bus {bus_id} V"
        assert res.va_deg[b] == pytest.approx(va, abs=1e-4), f"bus {bus_id} angle"
    for gid, p_mw, q_mvar in sol["gen_p_q"]:
        p, q = _p(res, row_of(case, "generator", gid))
        assert p == pytest.approx(p_mw, abs=1e-3), f"G{gid} P"
        assert q == pytest.approx(q_mvar, abs=1e-3), f"G{gid} Q"


def test_ieee39_reactive_limits(solve):
    # MATPOWER's notes on case39.m: its stored solution has Qg = -1.37 Mvar at bus 37, below
    # Qmin = 0, and no other generator outside its Q range (bus 31, the slack, is not limited).
    # Enforcing the limits must therefore pin G37 at Qmin = 0 and leave the rest within range.
    case, res = solve("ieee39", enforce_q_limits=True)
    assert res.converged
    g = case["generator"]
    k37 = row_of(case, "generator", 37)
    assert res.gen_q_mvar[k37] == pytest.approx(0.0, abs=1e-6)
    assert res.bus_type[row_of(case, "bus", 37)] == 1  # held at its limit: now a PQ bus
    others = (g["id"] != 37) & (g["id"] != 31)
    tol = 1e-4
    assert np.all(res.gen_q_mvar[others] <= g["q_max_mvar"][others] + tol)
    assert np.all(res.gen_q_mvar[others] >= g["q_min_mvar"][others] - tol)


@pytest.mark.parametrize("name", NAMES)
def test_injections_equal_losses(solve, name):
    # physics: generation - load - shunt consumption = sum over branches of (P_from + P_to),
    # and the same for reactive power with the shunts' V^2 b; 1e-6 MW/Mvar
    case, res = solve(name)
    ld, sh = case["load"], case["shunt"]
    vm_sh = res.vm_pu[[row_of(case, "bus", b) for b in sh["bus"]]] if case.n("shunt") else 0.0
    p_in = res.gen_p_mw.sum() - ld["p_mw"].sum() - np.sum(sh["g_mw"] * vm_sh ** 2)
    q_in = res.gen_q_mvar.sum() - ld["q_mvar"].sum() + np.sum(sh["b_mvar"] * vm_sh ** 2)
    p_loss = np.sum(res.branch_p_from_mw + res.branch_p_to_mw)
    q_loss = np.sum(res.branch_q_from_mvar + res.branch_q_to_mvar)
    assert p_in == pytest.approx(p_loss, abs=1e-6)
    assert q_in == pytest.approx(q_loss, abs=1e-6)
    assert res.losses_mw == pytest.approx(p_loss, abs=1e-6)
    assert res.losses_mw > 0.0
