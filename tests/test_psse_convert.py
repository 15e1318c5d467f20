"""PSS/E RAW -> Case: the converted cases validate and their power flow reproduces the RAW
files' stored voltages; unit conversions checked against hand calculations and published data.

Test files: tests/data/psse/ (made by make_psse_files.py; stored voltages from casa_dyn's power
flow of cases/*.h5, or from a separate Newton solver for t3w_v34.raw).  Tolerances: 1e-7 pu and
1e-5 deg where the stored voltages are a converged solution written with 10 digits.
"""
from __future__ import annotations

import cmath
import math
import pathlib

import numpy as np
import pytest

from casa_dyn.errors import CasaDynError
from casa_dyn.io.psse import psse_to_case, read_raw, stored_voltage_mismatch
from casa_dyn.io.psse.convert import load_parts
from casa_dyn.io.psse.convert_xf import correction_factor, impedance_sys, magnetizing_sys, winding_ratio
from casa_dyn.network.powerflow import solve_power_flow
from casa_dyn.network.ybus import build_ybus

DATA = pathlib.Path(__file__).parent / "data" / "psse"


def convert(name, dyr=None):
    return psse_to_case(str(DATA / name), str(DATA / dyr) if dyr else None)


@pytest.mark.parametrize("name", ["wscc9_v33.raw", "wscc9_v35.raw", "kundur_v33.raw",
                                  "t3w_v34.raw"])
def test_power_flow_reproduces_stored_voltages(name):
    case, _ = convert(name)                     # psse_to_case validates (raises otherwise)
    res = solve_power_flow(case)
    mm = stored_voltage_mismatch(case, read_raw(str(DATA / name)), res)
    assert mm["vm_pu"] < 1e-7 and mm["va_deg"] < 1e-5, mm


def test_wscc9_textbook_power_flow():
    # REFERENCE.md 6 row 20 (Anderson & Fouad Example 2.6): Pg1 71.64 MW, Qg 27.05 / 6.65 /
    # -10.86 Mvar, accepted +-0.05.  The transformers are given in the file as X on the
    # machine rating (CZ = 2) and winding kV (CW = 2).
    for name in ("wscc9_v33.raw", "wscc9_v35.raw"):
        case, _ = convert(name)
        res = solve_power_flow(case)
        assert abs(res.gen_p_mw[0] - 71.64) < 0.05
        assert np.allclose(res.gen_q_mvar, [27.05, 6.65, -10.86], atol=0.05)
        # A&F transformer reactances on 100 MVA: 0.0576, 0.0625, 0.0586 (REFERENCE.md 4.3 data)
        assert np.allclose(case["transformer"]["x_pu"], [0.0576, 0.0625, 0.0586], rtol=1e-12)
        assert np.allclose(case["transformer"]["ratio_pu"], 1.0, rtol=1e-12)


def test_kundur_published_generator_outputs_and_tie_flow():
    # Kundur Example 12.6 (REFERENCE.md 6 row 15): 700+j185, 700+j235, 719+j176, 700+j202
    # (+-2 MW/Mvar); about 400 MW from area 1 to area 2
    case, report = convert("kundur_v33.raw")
    res = solve_power_flow(case)
    assert np.allclose(res.gen_p_mw, [700, 700, 719, 700], atol=2.0)
    assert np.allclose(res.gen_q_mvar, [185, 235, 176, 202], atol=2.0)
    ln = case["line"]
    tie = [k for k in range(case.n("line")) if ln["from_bus"][k] == 8 and ln["to_bus"][k] == 9]
    assert abs(res.branch_p_from_mw[tie].sum() - 400.0) < 15.0
    # step-up transformers: j0.15 on 900 MVA (CZ = 2) -> 0.15 x 100/900 on the system base
    assert np.allclose(case["transformer"]["x_pu"], 0.15 / 9.0, rtol=1e-12)
    assert report.labels["area"] == {1: "AREA ONE", 2: "AREA TWO"}
    assert report.labels["owner"] == {1: "UTILITY 1", 2: "UTILITY 2"}
    assert list(case["bus"]["area"]) == [1, 1, 2, 2, 1, 1, 1, 1, 2, 2, 2]  # as cases/src


def test_kundur_loads_become_zip_shares():
    # the file gives Kundur's loads as IP (constant current P) and YQ (constant admittance Q,
    # negative = inductive): at the stored voltage they are 967 + j100 and 1767 + j100 MW/Mvar
    case, _ = convert("kundur_v33.raw")
    ld = case["load"]
    assert np.allclose(ld["p_mw"], [967.0, 1767.0], rtol=1e-9)
    assert np.allclose(ld["q_mvar"], [100.0, 100.0], rtol=1e-9)
    assert list(ld["p_i"]) == [1.0, 1.0] and list(ld["p_z"]) == [0.0, 0.0]
    assert list(ld["q_z"]) == [1.0, 1.0] and list(ld["q_i"]) == [0.0, 0.0]


def test_load_parts_by_hand():
    v = dict(PL=60.0, QL=20.0, IP=30.0, IQ=0.0, YP=10.0, YQ=-5.0, DGENM=0)
    # at V = 0.9: P = 60 + 27 + 8.1 = 95.1, Q = 20 + 0 + 4.05 = 24.05 (YQ < 0 draws Q)
    (_, p, q, pz, pi, qz, qi), = load_parts(v, 0.9)
    assert (p, q) == pytest.approx((95.1, 24.05), rel=1e-12)
    assert (pz, pi, qz, qi) == pytest.approx((8.1 / 95.1, 27.0 / 95.1, 4.05 / 24.05, 0.0))
    # distributed generation subtracts from the constant-power part (DGENM = 1)
    (_, p, *_), = load_parts(dict(v, DGENM=1, DGENP=50.0, DGENQ=0.0), 1.0)
    assert p == pytest.approx(60 - 50 + 30 + 10)
    # parts of opposite sign: one row per part, each a pure P, I or Z load
    rows = load_parts(dict(PL=50.0, QL=0.0, IP=-10.0, IQ=0.0, YP=0.0, YQ=0.0), 1.1)
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [("/P", 50.0, 0.0, 0.0),
                                                        ("/I", pytest.approx(-11.0), 0.0, 1.0)]


def test_v35_extra_records_are_reported_or_neutral():
    case, report = convert("wscc9_v35.raw")
    assert {k: (s.records, s.in_service) for k, s in report.skipped.items()} == {
        "VSC DC line": (1, 0), "FACTS device": (1, 0)}
    sh = case["shunt"]
    # switched shunt at BINIT (+20 Mvar) and the fixed shunt of -20 Mvar on the same bus
    assert sorted(zip(sh["bus"].tolist(), sh["b_mvar"].tolist())) == [(8, -20.0), (8, 20.0)]
    ld = case["load"]
    assert ld["p_i"][0] == pytest.approx(0.5) and ld["p_mw"][0] == pytest.approx(125.0)
    assert case.n("line") == 7 and case["line"]["in_service"][-1] == 0    # open breaker


def test_psse_minimum_case_matches_psse_solution(tmp_path):
    # PSS/E 35's "minimum RAW case" example (two buses, 40 + j15 MW/Mvar load, branch
    # 0.01938 + j0.05917, B 0.0528): its generator record stores PSS/E's solution PG = 40.350 MW,
    # QG = 10.870 Mvar; accepted within PSS/E's default Newton tolerance of 0.1 MW/Mvar
    text = "\n".join([" 0, 100.0, 35, 0, 0, 60.00 / minimum case", " MINIMUM CASE", "",
                      "0 / END OF SYSTEM-WIDE DATA, BEGIN BUS DATA",
                      " 1,'Slack-Bus   ', 138.0000,3", " 2,'Load-Bus    ', 138.0000,1",
                      "0 / END OF BUS DATA, BEGIN LOAD DATA", " 2,'1 ',1,,, 40.000, 15.000",
                      "0 / END OF LOAD DATA, BEGIN FIXED SHUNT DATA",
                      "0 / END OF FIXED SHUNT DATA, BEGIN GENERATOR DATA",
                      " 1,'1 ', 40.350, 10.870",
                      "0 / END OF GENERATOR DATA, BEGIN BRANCH DATA",
                      " 1, 2,'1 ', 0.01938, 0.05917,0.05280", "0 / END OF BRANCH DATA", "Q"])
    p = tmp_path / "min.raw"
    p.write_text(text)
    case, _ = psse_to_case(str(p))
    res = solve_power_flow(case)
    assert abs(res.gen_p_mw[0] - 40.350) < 0.1 and abs(res.gen_q_mvar[0] - 10.870) < 0.1


# ---------------------------------------------------------------------------- transformers
def test_transformer_unit_codes_by_hand():
    # CW: 1 pu of bus kV; 2 kV; 3 pu of NOMV (NOMV 240 kV on a 230 kV bus)
    assert winding_ratio(1, 1.05, 0.0, 230.0) == 1.05
    assert winding_ratio(2, 241.5, 0.0, 230.0) == pytest.approx(1.05)
    assert winding_ratio(3, 1.05, 240.0, 230.0) == pytest.approx(1.05 * 240 / 230)
    # CZ = 2: Anderson & Fouad T1, X 0.0576 on 100 MVA written as 0.14256 on 247.5 MVA
    assert impedance_sys(2, 0.0, 0.14256, 247.5, 100.0) == pytest.approx(0.0576j)
    # CZ = 3: 500 kW load loss and |Z| = 0.1 on 200 MVA: R = 0.5/200 = 0.0025, X = sqrt(0.1^2 -
    # 0.0025^2) = 0.0999687 on 200 MVA; x 100/200 on the system base
    z = impedance_sys(3, 500e3, 0.1, 200.0, 100.0)
    assert z == pytest.approx(complex(0.00125, math.sqrt(0.01 - 0.0025 ** 2) / 2), rel=1e-12)
    # CM = 2: 60 kW no-load loss, 0.4 % exciting current on 150 MVA: G = 0.06/100 = 0.0006,
    # |Y| = 0.004 x 150/100 = 0.006, B = -sqrt(0.006^2 - 0.0006^2)
    y = magnetizing_sys(2, 60e3, 0.004, 150.0, 100.0, 230.0, 230.0)
    assert y == pytest.approx(complex(0.0006, -math.sqrt(0.006 ** 2 - 0.0006 ** 2)))
    # linear interpolation of an impedance correction table, end values outside
    pts = [(0.9, 1.1), (1.0, 1.0), (1.1, 0.92)]
    assert correction_factor(pts, 1.03) == pytest.approx(0.976)
    assert correction_factor(pts, 1.5) == 0.92 and correction_factor(pts, 0.5) == 1.1


def _raw_with(tmp_path, xf: str, type3: int = 1) -> str:
    text = "\n".join(["0, 100.0, 33, 0, 0, 60.0", "", "",
                      "1,'A',230.0,3", "2,'B',115.0,1", f"3,'C',13.8,{type3}",
                      "0 / END OF BUS DATA, BEGIN LOAD DATA", "0 / END OF LOAD DATA",
                      "0 / END OF FIXED SHUNT DATA", "1,'1',0.0", "0 / END OF GENERATOR DATA",
                      "0 / END OF BRANCH DATA", xf, "0 / END OF TRANSFORMER DATA", "Q"])
    p = tmp_path / "xf.raw"
    p.write_text(text)
    return str(p)


def test_two_winding_model_equals_psse_two_tap_model(tmp_path):
    # PSS/E: bus I - t1:1 - Z - 1:t2 - bus J.  Its 2x2 admittance matrix (hand algebra:
    # I_i = y (V_i/t1 - V_j/t2)/t1*, I_j = y (V_j/t2 - V_i/t1)/t2*) must equal the converted
    # single-tap branch.  t1 = 236.9/230 kV (CW = 2), t2 = 121/115, shift 5 deg, CZ = 1.
    xf = "\n".join(["1,2,0,'1',2,1,1,0.0,0.0,2,'T',1", "0.004,0.12,100.0",
                    "236.9,0.0,5.0,100,100,100,0,0,1.1,0.9,1.1,0.9,33,0,0,0,0", "121.0,0.0"])
    case, _ = psse_to_case(_raw_with(tmp_path, xf, type3=4))   # bus 3 unused: isolated
    y = build_ybus(case).toarray()
    t1 = 236.9 / 230.0 * cmath.exp(1j * math.radians(5.0))
    t2 = 121.0 / 115.0
    ys = 1 / complex(0.004, 0.12)
    expect = np.array([[ys / abs(t1) ** 2, -ys / (t1.conjugate() * t2)],
                       [-ys / (t2 * t1), ys / t2 ** 2]])
    assert np.allclose(y[:2, :2], expect, rtol=1e-12, atol=1e-12)


def _kron(y, keep):
    drop = [k for k in range(y.shape[0]) if k not in keep]
    a, b = np.ix_(keep, keep), np.ix_(keep, drop)
    return y[a] - y[b] @ np.linalg.solve(y[np.ix_(drop, drop)], y[np.ix_(drop, keep)])


@pytest.mark.parametrize("pairs, windv, ang", [
    ((0.004, 0.12, 0.005, 0.09, 0.006, 0.20), (1.03, 0.98, 1.0), (0.0, 0.0, -30.0)),
    # X1 = (0.10 + 0.13 - 0.25)/2 < 0: the star point is rescaled (convert.py docstring)
    ((0.002, 0.10, 0.003, 0.25, 0.004, 0.13), (1.02, 1.0, 1.01), (3.0, 0.0, -30.0)),
    # X2 < 0 on a winding with an off-nominal ratio and a phase shift
    ((0.002, 0.10, 0.003, 0.13, 0.004, 0.25), (1.0, 1.04, 0.99), (0.0, 10.0, -30.0)),
])
def test_three_winding_star_seen_from_the_buses(tmp_path, pairs, windv, ang):
    # the network seen from buses 1, 2, 3 (star point eliminated, Kron reduction) must equal
    # PSS/E's star with the ratios at the bus side, built here by hand (CW = CZ = CM = 1)
    r12, x12, r23, x23, r31, x31 = pairs
    w = [f"{windv[k]},0.0,{ang[k]},100,100,100,0,0,1.1,0.9,1.1,0.9,33,0,0,0,0" for k in range(3)]
    xf = "\n".join(["1,2,3,'1',1,1,1,0.0,0.0,2,'T3',1",
                    f"{r12},{x12},100.0,{r23},{x23},100.0,{r31},{x31},100.0,1.0,0.0", *w])
    case, report = psse_to_case(_raw_with(tmp_path, xf))
    got = _kron(build_ybus(case).toarray(), [0, 1, 2])
    z12, z23, z31 = complex(r12, x12), complex(r23, x23), complex(r31, x31)
    zs = [(z12 + z31 - z23) / 2, (z12 + z23 - z31) / 2, (z23 + z31 - z12) / 2]
    t = [windv[k] * cmath.exp(1j * math.radians(ang[k])) for k in range(3)]
    y = np.zeros((4, 4), complex)
    for k in range(3):
        ys = 1 / zs[k]
        y[k, k] += ys / abs(t[k]) ** 2
        y[k, 3] -= ys / t[k].conjugate()
        y[3, k] -= ys / t[k]
        y[3, 3] += ys
    assert np.allclose(got, _kron(y, [0, 1, 2]), rtol=1e-10, atol=1e-10)
    if min(z.imag for z in zs) < 0:
        assert any("negative star reactance" in n for n in report.notes)
        assert case.n("line") == 1 and case["line"]["x_pu"][0] < 0


def test_three_winding_case_uses_table_and_magnetizing(tmp_path):
    case, report = convert("t3w_v34.raw")
    assert case.n("bus") == 6                               # 4 buses + 2 star points
    assert any("impedance correction" in n for n in report.notes)
    tr = case["transformer"]
    # CM = 2 on the HV winding of T3W A: G = 0.0006, |Y| = 0.006 (hand values above)
    k = int(np.flatnonzero(tr["g_pu"] != 0)[0])
    assert tr["from_bus"][k] == 4
    assert complex(tr["g_pu"][k], tr["b_pu"][k]) == pytest.approx(
        complex(0.0006, -math.sqrt(0.006 ** 2 - 0.0006 ** 2)))


# ---------------------------------------------------------------------------- strictness
def test_strict_refuses_what_does_not_convert():
    case, report = convert("wscc9_v35.raw")
    assert report.dropped                                     # VSC and FACTS records listed
    with pytest.raises(CasaDynError, match=r"(?s)--strict.*VSC DC line: 1 records \(0 in service\)"):
        psse_to_case(str(DATA / "wscc9_v35.raw"), None, _strict())
    case, report = psse_to_case(str(DATA / "wscc9_v33.raw"), None, _strict())
    assert not report.dropped and case.n("bus") == 9


def _strict():
    from casa_dyn.io.psse import ConvertOptions

    return ConvertOptions(strict=True)
