"""Kundur two-area, four-machine system (Kundur, Example 12.6), 100 MVA, 60 Hz.

Source: P. Kundur, *Power System Stability and Control*, McGraw-Hill, 1994, Example 12.6:
Fig. E12.8 (one-line diagram), the machine, transformer, line and load data in
the example text, the load-flow solution quoted with it, and Table E12.3 (modes with manual
excitation).  Restated in casa_dyn's REFERENCE.md section 4.2, cross-checked there against the
colib.net "Kundur two-area system" page; the network (two parallel 110 km circuits 7-8 and 8-9,
per-km data, loads and capacitors) also agrees with Dynawo's
``dynawo/dynawo:dynawo/sources/Models/Modelica/Dynawo/Examples/TwoAreas/Network.mo``.

Branch ids follow ``1000*from_bus + 10*to_bus + circuit``: the two tie circuits 7-8 are lines
7081 and 7082, the two circuits 8-9 are 8091 and 8092.

Power flow: G3 (bus 3) is the slack at 1.03 pu and -6.8 deg (the book's value, so angles
compare directly with the book); G1, G2, G4 hold P = 700 MW at 1.03 / 1.01 / 1.01 pu.  Loads
are constant power and the capacitors constant impedance.  The book's solution:
G1 700 + j185 at 1.03/20.2 deg, G2 700 + j235 at 1.01/10.5 deg, G3 719 + j176 at
1.03/-6.8 deg, G4 700 + j202 at 1.01/-17.0 deg; about 400 MW flows from area 1 to area 2.
"""
from __future__ import annotations

import math

from casa_dyn.case.case import Case

NAME = "kundur2area"
SOURCE = ("Kundur, Power System Stability and Control (1994), Example 12.6, Fig. E12.8, "
          "Table E12.3 (two-area four-machine system)")
CITATION = ("P. Kundur, Power System Stability and Control, McGraw-Hill, 1994, "
            "Example 12.6, Fig. E12.8, Table E12.3")
BASE_MVA = 100.0
FREQ_HZ = 60.0

# ------------------------------------------------------------------------ network
# Generator terminals are 20 kV (buses 1-4), the network 230 kV (buses 5-11).
# Area 1 = G1, G2 side; area 2 = G3, G4 side.  Bus 8, the midpoint of the tie, is put in
# area 1 (the book does not assign it; only labels depend on this).
BUS = (
    # id  name     base_kv  type  vm_pu  va_deg  area
    (1,  "G1",     20.0,    2,    1.03,  0.0,    1),
    (2,  "G2",     20.0,    2,    1.01,  0.0,    1),
    (3,  "G3",     20.0,    3,    1.03,  -6.8,   2),   # slack: angle reference = book's -6.8 deg
    (4,  "G4",     20.0,    2,    1.01,  0.0,    2),
    (5,  "Bus 5",  230.0,   1,    1.0,   0.0,    1),
    (6,  "Bus 6",  230.0,   1,    1.0,   0.0,    1),
    (7,  "Bus 7",  230.0,   1,    1.0,   0.0,    1),
    (8,  "Bus 8",  230.0,   1,    1.0,   0.0,    1),
    (9,  "Bus 9",  230.0,   1,    1.0,   0.0,    2),
    (10, "Bus 10", 230.0,   1,    1.0,   0.0,    2),
    (11, "Bus 11", 230.0,   1,    1.0,   0.0,    2),
)

# Line parameters per km, pu on 100 MVA and 230 kV (Example 12.6): r, xL, bC (total charging).
R_PU_PER_KM = 0.0001
X_PU_PER_KM = 0.001
B_PU_PER_KM = 0.00175

# Lines with their lengths (Fig. E12.8).  Between buses 7 and 9 the book draws two parallel
# circuits of 220 km, each split at bus 8 into two 110 km sections: two circuits 7-8 and two
# circuits 8-9, each 110 km.
LINE = (
    # id     name        from  to  length_km
    (5061,  "5-6",       5,    6,  25.0),
    (6071,  "6-7",       6,    7,  10.0),
    (7081,  "7-8 #1",    7,    8,  110.0),
    (7082,  "7-8 #2",    7,    8,  110.0),
    (8091,  "8-9 #1",    8,    9,  110.0),
    (8092,  "8-9 #2",    8,    9,  110.0),
    (9101,  "9-10",      9,    10, 10.0),
    (10111, "10-11",     10,   11, 25.0),
)

# Step-up transformers: j0.15 pu on 900 MVA, 20/230 kV, nominal ratio (Example 12.6).
TRANSFORMER_X_PU_ON_RATING = 0.15
TRANSFORMER_RATING_MVA = 900.0
TRANSFORMER = (
    # id    name      from  to
    (1051, "T1 1-5",  1,    5),
    (2061, "T2 2-6",  2,    6),
    (3111, "T3 3-11", 3,    11),
    (4101, "T4 4-10", 4,    10),
)

# Generators: 900 MVA, 20 kV (Example 12.6).  p_mw of the slack G3 is only the initial value.
GENERATOR = (
    # id  name  bus  p_mw   vm_set_pu  mbase_mva
    (1,  "G1",  1,   700.0, 1.03,      900.0),
    (2,  "G2",  2,   700.0, 1.01,      900.0),
    (3,  "G3",  3,   719.0, 1.03,      900.0),
    (4,  "G4",  4,   700.0, 1.01,      900.0),
)

# Loads (Example 12.6): constant power in the load flow.  For the dynamic (small-signal) study
# the book represents active power as constant current and reactive power as constant impedance
# (Kundur 1994, Example 12.6 text; REFERENCE.md 4.2): p_i = 1, q_z = 1, used by the dynamics.
LOAD = (
    # id  name      bus  p_mw    q_mvar  p_z  p_i  q_z  q_i
    (7,  "Load 7",  7,   967.0,  100.0,  0.0, 1.0, 1.0, 0.0),
    (9,  "Load 9",  9,   1767.0, 100.0,  0.0, 1.0, 1.0, 0.0),
)

# Shunt capacitors (Example 12.6): constant impedance, Mvar at 1 pu voltage.
SHUNT = (
    # id  name     bus  b_mvar
    (7,  "C7",     7,   200.0),
    (9,  "C9",     9,   350.0),
)

# ------------------------------------------------------------------------ dynamic data
# Machines, Example 12.6 (REFERENCE.md 4.2), all four identical except H; pu on the 900 MVA,
# 20 kV machine base.  Kundur's saturation model: psi_I = A_sat * exp(B_sat * (psi_at - psi_T1))
# for psi_at > psi_T1.  PSS/E's GENROU wants S(1.0) and S(1.2), defined as the extra field current
# relative to the air-gap line, S(psi) = psi_I / psi_at; derived below from A_sat, B_sat, psi_T1
# (a conversion, not a source value: S(1.0) = 0.03918, S(1.2) = 0.2227).
A_SAT, B_SAT, PSI_T1 = 0.015, 9.6, 0.9


def _s_pu(psi: float) -> float:
    return A_SAT * math.exp(B_SAT * (psi - PSI_T1)) / psi if psi > PSI_T1 else 0.0


_H_S = {1: 6.5, 2: 6.5, 3: 6.175, 4: 6.175}

DYNAMIC = {
    # GENROU, PSS/E CON order: T'do (s), T''do (s), T'qo (s), T''qo (s), H (s), D (pu),
    # Xd, Xq, X'd, X'q, X''d, Xl (pu, machine base), S(1.0), S(1.2).  Ra is in PSS/E's generator
    # record (ZSORCE R), carried here as ra_pu.  X''q = X''d = 0.25 in the book (GENROU has one
    # subtransient reactance).  KD = 0 in the book.  Kundur's exponential constants (A_SAT,
    # B_SAT, PSI_T1 above) enter only through S(1.0), S(1.2); GENROU fits PSS/E's quadratic
    # through those two points, so its curve differs from the book's between and beyond them.
    "genrou": [
        {"id": g, "gen": g, "t_d0p_s": 8.0, "t_d0pp_s": 0.03, "t_q0p_s": 0.4, "t_q0pp_s": 0.05,
         "h_s": _H_S[g], "d_pu": 0.0,
         "xd_pu": 1.8, "xq_pu": 1.7, "xdp_pu": 0.3, "xqp_pu": 0.55, "xdpp_pu": 0.25,
         "xl_pu": 0.2, "s10": _s_pu(1.0), "s12": _s_pu(1.2), "ra_pu": 0.0025}
        for g in (1, 2, 3, 4)
    ],
    # Exciter, Example 12.6: thyristor (static) exciter with high transient gain, KA = 200,
    # terminal-voltage transducer TR = 0.01 s; the transient-gain-reduction variant adds a
    # lead-lag TA = 1.0 s (lead), TB = 10.0 s (lag).  Values as used in Dynawo's transcription
    # ``.../Examples/TwoAreas/KundurPSS.mo`` (tR = 0.01, Ka = 200, Ta = 1.0, Tb = 10.0).
    # In PSS/E SEXS terms: K = 200, TA/TB = 1 (no TGR; TB = 0 bypasses the lead-lag) or, for the
    # TGR variant, TA/TB = 0.1 with TB = 10 s.  The case uses the exciter WITHOUT TGR because the
    # book pairs the PSS below with the high-transient-gain exciter (TGR is its alternative to a
    # PSS; REFERENCE.md 4.2 "Kundur's PSS for the thyristor-exciter case").  casa_dyn check: with
    # TGR and this PSS the inter-area mode is barely damped (zeta ~ 0.006), without TGR zeta ~ 0.14
    # (tests/test_models_pss.py).  SEXS has no transducer lag (tr_s is casa_dyn's extension).
    # The book's exciter is a pure gain (no exciter time constant: TE = 0) and gives no output
    # limits here: EMIN/EMAX = -999/999, casa_dyn's "no limit" convention (as ESST1A's VIMAX in
    # ieee39.py).
    "sexs": [
        {"id": g, "gen": g, "ta_tb": 1.0, "tb_s": 0.0, "k": 200.0, "te_s": 0.0,
         "emin_pu": -999.0, "emax_pu": 999.0, "tr_s": 0.01}
        for g in (1, 2, 3, 4)
    ],
    # PSS of Example 12.6 (REFERENCE.md 4.2, confidence L/M; gains and time constants match
    # Dynawo's KundurPSS.mo: KStab 20, T1 0.05, T2 0.02, T3 3, T4 5.4, TW 10): speed input,
    # gain * washout * two lead-lags.  As PSS/E IEEEST: A1..A6 = 0, T1..T4 as the lead-lags,
    # T5 = T6 = TW (washout sT5/(1+sT6)), KS = 20; ICON input code 1 (rotor speed deviation).
    # Output limits: REFERENCE.md quotes +-0.05 pu at low confidence and Dynawo's PssKundur2 has
    # none, so LSMAX/LSMIN = 999/-999 ("no limit"); VCU = VCL = 0 (no voltage cut-off).
    "ieeest": [
        {"id": g, "gen": g, "input_code": 1, "input_bus": 0,
         "a1": 0.0, "a2": 0.0, "a3": 0.0, "a4": 0.0, "a5": 0.0, "a6": 0.0,
         "t1_s": 0.05, "t2_s": 0.02, "t3_s": 3.0, "t4_s": 5.4, "t5_s": 10.0, "t6_s": 10.0,
         "ks": 20.0, "lsmax_pu": 999.0, "lsmin_pu": -999.0, "vcu_pu": 0.0, "vcl_pu": 0.0}
        for g in (1, 2, 3, 4)
    ],
    # Governors: none.  Example 12.6 holds mechanical torque constant (no tgov1/hygov data).
}


#: the DYNAMIC tables written to the case
DYNAMIC_TABLES = ("genrou", "sexs", "ieeest")


def _columns(names, rows):
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}


def build() -> Case:
    line = _columns(("id", "name", "from_bus", "to_bus", "length_km"), LINE)
    km = line.pop("length_km")
    line["r_pu"] = [R_PU_PER_KM * L for L in km]
    line["x_pu"] = [X_PU_PER_KM * L for L in km]
    line["b_pu"] = [B_PU_PER_KM * L for L in km]
    tr = _columns(("id", "name", "from_bus", "to_bus"), TRANSFORMER)
    x_sys = TRANSFORMER_X_PU_ON_RATING * BASE_MVA / TRANSFORMER_RATING_MVA  # 0.016667 pu
    tr["x_pu"] = [x_sys] * len(TRANSFORMER)
    tables = {
        "bus": _columns(("id", "name", "base_kv", "type", "vm_pu", "va_deg", "area"), BUS),
        "line": line,
        "transformer": tr,
        "generator": _columns(("id", "name", "bus", "p_mw", "vm_set_pu", "mbase_mva"), GENERATOR),
        "load": _columns(("id", "name", "bus", "p_mw", "q_mvar", "p_z", "p_i", "q_z", "q_i"), LOAD),
        "shunt": _columns(("id", "name", "bus", "b_mvar"), SHUNT),
    }
    for name in DYNAMIC_TABLES:
        rows = DYNAMIC[name]
        tables[name] = {k: [r[k] for r in rows] for k in rows[0]}
    return Case.from_tables(NAME, tables, base_mva=BASE_MVA, freq_hz=FREQ_HZ, source=SOURCE,
                            citation=CITATION)


if __name__ == "__main__":
    print(build().content_hash())
