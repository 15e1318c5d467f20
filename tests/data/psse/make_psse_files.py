"""Write the PSS/E test files of tests/test_psse_*.py (run from the repository root:
``python tests/data/psse/make_psse_files.py``; the files are committed, this script documents
how they were made).

Stored voltages (the RAW bus VM, VA and the generators' PG, QG) are a solved power flow that
does not come from the converter under test:

* ``wscc9_v33.raw``, ``wscc9_v35.raw``, ``kundur_v33.raw``, ``cigre_mdc*_v33.raw``: casa_dyn's
  power flow of ``cases/*.h5`` (built by other code from the published data, REFERENCE.md 4);
* ``t3w_v34.raw``: a small own network with two three-winding transformers, solved here by a
  separate Newton solver on a bus admittance matrix assembled here from the pair impedances.

The data are written in other units than the case tables (transformer impedances on their own
MVA base, winding voltages in kV, load-loss/exciting-current forms, loads as constant current
and admittance parts), so the round trip exercises the unit conversions.  The DYR files are
typed in PSS/E's CON order from the published values (Kundur 1994 Example 12.6; Anderson &
Fouad Example 2.6 via H and X'd on the machine base).
"""
from __future__ import annotations

import cmath
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, ROOT)

from casa_dyn.io import read_case  # noqa: E402
from casa_dyn.network.powerflow import solve_power_flow  # noqa: E402


def g(x) -> str:
    return f"{x:.10g}" if isinstance(x, float) else (f"'{x}'" if isinstance(x, str) else str(x))


def rec(*fields) -> str:
    return ", ".join(g(f) for f in fields)


def end(this: str, nxt: str | None) -> str:
    return f"0 / END OF {this} DATA" + (f", BEGIN {nxt} DATA" if nxt else "")


def solved(name: str, off=None):
    case = read_case(os.path.join(ROOT, "cases", f"{name}.h5"))
    if off:
        for table, col, value in off:
            case[table][col][:] = value
    return case, solve_power_flow(case)


# ----------------------------------------------------------------------------- WSCC 9-bus
WSCC_DYR = """\
/ WSCC 9-bus classical machines (Anderson & Fouad Example 2.6): H on the machine base
/ (23.64 s x 100/247.5, 6.40 x 100/192, 3.01 x 100/128), D = 0; X'd is ZSORCE in the RAW file
    1 'GENCLS' 1   9.551515152  0.0 /
    2 'GENCLS' 1   3.333333333  0.0 /
    3 'GENCLS' 1   2.3515625    0.0 /
"""


def wscc_v33() -> str:
    case, pf = solved("wscc9")
    b, gen, ld, ln = case["bus"], case["generator"], case["load"], case["line"]
    xdp = dict(zip(case["gencls"]["gen"].tolist(), case["gencls"]["xdp_pu"].tolist()))
    out = [rec(0, 100.0, 33, 0, 1, 60.0) + "  / PSS(R)E-33 RAW created by make_psse_files.py",
           "WSCC 9-BUS SYSTEM (ANDERSON & FOUAD EXAMPLE 2.6)",
           "STORED VOLTAGES: CASA_DYN POWER FLOW OF CASES/WSCC9.H5"]
    for k in range(case.n("bus")):
        out.append(rec(int(b["id"][k]), str(b["name"][k]), float(b["base_kv"][k]), int(b["type"][k]),
                       1, 1, 1, float(pf.vm_pu[k]), float(pf.va_deg[k]), 1.1, 0.9, 1.1, 0.9))
    out.append(end("BUS", "LOAD"))
    for k in range(case.n("load")):
        out.append(rec(int(ld["bus"][k]), "1", 1, 1, 1, float(ld["p_mw"][k]), float(ld["q_mvar"][k]),
                       0.0, 0.0, 0.0, 0.0, 1, 1, 0))
    out.append(end("LOAD", "FIXED SHUNT"))
    out.append(end("FIXED SHUNT", "GENERATOR"))
    for k in range(case.n("generator")):
        out.append(rec(int(gen["bus"][k]), "1", float(pf.gen_p_mw[k]), float(pf.gen_q_mvar[k]),
                       9999.0, -9999.0, float(gen["vm_set_pu"][k]), 0, float(gen["mbase_mva"][k]),
                       0.0, xdp[int(gen["id"][k])], 0.0, 0.0, 1.0, 1, 100.0, 9999.0, -9999.0,
                       1, 1.0, 0, 1.0, 0, 1.0, 0, 1.0, 0, 1.0))
    out.append(end("GENERATOR", "BRANCH"))
    for k in range(case.n("line")):
        out.append(rec(int(ln["from_bus"][k]), int(ln["to_bus"][k]), "1", float(ln["r_pu"][k]),
                       float(ln["x_pu"][k]), float(ln["b_pu"][k]), 0.0, 0.0, 0.0,
                       0.0, 0.0, 0.0, 0.0, 1, 1, 0.0, 1, 1.0))
    out.append(end("BRANCH", "TRANSFORMER"))
    # Anderson & Fouad: T1 16.5/230 kV X 0.0576, T2 18/230 X 0.0625, T3 13.8/230 X 0.0586 pu
    # on 100 MVA; here CZ = 2 on the machine rating and CW = 2 (winding kV)
    for lo, hi, x100, s12 in ((1, 4, 0.0576, 247.5), (2, 7, 0.0625, 192.0), (3, 9, 0.0586, 128.0)):
        kv = {1: 16.5, 2: 18.0, 3: 13.8}[lo]
        out += [rec(lo, hi, 0, "1", 2, 2, 1, 0.0, 0.0, 2, f"T{lo}", 1, 1, 1.0, 0, 1.0, 0, 1.0,
                    0, 1.0, "YNd1"),
                rec(0.0, x100 * s12 / 100.0, s12),
                rec(kv, 0.0, 0.0, s12, s12, s12, 0, 0, 1.1, 0.9, 1.1, 0.9, 33, 0, 0.0, 0.0, 0.0),
                rec(230.0, 0.0)]
    for sec, nxt in (("TRANSFORMER", "AREA"), ("AREA", "TWO-TERMINAL DC"),
                     ("TWO-TERMINAL DC", "VSC DC LINE"), ("VSC DC LINE", "IMPEDANCE CORRECTION"),
                     ("IMPEDANCE CORRECTION", "MULTI-TERMINAL DC"),
                     ("MULTI-TERMINAL DC", "MULTI-SECTION LINE"), ("MULTI-SECTION LINE", "ZONE"),
                     ("ZONE", "INTER-AREA TRANSFER"), ("INTER-AREA TRANSFER", "OWNER"),
                     ("OWNER", "FACTS DEVICE"), ("FACTS DEVICE", "SWITCHED SHUNT"),
                     ("SWITCHED SHUNT", "GNE DEVICE"), ("GNE DEVICE", "INDUCTION MACHINE"),
                     ("INDUCTION MACHINE", None)):
        out.append(end(sec, nxt))
    return "\n".join(out + ["Q", ""])


def wscc_v35() -> str:
    """The same network in the v35 layout, with other unit codes and extra records that do
    not change the power flow (out-of-service devices, a switched shunt cancelled by a fixed
    shunt, a load split into constant-power and constant-current halves)."""
    case, pf = solved("wscc9")
    b, gen, ld, ln = case["bus"], case["generator"], case["load"], case["line"]
    xdp = dict(zip(case["gencls"]["gen"].tolist(), case["gencls"]["xdp_pu"].tolist()))
    vm = dict(zip(b["id"].tolist(), pf.vm_pu.tolist()))
    out = [rec(0, 100.0, 35, 0, 1, 60.0) + "  / PSS(R)E-35 RAW created by make_psse_files.py",
           "WSCC 9-BUS SYSTEM, VERSION 35 LAYOUT", "",
           "GENERAL, THRSHZ=0.0001, PQBRAK=0.7, BLOWUP=5.0",
           "GAUSS, ITMX=100, ACCP=1.6, ACCQ=1.6, ACCM=1.0, TOL=0.0001",
           "RATING, 1, \"RATE1 \", \"RATING SET 1\"",
           end("SYSTEM-WIDE", "BUS"),
           "@!   I,'NAME        ', BASKV, IDE,AREA,ZONE,OWNER, VM,        VA,    NVHI,   NVLO,   EVHI,   EVLO"]
    for k in range(case.n("bus")):
        out.append(rec(int(b["id"][k]), str(b["name"][k]), float(b["base_kv"][k]), int(b["type"][k]),
                       1, 1, 1, float(pf.vm_pu[k]), float(pf.va_deg[k]), 1.1, 0.9, 1.1, 0.9))
    out.append(end("BUS", "LOAD"))
    for k in range(case.n("load")):
        bus, p, q = int(ld["bus"][k]), float(ld["p_mw"][k]), float(ld["q_mvar"][k])
        if bus == 5:  # half constant power, half constant current (same power at the RAW V)
            out.append(rec(bus, "1", 1, 1, 1, p / 2, q / 2, p / 2 / vm[bus], q / 2 / vm[bus],
                           0.0, 0.0, 1, 1, 0, 0.0, 0.0, 0, "LT"))
        else:         # empty fields take the defaults (STATUS, AREA, ZONE)
            out.append(f"{bus},'1',,,, {g(p)}, {g(q)}")
    out.append(end("LOAD", "FIXED SHUNT"))
    out.append(rec(8, "1", 1, 0.0, -20.0))       # cancels the switched shunt below
    out.append(end("FIXED SHUNT", "GENERATOR"))
    for k in range(case.n("generator")):
        out.append(rec(int(gen["bus"][k]), "1", float(pf.gen_p_mw[k]), float(pf.gen_q_mvar[k]),
                       9999.0, -9999.0, float(gen["vm_set_pu"][k]), 0, 0,
                       float(gen["mbase_mva"][k]), 0.0, xdp[int(gen["id"][k])], 0.0, 0.0, 1.0, 1,
                       100.0, 9999.0, -9999.0, 0, 1, 1.0, 0, 1.0, 0, 1.0, 0, 1.0, 0, 1.0))
    out.append(end("GENERATOR", "BRANCH"))
    for k in range(case.n("line")):
        out.append(rec(int(ln["from_bus"][k]), int(ln["to_bus"][k]), "1", float(ln["r_pu"][k]),
                       float(ln["x_pu"][k]), float(ln["b_pu"][k]), str(ln["name"][k]),
                       *([250.0] * 12), 0.0, 0.0, 0.0, 0.0, 1, 1, 0.0, 1, 1.0))
    out.append(end("BRANCH", "SYSTEM SWITCHING DEVICE"))
    out.append(rec(5, 6, "1", 0.0001, *([0.0] * 12), 0, 1, 1, 1, "BRK 5-6"))   # open
    out.append(end("SYSTEM SWITCHING DEVICE", "TRANSFORMER"))
    # CZ = 3 (load loss 0 W, |Z| on SBASE1-2), CW = 3 (pu of NOMV), CM = 2 (no magnetizing)
    for lo, hi, x100, s12 in ((1, 4, 0.0576, 247.5), (2, 7, 0.0625, 192.0), (3, 9, 0.0586, 128.0)):
        kv = {1: 16.5, 2: 18.0, 3: 13.8}[lo]
        out += [rec(lo, hi, 0, "1", 3, 3, 2, 0.0, 0.0, 2, f"T{lo}", 1, 1, 1.0, 0, 1.0, 0, 1.0,
                    0, 1.0, "YNd1", 0),
                rec(0.0, x100 * s12 / 100.0, s12),
                rec(1.0, kv, 0.0, *([s12] * 12), 0, 0, 0, 1.1, 0.9, 1.1, 0.9, 33, 0, 0.0, 0.0, 0.0),
                rec(1.0, 230.0)]
    out.append(end("TRANSFORMER", "AREA"))
    out.append(rec(1, 1, 0.0, 10.0, "WSCC"))
    out.append(end("AREA", "TWO-TERMINAL DC"))
    out.append(end("TWO-TERMINAL DC", "VSC DC LINE"))
    out += [rec("VSC 1", 0, 0.71, 1, 1.0),                                      # blocked
            rec(5, 1, 1, -20.0, 1.0, 0.0, 0.0, 0.0, 100.0, 1000.0, 1.0, 100.0, -100.0, 0, 0, 100.0),
            rec(6, 2, 1, 100.0, 1.0, 0.0, 0.0, 0.0, 100.0, 1000.0, 1.0, 100.0, -100.0, 0, 0, 100.0)]
    for sec, nxt in (("VSC DC LINE", "IMPEDANCE CORRECTION"),
                     ("IMPEDANCE CORRECTION", "MULTI-TERMINAL DC"),
                     ("MULTI-TERMINAL DC", "MULTI-SECTION LINE"), ("MULTI-SECTION LINE", "ZONE")):
        out.append(end(sec, nxt))
    out.append(rec(1, "ZONE ONE"))
    out.append(end("ZONE", "INTER-AREA TRANSFER"))
    out.append(end("INTER-AREA TRANSFER", "OWNER"))
    out.append(rec(1, "OWNER ONE"))
    out.append(end("OWNER", "FACTS DEVICE"))
    out.append(rec("FACTS 1", 5, 0, 0, 0.0, 0.0, 1.0, 100.0, 9999.0, 0.9, 1.1, 1.0, 0.0, 0.05,
                   100.0, 1, 0.0, 0.0, 0, 0, 0, ""))                                  # MODE 0: off
    out.append(end("FACTS DEVICE", "SWITCHED SHUNT"))
    out.append(rec(8, "1", 0, 0, 1, 1.05, 0.95, 0, 0, 100.0, "", 20.0, 1, 2, 10.0))  # BINIT 20
    for sec, nxt in (("SWITCHED SHUNT", "GNE DEVICE"), ("GNE DEVICE", "INDUCTION MACHINE"),
                     ("INDUCTION MACHINE", "SUBSTATION"), ("SUBSTATION", None)):
        out.append(end(sec, nxt))
    return "\n".join(out + ["Q", ""])


# ----------------------------------------------------------------------------- Kundur
KUNDUR_DYR = """\
/ Kundur two-area system (Kundur 1994, Example 12.6; REFERENCE.md 4.2), PSS/E CON order.
/ GENROU: T'do T''do T'qo T''qo H D Xd Xq X'd X'q X''d Xl S(1.0) S(1.2)
    1 'GENROU' 1  8.0 0.03 0.4 0.05  6.5   0.0  1.8 1.7 0.3 0.55 0.25 0.2  0.0391754471 0.222678415 /
    2 'GENROU' 1  8.0 0.03 0.4 0.05  6.5   0.0  1.8 1.7 0.3 0.55 0.25 0.2
                  0.0391754471 0.222678415 /   a record may span lines
    3 'GENROU' '1'  8.0 0.03 0.4 0.05  6.175 0.0  1.8 1.7 0.3 0.55 0.25 0.2  0.0391754471 0.222678415 /
    4 'GENROU' 1  8.0 0.03 0.4 0.05  6.175 0.0  1.8 1.7 0.3 0.55 0.25 0.2  0.0391754471 0.222678415 /
/ SEXS: TA/TB TB K TE EMIN EMAX (thyristor exciter, K = 200)
    1 'SEXS' 1  1.0 0.0 200.0 0.0 -999.0 999.0 /
    2 'SEXS' 1  1.0 0.0 200.0 0.0 -999.0 999.0 /
    3 'SEXS' 1  1.0 0.0 200.0 0.0 -999.0 999.0 /
    4 'SEXS' 1  1.0 0.0 200.0 0.0 -999.0 999.0 /
/ IEEEST: ICONs input code (1 = speed), bus; CONs A1..A6 T1..T6 KS LSMAX LSMIN VCU VCL
    1 'IEEEST' 1  1 0  0 0 0 0 0 0  0.05 0.02 3.0 5.4 10.0 10.0  20.0 999.0 -999.0 0.0 0.0 /
    2 'IEEEST' 1  1 0  0 0 0 0 0 0  0.05 0.02 3.0 5.4 10.0 10.0  20.0 999.0 -999.0 0.0 0.0 /
    3 'IEEEST' 1  1 0  0 0 0 0 0 0  0.05 0.02 3.0 5.4 10.0 10.0  20.0 999.0 -999.0 0.0 0.0 /
    4 'IEEEST' 1  1 0  0 0 0 0 0 0  0.05 0.02 3.0 5.4 10.0 10.0  20.0 999.0 -999.0 0.0 0.0 /
/ models casa_dyn does not have (reported by name, count and buses)
    1 'WT4G1' 1  0.02 10.0 0.9 0.5 1.11 1.2 2.0 0.0 /
    3 'WT4G1' 1  0.02 10.0 0.9 0.5 1.11 1.2 2.0 0.0 /
    7 'CIM5BL' 1  0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 /
"""


def kundur_v33() -> str:
    case, pf = solved("kundur2area")
    b, gen, ld, ln, sh = (case[t] for t in ("bus", "generator", "load", "line", "shunt"))
    vm = dict(zip(b["id"].tolist(), pf.vm_pu.tolist()))
    out = [rec(0, 100.0, 33, 0, 1, 60.0) + "  / PSS(R)E-33 RAW created by make_psse_files.py",
           "KUNDUR TWO-AREA SYSTEM (EXAMPLE 12.6)",
           "STORED VOLTAGES: CASA_DYN POWER FLOW OF CASES/KUNDUR2AREA.H5"]
    for k in range(case.n("bus")):
        area = int(b["area"][k])
        out.append(rec(int(b["id"][k]), str(b["name"][k]), float(b["base_kv"][k]), int(b["type"][k]),
                       area, area, area, float(pf.vm_pu[k]), float(pf.va_deg[k]), 1.1, 0.9, 1.1, 0.9))
    out.append(end("BUS", "LOAD"))
    # the case's loads: P constant current, Q constant impedance (Example 12.6): in PSS/E terms
    # IP = P/V (MW at 1 pu), YQ = -Q/V^2 (negative: inductive)
    for k in range(case.n("load")):
        bus, p, q = int(ld["bus"][k]), float(ld["p_mw"][k]), float(ld["q_mvar"][k])
        v = vm[bus]
        out.append(rec(bus, "1", 1, 1, 1, 0.0, 0.0, p / v, 0.0, 0.0, -q / v / v, 1, 1, 0))
    out.append(end("LOAD", "FIXED SHUNT"))
    for k in range(case.n("shunt")):
        out.append(rec(int(sh["bus"][k]), "1", 1, 0.0, float(sh["b_mvar"][k])))
    out.append(end("FIXED SHUNT", "GENERATOR"))
    for k in range(case.n("generator")):
        out.append(rec(int(gen["bus"][k]), "1", float(pf.gen_p_mw[k]), float(pf.gen_q_mvar[k]),
                       9999.0, -9999.0, float(gen["vm_set_pu"][k]), 0, 900.0, 0.0025, 0.25,
                       0.0, 0.0, 1.0, 1, 100.0, 9999.0, -9999.0, int(b["area"][int(gen["bus"][k]) - 1]),
                       1.0, 0, 1.0, 0, 1.0, 0, 1.0, 0, 1.0))
    out.append(end("GENERATOR", "BRANCH"))
    for k in range(case.n("line")):
        ckt = str(ln["name"][k])[-1] if "#" in str(ln["name"][k]) else "1"
        out.append(rec(int(ln["from_bus"][k]), int(ln["to_bus"][k]), ckt, float(ln["r_pu"][k]),
                       float(ln["x_pu"][k]), float(ln["b_pu"][k]), 0.0, 0.0, 0.0,
                       0.0, 0.0, 0.0, 0.0, 1, 1, 0.0, 1, 1.0))
    out.append(end("BRANCH", "TRANSFORMER"))
    # step-up transformers: j0.15 pu on 900 MVA, 20/230 kV (CZ = 2, CW = 1)
    for lo, hi in ((1, 5), (2, 6), (3, 11), (4, 10)):
        out += [rec(lo, hi, 0, "1", 1, 2, 1, 0.0, 0.0, 2, f"T{lo}", 1, 1, 1.0),
                rec(0.0, 0.15, 900.0),
                rec(1.0, 0.0, 0.0, 900.0, 900.0, 900.0, 0, 0, 1.1, 0.9, 1.1, 0.9, 33, 0, 0.0, 0.0, 0.0),
                rec(1.0, 0.0)]
    out.append(end("TRANSFORMER", "AREA"))
    out += [rec(1, 0, 0.0, 10.0, "AREA ONE"), rec(2, 3, -400.0, 10.0, "AREA TWO")]
    for sec, nxt in (("AREA", "TWO-TERMINAL DC"), ("TWO-TERMINAL DC", "VSC DC LINE"),
                     ("VSC DC LINE", "IMPEDANCE CORRECTION"),
                     ("IMPEDANCE CORRECTION", "MULTI-TERMINAL DC"),
                     ("MULTI-TERMINAL DC", "MULTI-SECTION LINE"), ("MULTI-SECTION LINE", "ZONE")):
        out.append(end(sec, nxt))
    out += [rec(1, "WEST"), rec(2, "EAST")]
    out.append(end("ZONE", "INTER-AREA TRANSFER"))
    out.append(end("INTER-AREA TRANSFER", "OWNER"))
    out += [rec(1, "UTILITY 1"), rec(2, "UTILITY 2")]
    for sec, nxt in (("OWNER", "FACTS DEVICE"), ("FACTS DEVICE", "SWITCHED SHUNT"),
                     ("SWITCHED SHUNT", "GNE DEVICE"), ("GNE DEVICE", "INDUCTION MACHINE"),
                     ("INDUCTION MACHINE", None)):
        out.append(end(sec, nxt))
    return "\n".join(out + ["Q", ""])


# ----------------------------------------------------------------------------- CIGRE HVDC
CIGRE_DC = dict(rdc=5.0, nb=2, alf=(17.5, 12.5), gam=(15.0, 15.0), xcr=13.58343007889255,
                xci=13.315203594010038, ebr=345.0, ebi=230.0, trr=213.4469 / 345.0,
                tri=209.2288 / 230.0)

CIGRE_DYR = """\
/ CIGRE HVDC benchmark: stiff AC sources and the DC line model CDC4T (PSS/E CON order:
/ ALFDY GAMDY TVDC TIDC VBLOCK VUNBL TBLOCK VBYPAS VUNBY TBYPAS RSVOLT RSCUR VRAMP CRAMP C0
/ V1 C1 V2 C2 V3 C3 TCMODE)
    1 'GENCLS' 1  50.0 0.0 /
    4 'GENCLS' 1  50.0 0.0 /
 'CIGRE' 'CDC4T'  5.0 15.0 0.01 0.005 0.6 0.8 0.1 250.0 0.8 0.1 0.0 200.0 0.5 5.0
     200.0 100.0 600.0 250.0 1000.0 450.0 2200.0 0.05 /
"""

#: name, MDC, SETVL, VSCHD, RCOMP: all but MDC = 0 schedule the same 2 kA operating point
CIGRE_MODES = {
    "mdc0": (0, 2000.0, 495.0, 0.0),
    "mdc1_rect": (1, 1010.0, 495.0, 0.0),      # 1010 MW at the rectifier: (495 + 5 I) I
    "mdc1_inv": (1, -990.0, 495.0, 0.0),       # 990 MW at the inverter: 495 I
    "mdc1_rcomp": (1, -990.0, 505.0, 5.0),     # compounded at the rectifier end
    "mdc2": (2, 2000.0, 495.0, 0.0),           # 2000 A: 2000 x 495 / 1000 = 990 MW
}


def cigre_v33(mode: str) -> str:
    mdc, setvl, vschd, rcomp = CIGRE_MODES[mode]
    off = [("lcc_converter", "in_service", 0)] if mdc == 0 else None
    case, pf = solved("cigre_hvdc", off)
    b, gen, ln, sh = case["bus"], case["generator"], case["line"], case["shunt"]
    d = CIGRE_DC
    out = [rec(0, 100.0, 33, 0, 1, 50.0) + "  / PSS(R)E-33 RAW created by make_psse_files.py",
           f"CIGRE HVDC BENCHMARK, TWO-TERMINAL DC LINE, MDC = {mdc}",
           "STORED VOLTAGES: CASA_DYN POWER FLOW OF CASES/CIGRE_HVDC.H5"]
    for k in range(case.n("bus")):
        out.append(rec(int(b["id"][k]), str(b["name"][k]), float(b["base_kv"][k]), int(b["type"][k]),
                       1, 1, 1, float(pf.vm_pu[k]), float(pf.va_deg[k]), 1.1, 0.9, 1.1, 0.9))
    out += [end("BUS", "LOAD"), end("LOAD", "FIXED SHUNT")]
    for k in range(case.n("shunt")):
        out.append(rec(int(sh["bus"][k]), "F", 1, 0.0, float(sh["b_mvar"][k])))
    out.append(end("FIXED SHUNT", "GENERATOR"))
    for k in range(case.n("generator")):
        out.append(rec(int(gen["bus"][k]), "1", float(pf.gen_p_mw[k]), float(pf.gen_q_mvar[k]),
                       9999.0, -9999.0, float(gen["vm_set_pu"][k]), 0, 10000.0, 0.0, 0.001,
                       0.0, 0.0, 1.0, 1, 100.0, 9999.0, -9999.0, 1, 1.0))
    out.append(end("GENERATOR", "BRANCH"))
    for k in range(case.n("line")):
        out.append(rec(int(ln["from_bus"][k]), int(ln["to_bus"][k]), "1", float(ln["r_pu"][k]),
                       float(ln["x_pu"][k]), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1, 1, 0.0,
                       1, 1.0))
    out += [end("BRANCH", "TRANSFORMER"), end("TRANSFORMER", "AREA"),
            end("AREA", "TWO-TERMINAL DC"),
            rec("CIGRE", mdc, d["rdc"], setvl, vschd, 0.0, rcomp, 0.1, "I", 0.0, 20, 1.0),
            rec(2, d["nb"], *d["alf"], 0.0, d["xcr"], d["ebr"], d["trr"], 1.0, 1.5, 0.51, 0.00625,
                0, 0, 0, "1", 0.0),
            rec(3, d["nb"], *d["gam"], 0.0, d["xci"], d["ebi"], d["tri"], 1.0, 1.5, 0.51, 0.00625,
                0, 0, 0, "1", 0.0)]
    for sec, nxt in (("TWO-TERMINAL DC", "VSC DC LINE"), ("VSC DC LINE", "IMPEDANCE CORRECTION"),
                     ("IMPEDANCE CORRECTION", "MULTI-TERMINAL DC"),
                     ("MULTI-TERMINAL DC", "MULTI-SECTION LINE"), ("MULTI-SECTION LINE", "ZONE"),
                     ("ZONE", "INTER-AREA TRANSFER"), ("INTER-AREA TRANSFER", "OWNER"),
                     ("OWNER", "FACTS DEVICE"), ("FACTS DEVICE", "SWITCHED SHUNT"),
                     ("SWITCHED SHUNT", "GNE DEVICE"), ("GNE DEVICE", "INDUCTION MACHINE"),
                     ("INDUCTION MACHINE", None)):
        out.append(end(sec, nxt))
    return "\n".join(out + ["Q", ""])


def mtdc_v33() -> str:
    """The CIGRE link with a 300 MW tap inverter at a third AC system (the Kabul what-if of
    REFERENCE.md 5): rectifier 2000 A (MDC = 2), tap inverter -600 A, voltage-setting inverter
    495 kV.  Flat voltages: the test checks the DC schedule, not stored voltages."""
    case, _ = solved("cigre_hvdc")
    b, gen, ln, sh = case["bus"], case["generator"], case["line"], case["shunt"]
    d = CIGRE_DC
    out = [rec(0, 100.0, 33, 0, 1, 50.0), "CIGRE LINK WITH A TAP INVERTER (MULTI-TERMINAL DC)",
           "FLAT START"]
    for k in range(case.n("bus")):
        out.append(rec(int(b["id"][k]), str(b["name"][k]), float(b["base_kv"][k]),
                       int(b["type"][k]), 1, 1, 1, 1.0, 0.0))
    out += [rec(5, "Tap AC", 230.0, 1, 1, 1, 1, 1.0, 0.0), rec(6, "Tap source", 230.0, 3, 1, 1, 1,
                                                                1.0, 0.0)]
    out += [end("BUS", "LOAD"), end("LOAD", "FIXED SHUNT")]
    for k in range(case.n("shunt")):
        out.append(rec(int(sh["bus"][k]), "F", 1, 0.0, float(sh["b_mvar"][k])))
    out.append(rec(5, "F", 1, 0.0, 160.0))
    out.append(end("FIXED SHUNT", "GENERATOR"))
    for k in range(case.n("generator")):
        out.append(rec(int(gen["bus"][k]), "1", 0.0, 0.0, 9999.0, -9999.0,
                       float(gen["vm_set_pu"][k]), 0, 10000.0, 0.0, 0.001))
    out.append(rec(6, "1", 0.0, 0.0, 9999.0, -9999.0, 1.0, 0, 10000.0, 0.0, 0.001))
    out.append(end("GENERATOR", "BRANCH"))
    for k in range(case.n("line")):
        out.append(rec(int(ln["from_bus"][k]), int(ln["to_bus"][k]), "1", float(ln["r_pu"][k]),
                       float(ln["x_pu"][k]), 0.0))
    out.append(rec(6, 5, "1", 0.002, 0.02, 0.0))
    out += [end("BRANCH", "TRANSFORMER"), end("TRANSFORMER", "AREA"), end("AREA", "TWO-TERMINAL DC"),
            end("TWO-TERMINAL DC", "VSC DC LINE"), end("VSC DC LINE", "IMPEDANCE CORRECTION"),
            end("IMPEDANCE CORRECTION", "MULTI-TERMINAL DC"),
            rec("KABUL TAP", 3, 4, 2, 2, 3, 0.0, 0),
            # IB N ANGMX ANGMN RC XC EBAS TR TAP TPMX TPMN TSTP SETVL DCPF MARG CNVCOD
            rec(2, 2, 17.5, 12.5, 0.0, d["xcr"], d["ebr"], d["trr"], 1.0, 1.5, 0.51, 0.00625,
                2000.0, 1.0, 0.1, 1),
            rec(3, 2, 15.0, 15.0, 0.0, d["xci"], d["ebi"], d["tri"], 1.0, 1.5, 0.51, 0.00625,
                495.0, 1.0, 0.0, 1),
            rec(5, 2, 20.0, 15.0, 0.0, d["xci"], d["ebi"], d["tri"], 1.0, 1.5, 0.51, 0.00625,
                -600.0, 1.0, 0.0, 1),
            # IDC IB AREA ZONE DCNAME IDC2 RGRND OWNER
            rec(1, 2, 1, 1, "RECT POLE", 4, 0.0, 1), rec(2, 3, 1, 1, "INV POLE", 4, 0.0, 1),
            rec(3, 5, 1, 1, "TAP POLE", 4, 0.0, 1), rec(4, 0, 1, 1, "NEUTRAL", 0, 0.0, 1),
            # IDC JDC DCCKT MET RDC LDC
            rec(1, 3, "1", 1, 3.0, 600.0), rec(3, 2, "1", 1, 2.0, 600.0)]
    for sec, nxt in (("MULTI-TERMINAL DC", "MULTI-SECTION LINE"), ("MULTI-SECTION LINE", "ZONE"),
                     ("ZONE", "INTER-AREA TRANSFER"), ("INTER-AREA TRANSFER", "OWNER"),
                     ("OWNER", "FACTS DEVICE"), ("FACTS DEVICE", "SWITCHED SHUNT"),
                     ("SWITCHED SHUNT", "GNE DEVICE"), ("GNE DEVICE", "INDUCTION MACHINE"),
                     ("INDUCTION MACHINE", None)):
        out.append(end(sec, nxt))
    return "\n".join(out + ["Q", ""])


# ----------------------------------------------------------------------------- 3-winding
#: own test network: bus 1 (230 kV, swing) - line - bus 4 (230 kV); two three-winding
#: transformers 4 (HV) / 2 (115 kV) / 3 (13.8 kV) in parallel; loads at 2 and 3
T3W = dict(
    sbase=100.0, kv={1: 230.0, 4: 230.0, 2: 115.0, 3: 13.8}, vs=1.02,
    line=(0.002, 0.02, 0.05),
    loads={2: (80.0, 30.0), 3: (20.0, 10.0)}, shunt3=10.0,
    # transformer A: CW = 2 (kV), CZ = 2 (pu on the pair's MVA), CM = 2 (W, pu exciting current)
    a=dict(windv=(236.9, 115.0, 13.8), nomv1=230.0, ang=(0.0, 0.0, -30.0),
           pairs={"12": (0.004, 0.12, 150.0), "23": (0.005, 0.12, 60.0), "31": (0.006, 0.15, 60.0)},
           mag=(60000.0, 0.004), tab1=1),
    # transformer B: CW = 1, CZ = 1 (system base); star X1 = (0.10 + 0.13 - 0.25)/2 < 0
    b=dict(windv=(1.02, 1.0, 1.0), ang=(0.0, 0.0, -30.0),
           pairs={"12": (0.002, 0.10), "23": (0.003, 0.25), "31": (0.004, 0.13)}),
    # impedance correction table 1: (ratio, factor) points
    table=((0.9, 1.1), (1.0, 1.0), (1.1, 0.92)),
)


def _t3w_reference():
    """Bus voltages of the 3-winding network by Newton's method on an admittance matrix built
    here from the pair impedances (the star with ratios at the bus side, no rescaling)."""
    d, sb = T3W, T3W["sbase"]
    buses = [1, 4, 2, 3, 101, 102]             # 101, 102: star points of A and B
    ix = {b: k for k, b in enumerate(buses)}
    y = np.zeros((6, 6), complex)

    def branch(f, t, z, tap=1.0 + 0j):
        ys = 1.0 / z
        i, j = ix[f], ix[t]
        y[i, i] += ys / abs(tap) ** 2
        y[i, j] -= ys / np.conj(tap)
        y[j, i] -= ys / tap
        y[j, j] += ys

    r, x, bsh = d["line"]
    branch(1, 4, complex(r, x))
    y[ix[1], ix[1]] += 0.5j * bsh
    y[ix[4], ix[4]] += 0.5j * bsh
    y[ix[3], ix[3]] += 1j * d["shunt3"] / sb
    a = d["a"]
    z = {k: complex(p[0], p[1]) * sb / p[2] for k, p in a["pairs"].items()}
    zs = [(z["12"] + z["31"] - z["23"]) / 2, (z["12"] + z["23"] - z["31"]) / 2,
          (z["23"] + z["31"] - z["12"]) / 2]
    ratio1 = a["windv"][0] / 230.0
    (x0, f0), (x1, f1) = d["table"][1], d["table"][2]
    zs[0] *= f0 + (f1 - f0) * (ratio1 - x0) / (x1 - x0)
    taps = [a["windv"][k] / d["kv"][bk] * cmath.exp(1j * math.radians(a["ang"][k]))
            for k, bk in enumerate((4, 2, 3))]
    for k, bk in enumerate((4, 2, 3)):
        branch(bk, 101, zs[k], taps[k])
    gm = a["mag"][0] / 1e6 / sb
    ym = a["mag"][1] * a["pairs"]["12"][2] / sb
    y[ix[4], ix[4]] += complex(gm, -math.sqrt(ym * ym - gm * gm))
    bb = d["b"]
    z = {k: complex(*p) for k, p in bb["pairs"].items()}
    zs = [(z["12"] + z["31"] - z["23"]) / 2, (z["12"] + z["23"] - z["31"]) / 2,
          (z["23"] + z["31"] - z["12"]) / 2]
    for k, bk in enumerate((4, 2, 3)):
        branch(bk, 102, zs[k], bb["windv"][k] * cmath.exp(1j * math.radians(bb["ang"][k])))
    s_load = np.zeros(6, complex)
    for bus, (p, q) in d["loads"].items():
        s_load[ix[bus]] = complex(p, q) / sb
    v = np.ones(6, complex) * d["vs"]
    pq = np.arange(1, 6)
    for _ in range(30):
        mis = v * np.conj(y @ v) + s_load
        f = np.concatenate([mis.real[pq], mis.imag[pq]])
        if np.max(np.abs(f)) < 1e-12:
            break
        jac = np.zeros((10, 10))
        for m in range(10):   # finite-difference Jacobian in (angle, magnitude) of PQ buses
            dv = v.copy()
            k = pq[m % 5]
            h = 1e-7
            dv[k] = abs(v[k]) * cmath.exp(1j * (cmath.phase(v[k]) + h)) if m < 5 else \
                (abs(v[k]) + h) * cmath.exp(1j * cmath.phase(v[k]))
            mm = dv * np.conj(y @ dv) + s_load
            jac[:, m] = (np.concatenate([mm.real[pq], mm.imag[pq]]) - f) / h
        step = np.linalg.solve(jac, -f)
        ang = np.angle(v[pq]) + step[:5]
        mag = np.abs(v[pq]) + step[5:]
        v[pq] = mag * np.exp(1j * ang)
    else:
        raise RuntimeError("reference Newton did not converge")
    s_gen = (v * np.conj(y @ v) + s_load)[0] * sb
    return {b: v[ix[b]] for b in buses}, s_gen


def t3w_v34() -> str:
    d = T3W
    v, s_gen = _t3w_reference()
    deg = {b: math.degrees(cmath.phase(x)) for b, x in v.items()}
    out = [rec(0, 100.0, 34, 0, 1, 60.0) + "  / PSS(R)E-34 RAW created by make_psse_files.py",
           "TWO THREE-WINDING TRANSFORMERS IN PARALLEL", "STORED VOLTAGES: OWN NEWTON SOLUTION",
           "GENERAL, THRSHZ=0.0001, PQBRAK=0.7, BLOWUP=5.0",
           end("SYSTEM-WIDE", "BUS")]
    names = {1: "SOURCE", 4: "HV", 2: "MV", 3: "LV"}
    for bus in (1, 4, 2, 3):
        out.append(rec(bus, names[bus], d["kv"][bus], 3 if bus == 1 else 1, 1, 1, 1,
                       abs(v[bus]), deg[bus], 1.1, 0.9, 1.1, 0.9))
    out.append(end("BUS", "LOAD"))
    for bus, (p, q) in d["loads"].items():
        out.append(rec(bus, "1", 1, 1, 1, p, q, 0.0, 0.0, 0.0, 0.0, 1, 1, 0, 0.0, 0.0, 0))
    out.append(end("LOAD", "FIXED SHUNT"))
    out.append(rec(3, "1", 1, 0.0, d["shunt3"]))
    out.append(end("FIXED SHUNT", "GENERATOR"))
    out.append(rec(1, "1", s_gen.real, s_gen.imag, 9999.0, -9999.0, d["vs"], 0, 200.0))
    out.append(end("GENERATOR", "BRANCH"))
    r, x, bsh = d["line"]
    out.append(rec(1, 4, "1", r, x, bsh, "LINE 1-4", *([300.0] * 12), 0.0, 0.0, 0.0, 0.0, 1, 1,
                   10.0))
    out += [end("BRANCH", "SYSTEM SWITCHING DEVICE"), end("SYSTEM SWITCHING DEVICE", "TRANSFORMER")]
    a = d["a"]
    p = a["pairs"]
    out += [rec(4, 2, 3, "A", 2, 2, 2, a["mag"][0], a["mag"][1], 2, "T3W A", 1, 1, 1.0, 0, 1.0,
                0, 1.0, 0, 1.0, "YNyn0d1", 0),
            rec(p["12"][0], p["12"][1], p["12"][2], p["23"][0], p["23"][1], p["23"][2],
                p["31"][0], p["31"][1], p["31"][2], abs(v[101]), deg[101])]
    for k, bus in enumerate((4, 2, 3)):
        out.append(rec(a["windv"][k], a["nomv1"] if k == 0 else 0.0, a["ang"][k], *([150.0] * 12),
                       0, 0, 0, 1.1, 0.9, 1.1, 0.9, 33, a["tab1"] if k == 0 else 0, 0.0, 0.0, 0.0))
    bb = d["b"]
    p = bb["pairs"]
    out += [rec(4, 2, 3, "B", 1, 1, 1, 0.0, 0.0, 2, "T3W B", 1, 1, 1.0, 0, 1.0, 0, 1.0, 0, 1.0,
                "YNyn0d1", 0),
            rec(p["12"][0], p["12"][1], 100.0, p["23"][0], p["23"][1], 100.0, p["31"][0],
                p["31"][1], 100.0, abs(v[102]), deg[102])]
    for k, bus in enumerate((4, 2, 3)):
        out.append(rec(bb["windv"][k], 0.0, bb["ang"][k], *([100.0] * 12), 0, 0, 0, 1.1, 0.9,
                       1.1, 0.9, 33, 0, 0.0, 0.0, 0.0))
    out += [end("TRANSFORMER", "AREA"), end("AREA", "TWO-TERMINAL DC"),
            end("TWO-TERMINAL DC", "VSC DC LINE"), end("VSC DC LINE", "IMPEDANCE CORRECTION")]
    pts = d["table"]
    out.append(rec(1, pts[0][0], pts[0][1], 0.0, pts[1][0], pts[1][1], 0.0))
    out.append(rec(pts[2][0], pts[2][1], 0.0, 0.0, 0.0, 0.0))
    for sec, nxt in (("IMPEDANCE CORRECTION", "MULTI-TERMINAL DC"),
                     ("MULTI-TERMINAL DC", "MULTI-SECTION LINE"), ("MULTI-SECTION LINE", "ZONE"),
                     ("ZONE", "INTER-AREA TRANSFER"), ("INTER-AREA TRANSFER", "OWNER"),
                     ("OWNER", "FACTS DEVICE"), ("FACTS DEVICE", "SWITCHED SHUNT"),
                     ("SWITCHED SHUNT", "GNE DEVICE"), ("GNE DEVICE", "INDUCTION MACHINE"),
                     ("INDUCTION MACHINE", "SUBSTATION"), ("SUBSTATION", None)):
        out.append(end(sec, nxt))
    return "\n".join(out + ["Q", ""])


def main() -> None:
    files = {"wscc9_v33.raw": wscc_v33(), "wscc9_v35.raw": wscc_v35(), "wscc9.dyr": WSCC_DYR,
             "kundur_v33.raw": kundur_v33(), "kundur.dyr": KUNDUR_DYR,
             "t3w_v34.raw": t3w_v34(), "cigre.dyr": CIGRE_DYR, "mtdc_v33.raw": mtdc_v33()}
    for mode in CIGRE_MODES:
        files[f"cigre_{mode}_v33.raw"] = cigre_v33(mode)
    for name, text in files.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print("wrote", name)


if __name__ == "__main__":
    main()
