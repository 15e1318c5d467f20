"""IEEE 39-bus "New England" system, 100 MVA, 60 Hz.

Network and power-flow data: transcribed from MATPOWER's ``case39.m`` (file
``data/case39.m`` of the MATPOWER/matpower repository, stored version at commit
4b224ab9601dc732e6e9caf8d0295b1e78ac383b).  MATPOWER took the data from G. W. Bills et al.,
"On-Line Stability Analysis Study", EEI report RP90-1, 1970, as also published by T. Athay,
R. Podmore, S. Virmani, IEEE Trans. PAS-98(2), 1979, and M. A. Pai, *Energy Function Analysis
for Power System Stability*, Kluwer, 1989; MATPOWER added bus 39's load and generation, Q limits
at buses 31 and 39, rates, areas and voltage limits, raised Pmax at bus 34 to 508 MW, and stores
a re-solved power flow (Vm, Va, Pg, Qg), reproduced below as ``PUBLISHED_SOLUTION``.  That
stored solution was computed without enforcing Q limits (MATPOWER's notes: Qg = -1.37 Mvar at
bus 37 is below its Qmin of 0, Pg = 677.87 MW at bus 31 above its Pmax of 646).

Dynamic data: IEEE PES-TR18, "Benchmark Systems for Small-Signal Stability Analysis and
Control" (IEEE PES Task Force on Benchmark Systems for Stability Controls, Aug. 2015), New
England 39-bus system, as transcribed in OpenIPSL (``OpenIPSL.Data.PowerPlant.PESTR18``; read
from the ``maguilerac/OpenIPSL`` copy, files ``MachineData/NewEngland39/Machine1..10.mo``,
``ESData/NewEngland39/ESST1A1.mo`` ("Table 5.37 in IEEE PES-TR18"),
``PSSData/NewEngland39/IEEEST1..10.mo`` ("Table 5.38"); commit
b6f973f7e5e6cf09cecc151f90e24e2ad3b5e5eb).
PES-TR18 numbers the units 1..10 with unit 1 at bus 39 and unit 10 at bus 30
(OpenIPSL's NE39 system model connects NE39Unit1 to bus 39, NE39Unit2..9 to buses 31..38,
NE39Unit10 to bus 30).  Here generator ids are bus numbers.

Branch ids follow ``1000*from_bus + 10*to_bus + circuit`` with MATPOWER's from/to order
(e.g. line 16-19 is 16191; the transformer 12-11 is 12111; MATPOWER's tap is on the from side,
as in casa_dyn).  A MATPOWER branch with a nonzero ratio is a transformer (12 of the 46).
"""
from __future__ import annotations

from casa_dyn.case.case import Case

NAME = "ieee39"
SOURCE = ("MATPOWER case39.m (MATPOWER/matpower data/case39.m @ 4b224ab9) for the network and "
          "power flow; IEEE PES-TR18 (2015) New England 39-bus machine/exciter/PSS data via "
          "OpenIPSL PESTR18 records for the dynamic data")
CITATION = ("R. D. Zimmerman et al., MATPOWER case39 (after G. W. Bills et al., EEI RP90-1, 1970; "
            "T. Athay et al., IEEE Trans. PAS-98(2):573-584, 1979; M. A. Pai, Energy Function "
            "Analysis for Power System Stability, Kluwer, 1989); IEEE PES-TR18, Benchmark Systems "
            "for Small-Signal Stability Analysis and Control, 2015, Tables 5.37-5.38")
BASE_MVA = 100.0
FREQ_HZ = 60.0

# ------------------------------------------------------------------------ buses (mpc.bus)
# All buses 345 kV in MATPOWER (generator terminal voltages are not given); Vmin/Vmax
# 0.94/1.06 added by MATPOWER.  Type 3 slack (bus 31), 2 PV (30, 32-39), 1 PQ.
# Loads Pd/Qd are in LOAD below; no bus shunts (Gs = Bs = 0 everywhere).
BUS = (
    # id  type  area
    (1, 1, 2), (2, 1, 2), (3, 1, 2), (4, 1, 1), (5, 1, 1), (6, 1, 1), (7, 1, 1), (8, 1, 1),
    (9, 1, 1), (10, 1, 1), (11, 1, 1), (12, 1, 1), (13, 1, 1), (14, 1, 1), (15, 1, 3),
    (16, 1, 3), (17, 1, 2), (18, 1, 2), (19, 1, 3), (20, 1, 3), (21, 1, 3), (22, 1, 3),
    (23, 1, 3), (24, 1, 3), (25, 1, 2), (26, 1, 2), (27, 1, 2), (28, 1, 3), (29, 1, 3),
    (30, 2, 2), (31, 3, 1), (32, 2, 1), (33, 2, 3), (34, 2, 3), (35, 2, 3), (36, 2, 3),
    (37, 2, 2), (38, 2, 3), (39, 2, 1),
)
BASE_KV = 345.0
VMIN_PU, VMAX_PU = 0.94, 1.06

# ------------------------------------------------------------------------ loads (mpc.bus Pd, Qd)
LOAD = (
    # bus  p_mw    q_mvar
    (1,    97.6,   44.2),
    (3,    322.0,  2.4),
    (4,    500.0,  184.0),
    (7,    233.8,  84.0),
    (8,    522.0,  176.6),
    (9,    6.5,    -66.6),
    (12,   8.53,   88.0),
    (15,   320.0,  153.0),
    (16,   329.0,  32.3),
    (18,   158.0,  30.0),
    (20,   680.0,  103.0),
    (21,   274.0,  115.0),
    (23,   247.5,  84.6),
    (24,   308.6,  -92.2),
    (25,   224.0,  47.2),
    (26,   139.0,  17.0),
    (27,   281.0,  75.5),
    (28,   206.0,  27.6),
    (29,   283.5,  26.9),
    (31,   9.2,    4.6),
    (39,   1104.0, 250.0),
)

# ------------------------------------------------------------------------ generators (mpc.gen)
# mbase_mva: MATPOWER stores 100 for every unit; the dynamic data below are on the PES-TR18
# machine bases (OpenIPSL M_b), so mbase_mva carries those.  Pg of the slack (bus 31) is
# MATPOWER's solved value, used only as an initial value.
GENERATOR = (
    # bus  tr18_unit  p_mw     q_max   q_min   vm_set   p_max  p_min  mbase_mva
    (30,   10,        250.0,   400.0,  140.0,  1.0499,  1040.0, 0.0,  200.0),
    (31,   2,         677.871, 300.0,  -100.0, 0.982,   646.0,  0.0,  100.0),
    (32,   3,         650.0,   300.0,  150.0,  0.9841,  725.0,  0.0,  200.0),
    (33,   4,         632.0,   250.0,  0.0,    0.9972,  652.0,  0.0,  200.0),
    (34,   5,         508.0,   167.0,  0.0,    1.0123,  508.0,  0.0,  100.0),
    (35,   6,         650.0,   300.0,  -100.0, 1.0494,  687.0,  0.0,  200.0),
    (36,   7,         560.0,   240.0,  0.0,    1.0636,  580.0,  0.0,  200.0),
    (37,   8,         540.0,   250.0,  0.0,    1.0275,  564.0,  0.0,  200.0),
    (38,   9,         830.0,   300.0,  -150.0, 1.0265,  865.0,  0.0,  200.0),
    (39,   1,         1000.0,  300.0,  -100.0, 1.03,    1100.0, 0.0,  2000.0),
)

# ------------------------------------------------------------------------ branches (mpc.branch)
# r, x, b in pu on 100 MVA (b = total line charging); rate = MATPOWER rateA (MVA).
LINE = (
    # from  to   r_pu     x_pu     b_pu     rate_mva
    (1,    2,    0.0035,  0.0411,  0.6987,  600.0),
    (1,    39,   0.0010,  0.0250,  0.7500,  1000.0),
    (2,    3,    0.0013,  0.0151,  0.2572,  500.0),
    (2,    25,   0.0070,  0.0086,  0.1460,  500.0),
    (3,    4,    0.0013,  0.0213,  0.2214,  500.0),
    (3,    18,   0.0011,  0.0133,  0.2138,  500.0),
    (4,    5,    0.0008,  0.0128,  0.1342,  600.0),
    (4,    14,   0.0008,  0.0129,  0.1382,  500.0),
    (5,    6,    0.0002,  0.0026,  0.0434,  1200.0),
    (5,    8,    0.0008,  0.0112,  0.1476,  900.0),
    (6,    7,    0.0006,  0.0092,  0.1130,  900.0),
    (6,    11,   0.0007,  0.0082,  0.1389,  480.0),
    (7,    8,    0.0004,  0.0046,  0.0780,  900.0),
    (8,    9,    0.0023,  0.0363,  0.3804,  900.0),
    (9,    39,   0.0010,  0.0250,  1.2000,  900.0),
    (10,   11,   0.0004,  0.0043,  0.0729,  600.0),
    (10,   13,   0.0004,  0.0043,  0.0729,  600.0),
    (13,   14,   0.0009,  0.0101,  0.1723,  600.0),
    (14,   15,   0.0018,  0.0217,  0.3660,  600.0),
    (15,   16,   0.0009,  0.0094,  0.1710,  600.0),
    (16,   17,   0.0007,  0.0089,  0.1342,  600.0),
    (16,   19,   0.0016,  0.0195,  0.3040,  600.0),
    (16,   21,   0.0008,  0.0135,  0.2548,  600.0),
    (16,   24,   0.0003,  0.0059,  0.0680,  600.0),
    (17,   18,   0.0007,  0.0082,  0.1319,  600.0),
    (17,   27,   0.0013,  0.0173,  0.3216,  600.0),
    (21,   22,   0.0008,  0.0140,  0.2565,  900.0),
    (22,   23,   0.0006,  0.0096,  0.1846,  600.0),
    (23,   24,   0.0022,  0.0350,  0.3610,  600.0),
    (25,   26,   0.0032,  0.0323,  0.5310,  600.0),
    (26,   27,   0.0014,  0.0147,  0.2396,  600.0),
    (26,   28,   0.0043,  0.0474,  0.7802,  600.0),
    (26,   29,   0.0057,  0.0625,  1.0290,  600.0),
    (28,   29,   0.0014,  0.0151,  0.2490,  600.0),
)

# Transformers: MATPOWER branches with a nonzero ratio; tap (ratio) on the from side.
TRANSFORMER = (
    # from  to   r_pu     x_pu     ratio_pu  rate_mva
    (2,    30,   0.0,     0.0181,  1.025,    900.0),
    (6,    31,   0.0,     0.0250,  1.070,    1800.0),
    (10,   32,   0.0,     0.0200,  1.070,    900.0),
    (12,   11,   0.0016,  0.0435,  1.006,    500.0),
    (12,   13,   0.0016,  0.0435,  1.006,    500.0),
    (19,   20,   0.0007,  0.0138,  1.060,    900.0),
    (19,   33,   0.0007,  0.0142,  1.070,    900.0),
    (20,   34,   0.0009,  0.0180,  1.009,    900.0),
    (22,   35,   0.0,     0.0143,  1.025,    900.0),
    (23,   36,   0.0005,  0.0272,  1.000,    900.0),
    (25,   37,   0.0006,  0.0232,  1.025,    900.0),
    (29,   38,   0.0008,  0.0156,  1.025,    1200.0),
)

# ------------------------------------------------------------------------ published solution
# MATPOWER case39.m's stored, re-solved power flow (same file and commit as above): bus Vm (pu)
# and Va (deg) from mpc.bus, generator Pg/Qg (MW/Mvar) from mpc.gen.  Q limits not enforced.
PUBLISHED_SOLUTION = {
    "bus_vm_va": (
        # bus  vm_pu        va_deg
        (1,  1.0393836,  -13.536602), (2,  1.0484941,  -9.7852666), (3,  1.0307077, -12.276384),
        (4,  1.00446,    -12.626734), (5,  1.0060063, -11.192339),  (6,  1.0082256, -10.40833),
        (7,  0.99839728, -12.755626), (8,  0.99787232, -13.335844), (9,  1.038332,  -14.178442),
        (10, 1.0178431,  -8.170875),  (11, 1.0133858, -8.9369663),  (12, 1.000815,  -8.9988236),
        (13, 1.014923,   -8.9299272), (14, 1.012319,  -10.715295),  (15, 1.0161854, -11.345399),
        (16, 1.0325203,  -10.033348), (17, 1.0342365, -11.116436),  (18, 1.0315726, -11.986168),
        (19, 1.0501068,  -5.4100729), (20, 0.99101054, -6.8211783), (21, 1.0323192, -7.6287461),
        (22, 1.0501427,  -3.1831199), (23, 1.0451451, -3.3812763),  (24, 1.038001,  -9.9137585),
        (25, 1.0576827,  -8.3692354), (26, 1.0525613, -9.4387696),  (27, 1.0383449, -11.362152),
        (28, 1.0503737,  -5.9283592), (29, 1.0501149, -3.1698741),  (30, 1.0499,    -7.3704746),
        (31, 0.982,      0.0),        (32, 0.9841,    -0.1884374),  (33, 0.9972,    -0.19317445),
        (34, 1.0123,     -1.631119),  (35, 1.0494,    1.7765069),   (36, 1.0636,    4.4684374),
        (37, 1.0275,     -1.5828988), (38, 1.0265,    3.8928177),   (39, 1.03,      -14.535256),
    ),
    "gen_p_q": (
        # bus  p_mw     q_mvar
        (30, 250.0,   161.762), (31, 677.871, 221.574), (32, 650.0, 206.965),
        (33, 632.0,   108.293), (34, 508.0,   166.688), (35, 650.0, 210.661),
        (36, 560.0,   100.165), (37, 540.0,   -1.36945), (38, 830.0, 21.7327),
        (39, 1000.0,  78.4674),
    ),
}

# ------------------------------------------------------------------------ dynamic data
# PES-TR18 machine data (OpenIPSL MachineData/NewEngland39/MachineN.mo), pu on the machine base
# M_b (generator.mbase_mva above).  All units: D = 0, Ra = 0, S(1.0) = S(1.2) = 0 (no saturation),
# X''q = X''d, T''do = 0.05 s, T''qo = 0.035 s.  Unit 6 (bus 35): the stored OpenIPSL copy has
# two versions of Machine6.mo, with M_b = 100 MVA (commit b6f973f7) and 200 MVA (commit
# fa95ae2f); 200 MVA is used because only it is consistent with the older 100-MVA-base data of
# Athay/Pai for that unit (H = 34.8 s, x'd = 0.05 pu on 100 MVA, i.e. 17.4 s and 0.1 pu on
# 200 MVA, as reproduced in a public MATPOWER-format ``case39mac.m`` machine file), the same
# scaling every other unit's record follows.  Unit 10 (bus 30, hydro): T'qo = 0.01 s as given
# (the 100-MVA data have T'qo = 0, i.e. no q-axis transient circuit).
_GENROU_ROWS = (
    # bus  T'do   T''do  T'qo   T''qo  H      Xd      Xq     X'd     X'q     X''d   Xl
    (30,   10.2,  0.05,  0.01,  0.035, 21.0,  0.2,    0.138, 0.062,  0.06,   0.05,  0.025),
    (31,   6.56,  0.05,  1.5,   0.035, 30.3,  0.295,  0.282, 0.0697, 0.17,   0.05,  0.035),
    (32,   5.7,   0.05,  1.5,   0.035, 17.9,  0.499,  0.474, 0.1062, 0.1752, 0.09,  0.0608),
    (33,   5.69,  0.05,  1.5,   0.035, 14.3,  0.524,  0.516, 0.0872, 0.332,  0.07,  0.059),
    (34,   5.4,   0.05,  0.44,  0.035, 26.0,  0.67,   0.62,  0.132,  0.166,  0.089, 0.054),
    (35,   7.3,   0.05,  0.4,   0.035, 17.4,  0.508,  0.482, 0.1,    0.1628, 0.08,  0.0448),
    (36,   5.66,  0.05,  1.5,   0.035, 13.2,  0.59,   0.584, 0.098,  0.372,  0.088, 0.0644),
    (37,   6.7,   0.05,  0.41,  0.035, 12.15, 0.58,   0.56,  0.114,  0.1822, 0.09,  0.056),
    (38,   4.79,  0.05,  1.96,  0.035, 17.25, 0.4212, 0.41,  0.114,  0.1174, 0.09,  0.0596),
    (39,   7.0,   0.05,  0.7,   0.035, 25.0,  0.4,    0.38,  0.12,   0.16,   0.08,  0.06),
)

# IEEEST (PES-TR18 Table 5.38 via OpenIPSL IEEESTn.mo): A1..A6 = 0, T5 = T6 = 10 s,
# LSMAX/LSMIN = +-0.2 pu, VCU = VCL = 0 (no output-voltage cut-off) for every unit.
_IEEEST_ROWS = (
    # bus  T1    T2    T3   T4    KS
    (30,   1.0,  0.05, 3.0, 0.5,  1.0),
    (31,   5.0,  0.4,  1.0, 0.1,  0.5),
    (32,   3.0,  0.2,  2.0, 0.2,  0.5),
    (33,   1.0,  0.1,  1.0, 0.3,  1.0),
    (34,   1.5,  0.2,  1.0, 0.1,  1.0),
    (35,   0.5,  0.1,  0.5, 0.05, 4.0),
    (36,   0.2,  0.02, 0.5, 0.1,  7.5),
    (37,   1.0,  0.2,  1.0, 0.1,  2.0),
    (38,   1.0,  0.5,  2.0, 0.1,  2.0),
    (39,   5.0,  0.6,  3.0, 0.5,  1.0),
)

DYNAMIC = {
    # GENROU, PSS/E CON order: T'do, T''do, T'qo, T''qo (s), H (s), D (pu), Xd, Xq, X'd, X'q,
    # X''d, Xl (pu, machine base), S(1.0), S(1.2); ra_pu belongs to PSS/E's generator record.
    "genrou": [
        {"id": r[0], "gen": r[0], "t_d0p_s": r[1], "t_d0pp_s": r[2], "t_q0p_s": r[3],
         "t_q0pp_s": r[4], "h_s": r[5], "d_pu": 0.0, "xd_pu": r[6], "xq_pu": r[7],
         "xdp_pu": r[8], "xqp_pu": r[9], "xdpp_pu": r[10], "xl_pu": r[11], "s10": 0.0,
         "s12": 0.0, "ra_pu": 0.0}
        for r in _GENROU_ROWS
    ],
    # ESST1A, the same for all ten units (PES-TR18 Table 5.37 via OpenIPSL ESST1A1.mo), PSS/E CON
    # order: TR (s), VIMAX, VIMIN (pu), TC, TB, TC1, TB1 (s), KA, TA (s), VAMAX, VAMIN, VRMAX,
    # VRMIN (pu), KC, KF, TF (s), KLR, ILR.  +-999 means "no limit".  ICONs UEL = 1, VOS = 1: the
    # stabilizer signal enters the error sum and no UEL signal is present (OpenIPSL's NE39 plants
    # feed the PSS output to the VOTHSG input and hold the VOS = 2 input at zero).
    "esst1a": [
        {"id": r[0], "gen": r[0], "uel": 1, "vos": 1, "tr_s": 0.01, "vimax_pu": 999.0, "vimin_pu": -999.0, "tc_s": 1.0,
         "tb_s": 10.0, "tc1_s": 0.0, "tb1_s": 0.0, "ka": 200.0, "ta_s": 0.015, "vamax_pu": 5.0,
         "vamin_pu": -5.0, "vrmax_pu": 999.0, "vrmin_pu": -999.0, "kc": 0.0, "kf": 0.0,
         "tf_s": 0.0, "klr": 0.0, "ilr_pu": 0.0}
        for r in _GENROU_ROWS
    ],
    # IEEEST PSS, PSS/E CON order: A1..A6, T1..T6 (s), KS, LSMAX, LSMIN, VCU, VCL (pu).  ICON input
    # code 1 (rotor speed deviation): OpenIPSL's NE39 plant model connects the machine speed
    # (deviation) to the PSS input.
    "ieeest": [
        {"id": r[0], "gen": r[0], "input_code": 1, "input_bus": 0, "a1": 0.0, "a2": 0.0, "a3": 0.0, "a4": 0.0, "a5": 0.0, "a6": 0.0,
         "t1_s": r[1], "t2_s": r[2], "t3_s": r[3], "t4_s": r[4], "t5_s": 10.0, "t6_s": 10.0,
         "ks": r[5], "lsmax_pu": 0.2, "lsmin_pu": -0.2, "vcu_pu": 0.0, "vcl_pu": 0.0}
        for r in _IEEEST_ROWS
    ],
    # Governors: PES-TR18's New England records in OpenIPSL carry no turbine-governor data, so
    # none are given here (no tgov1/hygov).
}


#: the DYNAMIC tables written to the case
DYNAMIC_TABLES = ("genrou", "esst1a", "ieeest")


def _branch_id(f: int, t: int, circuit: int = 1) -> int:
    return 1000 * f + 10 * t + circuit


def build() -> Case:
    bus = {
        "id": [b[0] for b in BUS], "base_kv": [BASE_KV] * len(BUS), "type": [b[1] for b in BUS],
        "area": [b[2] for b in BUS], "vmin_pu": [VMIN_PU] * len(BUS),
        "vmax_pu": [VMAX_PU] * len(BUS),
    }
    # flat start, except the voltage-controlled buses start at their setpoints
    vset = {g[0]: g[5] for g in GENERATOR}
    bus["vm_pu"] = [vset.get(b, 1.0) for b in bus["id"]]
    gen = {
        "id": [g[0] for g in GENERATOR],
        "name": [f"G{g[0]} (PES-TR18 unit {g[1]})" for g in GENERATOR],
        "bus": [g[0] for g in GENERATOR], "p_mw": [g[2] for g in GENERATOR],
        "q_max_mvar": [g[3] for g in GENERATOR], "q_min_mvar": [g[4] for g in GENERATOR],
        "vm_set_pu": [g[5] for g in GENERATOR], "p_max_mw": [g[6] for g in GENERATOR],
        "p_min_mw": [g[7] for g in GENERATOR], "mbase_mva": [g[8] for g in GENERATOR],
    }
    line = {
        "id": [_branch_id(r[0], r[1]) for r in LINE], "name": [f"{r[0]}-{r[1]}" for r in LINE],
        "from_bus": [r[0] for r in LINE], "to_bus": [r[1] for r in LINE],
        "r_pu": [r[2] for r in LINE], "x_pu": [r[3] for r in LINE], "b_pu": [r[4] for r in LINE],
        "rate_mva": [r[5] for r in LINE],
    }
    tr = {
        "id": [_branch_id(r[0], r[1]) for r in TRANSFORMER],
        "name": [f"{r[0]}-{r[1]}" for r in TRANSFORMER],
        "from_bus": [r[0] for r in TRANSFORMER], "to_bus": [r[1] for r in TRANSFORMER],
        "r_pu": [r[2] for r in TRANSFORMER], "x_pu": [r[3] for r in TRANSFORMER],
        "ratio_pu": [r[4] for r in TRANSFORMER], "rate_mva": [r[5] for r in TRANSFORMER],
    }
    load = {
        "id": [r[0] for r in LOAD], "name": [f"Load {r[0]}" for r in LOAD],
        "bus": [r[0] for r in LOAD], "p_mw": [r[1] for r in LOAD], "q_mvar": [r[2] for r in LOAD],
    }
    tables = {"bus": bus, "line": line, "transformer": tr, "generator": gen, "load": load}
    for name in DYNAMIC_TABLES:
        rows = DYNAMIC[name]
        tables[name] = {k: [r[k] for r in rows] for k in rows[0]}
    return Case.from_tables(NAME, tables, base_mva=BASE_MVA, freq_hz=FREQ_HZ, source=SOURCE,
                            citation=CITATION)


if __name__ == "__main__":
    print(build().content_hash())
