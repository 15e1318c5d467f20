"""WSCC 3-machine, 9-bus system (Anderson & Fouad, Example 2.6), 100 MVA, 60 Hz.

Source: P. M. Anderson and A. A. Fouad, *Power System Control and Stability*, 2nd ed.,
IEEE Press / Wiley, 2003, chapter 2: Fig. 2.18 (one-line diagram with impedances, per unit on
100 MVA), Table 2.1 (generator data), Example 2.6 (load flow, Fig. 2.19) and Example 2.7.
The numbers below were cross-checked against casa_dyn's REFERENCE.md section 4.3 and against
the PST data file ``sandialabs/snl-pstess:data/data3m9b.m`` (same branch, load and x'd/H data).

Branch ids follow ``1000*from_bus + 10*to_bus + circuit``: the line between buses 5 and 7 is
id 5071, the step-up transformer of generator 2 is transformer id 2071.

Power flow (Example 2.6): bus 1 slack at 1.04 pu, buses 2 and 3 PV at 1.025 pu with
P = 163 MW and 85 MW; loads are constant power in the power flow.  The textbook solution, as
restated in REFERENCE.md 4.3: Pg1 = 71.64 MW, Qg1/Qg2/Qg3 = 27.05 / 6.65 / -10.86 Mvar.
"""
from __future__ import annotations

from casa_dyn.case.case import Case

NAME = "wscc9"
SOURCE = ("Anderson & Fouad, Power System Control and Stability, 2nd ed. (2003), "
          "Example 2.6, Fig. 2.18 and Table 2.1 (WSCC 3-machine 9-bus system)")
CITATION = ("P. M. Anderson, A. A. Fouad, Power System Control and Stability, 2nd ed., "
            "IEEE Press/Wiley-Interscience, 2003, ch. 2, Example 2.6, Fig. 2.18-2.19, Table 2.1")
BASE_MVA = 100.0
FREQ_HZ = 60.0

# ------------------------------------------------------------------------ network (Fig. 2.18)
# Bus base voltages: generator terminals 16.5 / 18 / 13.8 kV (Table 2.1), network 230 kV.
# type: 3 slack, 2 PV, 1 PQ.  vm_pu/va_deg are the initial guesses (flat start).
BUS = (
    # id  name        base_kv  type  vm_pu  va_deg
    (1, "Gen 1",      16.5,    3,    1.040, 0.0),
    (2, "Gen 2",      18.0,    2,    1.025, 0.0),
    (3, "Gen 3",      13.8,    2,    1.025, 0.0),
    (4, "Bus 4",      230.0,   1,    1.0,   0.0),
    (5, "Load A",     230.0,   1,    1.0,   0.0),
    (6, "Load B",     230.0,   1,    1.0,   0.0),
    (7, "Bus 7",      230.0,   1,    1.0,   0.0),
    (8, "Load C",     230.0,   1,    1.0,   0.0),
    (9, "Bus 9",      230.0,   1,    1.0,   0.0),
)

# Lines: pu on 100 MVA; b_pu is the total charging (Fig. 2.18 shows B/2 at each end).
LINE = (
    # id    name     from  to   r_pu     x_pu     b_pu
    (4051, "4-5",    4,    5,   0.0100,  0.0850,  0.176),
    (4061, "4-6",    4,    6,   0.0170,  0.0920,  0.158),
    (5071, "5-7",    5,    7,   0.0320,  0.1610,  0.306),
    (6091, "6-9",    6,    9,   0.0390,  0.1700,  0.358),
    (7081, "7-8",    7,    8,   0.0085,  0.0720,  0.149),
    (8091, "8-9",    8,    9,   0.0119,  0.1008,  0.209),
)

# Step-up transformers: pure reactance on 100 MVA, nominal ratio (Fig. 2.18).
TRANSFORMER = (
    # id    name        from  to  r_pu  x_pu     ratio_pu
    (1041, "T1 1-4",    1,    4,  0.0,  0.0576,  1.0),
    (2071, "T2 2-7",    2,    7,  0.0,  0.0625,  1.0),
    (3091, "T3 3-9",    3,    9,  0.0,  0.0586,  1.0),
)

# Generators: P and V setpoints of Example 2.6; ratings (mbase) from Table 2.1.
# The slack's p_mw is only the initial value (the published solution is 71.6 MW).
GENERATOR = (
    # id  name    bus  p_mw   vm_set_pu  mbase_mva
    (1,  "G1",    1,   0.0,   1.040,     247.5),   # hydro unit, 16.5 kV
    (2,  "G2",    2,   163.0, 1.025,     192.0),   # steam unit, 18 kV
    (3,  "G3",    3,   85.0,  1.025,     128.0),   # steam unit, 13.8 kV
)

# Loads (Fig. 2.18): constant power in the power flow.  For the transient-stability examples
# (Example 2.7 onwards) A&F convert them to constant impedance: p_z = q_z = 1.
LOAD = (
    # id  name      bus  p_mw   q_mvar
    (5,  "Load A",  5,   125.0, 50.0),
    (6,  "Load B",  6,   90.0,  30.0),
    (8,  "Load C",  8,   100.0, 35.0),
)

# ------------------------------------------------------------------------ dynamic data
# Classical machines (GENCLS), A&F Table 2.1 / Example 2.6, as restated in REFERENCE.md 4.3:
# x'd = 0.0608 / 0.1198 / 0.1813 pu and H = 23.64 / 6.40 / 3.01 s, all on the 100 MVA SYSTEM
# base (Table 2.1 states its reactances on 100 MVA; REFERENCE.md 4.3 reproduces E' with them).
# casa_dyn keeps model data on the MACHINE base (generator.mbase_mva = 247.5 / 192 / 128 MVA),
# so they are converted here: H_mach = H_sys * S_sys / S_mach, x_mach = x_sys * S_mach / S_sys.
# D = 0 (the classical examples have no damping).  Ra = 0.
_XDP_SYS = {1: 0.0608, 2: 0.1198, 3: 0.1813}   # pu on 100 MVA
_H_SYS = {1: 23.64, 2: 6.40, 3: 3.01}          # s on 100 MVA
_MBASE = {g[0]: g[5] for g in GENERATOR}

DYNAMIC = {
    # GENCLS: PSS/E CONs H (s, machine base), D (pu); the source impedance X'd is in PSS/E's
    # generator record (ZSORCE), carried here as xdp_pu (pu, machine base), ra_pu likewise.
    "gencls": [
        {"id": g, "gen": g, "h_s": _H_SYS[g] * BASE_MVA / _MBASE[g], "d_pu": 0.0,
         "xdp_pu": _XDP_SYS[g] * _MBASE[g] / BASE_MVA, "ra_pu": 0.0}
        for g in (1, 2, 3)
    ],
    # Example 2.6/2.7 use classical machines only: no exciter or governor data are used there.
    # (Table 2.1 also lists two-axis data, not transcribed here: not cross-checked.)
}


def _columns(names, rows):
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}


def build() -> Case:
    tables = {
        "bus": _columns(("id", "name", "base_kv", "type", "vm_pu", "va_deg"), BUS),
        "line": _columns(("id", "name", "from_bus", "to_bus", "r_pu", "x_pu", "b_pu"), LINE),
        "transformer": _columns(("id", "name", "from_bus", "to_bus", "r_pu", "x_pu", "ratio_pu"),
                                TRANSFORMER),
        "generator": _columns(("id", "name", "bus", "p_mw", "vm_set_pu", "mbase_mva"), GENERATOR),
        "load": _columns(("id", "name", "bus", "p_mw", "q_mvar"), LOAD),
    }
    for name, rows in DYNAMIC.items():
        tables[name] = {k: [r[k] for r in rows] for k in rows[0]}
    return Case.from_tables(NAME, tables, base_mva=BASE_MVA, freq_hz=FREQ_HZ, source=SOURCE,
                            citation=CITATION)


if __name__ == "__main__":
    print(build().content_hash())
