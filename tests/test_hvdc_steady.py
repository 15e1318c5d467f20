"""HVDC steady state: DC tables, QSS converter equations, DC power flow, AC/DC power flow.

Reference values and their sources are named next to each assertion.  "REF 6.x" means row x
of the table in REFERENCE.md section 6 (own calculation there from the CIGRE benchmark data
of Szechtman et al., Electra 135, 1991); "REF 2.1" the equations of REFERENCE.md 2.1
(Kimbark 1971; Kundur 1994 sec. 10.2).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from casa_dyn.case.case import Case
from casa_dyn.case import schema as S
from casa_dyn.network.dc import qss as Q
from casa_dyn.network.dc import tables as T

# --- CIGRE benchmark data (REFERENCE.md 4.1) -----------------------------------------------
EV_R, S_R, EV_I, S_I, UK = 213.4469, 603.73, 209.2288, 591.79, 0.18
XC_R = UK * EV_R ** 2 / S_R
XC_I = UK * EV_I ** 2 / S_I
A15 = math.radians(15.0)


# =========================================================================== QSS equations
def test_vd0_factor_ref_row1():
    # REF 6.1: 3 sqrt2 / pi = 1.350474 per bridge, rel 1e-9
    assert Q.K_VD0 == pytest.approx(1.350474, rel=1e-6)
    assert Q.vd0_kv(100.0, 1) == pytest.approx(100.0 * 3 * math.sqrt(2) / math.pi, rel=1e-9)


def test_cigre_rectifier_and_inverter_ref_rows_2_to_5_and_7():
    eac_r, _, _ = Q.eac_kv(1.0, 345.0, EV_R / 345.0, 1.0)
    eac_i, _, _ = Q.eac_kv(1.0, 230.0, EV_I / 230.0, 1.0)
    vd0_r, vd0_i = Q.vd0_kv(eac_r, 2), Q.vd0_kv(eac_i, 2)
    # REF 4.1: Vd0 per bridge 288.25 / 282.56 kV, Xc 13.58 / 13.32 ohm (rounded to 0.01)
    assert vd0_r / 2 == pytest.approx(288.25, abs=0.01)
    assert vd0_i / 2 == pytest.approx(282.56, abs=0.01)
    assert XC_R == pytest.approx(13.58, abs=0.01) and XC_I == pytest.approx(13.32, abs=0.01)
    vdr = Q.vd_kv(vd0_r, A15, 2.0, 2, XC_R, 0.0, 1)[0]
    vdi = Q.vd_kv(vd0_i, A15, 2.0, 2, XC_I, 0.0, -1)[0]
    assert vdr == pytest.approx(504.98, abs=0.5)      # REF 6.2, +-0.5 kV
    assert vdi == pytest.approx(495.00, abs=0.5)      # REF 6.3, +-0.5 kV
    assert vdr - vdi == pytest.approx(10.0, abs=0.05)  # REF 4.1: 2 kA x 5 ohm
    assert vdr * 2.0 == pytest.approx(1009.96, abs=1.0)  # REF 6.4, +-1 MW
    assert vdi * 2.0 == pytest.approx(990.0, abs=1.0)    # REF 6.4
    for eac, xc in ((eac_r, XC_R), (eac_i, XC_I)):
        mu = Q.overlap_rad(A15, 2.0, xc, eac)[0]
        assert math.degrees(mu) == pytest.approx(23.19, abs=0.1)  # REF 6.5, +-0.1 deg
        assert Q.dx_pu(eac, 2.0, xc) == pytest.approx(0.090, abs=1e-3)  # REF 6.7, 1e-3


def test_transformer_ratio_and_tap_convention():
    # PSS/E: valve-side voltage = V * EBAS * TR / TAP (tables.py docstring sources)
    eac, d_v, d_tap = Q.eac_kv(1.02, 345.0, 0.6, 1.05)
    assert eac == pytest.approx(1.02 * 345.0 * 0.6 / 1.05, rel=1e-12)
    assert d_v == pytest.approx(eac / 1.02, rel=1e-12) and d_tap == pytest.approx(-eac / 1.05)


def test_overlap_satisfies_the_current_equation():
    # REF 2.1: Id = Eac / (sqrt2 Xc) [cos a - cos(a + mu)], to round-off
    for a_deg, i_ka in ((15, 2.0), (40, 0.5), (5, 3.0), (80, 1.0)):
        a = math.radians(a_deg)
        mu = Q.overlap_rad(a, i_ka, 13.0, 210.0)[0]
        back = 210.0 / (math.sqrt(2) * 13.0) * (math.cos(a) - math.cos(a + mu))
        assert back == pytest.approx(i_ka, rel=1e-12)


def test_power_factor_formulas():
    a = A15
    mu = Q.overlap_rad(a, 2.0, XC_R, EV_R)[0]
    # approximation: (cos a + cos(a+mu))/2 equals cos a - dx (REF 2.1) to round-off
    c = Q.cos_phi_approx(a, mu)[0]
    assert c == pytest.approx(math.cos(a) - Q.dx_pu(EV_R, 2.0, XC_R), rel=1e-12)
    # Kimbark's formula in the textbook form (REF 2.1) vs the cancellation-free form in qss
    num = 2 * mu + math.sin(2 * a) - math.sin(2 * (a + mu))
    den = math.cos(2 * a) - math.cos(2 * (a + mu))
    assert Q.phi_kimbark(a, mu)[0] == pytest.approx(math.atan2(num, den), rel=1e-12)
    # limit mu -> 0: phi -> a (from the series of the textbook form), continuous at 1e-3
    assert Q.phi_kimbark(0.4, 0.0)[0] == pytest.approx(0.4, abs=1e-15)
    lo = Q.phi_kimbark(0.4, 1e-3 - 1e-12)[0]
    hi = Q.phi_kimbark(0.4, 1e-3 + 1e-12)[0]
    assert lo == pytest.approx(hi, abs=1e-11)  # d(phi)/d(mu) ~ 0.5 times the 2e-12 step
    # the two differ by about 3 % in Q at mu ~ 23 deg (REF 2.1): 2.5 to 3.5 %
    _, q_exact, *_ = Q.pq_ac(EV_R, a, 2.0, 2, XC_R, 1)
    _, q_appr, *_ = Q.pq_ac(EV_R, a, 2.0, 2, XC_R, 0)
    assert 0.025 < (q_appr - q_exact) / q_exact < 0.035
    # REF 2.1 quick check Q ~ 0.53-0.56 P at alpha = gamma = 15 deg, uk = 0.18
    p = Q.p_ac_mw(EV_R, a, 2.0, 2, XC_R)[0]
    assert 0.53 <= q_exact / p <= 0.56 and 0.53 <= q_appr / p <= 0.56


def test_ac_power_balances():
    # P = Vd Id + 2 n Rc Id^2 at a rectifier, Vd Id - 2 n Rc Id^2 at an inverter (losses in
    # Rc are taken from the AC side at both ends); rel 1e-12
    eac, n, xc, rc, i = 205.0, 2, 13.0, 0.4, 1.7
    vd0 = Q.vd0_kv(eac, n)
    p = Q.p_ac_mw(eac, 0.3, i, n, xc)[0]
    assert p == pytest.approx(Q.vd_kv(vd0, 0.3, i, n, xc, rc, 1)[0] * i + 2 * n * rc * i * i,
                              rel=1e-12)
    assert p == pytest.approx(Q.vd_kv(vd0, 0.3, i, n, xc, rc, -1)[0] * i - 2 * n * rc * i * i,
                              rel=1e-12)
    # approximation: P = sqrt3 V I1 cos(phi) with I1 = n sqrt6/pi Id ratio/tap (REF 2.1)
    v_kv, ratio, tap = 1.03 * 230.0, 0.9, 1.0125
    eac = Q.eac_kv(1.03, 230.0, ratio, tap)[0]
    mu = Q.overlap_rad(0.3, i, xc, eac)[0]
    i1 = Q.i_ac_ka(i, n, ratio, tap)
    p = Q.p_ac_mw(eac, 0.3, i, n, xc)[0]
    assert math.sqrt(3) * v_kv * i1 * Q.cos_phi_approx(0.3, mu)[0] == pytest.approx(p, rel=1e-12)


def test_angle_for_vd_inverts_vd():
    for sign in (1, -1):
        vd = Q.vd_kv(560.0, 0.35, 1.3, 2, 12.0, 0.3, sign)[0]
        assert Q.angle_for_vd(vd, 560.0, 1.3, 2, 12.0, 0.3, sign) == pytest.approx(
            math.cos(0.35), rel=1e-13)


def _fd(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("exact", [1, 0])
def test_pq_derivatives_against_finite_differences(exact):
    # central differences, h = 1e-6 relative; tolerance rel 1e-6
    rng = np.random.default_rng(7)
    for _ in range(6):
        e, a, i = rng.uniform(150, 250), rng.uniform(0.05, 1.3), rng.uniform(0.2, 3.0)
        n, xc = 2, rng.uniform(5, 20)
        out = Q.pq_ac(e, a, i, n, xc, exact)
        for k, (x, f) in enumerate([
                (e, lambda v: np.array(Q.pq_ac(v, a, i, n, xc, exact)[:2])),
                (a, lambda v: np.array(Q.pq_ac(e, v, i, n, xc, exact)[:2])),
                (i, lambda v: np.array(Q.pq_ac(e, a, v, n, xc, exact)[:2]))]):
            num = _fd(f, x, 1e-6 * max(abs(x), 1.0))
            assert out[2 + k] == pytest.approx(num[0], rel=1e-6, abs=1e-6)
            assert out[5 + k] == pytest.approx(num[1], rel=1e-6, abs=1e-6)


def test_other_derivatives_against_finite_differences():
    # rel 1e-7 on smooth functions
    a, i, xc, e = 0.4, 1.5, 14.0, 200.0
    mu, d_a, d_i, d_e = Q.overlap_rad(a, i, xc, e)
    assert d_a == pytest.approx(_fd(lambda v: Q.overlap_rad(v, i, xc, e)[0], a, 1e-6), rel=1e-7)
    assert d_i == pytest.approx(_fd(lambda v: Q.overlap_rad(a, v, xc, e)[0], i, 1e-6), rel=1e-7)
    assert d_e == pytest.approx(_fd(lambda v: Q.overlap_rad(a, i, xc, v)[0], e, 1e-4), rel=1e-7)
    for m in (mu, 5e-4, 0.0):
        _, pa, pm = Q.phi_kimbark(a, m)
        assert pa == pytest.approx(_fd(lambda v: Q.phi_kimbark(v, m)[0], a, 1e-6), rel=1e-6)
        if m > 0:
            assert pm == pytest.approx(_fd(lambda v: Q.phi_kimbark(a, v)[0], m, 1e-7), rel=1e-5)
    _, vd_d0, vd_da, vd_di = Q.vd_kv(500.0, a, i, 2, xc, 0.3, 1)
    assert vd_da == pytest.approx(_fd(lambda v: Q.vd_kv(500.0, v, i, 2, xc, 0.3, 1)[0], a, 1e-6),
                                  rel=1e-7)
    assert vd_di == pytest.approx(_fd(lambda v: Q.vd_kv(500.0, a, v, 2, xc, 0.3, 1)[0], i, 1e-6),
                                  rel=1e-7)
    assert vd_d0 == pytest.approx(math.cos(a))


def test_qss_functions_take_arrays():
    e = np.array([200.0, 210.0, 220.0])
    p, q, *_ = Q.pq_ac(e, np.full(3, A15), np.array([2.0, 1.0, 0.0]), 2, 13.0, 1)
    assert p.shape == (3,) and p[2] == 0.0 and q[2] == 0.0 and np.all(q[:2] > 0)


# =========================================================================== tables
def _converter_row(**kw):
    row = dict(id=1, bus=1, dc_node_p=1, dc_node_n=2, pole=1, kind=T.RECTIFIER,
               mode=T.MODE_CURRENT, i_set_ka=2.0, i_rated_ka=2.0, xc_ohm=13.0, ebas_kv=345.0)
    row.update(kw)
    return {k: [v] for k, v in row.items()}


def _row_problems(table, cols):
    t = S.get(table)
    from casa_dyn.case.case import normalize_table

    norm = normalize_table(t, cols)
    return [(r, c, m) for check in t.checks for r, c, m in check(norm)]


def test_dc_tables_registered_with_units_and_pssE_defaults():
    names = S.tables()
    for t in ("dc_node", "dc_branch", "lcc_converter", "lcc_control"):
        assert names[t].since_version == 3
    conv = names["lcc_converter"]
    # PSS/E RAW defaults (REF 6.12): TMX 1.5, TMN 0.51, STP 0.00625
    assert conv.column("tap_max_pu").default == 1.5
    assert conv.column("tap_min_pu").default == 0.51
    assert conv.column("tap_step_pu").default == 0.00625
    assert names["lcc_control"].family == "hvdc"


@pytest.mark.parametrize("change,column", [
    (dict(dc_node_n=1), "dc_node_n"),
    (dict(pole=0), "pole"),
    (dict(angle_min_deg=20.0, angle_max_deg=10.0), "angle_min_deg"),
    (dict(tap_min_pu=1.2, tap_max_pu=1.1, tap_pu=1.15), "tap_min_pu"),
    (dict(tap_pu=1.6), "tap_pu"),
    (dict(mode=T.MODE_VOLTAGE, v_set_kv=500.0), "mode"),
    (dict(i_set_ka=0.0), "i_set_ka"),
    (dict(i_margin_pu=1.0), "i_margin_pu"),
])
def test_converter_row_checks(change, column):
    probs = _row_problems("lcc_converter", _converter_row(**change))
    assert [c for _, c, _ in probs] == [column]
    assert _row_problems("lcc_converter", _converter_row()) == []


def test_branch_and_node_row_checks():
    assert [c for _, c, _ in _row_problems(
        "dc_branch", dict(id=[1, 2], from_node=[1, 1], to_node=[1, 2], r_ohm=[1.0, 0.0]))] == \
        ["to_node", "r_ohm"]
    assert [c for _, c, _ in _row_problems(
        "dc_node", dict(id=[1], base_kv=[500.0], grounded=[0], r_ground_ohm=[2.0]))] == \
        ["r_ground_ohm"]


def test_control_row_checks():
    probs = _row_problems("lcc_control", dict(id=[1], conv=[1], alpha_min_deg=[30.0],
                                              alpha_max_deg=[20.0], v_block_pu=[0.9]))
    assert sorted(c for _, c, _ in probs) == ["alpha_min_deg", "v_block_pu"]


# =========================================================================== AC/DC power flow
import copy  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402

from casa_dyn.case.validate import check_case  # noqa: E402
from casa_dyn.errors import PowerFlowError  # noqa: E402
from casa_dyn.io.h5case import read_case  # noqa: E402
from casa_dyn.network.dc.coupling import DcCoupling  # noqa: E402
from casa_dyn.network.powerflow import PowerFlowOptions, solve_power_flow  # noqa: E402
from casa_dyn.network.ybus import positions  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from hvdc_cases import bipole, three_terminal  # noqa: E402

CASES = pathlib.Path(__file__).resolve().parent.parent / "cases"
FLAT = PowerFlowOptions(flat_start=True)


def _cigre_source():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cigre_src", CASES / "src" / "cigre_hvdc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cigre_pf():
    case = read_case(str(CASES / "cigre_hvdc.h5"))
    return case, solve_power_flow(case, FLAT)


def test_cigre_file_matches_its_source():
    assert read_case(str(CASES / "cigre_hvdc.h5")).content_hash() == \
        _cigre_source().build().content_hash()


def test_cigre_steady_state_ref_rows_2_to_5_and_7(cigre_pf):
    case, pf = cigre_pf
    d = pf.dc
    assert pf.converged and list(d.control) == ["current", "voltage (constant gamma, tap)"]
    r, i = 0, 1
    assert d.vd_kv[r] == pytest.approx(504.98, abs=0.5)      # REF 6.2
    assert d.vd_kv[i] == pytest.approx(495.00, abs=0.5)      # REF 6.3
    assert d.id_ka[r] == pytest.approx(2.0, abs=1e-9) and d.id_ka[i] == pytest.approx(2.0, abs=1e-9)
    assert d.alpha_deg[r] == pytest.approx(15.0, abs=0.1)    # REF 4.1 operating angles
    assert d.gamma_deg[i] == pytest.approx(15.0, abs=0.1)
    assert d.mu_deg[r] == pytest.approx(23.19, abs=0.1)      # REF 6.5
    assert d.mu_deg[i] == pytest.approx(23.19, abs=0.1)
    assert d.p_ac_mw[r] == pytest.approx(1009.96, abs=1.0)   # REF 6.4 (Rc = 0: P_ac = P_dc)
    assert -d.p_ac_mw[i] == pytest.approx(990.0, abs=1.0)
    for k in (r, i):                                         # REF 6.7
        assert Q.dx_pu(d.eac_kv[k], d.id_ka[k], case["lcc_converter"]["xc_ohm"][k]) == \
            pytest.approx(0.090, abs=1e-3)
    # filters sized to the rated Q: the converter buses stay at 1 pu (design, 1e-4)
    assert pf.vm_pu[[1, 2]] == pytest.approx([1.0, 1.0], abs=1e-4)
    # DC network: Vdr - Vdi = 2 kA x 5 ohm, mid-point at 500 kV, neutrals at 0 (1e-9 kV)
    assert d.vd_kv[r] - d.vd_kv[i] == pytest.approx(10.0, abs=1e-9)
    assert d.v_node_kv == pytest.approx([d.vd_kv[r], d.vd_kv[r] - 5.0, d.vd_kv[i], 0, 0],
                                        abs=1e-9)


def test_cigre_q_is_kimbarks_formula(cigre_pf):
    # Q = P tan(phi), phi from Kimbark's textbook form (REF 2.1) at the solved alpha/gamma
    # and mu, rel 1e-9; the approximation (cos a + cos(a+mu))/2 would give 2.5-3.5 % more
    _, pf = cigre_pf
    d = pf.dc
    for k, ang in ((0, d.alpha_deg[0]), (1, d.gamma_deg[1])):
        a, mu = math.radians(ang), math.radians(d.mu_deg[k])
        tan_phi = (2 * mu + math.sin(2 * a) - math.sin(2 * (a + mu))) / (
            math.cos(2 * a) - math.cos(2 * (a + mu)))
        assert d.q_ac_mvar[k] == pytest.approx(abs(d.p_ac_mw[k]) * tan_phi, rel=1e-9)
        q_appr = abs(d.p_ac_mw[k]) * math.tan(math.acos((math.cos(a) + math.cos(a + mu)) / 2))
        assert 0.025 < q_appr / d.q_ac_mvar[k] - 1 < 0.035


def test_cigre_ac_balance_includes_the_converters(cigre_pf):
    # generation = converter P + Thevenin line losses, per AC island (1e-6 MW)
    case, pf = cigre_pf
    d = pf.dc
    loss = pf.branch_p_from_mw + pf.branch_p_to_mw
    assert pf.gen_p_mw[0] == pytest.approx(d.p_ac_mw[0] + loss[0], abs=1e-6)
    assert pf.gen_p_mw[1] == pytest.approx(d.p_ac_mw[1] + loss[1], abs=1e-6)
    # reactive: generator Q = line Q loss + converter Q - filter Q at the solved voltage
    sh = case["shunt"]["b_mvar"]
    for g, k, b in ((0, 0, 1), (1, 1, 2)):
        qloss = pf.branch_q_from_mvar[g] + pf.branch_q_to_mvar[g]
        assert pf.gen_q_mvar[g] == pytest.approx(
            qloss + d.q_ac_mvar[k] - sh[k] * pf.vm_pu[b] ** 2, abs=1e-6)


def test_pf_dict_has_the_dc_part(cigre_pf):
    case, pf = cigre_pf
    out = pf.to_dict(case)
    conv = out["dc"]["converters"]
    assert [c["id"] for c in conv] == [1, 2] and conv[0]["gamma_deg"] is None
    assert conv[1]["gamma_deg"] == pytest.approx(pf.dc.gamma_deg[1])
    assert [n["id"] for n in out["dc"]["nodes"]] == [1, 2, 3, 4, 5]
    import json

    json.dumps(out)  # plain JSON


def test_injection_derivatives_against_finite_differences():
    # the converter self-sensitivities dP/dV, dQ/dV used in the Jacobian: central
    # differences, rel 1e-5 (the coupling's own one-sided differences use h = 1e-7)
    case = bipole()
    pos = lambda ids: positions(case, ids)  # noqa: E731
    cpl = DcCoupling(case, pos, case.n("bus"), case.base_mva)
    vm = np.array([1.02, 0.97, 1.0, 1.03])
    _, _, dp, dq = cpl.injection(vm, np.zeros(4))
    for b in (1, 3):
        h = 1e-5
        up, dn = vm.copy(), vm.copy()
        up[b] += h
        dn[b] -= h
        pu, qu = cpl.injection(up, None)[:2]
        pd, qd = cpl.injection(dn, None)[:2]
        assert dp[b] == pytest.approx((pu[b] - pd[b]) / (2 * h), rel=1e-5, abs=1e-7)
        assert dq[b] == pytest.approx((qu[b] - qd[b]) / (2 * h), rel=1e-5)
    assert dq[1] != 0.0


def test_bipole_poles_are_symmetric_and_the_ground_carries_nothing():
    pf = solve_power_flow(bipole(), FLAT)
    d = pf.dc
    assert d.id_ka == pytest.approx([1.3] * 4, abs=1e-12)
    assert d.vd_kv[[2, 3]] == pytest.approx([500.0, 500.0], abs=1e-9)  # VST holds 500 kV
    assert d.vd_kv[[0, 1]] == pytest.approx([513.0, 513.0], abs=1e-9)  # + 1.3 kA x 10 ohm
    ids = list(d.node_ids)
    assert d.v_node_kv[ids.index(101)] == pytest.approx(-d.v_node_kv[ids.index(102)], abs=1e-9)
    assert d.v_node_kv[[ids.index(100), ids.index(200)]] == pytest.approx([0, 0], abs=1e-9)


def _dc_losses(case, d):
    br = case["dc_branch"]
    loss = float(np.sum(br["r_ohm"] * d.i_branch_ka ** 2))
    nd = case["dc_node"]
    g = nd["grounded"] == 1
    v = d.v_node_kv[g]
    r = nd["r_ground_ohm"][g]
    return loss + float(np.sum(np.where(r > 0, v ** 2 / np.where(r > 0, r, 1), 0.0)))


@pytest.mark.parametrize("poles", [(1, -1), (1,)])
def test_three_terminal_balances(poles):
    case = three_terminal(poles=poles)
    case["lcc_converter"]["rc_ohm"][:] = 0.3  # exercise the resistive term
    case["lcc_converter"]["tap_step_pu"][:] = 0.0  # continuous taps: Vdc held exactly
    pf = solve_power_flow(case, FLAT)
    d = pf.dc
    cv = case["lcc_converter"]
    for pole in poles:
        k = np.flatnonzero(cv["pole"] == pole)
        r, tap, vst = k  # station order Sangtuda, Kabul, Nowshera
        # Kirchhoff: the voltage-setting inverter carries what the others leave, 1e-9 kA
        assert d.id_ka[r] == pytest.approx(1.3, abs=1e-12)
        assert d.id_ka[tap] == pytest.approx(0.3, abs=1e-12)
        assert d.id_ka[vst] == pytest.approx(1.0, abs=1e-9)
        assert d.vd_kv[vst] == pytest.approx(500.0, abs=1e-9)          # holds Vdc
        assert d.gamma_deg[vst] == pytest.approx(17.0, abs=1e-9)       # constant gamma
    # energy: sum of AC powers = DC losses + converter resistive losses (1e-6 MW)
    rc_loss = float(np.sum(2 * cv["n_bridges"] * cv["rc_ohm"] * d.id_ka ** 2))
    assert float(np.sum(d.p_ac_mw)) == pytest.approx(_dc_losses(case, d) + rc_loss, abs=1e-6)
    assert float(np.sum(d.p_dc_mw * np.where(cv["kind"] == 1, 1, -1))) == pytest.approx(
        _dc_losses(case, d), abs=1e-6)


@pytest.mark.parametrize("step", [0.00625, 0.0])
def test_rectifier_tap_keeps_alpha_in_range(step):
    # +6 % at the sending source: alpha would exceed 17.5 deg at tap 1; the tap moves up in
    # whole steps (or continuously) until alpha is back below 17.5 deg (PSS/E semantics)
    case = bipole()
    case["lcc_converter"]["tap_step_pu"][:] = step
    case["generator"]["vm_set_pu"][0] *= 1.06
    d = solve_power_flow(case, FLAT).dc
    for k in (0, 1):
        # 1e-5 deg: the settle tolerance ANGLE_TOL_RAD = 1e-7 rad is 6e-6 deg
        assert 12.5 <= d.alpha_deg[k] <= 17.5 + 1e-5
        assert d.tap_pu[k] > 1.0
        if step:
            n_steps = (d.tap_pu[k] - 1.0) / step
            assert n_steps == pytest.approx(round(n_steps), abs=1e-9)
            # one step less would leave alpha above its maximum
            assert d.alpha_deg[k] > 17.5 - 2.0
        else:
            assert d.alpha_deg[k] == pytest.approx(17.5, abs=1e-5)
    assert d.id_ka[:2] == pytest.approx([1.3, 1.3], abs=1e-12)


def test_margin_switch_when_the_rectifier_runs_out_of_alpha():
    # a 30 % lower sending source: the rectifier tap reaches 0.8 and alpha its minimum;
    # the inverter takes over current control at (1 - 0.1) x 1.3 kA (DELTI semantics)
    case = bipole()
    case["generator"]["vm_set_pu"][0] *= 0.7
    d = solve_power_flow(case, FLAT).dc
    assert list(d.control) == ["minimum alpha"] * 2 + ["current (margin)"] * 2
    assert d.id_ka == pytest.approx([1.17] * 4, abs=1e-9)
    assert d.alpha_deg[:2] == pytest.approx([12.5, 12.5], abs=1e-9)
    assert d.tap_pu[:2] == pytest.approx([0.8, 0.8])
    assert np.all(d.vd_kv[2:] < 500.0) and np.all(d.gamma_deg[2:] > 17.0)


def test_power_mode_and_vcmod():
    case = bipole()
    cv = case["lcc_converter"]
    cv["mode"][:2] = 1
    cv["p_set_mw"][:2] = 640.0
    d = solve_power_flow(case, FLAT).dc
    assert d.p_dc_mw[:2] == pytest.approx([640.0, 640.0], rel=1e-10)  # at its own terminals
    assert list(d.control[:2]) == ["power", "power"]
    cv["v_cmod_kv"][:2] = 600.0  # above the actual DC voltage: current P / VSCHD
    d = solve_power_flow(case, FLAT).dc
    assert list(d.control[:2]) == ["current (VCMOD)"] * 2
    assert d.id_ka[:2] == pytest.approx([640.0 / 500.0] * 2, rel=1e-12)


def test_compounding_holds_the_rectifier_end():
    # RCOMP = R_dc holds the rectifier-end voltage at VSCHD (REF 3.1)
    case = bipole()
    cv = case["lcc_converter"]
    cv["r_comp_ohm"][2:] = 10.0
    cv["v_set_kv"][2:] = 513.0
    cv["tap_step_pu"][:] = 0.0
    d = solve_power_flow(case, FLAT).dc
    assert d.vd_kv == pytest.approx([513.0, 513.0, 500.0, 500.0], abs=1e-6)


def test_no_dc_operating_point_is_a_clear_error():
    case = three_terminal()
    case["lcc_converter"]["i_set_ka"][2:4] = 1.5  # Kabul orders more than Sangtuda sends
    with pytest.raises(PowerFlowError, match=r"converter 3[12] would need a negative current"):
        solve_power_flow(case, FLAT)
    case = bipole()
    cv = case["lcc_converter"]
    cv["v_set_kv"][2:], cv["v_min_kv"][2:] = 600.0, 590.0
    cv["tap_min_pu"][2:] = cv["tap_max_pu"][2:] = 1.0
    with pytest.raises(PowerFlowError, match=r"below its minimum v_min_kv 590 \(DCVMIN\)"):
        solve_power_flow(case, FLAT)


# =========================================================================== validation
def _where(problems):
    return sorted((p.table, p.column, p.element_id) for p in problems)


def test_valid_hvdc_cases_have_no_problems():
    assert check_case(bipole()) == [] and check_case(three_terminal()) == []


def test_voltage_setting_converter_rules():
    case = bipole()
    case["lcc_converter"]["mode"][3] = 2       # negative pole loses its VST
    case["lcc_converter"]["i_set_ka"][3] = 1.3
    (p,) = check_case(case)
    assert _where([p]) == [("lcc_converter", "mode", 11)]
    assert "negative pole" in p.message and "no voltage-setting converter" in p.message
    case = three_terminal()
    cv = case["lcc_converter"]
    cv["mode"][2], cv["v_set_kv"][2] = 3, 500.0  # Kabul + also sets the voltage
    (p,) = check_case(case)
    assert _where([p]) == [("lcc_converter", "mode", 31)] and "2 voltage-setting" in p.message


def test_dc_island_rules():
    case = bipole()
    case["dc_node"]["grounded"][:] = 0
    case["dc_node"]["r_ground_ohm"][:] = 0.0
    probs = check_case(case)
    assert _where(probs) == [("dc_node", "grounded", 100)]
    assert "no grounded node" in probs[0].message
    case = bipole()
    case["dc_node"]["in_service"][1] = 0                 # node 101, the + pole at Sangtuda
    assert _where(check_case(case)) == [("dc_branch", "from_node", 11),
                                        ("lcc_converter", "dc_node_p", 11)]
    case = bipole()
    case["bus"]["type"][1] = 4                            # converter AC bus isolated
    assert ("lcc_converter", "bus", 11) in _where(check_case(case))


def test_duplicate_control_rows():
    case = bipole()
    case.tables["lcc_control"] = Case.from_tables(
        "x", {"lcc_control": {"id": [1, 2], "conv": [11, 11]}}).tables["lcc_control"]
    assert _where(check_case(case)) == [("lcc_control", "conv", 2)]


def test_cases_without_dc_are_unchanged():
    # the WSCC case solves exactly as before (no DC part in the result)
    pf = solve_power_flow(read_case(str(CASES / "wscc9.h5")))
    assert pf.dc is None and "dc" not in pf.to_dict(read_case(str(CASES / "wscc9.h5")))
