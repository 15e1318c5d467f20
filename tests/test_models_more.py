"""Exciters ESST3A, IEEEX1, EXDC2, ESDC1A, ESDC2A, governor GAST, stabilizers ST2CUT and PSS2A.

Checks per model: analytic local Jacobian against central finite differences (model_harness,
|err| <= 2e-6 + 1e-5 |FD|), also with the non-windup flags set and the windup clips / selects
active; an independent NumPy twin of each kernel's right-hand sides (1e-12); the initial point
is an equilibrium (|residual| < 1e-9) and a 20 s run without events stays flat (speed deviation
< 1e-6 pu, voltage change < 1e-5 pu, no limiter change) on Kundur's two-area case
(cases/kundur2area.h5) with the model swapped in; a step response against a steady state derived
by hand from the block diagram (exciters, GAST) or the linearised transfer function against the
PSS/E formula (stabilizers); limits hit and released as PSS/E documents (non-windup).

Controller data are test inputs (typical values, sources named next to them); per unit the
variants switch on the zero-time-constant, PSS/E data-rule and input-code paths.
"""
from __future__ import annotations

import numpy as np
import pytest

from casa_dyn.case.schema import get as schema_get
from casa_dyn.case.validate import check_case
from casa_dyn.errors import ModelInitError
from casa_dyn.models.exciter import esst3a as st3
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.solver.events import LoadChange, SetpointChange
from casa_dyn.solver.layout import build_system
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from model_harness import (check_equilibrium_and_flat_run, check_family_jacobian, eval_local, family_local,
                           perturbed_points)

import _avr_cases as C

# ---------------------------------------------------------------- test data
# DC exciters: the IEEET1 typical values of _avr_cases (OpenIPSL's PSS/E-verified defaults: KA 40,
# TA 0.04, VRMAX/VRMIN +-7.3, KE 1, TE 0.8, KF 0.03, TF 1, E1 2.4, SE1 0.03, E2 5, SE2 0.5,
# TR 0.02) with a lead-lag TC 0.5 / TB 1 s.  Unit 2: KE = 0 (PSS/E computes it), unit 3:
# VRMAX = 0 (PSS/E computes the limits), unit 4: TR = TA = TB = 0 (algebraic paths).
DC = dict(tr_s=0.02, ka=40.0, ta_s=0.04, tb_s=1.0, tc_s=0.5, vrmax_pu=7.3, vrmin_pu=-7.3, ke=1.0,
          te_s=0.8, kf=0.03, tf1_s=1.0, switch=0.0, e1_pu=2.4, se1=0.03, e2_pu=5.0, se2=0.5)
DC_UNITS = {2: {"ke": 0.0}, 3: {"vrmax_pu": 0.0}, 4: {"ta_s": 0.0, "tr_s": 0.0, "tb_s": 0.0, "tc_s": 0.0}}
DC_MODELS = ("ieeex1", "exdc2", "esdc1a", "esdc2a")
ET_LIMITS = {"ieeex1": False, "exdc2": True, "esdc1a": False, "esdc2a": True}
FLOOR = {"ieeex1": False, "exdc2": False, "esdc1a": True, "esdc2a": True}
# ESST3A: the typical ST3A data of IEEE Std 421.5 (KA 200, TA 0, TC 1, TB 10, VR +-10, KM 7.93,
# TM 0.4, VM 0..1, KG 1, VGMAX 5.8, KP 6.15, THETAP 0, KI 0, XL 0.081, KC 0.2, VBMAX 6.9, VI
# +-0.2).  Unit 2: compound source (KI 0.2, THETAP 20 deg) with TR, TA > 0; unit 3: no lead-lag;
# unit 4: TM = 0 (algebraic inner loop).
ESST3A = dict(tr_s=0.0, vimax_pu=0.2, vimin_pu=-0.2, km=7.93, tc_s=1.0, tb_s=10.0, ka=200.0, ta_s=0.0,
              vrmax_pu=10.0, vrmin_pu=-10.0, kg=1.0, kp=6.15, ki=0.0, vbmax_pu=6.9, kc=0.2, xl_pu=0.081,
              vgmax_pu=5.8, thetap_deg=0.0, tm_s=0.4, vmmax_pu=1.0, vmmin_pu=0.0)
ESST3A_UNITS = {2: {"tr_s": 0.02, "ta_s": 0.02, "thetap_deg": 20.0, "ki": 0.2}, 3: {"tb_s": 0.0, "tc_s": 0.0},
                4: {"tm_s": 0.0}}
# GAST: typical values (R 5 %, T1 0.4, T2 0.1, T3 3 s, AT 1, KT 2, VMAX 1.1, VMIN 0); unit 2:
# algebraic valve (T1 = 0), unit 3: DTURB 0.1, unit 4: T2 = T3 = 0.
GAST = dict(r_pu=0.05, t1_s=0.4, t2_s=0.1, t3_s=3.0, at_pu=1.0, kt=2.0, v_max_pu=1.1, v_min_pu=0.0,
            d_turb_pu=0.0)
GAST_UNITS = {2: {"t1_s": 0.0}, 3: {"d_turb_pu": 0.1}, 4: {"t2_s": 0.0, "t3_s": 0.0}}
# ST2CUT: Kundur's PSS time constants (speed gain 20, lead-lags 0.05/0.02 and 3/5.4 s, washout
# 10 s) plus a small electrical-power input; unit 2: one input (code 2 = 0), unit 3: accelerating
# power and terminal voltage, unit 4: no transducer lags, third lead-lag in use.
ST2CUT = dict(input_code_1=1, input_bus_1=0, input_code_2=3, input_bus_2=0, k1=20.0, k2=-0.5,
              t1_s=0.02, t2_s=0.02, t3_s=10.0, t4_s=10.0, t5_s=0.05, t6_s=0.02, t7_s=3.0, t8_s=5.4,
              t9_s=0.0, t10_s=0.0, lsmax_pu=0.1, lsmin_pu=-0.1, vcu_pu=0.0, vcl_pu=0.0)
ST2CUT_UNITS = {2: {"input_code_2": 0}, 3: {"input_code_1": 4, "input_code_2": 5, "k2": 1.0},
                4: {"t1_s": 0.0, "t2_s": 0.0, "t9_s": 0.1, "t10_s": 0.05}}
# PSS2A: the IEEE 421.5 typical values as OpenIPSL's PSS2A defaults (TW1..3 2 s here, TW4 0,
# T6 0, T7 2, KS2 = T7/(2H) with Kundur's H = 6.5 s, KS3 1, T8 0.5, T9 0.1, M 5, N 1, T1 = T3
# 0.15, T2 = T4 0.025, VST +-0.1) with KS1 = 5 (not 20) for Kundur's KA = 200 exciter.  Unit 2:
# M = N = 2, TW2 = 0 (bypass), T6 and TW4 > 0; unit 3: no ramp-tracking filter (N = 0),
# accelerating power; unit 4: M = N = 1 with T8 = T9 = 0, no lead-lags, terminal voltage.
PSS2A = dict(input_code_1=1, input_bus_1=0, input_code_2=3, input_bus_2=0, m=5, n=1, tw1_s=2.0,
             tw2_s=2.0, t6_s=0.0, tw3_s=2.0, tw4_s=0.0, t7_s=2.0, ks2=2.0 / 13.0, ks3=1.0, t8_s=0.5,
             t9_s=0.1, ks1=5.0, t1_s=0.15, t2_s=0.025, t3_s=0.15, t4_s=0.025, vstmax_pu=0.1,
             vstmin_pu=-0.1)
PSS2A_UNITS = {2: {"m": 2, "n": 2, "tw2_s": 0.0, "t6_s": 0.02, "tw4_s": 1.0},
               3: {"n": 0, "input_code_2": 4},
               4: {"m": 1, "n": 1, "t8_s": 0.0, "t9_s": 0.0, "t2_s": 0.0, "t4_s": 0.0, "input_code_2": 5}}

MODELS = DC_MODELS + ("esst3a", "gast", "st2cut", "pss2a")


def kundur_case(name: str):
    base = C.kundur()
    if name in DC_MODELS:
        return C.set_table(C.drop(base, "sexs"), name, C.rows(DC, DC_UNITS))
    if name == "esst3a":
        return C.set_table(C.drop(base, "sexs"), name, C.rows(ESST3A, ESST3A_UNITS))
    if name == "gast":
        return C.set_table(base, name, C.rows(GAST, GAST_UNITS))
    data, units = (ST2CUT, ST2CUT_UNITS) if name == "st2cut" else (PSS2A, PSS2A_UNITS)
    return C.set_table(C.drop(base, "ieeest"), name, C.rows(data, units))


@pytest.fixture(scope="module")
def systems():
    out = {}
    for name in MODELS:
        case = kundur_case(name)
        assert not check_case(case)
        out[name] = (case, build_system(case, solve_power_flow(case)))
    return out


# ---------------------------------------------------------------- DYR CON order
def test_dyr_con_order_is_psse():
    # PSS/E CON order (PSS/E Model Library) as transcribed by: ANDES psse-dyr.yaml (EXDC2) and
    # OpalRT's PSS/E library (IEEEX1, ESDC1A, ESDC2A: the same 16 CONs); ANDES's ESST3A data
    # (21 CONs); PowerSystems.jl GasTG "GAST in PSSE"; IEC 61970-302 Pss2ST = ST2CUT (K1, K2,
    # T1..T10, LSMAX, LSMIN, VCU, VCL); OpenIPSL's and PowerSystems.jl's PSS2A.
    dc = ["tr_s", "ka", "ta_s", "tb_s", "tc_s", "vrmax_pu", "vrmin_pu", "ke", "te_s", "kf", "tf1_s",
          "switch", "e1_pu", "se1", "e2_pu", "se2"]
    expected = {m: dc for m in DC_MODELS}
    expected["esst3a"] = ["tr_s", "vimax_pu", "vimin_pu", "km", "tc_s", "tb_s", "ka", "ta_s", "vrmax_pu",
                          "vrmin_pu", "kg", "kp", "ki", "vbmax_pu", "kc", "xl_pu", "vgmax_pu", "thetap_deg",
                          "tm_s", "vmmax_pu", "vmmin_pu"]
    expected["gast"] = ["r_pu", "t1_s", "t2_s", "t3_s", "at_pu", "kt", "v_max_pu", "v_min_pu", "d_turb_pu"]
    expected["st2cut"] = ["k1", "k2"] + [f"t{k}_s" for k in range(1, 11)] + ["lsmax_pu", "lsmin_pu",
                                                                             "vcu_pu", "vcl_pu"]
    expected["pss2a"] = ["tw1_s", "tw2_s", "t6_s", "tw3_s", "tw4_s", "t7_s", "ks2", "ks3", "t8_s", "t9_s",
                         "ks1", "t1_s", "t2_s", "t3_s", "t4_s", "vstmax_pu", "vstmin_pu"]
    for model, names in expected.items():
        cols = sorted((c.dyr, c.name) for c in schema_get(model).columns if c.dyr is not None)
        assert [d for d, _ in cols] == list(range(1, len(names) + 1)), model
        assert [n for _, n in cols] == names, model


# ---------------------------------------------------------------- NumPy twins
def _safe(t):
    return np.where(t > 0, t, 1.0)


def _div(a, t):
    """a / t where t > 0, else a (a zero time constant makes the row algebraic)."""
    return np.where(t > 0, a / _safe(t), a)


def _leadlag(u, x, t_lead, t_lag):
    return _div(u - x, t_lag), np.where(t_lag > 0, x + t_lead / _safe(t_lag) * (u - x), u)


def _nw(u, x, t, flag, lo, hi):
    frozen = np.where(t > 0, 0.0, np.where(flag > 0, hi, lo) - x)
    return np.where(flag == 0, _div(u - x, t), frozen)


def _sig(code, Z):
    """PSS/E input codes 0, 1, 3, 4, 5 from the unit variables."""
    return np.select([code == 1, code == 3, code == 4, code == 5],
                     [Z["omega"] - 1.0, Z["pe"], Z["pm"] - Z["pe"], np.hypot(Z["vr"], Z["vi"])], 0.0)


def twin_dc(name, Z, P, ds):
    et = np.hypot(Z["vr"], Z["vi"])
    vf = P["kf"] / P["tf1_s"] * (Z["ef"] - Z["xf"])
    r_ll, y = _leadlag(P["vref"] - Z["vm"] + Z["vs"] - vf, Z["xll"], P["tc_s"], P["tb_s"])
    s = et if ET_LIMITS[name] else 1.0
    lo, hi = s * P["vrmin_eff"], s * P["vrmax_eff"]
    r_vr = _nw(P["ka"] * y, Z["vrg"], P["ta_s"], ds[:, 0], lo, hi)
    vr_eff = np.where(ds[:, 0] == 0, Z["vrg"], np.where(ds[:, 0] > 0, hi, lo))
    a, b = P["sat_a"], P["sat_b"]
    vx = np.where(Z["ef"] > a, b * (Z["ef"] - a) ** 2, 0.0)
    r_ef = (vr_eff - P["ke_eff"] * Z["ef"] - vx) / P["te_s"]
    if FLOOR[name]:
        r_ef = np.where(ds[:, 1] != 0, 0.0, r_ef)
    return [_div(et - Z["vm"], P["tr_s"]), r_ll, r_vr, r_ef, (Z["ef"] - Z["xf"]) / P["tf1_s"],
            Z["ef"] - Z["efd"]]


def twin_esst3a(Z, P, ds):
    v = Z["vr"] + 1j * Z["vi"]
    vi = np.minimum(np.maximum(P["vref"] - Z["vm"] + Z["vs"], P["vimin_pu"]), P["vimax_pu"])
    r_ll, y = _leadlag(vi, Z["xll"], P["tc_s"], P["tb_s"])
    vg = np.minimum(P["kg"] * Z["efd"], P["vgmax_pu"])
    kp = P["kp"] * np.exp(1j * np.radians(P["thetap_deg"]))
    ve = np.abs(kp * v + 1j * (P["ki"] + kp * P["xl_pu"]) * np.conj((Z["pe"] + 1j * Z["qe"]) / v))
    i_n = P["kc"] * Z["xadifd"] / ve
    fex = np.select([i_n <= 0.433, i_n < 0.75, i_n <= 1.0],
                    [1.0 - 0.577 * i_n, np.sqrt(np.abs(0.75 - i_n ** 2)), 1.732 * (1.0 - i_n)], 0.0)
    vb = np.minimum(ve * fex, P["vbmax_pu"])
    return [_div(np.abs(v) - Z["vm"], P["tr_s"]), r_ll,
            _nw(P["ka"] * y, Z["vrg"], P["ta_s"], ds[:, 0], P["vrmin_pu"], P["vrmax_pu"]),
            _nw(P["km"] * (Z["vrg"] - vg), Z["vmm"], P["tm_s"], ds[:, 1], P["vmmin_pu"], P["vmmax_pu"]),
            vb * Z["vmm"] - Z["efd"]]


def twin_gast(Z, P, ds):
    dw = Z["omega"] - 1.0
    u = np.minimum(P["pref"] - dw / P["r_pu"], P["at_pu"] + P["kt"] * (P["at_pu"] - Z["x3"]))
    t1 = P["t1_s"]
    free = np.where(t1 > 0, (u - Z["x1"]) / _safe(t1), np.clip(u, P["v_min_pu"], P["v_max_pu"]) - Z["x1"])
    valve = np.where((ds[:, 0] != 0) & (t1 > 0), 0.0, free)
    return [valve, _div(Z["x1"] - Z["x2"], P["t2_s"]), _div(Z["x2"] - Z["x3"], P["t3_s"]),
            Z["x2"] - P["d_turb_pu"] * dw - Z["pm"]]


def twin_st2cut(Z, P, ds):
    s1, s2 = _sig(P["input_code_1"], Z), _sig(P["input_code_2"], Z)
    xin = Z["l1"] + Z["l2"]
    w = np.where(P["t3_s"] == 0, Z["xw"], P["t3_s"] / P["t4_s"] * (xin - Z["xw"]))
    r5, y1 = _leadlag(w, Z["x5"], P["t5_s"], P["t6_s"])
    r7, y2 = _leadlag(y1, Z["x7"], P["t7_s"], P["t8_s"])
    r9, y3 = _leadlag(y2, Z["x9"], P["t9_s"], P["t10_s"])
    vss = np.clip(y3, P["lsmin_pu"], P["lsmax_pu"])
    return [_div(P["k1"] * s1 - Z["l1"], P["t1_s"]), _div(P["k2"] * s2 - Z["l2"], P["t2_s"]),
            (xin - Z["xw"]) / P["t4_s"], r5, r7, r9, (1.0 - ds[:, 0]) * vss - Z["vs"]]


def twin_pss2a(Z, P, ds):
    n_units = len(Z["vs"])
    out = np.zeros((n_units, 17))
    s1, s2 = _sig(P["input_code_1"], Z), _sig(P["input_code_2"], Z)
    for u in range(n_units):
        p = {k: v[u] for k, v in P.items()}
        z = {k: v[u] for k, v in Z.items()}
        rows = []
        paths = ((s1[u], ("w1", "w2", "x6"), ("tw1_s", "tw2_s", "t6_s"), 1.0),
                 (s2[u], ("w3", "w4", "x7"), ("tw3_s", "tw4_s", "t7_s"), p["ks2"]))
        for s, (a, b, x), (twa, twb, tx), gain in paths:
            ya = s - z[a]
            yb = ya - z[b] if p[twb] > 0 else ya
            rows += [ya / p[twa], (ya - z[b]) / (p[twb] if p[twb] > 0 else 1.0),
                     (gain * yb - z[x]) / (p[tx] if p[tx] > 0 else 1.0)]
        m, n = int(p["m"]), int(p["n"])
        t8, t9 = p["t8_s"], p["t9_s"]
        sig = z["x6"] + p["ks3"] * z["x7"]
        rtf = []
        for i in range(8):
            r = z[f"r{i}"]
            if i >= m * n:
                rtf.append(-r)
                continue
            rtf.append((sig - r) / (t9 if t9 > 0 else 1.0))
            lead = (i % m == 0)
            sig = (r + t8 / t9 * (sig - r) if t9 > 0 else sig) if lead else r
        y = p["ks1"] * (sig - z["x7"])
        ll1 = z["x1"] + p["t1_s"] / p["t2_s"] * (y - z["x1"]) if p["t2_s"] > 0 else y
        ll2 = z["x3"] + p["t3_s"] / p["t4_s"] * (ll1 - z["x3"]) if p["t4_s"] > 0 else ll1
        rows += rtf
        rows += [(y - z["x1"]) / (p["t2_s"] if p["t2_s"] > 0 else 1.0),
                 (ll1 - z["x3"]) / (p["t4_s"] if p["t4_s"] > 0 else 1.0),
                 min(max(ll2, p["vstmin_pu"]), p["vstmax_pu"]) - z["vs"]]
        # kernel row order: w1 w2 x6 w3 w4 x7 r0..r7 x1 x3 vs
        out[u] = rows
    return out.T


def twin(name, Z, P, ds):
    if name in DC_MODELS:
        return twin_dc(name, Z, P, ds)
    twins = {"esst3a": twin_esst3a, "gast": twin_gast, "st2cut": twin_st2cut, "pss2a": twin_pss2a}
    return twins[name](Z, P, ds)


def _named(f, z):
    names = f.spec.params + f.spec.extra
    return ({c: z[f.col[:, j]] for j, c in enumerate(f.spec.cols)},
            {n: f.p[:, i] for i, n in enumerate(names)})


def _tighten(f):
    """Parameters that make every windup clip / select of the model active at the perturbed points."""
    p = f.p.copy()
    name = f.spec.name
    if name == "esst3a":
        p[:, f.pcol("vimax_pu")] = -10.0     # voltage error clipped
        p[:, f.pcol("vgmax_pu")] = 0.01      # inner-loop feedback VG clipped
        p[[0, 2], f.pcol("vbmax_pu")] = 0.1  # VB clipped on units 1, 3
    elif name == "gast":
        p[:, f.pcol("at_pu")] = 0.3          # temperature channel selected (lim ~ -0.66 < demand)
        p[:, f.pcol("v_min_pu")] = 0.0       # and unit 2's algebraic valve clipped at VMIN
    elif name == "st2cut":
        p[:, f.pcol("lsmax_pu")] = -1.0
    elif name == "pss2a":
        p[:, f.pcol("vstmax_pu")] = -1.0
    return p


def _fex_units(f, z0):
    """ESST3A: KC per unit so that IN = KC XadIfd / VE sits inside each FEX branch at z0 (0.2,
    0.6, 0.87, 1.5: the linear, circular, linear and zero pieces)."""
    p = f.p.copy()
    Z, P = _named(f, z0)
    ve = st3.source_voltage(f.p, Z["vr"] + 1j * Z["vi"], Z["pe"], Z["qe"])
    p[:, f.pcol("kc")] = np.array([0.2, 0.6, 0.87, 1.5]) * ve / Z["xadifd"]
    return p


# ---------------------------------------------------------------- Jacobians and twins
@pytest.mark.parametrize("name", MODELS)
def test_jacobian_matches_finite_differences(systems, name):
    check_family_jacobian(systems[name][1], name, seed=51)


@pytest.mark.parametrize("name", MODELS)
def test_jacobian_with_limits_active(systems, name):
    """Non-windup flags at +1 and -1 (frozen / tied to the limit, the efd floor, the valve) and
    every windup clip or low-value select active."""
    _, sysm = systems[name]
    f = sysm.family(name)
    saved_p, saved_ds = f.p.copy(), f.ds.copy()
    try:
        f.p[:] = _tighten(f)
        check_family_jacobian(sysm, name, seed=52)
        for flag in (1.0, -1.0):
            f.ds[:] = flag
            check_family_jacobian(sysm, name, seed=53)
    finally:
        f.p[:], f.ds[:] = saved_p, saved_ds


def test_esst3a_jacobian_on_every_rectifier_branch(systems):
    """FEX pieces (IEEE 421.5 Annex D) one per unit; small perturbations (1 %) keep each unit on
    its piece, so the finite differences do not straddle a kink."""
    _, sysm = systems["esst3a"]
    f = sysm.family("esst3a")
    saved = f.p.copy()
    try:
        f.p[:] = _fex_units(f, sysm.z0)
        check_family_jacobian(sysm, "esst3a", seed=54, scale=0.01)
    finally:
        f.p[:] = saved


@pytest.mark.parametrize("name", MODELS)
def test_numpy_twin_agrees_with_kernel(systems, name):
    _, sysm = systems[name]
    k, f = family_local(sysm, name)
    saved_p, saved_ds = f.p.copy(), f.ds.copy()
    try:
        for variant in range(4):
            if variant == 1:
                f.ds[:] = 1.0
            if variant == 2:
                f.p[:] = _tighten(f)
                f.ds[:] = -1.0
            if variant == 3 and name == "esst3a":
                f.p[:] = _fex_units(f, sysm.z0)
                f.ds[:] = 0.0
            for z in perturbed_points(sysm, seed=60 + variant, scale=0.05 if variant < 3 else 0.01):
                r, _ = eval_local(sysm, k, z, want_jac=False)
                Z, P = _named(f, z)
                expect = np.stack(twin(name, Z, P, f.ds), axis=1)
                np.testing.assert_allclose(r, expect, rtol=1e-12, atol=1e-12)
    finally:
        f.p[:], f.ds[:] = saved_p, saved_ds


# ---------------------------------------------------------------- equilibrium, flat runs
@pytest.mark.parametrize("name", MODELS)
def test_initial_point_is_equilibrium_and_flat_run(systems, name):
    check_equilibrium_and_flat_run(*systems[name])


def test_dc_data_rules_at_initialization(systems):
    """PSS/E's data rules (OpalRT's / OpenIPSL's transcription of the PSS/E manual), by hand from
    the saturation points (2.4, 0.03), (5.0, 0.5): unit 3 (VRMAX = 0) gets VRMAX = (SE(E2) + KE)
    E2 = (0.5 + 1) 5 = 7.5, VRMIN = -7.5; unit 2 (KE = 0) gets KE = VRMAX/(10 efd0) - SE(efd0),
    so VR0 = KE efd0 + efd0 SE(efd0) = VRMAX/10 = 0.73 (1e-12)."""
    _, sysm = systems["esdc1a"]
    f = sysm.family("esdc1a")
    assert f.p[2, f.pcol("vrmax_eff")] == pytest.approx(7.5, abs=1e-12)
    assert f.p[2, f.pcol("vrmin_eff")] == pytest.approx(-7.5, abs=1e-12)
    vr0 = sysm.z0[f.col[1, f.spec.cols.index("vrg")]]
    assert vr0 == pytest.approx(0.73, abs=1e-12)


def test_esst3a_source_voltage_is_the_compound_phasor_sum(systems):
    """Unit 2 (KI 0.2, THETAP 20 deg, XL 0.081): VM0 = efd0 / min(VE FEX(IN), VBMAX) with VE =
    |KP e^{j THETAP} V + j (KI + KP e^{j THETAP} XL) I| computed here from the initial terminal
    voltage and I = conj((pe + j qe)/V) (1e-12).  Against the power flow's terminal P (the
    machine's pe is the air-gap power: P + Ra |I|^2), VE differs by less than 0.1 %."""
    _, sysm = systems["esst3a"]
    f = sysm.family("esst3a")
    Z, P = _named(f, sysm.z0)
    v = Z["vr"] + 1j * Z["vi"]
    kp = P["kp"] * np.exp(1j * np.radians(P["thetap_deg"]))
    cur = np.conj((Z["pe"] + 1j * Z["qe"]) / v)
    ve = np.abs(kp * v + 1j * (P["ki"] + kp * P["xl_pu"]) * cur)
    i_n = P["kc"] * Z["xadifd"] / ve
    assert np.all(i_n < 0.433)  # first FEX piece at this operating point
    vb = np.minimum(ve * (1 - 0.577 * i_n), P["vbmax_pu"])
    np.testing.assert_allclose(Z["vmm"], Z["efd"] / vb, rtol=1e-12)
    assert abs(ve[1] - np.abs(kp[1] * v[1])) > 0.01  # the current term matters on unit 2
    case = sysm.case
    pf = solve_power_flow(case)
    rows = sysm.unit_gen_row[f.unit]
    s_term = (pf.gen_p_mw[rows] + 1j * pf.gen_q_mvar[rows]) / case["generator"]["mbase_mva"][rows]
    ve_pf = np.abs(kp * v + 1j * (P["ki"] + kp * P["xl_pu"]) * np.conj(s_term / v))
    np.testing.assert_allclose(ve_pf, ve, rtol=1e-3)


# ---------------------------------------------------------------- step responses (SMIB)
def _run(case, events, t_end, channels, sysm=None):
    r = simulate(case, events, SimOptions(t_end_s=t_end, channels=channels), system=sysm)
    assert r.status == "completed", r.message
    return r


@pytest.mark.parametrize("name", DC_MODELS)
def test_dc_exciter_steady_state_after_vref_step(name):
    """In steady state the rate feedback is zero and the lead-lag passes its input, so VR =
    KA (Vref - Vt) and the exciter balance VR = KE efd + B (efd - A)^2 must hold at the end of a
    +0.02 pu Vref step (tolerance 1e-3 pu on VR; KE = 1, A = 1.8686, B = 0.50492^2 by hand from
    the saturation points, as in test_models_exciter)."""
    case = C.smib({name: DC})
    sysm = build_system(case, solve_power_flow(case))
    f = sysm.family(name)
    vref0, a, b = (f.p[0, f.pcol(n)] for n in ("vref", "sat_a", "sat_b"))
    d_ref = 0.02
    r = _run(case, [SetpointChange(1, 1.0, "vref", d_ref)], 20.0, ("bus/1/vm_pu", "gen/1/efd_pu"), sysm)
    vt, efd = r.channel("bus/1/vm_pu")[-1], r.channel("gen/1/efd_pu")[-1]
    assert efd > a and efd > r.channel("gen/1/efd_pu")[0] + 0.05
    assert DC["ka"] * (vref0 + d_ref - vt) == pytest.approx(DC["ke"] * efd + b * (efd - a) ** 2, abs=1e-3)


def test_esst3a_steady_state_after_vref_step():
    """Potential source only (KI = XL = THETAP = KC = 0): VE = KP Vt, FEX = 1, VB = KP Vt.  In
    steady state VR = KA (Vref - Vt), VM = KM (VR - KG efd), efd = VB VM, hence
    efd (1 + KP Vt KM KG) = KP Vt KM KA (Vref - Vt)  (block diagram; both sides ~ 100 pu, tolerance
    0.05 %, i.e. 5e-6 pu on Vref - Vt) at the end of a +0.01 pu Vref step; efd rises (by
    ~ dVt / G = 0.01 / 0.245: more than 0.02 pu)."""
    data = dict(ESST3A, ki=0.0, xl_pu=0.0, kc=0.0, tb_s=0.0, tc_s=0.0, ta_s=0.02, vimax_pu=1.0,
                vimin_pu=-1.0)
    case = C.smib({"esst3a": data})
    sysm = build_system(case, solve_power_flow(case))
    f = sysm.family("esst3a")
    vref0 = f.p[0, f.pcol("vref")]
    d_ref = 0.01
    r = _run(case, [SetpointChange(1, 1.0, "vref", d_ref)], 20.0, ("bus/1/vm_pu", "gen/1/efd_pu"), sysm)
    vt, efd = r.channel("bus/1/vm_pu")[-1], r.channel("gen/1/efd_pu")[-1]
    kp_vt = data["kp"] * vt
    lhs = efd * (1 + kp_vt * data["km"] * data["kg"])
    rhs = kp_vt * data["km"] * data["ka"] * (vref0 + d_ref - vt)
    assert lhs == pytest.approx(rhs, rel=5e-4)
    assert efd > r.channel("gen/1/efd_pu")[0] + 0.02


def test_gast_droop_steady_state_and_dc_gain(systems):
    """GAST on G1 of the SMIB, Pref +0.05 pu at 1 s.  In steady state x1 = x2 = x3 = demand, so
    pm = pref0 + 0.05 - (1/R + DTURB) dw with the recorded speed (the 'infinite' machine drifts
    slowly; tolerance 1e-5 pu).  And the DC gain d pm / d omega of the kernel's Jacobian is
    -(1/R + DTURB) on every Kundur unit (R = 0.05, DTURB 0 or 0.1: -20 or -20.1; 1e-12)."""
    data = dict(GAST, d_turb_pu=0.1)
    case = C.smib({"gast": data})
    sysm = build_system(case, solve_power_flow(case))
    f = sysm.family("gast")
    pref0 = f.p[0, f.pcol("pref")]
    r = _run(case, [SetpointChange(1, 1.0, "pref", 0.05)], 30.0, ("gen/1/pm_mw", "gen/1/speed_pu"), sysm)
    pm = r.channel("gen/1/pm_mw")[-1] / 900.0
    dw = r.channel("gen/1/speed_pu")[-1] - 1.0
    assert pm == pytest.approx(pref0 + 0.05 - (1 / data["r_pu"] + data["d_turb_pu"]) * dw, abs=1e-5)
    # DC gain from the Jacobian: 0 = Jxx dx + Jxw dw, dpm = -(Jpx dx + Jpw dw)/Jpp
    _, ksys = systems["gast"]
    k, fk = family_local(ksys, "gast")
    _, jl = eval_local(ksys, k, ksys.z0)
    cols = fk.spec.cols
    ix, iw, ip = [cols.index(c) for c in ("x1", "x2", "x3")], cols.index("omega"), cols.index("pm")
    for u in range(fk.n):
        jxx, jxw = jl[u][np.ix_(range(3), ix)], jl[u][range(3), iw]
        dx = np.linalg.solve(jxx, -jxw)
        gain = -(jl[u][3, ix] @ dx + jl[u][3, iw]) / jl[u][3, ip]
        expect = -(1 / fk.p[u, fk.pcol("r_pu")] + fk.p[u, fk.pcol("d_turb_pu")])
        assert gain == pytest.approx(expect, rel=1e-12)


def _h(f, jl, u, col_name, s):
    """Linearised transfer function d vs / d (input column) of unit u at s (kernel Jacobian)."""
    ns = len(f.spec.states)
    diff = f.spec.diff_mask(f.p)[u].astype(float)
    c = f.spec.cols.index(col_name)
    vs = f.spec.cols.index("vs")
    jxx, jxc = jl[u, :ns, :ns], jl[u, :ns, c]
    x = np.linalg.solve(s * np.diag(diff) - jxx, jxc)
    return -(jl[u, ns, :ns] @ x + jl[u, ns, c]) / jl[u, ns, vs]


def _dsig(code, col_name, et_dir):
    """d(input signal)/d(column) for PSS/E codes (speed 1, power 3, accelerating power 4, Et 5)."""
    table = {1: {"omega": 1.0}, 3: {"pe": 1.0}, 4: {"pm": 1.0, "pe": -1.0},
             5: {"vr": et_dir[0], "vi": et_dir[1]}}
    return table.get(int(code), {}).get(col_name, 0.0)


def _lag(s, t):
    return 1.0 / (1.0 + s * t)


def _ll(s, tn, td):
    return (1.0 + s * tn) / (1.0 + s * td) if td > 0 else 1.0


@pytest.mark.parametrize("name", ("st2cut", "pss2a"))
def test_stabilizer_transfer_functions_are_the_pss_e_formulas(systems, name):
    """From the kernel's Jacobian at the operating point, H(s) = d vs / d(input column) at 0.1,
    0.6 and 2 Hz for every unit and input column, against (PSS/E block diagrams, 1e-9 relative)
      ST2CUT: [s1' K1/(1+sT1) + s2' K2/(1+sT2)] W(s) LL(T5,T6) LL(T7,T8) LL(T9,T10),
              W = sT3/(1+sT4) (1/(1+sT4) if T3 = 0);
      PSS2A:  KS1 LL(T1,T2) LL(T3,T4) [s1' P1 R + s2' P2 (KS3 R - 1)],
              P1 = sTW1/(1+sTW1) sTW2/(1+sTW2) 1/(1+sT6), P2 = sTW3/(1+sTW3) sTW4/(1+sTW4) KS2/(1+sT7)
              (TW2, TW4 = 0: factor 1), R = [(1+sT8)/(1+sT9)^M]^N (1 if M N = 0),
    where s1', s2' are the derivatives of the input signals with respect to the column."""
    _, sysm = systems[name]
    k, f = family_local(sysm, name)
    _, jl = eval_local(sysm, k, sysm.z0)
    Z, P = _named(f, sysm.z0)
    for u in range(f.n):
        p = {n: v[u] for n, v in P.items()}
        et = np.hypot(Z["vr"][u], Z["vi"][u])
        et_dir = (Z["vr"][u] / et, Z["vi"][u] / et)
        for col_name in ("omega", "pe", "pm", "vr"):
            d1 = _dsig(p["input_code_1"], col_name, et_dir)
            d2 = _dsig(p["input_code_2"], col_name, et_dir)
            for f_hz in (0.1, 0.6, 2.0):
                s = 2j * np.pi * f_hz
                if name == "st2cut":
                    w = s * p["t3_s"] * _lag(s, p["t4_s"]) if p["t3_s"] > 0 else _lag(s, p["t4_s"])
                    expect = ((d1 * p["k1"] * _lag(s, p["t1_s"]) + d2 * p["k2"] * _lag(s, p["t2_s"])) * w
                              * _ll(s, p["t5_s"], p["t6_s"]) * _ll(s, p["t7_s"], p["t8_s"])
                              * _ll(s, p["t9_s"], p["t10_s"]))
                else:
                    def wo(t):
                        return s * t * _lag(s, t) if t > 0 else 1.0
                    p1 = wo(p["tw1_s"]) * wo(p["tw2_s"]) * _lag(s, p["t6_s"])
                    p2 = wo(p["tw3_s"]) * wo(p["tw4_s"]) * p["ks2"] * _lag(s, p["t7_s"])
                    mn = int(p["m"]) * int(p["n"])
                    rtf = ((1 + s * p["t8_s"]) * _lag(s, p["t9_s"]) ** p["m"]) ** p["n"] if mn else 1.0
                    expect = (p["ks1"] * _ll(s, p["t1_s"], p["t2_s"]) * _ll(s, p["t3_s"], p["t4_s"])
                              * (d1 * p1 * rtf + d2 * p2 * (p["ks3"] * rtf - 1.0)))
                h = _h(f, jl, u, col_name, s)
                assert abs(h - expect) <= 1e-9 * max(abs(expect), 1e-12), (u, col_name, f_hz, h, expect)


# ---------------------------------------------------------------- limits
def _up_down(signal, delta, t_up=1.0, t_down=3.0):
    return [SetpointChange(1, t_up, signal, delta), SetpointChange(1, t_down, signal, -delta)]


@pytest.mark.parametrize("name", ("ieeex1", "exdc2"))
def test_dc_regulator_limit_non_windup(name):
    """VRMAX set 0.3 pu above VR0 (for EXDC2: VRMAX Et0 = VR0 + 0.3); Vref +0.1 at 1 s (KA u = 4
    pu) pins VR at its limit, so TE d efd/dt = VRMAX [Et] - KE efd - B (efd - A)^2 while pinned,
    checked on the recorded efd (and Et) by central differences on [1.5, 2.9] s (tolerance
    2e-3 pu/s).  Vref -0.2 at 3 s (0.1 below its start: KA y < 0) releases the limit at once: VR
    more than 0.5 pu below it by 3.05 s (TA = 0.04 s) and efd falling by 3.1 s."""
    case = C.smib({name: DC})
    sysm = build_system(case, solve_power_flow(case))
    f = sysm.family(name)
    vr0 = sysm.z0[f.col[0, f.spec.cols.index("vrg")]]
    et0 = 1.03
    scale = et0 if ET_LIMITS[name] else 1.0
    data = dict(DC, vrmax_pu=(vr0 + 0.3) / scale)
    case = C.smib({name: data})
    sysm = build_system(case, solve_power_flow(case))
    f = sysm.family(name)
    a, b = f.p[0, f.pcol("sat_a")], f.p[0, f.pcol("sat_b")]
    events = [SetpointChange(1, 1.0, "vref", 0.1), SetpointChange(1, 3.0, "vref", -0.2)]
    r = _run(case, events, 4.0, ("gen/1/efd_pu", "bus/1/vm_pu", f"var/{name}/1/vrg"), sysm)
    t, e, vt, vr = r.t_s, r.channel("gen/1/efd_pu"), r.channel("bus/1/vm_pu"), r.channel(f"var/{name}/1/vrg")
    m = (t > 1.5) & (t < 2.9)
    dedt = np.gradient(e[m], t[m])
    lim = data["vrmax_pu"] * (vt[m] if ET_LIMITS[name] else 1.0)
    expect = (lim - DC["ke"] * e[m] - b * np.maximum(e[m] - a, 0.0) ** 2) / DC["te_s"]
    assert np.abs(dedt - expect)[1:-1].max() < 2e-3
    assert C.at(t, vr, 3.05) < data["vrmax_pu"] * (C.at(t, vt, 3.05) if ET_LIMITS[name] else 1.0) - 0.5
    assert C.at(t, e, 3.1) < C.at(t, e, 3.0)
    assert r.counters["limiter_changes"] >= 2


def test_esdc1a_field_voltage_floor_non_windup():
    """G1 at 300 MW.  Vref -0.3 pu at 1 s (KA u ~ -6 to -12 pu) drives efd down at
    about (VR - KE efd)/TE ~ -10 pu/s.  ESDC1A stops efd at 0 (>= -1e-9) and holds it there
    until the reference returns at 2.5 s, then efd rises at once (above 0.1 pu by 3 s); IEEEX1,
    the same diagram without the floor, goes below -1 pu.  The floor flag is set and released
    (>= 2 limiter changes)."""
    events = _up_down("vref", -0.3, 1.0, 2.5)
    r = _run(C.smib({"esdc1a": DC}, p_mw=300.0), events, 4.0, ("gen/1/efd_pu",))
    t, e = r.t_s, r.channel("gen/1/efd_pu")
    assert e.min() >= -1e-9
    on = (t >= 1.5) & (t <= 2.5)
    assert np.abs(e[on]).max() < 1e-9
    assert C.at(t, e, 3.0) > 0.1
    assert r.counters["limiter_changes"] >= 2
    free = simulate(C.smib({"ieeex1": DC}, p_mw=300.0), events,
                    SimOptions(t_end_s=4.0, channels=("gen/1/efd_pu",)))
    assert free.channel("gen/1/efd_pu").min() < -1.0


def test_esst3a_inner_loop_limit_non_windup():
    """No lead-lag; VMMAX 0.02 above VM0; Vref +0.05 at 1 s (KA u = 10 pu: VR at VRMAX) pins VM at VMMAX, so
    efd = VB VMMAX = KP Et VMMAX (potential source, KC = 0; checked with the recorded Et, 1e-9) on
    [1.5, 3] s.  After Vref returns at 3 s, VM leaves the limit at once (Vt is now above its
    initial value, so VR < VG + VM/KM): below VMMAX - 0.01 by 3.1 s, where a windup lag wound up
    towards KM (VRMAX - VG) ~ 60 pu would still be far above its limit."""
    data = dict(ESST3A, ki=0.0, xl_pu=0.0, kc=0.0, ta_s=0.02, tb_s=0.0, tc_s=0.0, vimax_pu=1.0,
                vimin_pu=-1.0)
    sysm = build_system(C.smib({"esst3a": data}), solve_power_flow(C.smib({"esst3a": data})))
    f = sysm.family("esst3a")
    data["vmmax_pu"] = sysm.z0[f.col[0, f.spec.cols.index("vmm")]] + 0.02
    case = C.smib({"esst3a": data})
    r = _run(case, _up_down("vref", 0.05), 5.0, ("gen/1/efd_pu", "bus/1/vm_pu", "var/esst3a/1/vmm"))
    t, e, vt, vm = r.t_s, r.channel("gen/1/efd_pu"), r.channel("bus/1/vm_pu"), r.channel("var/esst3a/1/vmm")
    assert vm.max() <= data["vmmax_pu"] + 1e-9
    on = (t >= 1.5) & (t <= 3.0)
    np.testing.assert_allclose(vm[on], data["vmmax_pu"], atol=1e-9)
    np.testing.assert_allclose(e[on], data["kp"] * vt[on] * data["vmmax_pu"], atol=1e-9)
    assert C.at(t, vm, 3.1) < data["vmmax_pu"] - 0.01
    assert r.counters["limiter_changes"] >= 2


def test_gast_temperature_limit_takes_over_and_releases():
    """AT = pm0 + 0.1.  Pref +0.3 pu at 1 s asks for more than the temperature channel allows;
    the low-value select hands control to AT + KT (AT - x3), whose steady state is x3 = x1 = AT,
    so pm settles at AT (1e-4 pu at 40 s: the loop settles with T3/(1 + KT) = 1 s).  After Pref
    returns at 40 s the droop channel takes over again: pm back to pref0 - dw/R (1e-4)."""
    pm0 = 700.0 / 900.0
    data = dict(GAST, at_pu=pm0 + 0.1)
    case = C.smib({"gast": data})
    sysm = build_system(case, solve_power_flow(case))
    pref0 = sysm.family("gast").p[0, sysm.family("gast").pcol("pref")]
    r = _run(case, _up_down("pref", 0.3, 1.0, 40.0), 80.0, ("gen/1/pm_mw", "gen/1/speed_pu"), sysm)
    t, pm, w = r.t_s, r.channel("gen/1/pm_mw") / 900.0, r.channel("gen/1/speed_pu")
    assert C.at(t, pm, 39.9) == pytest.approx(data["at_pu"], abs=1e-4)
    assert pm[-1] == pytest.approx(pref0 - (w[-1] - 1.0) / data["r_pu"], abs=1e-4)


def test_gast_valve_limit_non_windup():
    """AT 2 (temperature channel idle), VMAX = pm0 + 0.1; Pref +0.3 at 1 s pins the valve x1 at
    VMAX (checked on [2, 3] s, 1e-9); when Pref returns at 3 s the valve leaves VMAX at once
    ((u - x1)/T1 ~ -0.25 pu/s: below VMAX - 0.02 by 3.15 s), where a windup lag wound up to
    pm0 + 0.3 would stay on VMAX for T1 ln 3 = 0.44 s."""
    pm0 = 700.0 / 900.0
    data = dict(GAST, at_pu=2.0, v_max_pu=pm0 + 0.1)
    r = _run(C.smib({"gast": data}), _up_down("pref", 0.3), 5.0, ("var/gast/1/x1",))
    t, x1 = r.t_s, r.channel("var/gast/1/x1")
    assert x1.max() <= data["v_max_pu"] + 1e-9
    on = (t >= 2.0) & (t <= 3.0)
    np.testing.assert_allclose(x1[on], data["v_max_pu"], atol=1e-9)
    assert C.at(t, x1, 3.15) < data["v_max_pu"] - 0.02
    assert r.counters["limiter_changes"] >= 2


def _kundur_vs(name, rows, t_end=6.0):
    case = C.set_table(C.drop(C.kundur(), "ieeest"), name, rows)
    r = _run(case, [LoadChange(7, 1.0, 1.05)], t_end, ("var/unit/*/vs",))
    return np.stack([r.channel(f"var/unit/{g}/vs") for g in (1, 2, 3, 4)], axis=1)


def test_st2cut_output_limits_and_cut_off():
    """LSMAX/LSMIN = +-0.01 on every unit; unit 1 cut off above VCU = Et0 - 0.01 and unit 2 below
    VCL = Et0 + 0.01 (both always true), load 7 +5 % at 1 s: vs1 = vs2 = 0 throughout,
    |vs3|, |vs4| <= 0.01 and reaching it (1e-7: vs is an algebraic variable, solved to the Newton
    tolerance)."""
    rows = C.rows(dict(ST2CUT, lsmax_pu=0.01, lsmin_pu=-0.01), ST2CUT_UNITS)
    rows[0]["vcu_pu"] = 1.03 - 0.01
    rows[1]["vcl_pu"] = 1.01 + 0.01
    vs = _kundur_vs("st2cut", rows)
    assert np.abs(vs[:, :2]).max() < 1e-12
    assert np.abs(vs[:, 2:]).max() <= 0.01 + 1e-7
    assert np.abs(vs[:, 2:]).max(axis=0).min() >= 0.01 - 1e-7


def test_pss2a_output_limits():
    """VSTMAX/VSTMIN = +-0.002 on every unit, load 7 +5 % at 1 s: |vs| <= 0.002 and every unit
    reaches the limit (1e-7, Newton tolerance); without the limits the same run peaks above
    0.003 pu on every unit."""
    lim = 0.002
    vs = _kundur_vs("pss2a", C.rows(dict(PSS2A, vstmax_pu=lim, vstmin_pu=-lim), PSS2A_UNITS))
    assert np.abs(vs).max() <= lim + 1e-7
    assert np.abs(vs).max(axis=0).min() >= lim - 1e-7
    free = _kundur_vs("pss2a", C.rows(dict(PSS2A, vstmax_pu=1.0, vstmin_pu=-1.0), PSS2A_UNITS))
    assert np.abs(free).max(axis=0).min() > 0.003


# ---------------------------------------------------------------- data that cannot run
@pytest.mark.parametrize("name, over, column, words", [
    ("st2cut", {"input_code_1": 2}, "input_code_1", "bus-frequency measurement"),
    ("st2cut", {"input_code_2": 6}, "input_code_2", "derivative of the bus voltage"),
    ("pss2a", {"input_code_2": 2}, "input_code_2", "bus-frequency measurement"),
    ("pss2a", {"input_code_1": 5, "input_bus_1": 7}, "input_bus_1", "remote bus 7"),
])
def test_unsupported_stabilizer_inputs_are_rejected(name, over, column, words):
    data, units = (ST2CUT, ST2CUT_UNITS) if name == "st2cut" else (PSS2A, PSS2A_UNITS)
    rows = C.rows(data, units)
    rows[0].update(over)
    case = C.set_table(C.drop(C.kundur(), "ieeest"), name, rows)
    problems = check_case(case)
    assert any(p.table == name and p.column == column and words in p.message for p in problems)
    with pytest.raises(ModelInitError, match=words):
        build_system(case, solve_power_flow(case))


def test_pss2a_improper_ramp_tracking_filter_is_rejected():
    rows = C.rows(PSS2A, PSS2A_UNITS)
    rows[0].update(t9_s=0.0)  # T8 = 0.5 over a zero lag: numerator of higher order
    rows[1].update(m=3, n=3)  # 9 stages > 8
    problems = check_case(C.set_table(C.drop(C.kundur(), "ieeest"), "pss2a", rows))
    assert any(p.column == "t8_s" and p.row == 0 for p in problems)
    assert any(p.column == "n" and p.row == 1 for p in problems)


@pytest.mark.parametrize("name, over, column", [
    ("esst3a", {"vmmax_pu": 0.1}, "vmmax_pu"),   # VM0 = efd0/VB0 ~ 0.33 > 0.1
    ("gast", {"at_pu": 0.5}, "at_pu"),           # the unit starts at 0.78 pu > AT
    ("esdc2a", {"vrmax_pu": 1.0, "vrmin_pu": -1.0}, "vrmax_pu"),  # VR0 ~ 2.06 > Et VRMAX
])
def test_unit_that_cannot_start_is_reported(name, over, column):
    case = kundur_case(name)
    for k, v in over.items():
        case.tables[name][k][:] = v
    with pytest.raises(ModelInitError, match=rf"{name}.*{column}"):
        build_system(case, solve_power_flow(case))
