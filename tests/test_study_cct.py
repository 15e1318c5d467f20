"""Critical clearing time: WSCC 9-bus, classical machines, fault at bus 7 cleared by opening
line 5-7 (Anderson & Fouad Example 2.7's disturbance).

Checked three ways: (1) an independent twin written here (Kron-reduced internal-node model
integrated with SciPy's DOP853 at rtol 1e-10, same swing equation and same 180-deg COI
criterion) gives the same CCT within 2 ms (1 ms grid + the engine's trapezoidal error at
8.33 ms steps); the twin's reduced admittance matrices reproduce Anderson & Fouad Table 2.3
(pre-fault and faulted, to 1e-3 pu); (2) the trajectories on either side of the bracket, run
to the end without the stop criterion, stay together / pull apart; (3) the search is
reproducible: other starting guesses and another run give the same CCT to the tolerance.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.integrate import solve_ivp

from casa_dyn.cli import cli
from casa_dyn.io import read_case
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from casa_dyn.study.cct import FOUND, STABLE_AT_MAX, UNSTABLE_AT_MIN, fault_events, find_cct

WSCC = str(pathlib.Path(__file__).resolve().parents[1] / "cases" / "wscc9.h5")
TRIP = ("line", 5071)
OPTS = SimOptions(t_end_s=4.0)


@pytest.fixture(scope="module")
def case():
    return read_case(WSCC)


@pytest.fixture(scope="module")
def engine_cct(case):
    return find_cct(case, 7, TRIP, tol_s=1e-3, max_clearing_s=0.5, options=OPTS)


# ------------------------------------------------------------------ the independent twin
def _twin(case):
    """Internal-node classical model: (E magnitudes, initial angles, H on 100 MVA, Pm, Y pre,
    Y fault, Y post), from the case data and the power-flow solution only."""
    pf = solve_power_flow(case)
    bus = case["bus"]["id"].tolist()
    pos = {b: k for k, b in enumerate(bus)}
    n, base = len(bus), case.base_mva
    v = pf.vm_pu * np.exp(1j * np.radians(pf.va_deg))

    def ybus(drop=None):
        y = np.zeros((n, n), complex)
        for tab in ("line", "transformer"):
            t = case[tab]
            for k in range(len(t["id"])):
                if t["id"][k] == drop:
                    continue
                i, j = pos[t["from_bus"][k]], pos[t["to_bus"][k]]
                ys, b = 1 / complex(t["r_pu"][k], t["x_pu"][k]), t["b_pu"][k]
                y[i, i] += ys + 0.5j * b
                y[j, j] += ys + 0.5j * b
                y[i, j] -= ys
                y[j, i] -= ys
        ld = case["load"]
        for k in range(len(ld["id"])):  # constant-impedance loads at their power-flow voltage
            i = pos[ld["bus"][k]]
            y[i, i] += complex(ld["p_mw"][k], -ld["q_mvar"][k]) / base / abs(v[i]) ** 2
        return y

    g, cl = case["generator"], case["gencls"]
    gb = [pos[b] for b in g["bus"]]
    xd = cl["xdp_pu"] * base / g["mbase_mva"]
    h = cl["h_s"] * g["mbase_mva"] / base
    s = (pf.gen_p_mw + 1j * pf.gen_q_mvar) / base
    e = v[gb] + 1j * xd * np.conj(s / v[gb])

    def reduced(y, fault=None):
        m = len(gb)
        a = np.zeros((n + m, n + m), complex)
        a[:n, :n] = y
        for k, i in enumerate(gb):
            yk = 1 / (1j * xd[k])
            a[n + k, n + k] += yk
            a[i, i] += yk
            a[i, n + k] -= yk
            a[n + k, i] -= yk
        if fault is not None:
            a[pos[fault], pos[fault]] += 1 / 1e-5j  # the engine's bolted-fault reactance
        return a[n:, n:] - a[n:, :n] @ np.linalg.solve(a[:n, :n], a[:n, n:])

    ypre = reduced(ybus())
    pm = np.real(e * np.conj(ypre @ e))
    return np.abs(e), np.angle(e), h, pm, ypre, reduced(ybus(), 7), reduced(ybus(5071))


def _twin_stable(tw, clearing_s, t_on=1.0, t_end=4.0, freq=60.0):
    emag, d0, h, pm, _, yf, ypost = tw
    wb = 2 * np.pi * freq

    def rhs(t, x, y):
        d, w = x[:3], x[3:]
        ec = emag * np.exp(1j * d)
        pe = np.real(ec * np.conj(y @ ec))
        return np.concatenate([wb * (w - 1), (pm / w - pe) / (2 * h)])  # PSS/E torque form, D = 0

    x = np.concatenate([d0, np.ones(3)])
    for a, b, y in ((t_on, t_on + clearing_s, yf), (t_on + clearing_s, t_end, ypost)):
        sol = solve_ivp(rhs, (a, b), x, args=(y,), method="DOP853", rtol=1e-10, atol=1e-10, max_step=0.01)
        d = sol.y[:3]
        coi = (h[:, None] * d).sum(0) / h.sum()
        if np.max(np.abs(d - coi)) > np.pi:
            return False
        x = sol.y[:, -1]
    return True


def test_twin_reproduces_anderson_fouad_reduced_matrices(case):
    _, _, _, _, ypre, yf, _ = _twin(case)
    # Anderson & Fouad, Power System Control and Stability, 2nd ed., Table 2.3 (Example 2.6)
    pre = np.array([[0.846 - 2.988j, 0.287 + 1.513j, 0.210 + 1.226j],
                    [0.287 + 1.513j, 0.420 - 2.724j, 0.213 + 1.088j],
                    [0.210 + 1.226j, 0.213 + 1.088j, 0.277 - 2.368j]])
    fault = np.array([[0.657 - 3.816j, 0.0, 0.070 + 0.631j],
                      [0.0, 0.000 - 5.486j, 0.0],
                      [0.070 + 0.631j, 0.0, 0.174 - 2.796j]])
    assert np.max(np.abs(ypre - pre)) < 1e-3
    assert np.max(np.abs(yf - fault)) < 1e-3


def test_cct_agrees_with_the_independent_twin(case, engine_cct):
    assert engine_cct.status == FOUND
    assert engine_cct.unstable_s - engine_cct.stable_s == pytest.approx(1e-3)
    tw = _twin(case)
    lo, hi = engine_cct.stable_s - 0.01, engine_cct.unstable_s + 0.01
    assert _twin_stable(tw, lo) and not _twin_stable(tw, hi)
    while hi - lo > 2e-4:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _twin_stable(tw, mid) else (lo, mid)
    assert abs(engine_cct.cct_s - lo) <= 2e-3, (engine_cct.cct_s, lo)


def test_trajectories_show_the_bracket(case, engine_cct):
    """Run both sides to the end with the stop criterion off: below the CCT the machines swing
    back together; above it generator 2 slips a pole (its angle keeps growing past 360 deg)."""
    free = SimOptions(t_end_s=4.0, loss_of_sync_deg=0.0)
    w = np.array([2364.0, 640.0, 301.0])  # H * S_base (A&F H on 100 MVA x 100)

    def worst_dev(clearing_s):
        res = simulate(case, fault_events(7, clearing_s, 1.0, TRIP), free)
        d = np.column_stack([res.channel(f"gen/{g}/delta_deg") for g in (1, 2, 3)])
        coi = d @ w / w.sum()
        return res.status, np.abs(d - coi[:, None]).max(axis=0), d[-1] - coi[-1]

    status, dev, _ = worst_dev(engine_cct.stable_s)
    assert status == "completed" and dev.max() < 180.0
    status, dev, last = worst_dev(engine_cct.unstable_s)
    assert status == "completed" and dev[1] > 360.0 and last[1] > 360.0


def test_search_is_reproducible_to_the_tolerance(case, engine_cct):
    for guess in (0.05, 0.4):
        r = find_cct(case, 7, TRIP, tol_s=1e-3, max_clearing_s=0.5, first_guess_s=guess, options=OPTS)
        assert abs(r.cct_s - engine_cct.cct_s) <= 1e-3 and r.status == FOUND
    again = find_cct(case, 7, TRIP, tol_s=1e-3, max_clearing_s=0.5, options=OPTS)
    assert again.cct_s == engine_cct.cct_s and again.runs == engine_cct.runs


def test_brackets_that_do_not_close(case):
    # 5 ms upper limit: stable everywhere tried
    r = find_cct(case, 7, TRIP, tol_s=1e-3, max_clearing_s=0.005, options=OPTS)
    assert r.status == STABLE_AT_MAX and r.cct_s is None and r.stable_s == pytest.approx(0.005)
    # at 1.5 x load and dispatch the system does not survive losing line 5-7 at all
    heavy = case.copy()
    heavy["generator"]["p_mw"] = heavy["generator"]["p_mw"] * 1.5
    heavy["load"]["p_mw"] = heavy["load"]["p_mw"] * 1.5
    r = find_cct(heavy, 7, TRIP, tol_s=5e-3, max_clearing_s=0.2, options=OPTS)
    assert r.status == UNSTABLE_AT_MIN and r.cct_s is None and "unstable even" in r.message
    assert [x[0] for x in r.runs][-1] == pytest.approx(0.005)  # went down to one grid step


def test_cct_command(case, engine_cct):
    r = CliRunner().invoke(cli, ["cct", WSCC, "--fault-bus", "7", "--trip-branch", "5071", "--tol-ms", "1",
                                 "--max-clearing-ms", "500", "--t-end", "4", "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    assert got["status"] == "found" and got["cct_s"] == engine_cct.cct_s
    bad = CliRunner().invoke(cli, ["cct", WSCC, "--fault-bus", "77", "--trip-branch", "5071"])
    assert bad.exit_code == 1 and "bus 77 does not exist" in bad.output
    bad = CliRunner().invoke(cli, ["cct", WSCC, "--fault-bus", "7", "--trip-branch", "switch:5071"])
    assert bad.exit_code == 1 and "expected ID or transformer:ID" in bad.output
