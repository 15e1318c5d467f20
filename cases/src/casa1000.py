"""CASA-1000 study case: the summer export of 1,300 MW over the Sangtuda-Nowshera LCC bipole.

What the case is (docs/casa1000.md has the full description and the table of outcomes):

* **Central Asian AC side** (one synchronous system): the Kyrgyz part (Toktogul hydro, 4 units;
  Datka 500 kV; southern Kyrgyz load), the Datka-Sugd 500 kV line (477 km, with its shunt
  reactors), the Tajik 500 kV path north to south (Sugd - Dushanbe - Regar - Sangtuda) with
  Nurek (9 units), Rogun (the 2 units in service), Sangtuda-1 (4 units) and the Tajik summer
  load, and one equivalent machine for the rest of the Central Asian Power System (CAPS),
  tied to Regar (the Regar-Guzar 500 kV tie to Uzbekistan) and to Toktogul (the Kyrgyz ties).
* **HVDC**: a +-500 kV, 1,300 MW (650 MW per pole) 12-pulse LCC bipole from the Sangtuda
  rectifier to the Nowshera inverter, 750 km overhead line (T model per pole), converter
  transformers, AC filters and capacitor banks.
* **Pakistan side**: Nowshera 500 kV with local load and an equivalent of the NTDC grid
  behind the impedance that gives the short-circuit ratio ``SCR`` at the inverter
  (default 3.0, see ``SCR_DEFAULT``).

``build()`` gives ``cases/casa1000.h5``; ``build(kabul=True)`` the what-if three-terminal
variant with a 300 MW Kabul tap (``cases/src/casa1000_kabul.py``).

Every number below carries its source as a tag, or the word "assumed" with a reason.  Tags:

[C1]..[C12], [G1]..[G5]  ../shared/REFERENCE.md section 1 (CASA-1000 facts and plants, with
                         their primary sources: World Bank, CESI, Hitachi Energy, Barqi Tojik,
                         NTDC press, ...).
[R2.x]                   REFERENCE.md section 2 (QSS LCC modelling, typical HVDC values).
[SN]   Asia-Plus, 10 Nov 2009 and 30 Oct 2007 (asiaplustj.info): the 500 kV "South-North" line,
       350 km, joins the "Khujand" (Sugd) substation with the "Dushanbe" substation.
[NR]   Avesta.tj, 19 Dec 2011: "133 km (distance from the Nurek to Tursunzade)" (Regar is the
       substation at Tursunzade).
[RR]   Trend.az, 21 Nov 2012: the Rogun-Regar line "over 100 kilometers long".
[GR]   Asia-Plus 19 Feb 2021, energo-cis.ru Sep 2020: the 500 kV Guzar-Regar line L-507 is the
       Tajik-Uzbek tie that carries the parallel operation of the two systems.
[K3]   Kundur, Power System Stability and Control, 1994: Table 3.2 (H of hydraulic units
       2-4 s), Table 4.3 (typical parameters of salient-pole units), sec. 9.1 (water
       inertia time Tw 0.5-4 s) and eq. 9.35-9.36 (temporary droop and reset time for stable
       hydro governing).
[K12]  Kundur, Example 12.6 (REFERENCE.md 4.2): thyristor exciter KA 200, TR 0.01 s; PSS KS 20,
       T1/T2 0.05/0.02 s, T3/T4 3/5.4 s, TW 10 s; GENROU data of the 900 MVA units.
[TR18] IEEE PES-TR18 (2015) ESST1A data as in cases/src/ieee39.py: TA 0.015 s, VAMAX/VAMIN +-5.
[TYP]  casa_dyn.case.typical (PSS/E TGOV1 example values T1 0.5 s, T2 1 s, T3 3 s; SEXS as K12).
[I1204] IEEE Std 1204-1997, Guide for planning DC links terminating at AC locations having low
       short-circuit capacities: SCR below 3 is "low", below 2 "very low".
[L500] Typical data of a 500 kV line with a 3 x AC-400/51 bundle (the usual Soviet/CIS 500 kV
       design): r 0.025 ohm/km, x 0.306 ohm/km, b 3.62 uS/km.  Values recalled from CIS
       network-design handbooks, not checked here: assumed typical (surge impedance 291 ohm,
       SIL 860 MW, charging 0.905 Mvar/km, all plausible for 500 kV).

Where the network is meshed or lengths are not published, the element is "assumed" and the
reason is given next to it.  No CASA-1000 converter, transformer, filter or control data are
public (REFERENCE.md 1.1 after C12); they are designed here from the public ratings.
"""
from __future__ import annotations

import cmath
import math

from casa_dyn.case.case import Case
from casa_dyn.network.dc import qss as Q
from casa_dyn.network.dc.tables import INVERTER, MODE_CURRENT, MODE_POWER, MODE_VOLTAGE, RECTIFIER

NAME = "casa1000"
SOURCE = ("CASA-1000 summer export case built from public facts (REFERENCE.md section 1) and "
          "typical data, every value tagged with its source or 'assumed' (cases/src/casa1000.py)")
CITATION = ("World Bank PID P145054 (2014); CESI and Hitachi Energy CASA-1000 project pages; "
            "P. Kundur, Power System Stability and Control, McGraw-Hill, 1994; "
            "IEEE Std 1204-1997")
BASE_MVA = 100.0
FREQ_HZ = 50.0          # Central Asia and Pakistan are both 50 Hz systems
KV = 500.0              # AC transmission voltage on both sides [C3, C6]
Z_BASE_OHM = KV ** 2 / BASE_MVA

# ================================================================== AC network, Central Asia
# Buses: (id, name, base kV, area).  Areas: 1 Kyrgyzstan, 2 Tajikistan, 3 rest of CAPS,
# 4 Pakistan, 5 Afghanistan (Kabul variant only).
HV_BUSES = (
    (110, "Toktogul 500", KV, 1),
    (120, "Datka 500", KV, 1),               # Kyrgyz end of the CASA AC line [C3]
    (210, "Sugd 500 (Khujand)", KV, 2),      # Tajik end of the CASA AC line [C3, SN]
    (215, "Dushanbe 500", KV, 2),            # southern end of the South-North line [SN]
    (220, "Regar 500 (Tursunzade)", KV, 2),  # [C5, NR, GR]
    (230, "Nurek 500", KV, 2),
    (240, "Rogun 500", KV, 2),
    (250, "Sangtuda 500", KV, 2),            # rectifier AC bus, next to Sangtuda-1 [C6, G2]
    (310, "CAPS equivalent 500", KV, 3),
    (410, "Nowshera 500", KV, 4),            # inverter AC bus [C6, C11]
    (411, "NTDC equivalent 500", KV, 4),
)

# Per-km data of every 500 kV line [L500]; thermal rating assumed: 3 x AC-400 carry about
# 3 x 825 A = 2.5 kA (2,140 MVA); 2,000 MVA is used.
LINE_R_OHM_KM, LINE_X_OHM_KM, LINE_B_US_KM = 0.025, 0.306, 3.62
LINE_RATE_MVA = 2000.0
# Shunt reactor bank of a long 500 kV line: 3 x 60 Mvar single-phase units = 180 Mvar (the
# standard CIS 500 kV line reactor; assumed).  A line's reactors are part of the line
# (they trip with it): b_pu = B'_line - (reactors at both ends).
REACTOR_MVAR = 180.0

# (from, to, km, reactor banks at each end, name, source of the length).  Reactors on the two
# long lines (assumed): Datka-Sugd one line bank at each end (360 of ~445 Mvar of charging,
# 81 %); the South-North line one bus bank at Dushanbe (BUS_REACTORS; 180 of ~320 Mvar, 57 %).
LINES = (
    (110, 120, 150.0, 0, "Toktogul-Datka",
     "assumed: Toktogul to Datka (Jalal-Abad) is about 130 km in a straight line"),
    (120, 210, 477.0, 1, "Datka-Sugd (CASA-1000 AC line)", "[C3] 477 km"),
    (210, 215, 350.0, 0, "Sugd-Dushanbe (South-North)", "[SN] 350 km"),
    (215, 220, 60.0, 0, "Dushanbe-Regar",
     "assumed: Dushanbe 500 (Varzob) to Tursunzade is about 55 km in a straight line"),
    (230, 215, 80.0, 0, "Nurek-Dushanbe",
     "assumed: the South-North line carries Nurek power north [SN]; ~70 km straight line"),
    (230, 220, 133.0, 0, "Nurek-Regar", "[NR] 133 km"),
    (240, 220, 110.0, 0, "Rogun-Regar", "[RR] 'over 100 km'; 500 kV assumed"),
    (220, 250, 115.0, 0, "Regar-Sangtuda (CASA-1000 reinforcement)", "[C5] ~115 km"),
    (230, 250, 60.0, 0, "Nurek-Sangtuda",
     "assumed: Sangtuda-1 is downstream of Nurek on the Vakhsh cascade, ~45 km straight line"),
    (220, 310, 250.0, 0, "Regar-CAPS (Guzar L-507 and the Uzbek grid behind it)",
     "assumed: equivalent length of the tie to Uzbekistan [GR] plus its network"),
    (110, 310, 500.0, 0, "Toktogul-CAPS (Kyrgyz ties to Uzbekistan and Kazakhstan)",
     "assumed: equivalent of the Kyrgyz 500 kV ties (Fergana valley, Kazakhstan)"),
)

BUS_REACTORS = ((215, "Dushanbe 500 kV reactor (South-North line)", 1),)

# Hydro plants: unit MW rating, MVA, dispatch (MW per unit), units.  MVA at power factor 0.9
# (assumed, typical of large hydro generators).  Generator terminal 15.75 kV (assumed: the
# standard CIS rating of 300 MW-class hydro generators; a label only).
PLANTS = {
    # Toktogul: 4 x 360 MW after the modernisation finished in 2025 [G4].  Summer dispatch
    # 275 MW per unit: assumed (the reservoir fills in summer; Kyrgyz surplus is exported).
    "Toktogul": dict(hv=110, first=111, n=4, p_rated=360.0, p_mw=275.0, area=1),
    # Nurek: 9 units, ~335 MW after retrofit [G1]; 250 MW per unit = 75 %, in line with the
    # plant running at ~77 % of design capacity [G1].
    "Nurek": dict(hv=230, first=231, n=9, p_rated=335.0, p_mw=250.0, area=2),
    # Rogun: 600 MW units by design, two in service (2018, 2019) [G3]; at the present low head
    # they run well below rating (the first started at ~100 MW [G3]): 200 MW each and an
    # available maximum of 300 MW, assumed.
    "Rogun": dict(hv=240, first=241, n=2, p_rated=600.0, p_mw=200.0, p_avail=300.0, area=2),
    # Sangtuda-1: 4 x 167.5 MW [G2]; 160 MW each in summer (assumed: full water).
    "Sangtuda-1": dict(hv=250, first=251, n=4, p_rated=167.5, p_mw=160.0, area=2),
}
POWER_FACTOR = 0.9
GEN_KV = 15.75
# Generator step-up transformer of each unit: x = 0.14 pu on the unit MVA (assumed: typical
# 12-15 % for large GSUs; Kundur's Example 12.6 uses 0.15).
GSU_X_PU = 0.14
# Generator voltage set points (pu; assumed, chosen so that every bus is in 0.95-1.05)
V_SET = {"Toktogul": 1.03, "Nurek": 1.03, "Rogun": 1.03, "Sangtuda-1": 1.03}
# Reactive limits: Q_max at rated power factor 0.9 lagging (0.436 MVA), Q_min -0.3 MVA
# (assumed: typical under-excitation limit).
Q_MAX_FRAC, Q_MIN_FRAC = math.sin(math.acos(POWER_FACTOR)), -0.3

# Loads, MW at 1 pu voltage; power factor 0.95 lagging (Q = 0.329 P, assumed).
LOAD_TAN_PHI = math.tan(math.acos(0.95))
LOADS = (
    # Kyrgyz load fed from the 500 kV system in summer: assumed.  The Kyrgyz summer demand is
    # well below its winter peak; the south (Datka: "an independent grid in southern
    # Kyrgyzstan") is represented here, the north behind the CAPS tie.
    (120, "Southern Kyrgyzstan (Datka)", 500.0),
    # Tajik summer load 2,200 MW in total, assumed (no hourly data public; annual use of
    # about 20 TWh averages 2.3 GW over the year, with the winter heating peak well above it).
    (210, "Sugd region", 450.0),
    (215, "Dushanbe", 650.0),
    (220, "Regar: TALCO smelter and the west", 800.0),
    (250, "Khatlon (Sangtuda)", 300.0),
    # Rest of CAPS in summer (Uzbekistan, southern Kazakhstan, northern Kyrgyzstan): 10 GW,
    # assumed (Uzbekistan alone has ~15 GW installed and a summer peak near 10 GW).
    (310, "CAPS load", 10000.0),
    # Pakistan: Peshawar-region load at Nowshera 500 kV (assumed) and the rest of the NTDC
    # summer load behind the equivalent (assumed; Pakistan's summer peak is ~25-30 GW).
    (410, "Peshawar region (Nowshera)", 1000.0),
    (411, "NTDC load", 24000.0),
)

# Equivalent machines.  CAPS: the thermal-dominated rest of CAPS, 11,000 MVA online; NTDC:
# 27,000 MVA online.  Both assumed.  CAPS also connects to Kazakhstan's northern grid (and
# through it to Russia's UES) over the long Kazakh north-south transit; that tie is not
# represented, so CAPS frequency after a large power loss is that of CAPS alone (the
# conservative case, assumed).
EQUIV = {
    310: dict(name="CAPS equivalent", mva=11000.0, h_s=4.0, vset=1.02),
    411: dict(name="NTDC equivalent", mva=27000.0, h_s=4.0, vset=1.0),
}

# ================================================================== HVDC
P_POLE_MW = 650.0       # 1,300 MW bipole = 2 x 650 MW [C1, C6]
V_DC_KV = 500.0         # +-500 kV [C6]
I_DC_KA = P_POLE_MW / V_DC_KV   # 1.3 kA per pole [REFERENCE.md 1.1, row 11]
N_BRIDGES = 2           # 12-pulse pole (two 6-pulse bridges in series): assumed, the usual
                        # valve group of a 500 kV LCC pole
UK = 0.18               # converter-transformer reactance, pu on its rating [R2.4: 0.12-0.20,
                        # CIGRE 0.18]
ALPHA_DEG = 15.0        # rectifier nominal firing angle [R2.4]; taps keep it in 12.5-17.5
GAMMA_DEG = 17.0        # inverter extinction angle, constant-gamma control [R2.4: 15-18]
TAP_MIN, TAP_MAX = 0.80, 1.20   # OLTC range +-20 %: assumed typical
TAP_STEP = 0.00625               # PSS/E RAW default STP (REFERENCE.md 6, row 12)
DC_LINE_KM = 750.0      # [C7] 750 km (WB, feasibility study)
# Pole conductor: 4-conductor bundle, 0.0133 ohm/km per pole (R = 10 ohm for 750 km; line
# loss 2.6 % at rated, typical 2-4 % for such lines): assumed.
DC_R_OHM_KM = 10.0 / 750.0
DC_L_MH_KM = 0.9        # pole inductance, assumed typical of bundled overhead DC lines
DC_C_UF_KM = 0.0125     # pole capacitance, assumed typical (13 nF/km)
L_SMOOTH_MH = 300.0     # smoothing reactor per pole per station: assumed (0.2-0.6 H usual;
                        # the CIGRE benchmark uses 0.5968 H)
R_ELECTRODE_OHM = 0.5   # station neutral / electrode to ground: assumed
# Inverter voltage control holds the rectifier-end voltage at 500 kV (PSS/E RCOMP = line R)

# Default SCR at Nowshera and its reason.  No short-circuit level of the new Nowshera 500 kV
# station is published [C12].  3.0 is the boundary below which IEEE Std 1204 calls an AC
# system "low" SCR [I1204]: a deliberately conservative choice for commutation-failure and
# recovery studies (the Tarbela hydro complex ~100 km away probably makes the real value
# higher).  ``casa_dyn.study.casa_outcomes`` sweeps 2 to 6.
SCR_DEFAULT = 3.0
SCR_ANGLE_DEG = 85.0    # X/R ~ 11 of a 500 kV system impedance: assumed typical


# ------------------------------------------------------------------ helpers
def exact_pi(km: float, r=LINE_R_OHM_KM, x=LINE_X_OHM_KM, b_us=LINE_B_US_KM):
    """Series impedance (pu) and total shunt susceptance (pu) of the exact pi equivalent of a
    line with distributed parameters (Kundur 1994, sec. 6.1.7; Glover, Sarma, Overbye,
    sec. 5.2): Z' = Zc sinh(gamma l), Y'/2 = tanh(gamma l / 2) / Zc.  The small conductance
    in Y' (< 1e-3 of B') is dropped."""
    z = complex(r, x)
    y = complex(0.0, b_us * 1e-6)
    zc = cmath.sqrt(z / y)
    gl = cmath.sqrt(z * y) * km
    zs = zc * cmath.sinh(gl) / Z_BASE_OHM
    ysh = 2.0 * cmath.tanh(gl / 2.0) / zc * Z_BASE_OHM
    return zs, ysh.imag


def mva(plant: dict) -> float:
    return plant["p_rated"] / POWER_FACTOR


def _rows(names, rows):
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}


def converter_design(vd_kv: float, id_ka: float, angle_deg: float, ebas_kv: float) -> dict:
    """Converter transformer of one pole designed for DC voltage ``vd_kv`` at ``id_ka`` and
    firing (rectifier) or extinction (inverter) angle ``angle_deg``, tap 1, AC bus at 1 pu.

    With the transformer rated ``S = (pi/3) Vd0 Id`` per bridge, the relative inductive drop is
    ``dx = uk/2`` (REFERENCE.md 2.1), so ``Vd = n Vd0 (cos angle - uk/2)`` gives the valve-side
    voltage ``Ev = Vd0 / (3 sqrt2 / pi)`` and ``Xc = uk Ev^2 / S`` per bridge.
    """
    vd0 = (vd_kv / N_BRIDGES) / (math.cos(math.radians(angle_deg)) - UK / 2.0)
    ev = vd0 / Q.K_VD0
    s_bridge = math.pi / 3.0 * vd0 * id_ka
    return dict(ev_kv=ev, s_bridge_mva=s_bridge, xc_ohm=UK * ev ** 2 / s_bridge,
                ratio=ev / ebas_kv, angle_deg=angle_deg, id_ka=id_ka)


def converter_q_mvar(design: dict) -> float:
    """Reactive power one pole absorbs at its design point (Kimbark's power factor)."""
    _, q, *_ = Q.pq_ac(design["ev_kv"], math.radians(design["angle_deg"]), design["id_ka"],
                       N_BRIDGES, design["xc_ohm"], 1)
    return float(q)


def thevenin_branch(s_sc_mva: float, x_machine_pu: float) -> complex:
    """Branch impedance (pu) between an equivalent machine and the converter bus such that the
    short-circuit power at the converter bus is ``s_sc_mva`` at SCR_ANGLE_DEG; the machine's
    own subtransient reactance (system base) is part of the total."""
    z = BASE_MVA / s_sc_mva * cmath.exp(1j * math.radians(SCR_ANGLE_DEG))
    return z - 1j * x_machine_pu


# ================================================================== stations
# HVDC stations along the line, sending end first.  Kabul (what-if, [C10]): 300 MW inverter
# tap, i.e. 0.3 kA per pole at ~500 kV (REFERENCE.md 5), on the Kabul 220 kV grid
# (the Afghan NEPS transmission voltage: assumed).  The tap position: the Afghan section is
# 562 km and the Pakistani one 113 km [C7]; Kabul-Torkham about 200 km (assumed from the
# ~225 km road), so the tap is 750 - 113 - 200 = 437 km from Sangtuda.
KABUL_KM = 437.0
KABUL_I_KA = 0.3
KABUL_GAMMA_DEG = 20.0  # a current-controlled inverter runs above gamma_min (17 deg): assumed
KABUL_SCR = 2.5         # weak Afghan system: assumed (between IEEE 1204's "very low" < 2 and
                        # "low" < 3); Kabul is fed over long 220 kV lines [C10]
KABUL_LOAD_MW = 300.0   # Kabul load at the tap's AC bus, i.e. the tap's power is used in Kabul
                        # and the weak Afghan system carries little: assumed


def _stations(kabul: bool):
    """(name, number, AC bus, kind, mode, order, design Vd, design Id, angle, ebas, i_rated)."""
    r_total = DC_R_OHM_KM * DC_LINE_KM
    if not kabul:
        return [
            ("Sangtuda", 1, 250, RECTIFIER, MODE_POWER, P_POLE_MW, V_DC_KV, I_DC_KA,
             ALPHA_DEG, KV),
            ("Nowshera", 2, 410, INVERTER, MODE_VOLTAGE, V_DC_KV, V_DC_KV - r_total * I_DC_KA,
             I_DC_KA, GAMMA_DEG, KV),
        ]
    i_n = I_DC_KA - KABUL_I_KA
    r_b = DC_R_OHM_KM * (DC_LINE_KM - KABUL_KM)
    v_k = V_DC_KV - r_total * i_n + r_b * i_n
    return [
        ("Sangtuda", 1, 250, RECTIFIER, MODE_POWER, P_POLE_MW, V_DC_KV, I_DC_KA, ALPHA_DEG, KV),
        ("Kabul", 3, 510, INVERTER, MODE_CURRENT, KABUL_I_KA, v_k, KABUL_I_KA, KABUL_GAMMA_DEG,
         220.0),
        # Nowshera holds 500 kV compounded with the whole line R (as in the bipole case)
        ("Nowshera", 2, 410, INVERTER, MODE_VOLTAGE, V_DC_KV, V_DC_KV - r_total * i_n, i_n,
         GAMMA_DEG, KV),
    ]


def _segments(kabul: bool):
    """DC line segments between consecutive stations: (km, from station no., to station no.)."""
    if not kabul:
        return [(DC_LINE_KM, 1, 2)]
    return [(KABUL_KM, 1, 3), (DC_LINE_KM - KABUL_KM, 3, 2)]


def _dc_tables(kabul: bool):
    """DC nodes, branches and converters.  Node ids: station s has neutral 100 s, pole nodes
    100 s + 1 (+) and 100 s + 2 (-); the k-th line segment has its T-model mid-point
    150 + 10 k + 1 (+) / + 2 (-).  Each segment is a T model (two halves of R and L, the line
    capacitance at the mid-point: the CIGRE benchmark's form, REFERENCE.md 4.1); the smoothing
    reactors of Sangtuda and Nowshera are in the adjacent halves.  The Kabul tap converter sits
    on the line node between its two segments (its smoothing reactor is not represented)."""
    node = {k: [] for k in ("id", "name", "base_kv", "grounded", "r_ground_ohm", "c_uf")}
    branch = {k: [] for k in ("id", "name", "from_node", "to_node", "r_ohm", "l_mh")}

    def add_node(i, name, grounded=0, c_uf=0.0):
        node["id"].append(i)
        node["name"].append(name)
        node["base_kv"].append(V_DC_KV)
        node["grounded"].append(grounded)
        node["r_ground_ohm"].append(R_ELECTRODE_OHM if grounded else 0.0)
        node["c_uf"].append(c_uf)

    def add_branch(a, b, name, r, l_mh):
        branch["id"].append(1000 * a + b)
        branch["name"].append(name)
        branch["from_node"].append(a)
        branch["to_node"].append(b)
        branch["r_ohm"].append(r)
        branch["l_mh"].append(l_mh)

    stations = _stations(kabul)
    for st in stations:
        s = st[1]
        add_node(100 * s, f"{st[0]} neutral", grounded=1)
        add_node(100 * s + 1, f"{st[0]} pole +")
        add_node(100 * s + 2, f"{st[0]} pole -")
    ends = {1, 2}  # stations with a smoothing reactor in the line model
    for k, (km, a, b) in enumerate(_segments(kabul)):
        for pole, off in ((+1, 1), (-1, 2)):
            sign = "+" if pole > 0 else "-"
            mid = 150 + 10 * k + off
            add_node(mid, f"line {k + 1} mid-point {sign}", c_uf=DC_C_UF_KM * km)
            half_r, half_l = DC_R_OHM_KM * km / 2.0, DC_L_MH_KM * km / 2.0
            add_branch(100 * a + off, mid, f"line {k + 1} {sign}, first half", half_r,
                       half_l + (L_SMOOTH_MH if a in ends else 0.0))
            add_branch(mid, 100 * b + off, f"line {k + 1} {sign}, second half", half_r,
                       half_l + (L_SMOOTH_MH if b in ends else 0.0))
    conv = {k: [] for k in ("id", "name", "bus", "dc_node_p", "dc_node_n", "pole", "kind",
                            "mode", "p_set_mw", "i_set_ka", "v_set_kv", "r_comp_ohm",
                            "i_rated_ka", "n_bridges", "angle_min_deg", "angle_max_deg",
                            "xc_ohm", "ebas_kv", "ratio", "tap_pu", "tap_min_pu", "tap_max_pu",
                            "tap_step_pu", "i_margin_pu")}
    designs = {}
    for name, s, bus, kind, mode, order, vd, idk, angle, ebas in stations:
        d = converter_design(vd, idk, angle, ebas)
        designs[name] = d
        for pole, off in ((+1, 1), (-1, 2)):
            pn, neutral = 100 * s + off, 100 * s
            conv["id"].append(10 * s + off)
            conv["name"].append(f"{name} {'+' if pole > 0 else '-'}")
            conv["bus"].append(bus)
            conv["dc_node_p"].append(pn if pole > 0 else neutral)
            conv["dc_node_n"].append(neutral if pole > 0 else pn)
            conv["pole"].append(pole)
            conv["kind"].append(kind)
            conv["mode"].append(mode)
            conv["p_set_mw"].append(order if mode == MODE_POWER else 0.0)
            conv["i_set_ka"].append(order if mode == MODE_CURRENT else 0.0)
            conv["v_set_kv"].append(order if mode == MODE_VOLTAGE else 0.0)
            # the voltage-setting inverter holds the rectifier-end voltage (RCOMP = line R)
            conv["r_comp_ohm"].append(DC_R_OHM_KM * DC_LINE_KM if mode == MODE_VOLTAGE else 0.0)
            conv["i_rated_ka"].append(idk)
            conv["n_bridges"].append(N_BRIDGES)
            if mode == MODE_VOLTAGE:      # constant gamma; the tap holds the DC voltage
                lo, hi = angle, angle
            elif kind == RECTIFIER:       # alpha kept in 15 +- 2.5 deg by the tap [R2.3]
                lo, hi = angle - 2.5, angle + 2.5
            else:
                # current-controlled tap inverter on a weak system: a wide gamma band, so the
                # power flow does not move its tap (on so weak a bus a tap move changes the AC
                # voltage, and with it gamma, more than the tap itself does: the tap loop would
                # run the wrong way)
                lo, hi = GAMMA_DEG + 1.0, 30.0
            conv["angle_min_deg"].append(lo)
            conv["angle_max_deg"].append(hi)
            conv["xc_ohm"].append(d["xc_ohm"])
            conv["ebas_kv"].append(ebas)
            conv["ratio"].append(d["ratio"])
            conv["tap_pu"].append(1.0)
            conv["tap_min_pu"].append(TAP_MIN)
            conv["tap_max_pu"].append(TAP_MAX)
            conv["tap_step_pu"].append(TAP_STEP)
            conv["i_margin_pu"].append(0.1)   # current margin 0.1 pu [R2.3 item 4]
    return node, branch, conv, designs


# ================================================================== dynamic data
# Hydro units: GENSAL (salient pole).  Kundur Table 4.3 ranges for hydraulic units [K3]:
# Xd 0.6-1.5, Xq 0.4-1.0, X'd 0.2-0.5, X''d 0.15-0.35, Xl 0.1-0.2, Ra 0.002-0.02,
# T'd0 1.5-9 s, T''d0 0.01-0.05 s, T''q0 0.01-0.09 s; values inside those ranges chosen
# (assumed, no CASA plant data are public).  H = 3.0 s, the middle of Kundur's 2-4 s for
# hydraulic units [K3].  Saturation S(1.0) 0.1, S(1.2) 0.3: assumed typical.
GENSAL = dict(t_d0p_s=6.0, t_d0pp_s=0.05, t_q0pp_s=0.07, h_s=3.0, d_pu=0.0, xd_pu=1.0,
              xq_pu=0.65, xdp_pu=0.30, xdpp_pu=0.22, xl_pu=0.15, s10=0.1, s12=0.3,
              ra_pu=0.002)
# Static exciter (bus-fed thyristor bridge, the usual excitation of large hydro units) as
# ESST1A: KA 200 and TR 0.01 s of Kundur's thyristor exciter without transient gain
# reduction [K12], TA 0.015 s and VAMAX/VAMIN +-5 [TR18]; ceiling VRMAX/VRMIN +-5 times the
# terminal voltage (assumed, typical of static exciters); KC, KF, KLR = 0; ICONs UEL 1, VOS 1.
ESST1A = dict(uel=1, vos=1, tr_s=0.01, vimax_pu=999.0, vimin_pu=-999.0, tc_s=0.0, tb_s=0.0,
              tc1_s=0.0, tb1_s=0.0, ka=200.0, ta_s=0.015, vamax_pu=5.0, vamin_pu=-5.0,
              vrmax_pu=5.0, vrmin_pu=-5.0, kc=0.0, kf=0.0, tf_s=0.0, klr=0.0, ilr_pu=0.0)
# Stabilizer: Kundur's speed-input PSS for this exciter [K12], as IEEEST; output limits +-0.1
# pu (assumed, typical).
IEEEST = dict(input_code=1, input_bus=0, a1=0.0, a2=0.0, a3=0.0, a4=0.0, a5=0.0, a6=0.0,
              t1_s=0.05, t2_s=0.02, t3_s=3.0, t4_s=5.4, t5_s=10.0, t6_s=10.0, ks=20.0,
              lsmax_pu=0.1, lsmin_pu=-0.1, vcu_pu=0.0, vcl_pu=0.0)
# Hydro governor HYGOV.  Permanent droop 5 % (assumed, the usual setting); Tf 0.05 s, Tg 0.5 s,
# VELM 0.2 pu/s, GMAX 1, GMIN 0, Dturb 0.5, qNL 0.08: typical HYGOV data (assumed; the values
# of PSS/E's HYGOV examples as recalled).  Temporary droop r and reset time Tr from Kundur's
# stable-governing rule [K3 eq. 9.35-9.36] for the unit's Tw and Tm = 2H.  At makes full gate
# give the unit's rating (or, for Rogun, its available output at the present head).
HYGOV = dict(r_pu=0.05, t_f_s=0.05, t_g_s=0.5, velm_pu_per_s=0.2, g_max_pu=1.0, g_min_pu=0.0,
             d_turb_pu=0.5, q_nl_pu=0.08)
# Water inertia time: 1.0 s at the high-head plants (Nurek, Rogun, Toktogul: dams 215-335 m
# [G1, G3, G4]), 1.5 s at the lower-head Sangtuda-1; assumed within Kundur's 0.5-4 s [K3]
# (Tw = L Q / (g H A) falls with head).
T_W_S = {"Toktogul": 1.0, "Nurek": 1.0, "Rogun": 1.0, "Sangtuda-1": 1.5}


def kundur_governor(t_w_s: float, h_s: float):
    """Temporary droop and reset time for stable speed governing [K3 eq. 9.35, 9.36]."""
    t_m = 2.0 * h_s
    return ((2.3 - (t_w_s - 1.0) * 0.15) * t_w_s / t_m, (5.0 - (t_w_s - 1.0) * 0.5) * t_w_s)


# Equivalent machines (CAPS, NTDC): GENROU with Kundur's round-rotor data [K12, TYP], the SEXS
# exciter [TYP] and TGOV1 [TYP] with an equivalent droop of 10 % on the online MVA (assumed:
# about half of the online fleet provides governor response at 5 % droop) and VMAX 1.0.
GENROU_EQ = dict(t_d0p_s=8.0, t_d0pp_s=0.03, t_q0p_s=0.4, t_q0pp_s=0.05, d_pu=0.0, xd_pu=1.8,
                 xq_pu=1.7, xdp_pu=0.3, xqp_pu=0.55, xdpp_pu=0.25, xl_pu=0.2, s10=0.0392,
                 s12=0.2227, ra_pu=0.0025)
SEXS_EQ = dict(ta_tb=1.0, tb_s=1.0, k=200.0, te_s=0.0, emin_pu=-5.0, emax_pu=5.0, tr_s=0.01)
TGOV1_EQ = dict(r_pu=0.10, t1_s=0.5, v_max_pu=1.0, v_min_pu=0.0, t2_s=1.0, t3_s=3.0, dt_pu=0.0)
# Kabul what-if: the Afghan grid is a stiff-frequency source (GENCLS, H 50 s on 10,000 MVA, the
# form of the CIGRE benchmark's AC systems in cases/src/cigre_hvdc.py) behind its weak
# impedance: Kabul is supplied over long 220 kV lines from its neighbours' large systems, so
# its weakness is electrical, not inertial (assumed).
AFGHAN_EQ = dict(mva=10000.0, h_s=50.0, xdp_pu=1e-3)

# LCC controls (lcc_control; schema defaults for every column not given): current PI of the
# CIGRE benchmark (Kp 1.0989, Ti 10.92 ms) and its gamma PI (Kp 0.7506, Ti 54.4 ms) [R2.4,
# recalled values, confidence L]; gamma_min 17 deg at the inverters (= the design gamma).
LCC_CONTROL = dict(k_p_i=1.0989, k_i_i=1.0989 / 0.01092, k_p_g=0.7506, k_i_g=0.7506 / 0.0544)


def _dynamic(gen_rows, conv_ids, inverters, kabul: bool):
    """Model tables: one row per unit / converter."""
    rows = {k: [] for k in ("gensal", "esst1a", "ieeest", "hygov", "genrou", "sexs", "tgov1",
                            "gencls", "lcc_control")}
    for gid, plant_name, eq in gen_rows:
        if plant_name is not None:
            p = PLANTS[plant_name]
            r_t, t_r = kundur_governor(T_W_S[plant_name], GENSAL["h_s"])
            a_t = (p.get("p_avail", p["p_rated"]) / mva(p)) / (1.0 - HYGOV["q_nl_pu"])
            rows["gensal"].append({"id": gid, "gen": gid, **GENSAL})
            rows["esst1a"].append({"id": gid, "gen": gid, **ESST1A})
            rows["ieeest"].append({"id": gid, "gen": gid, **IEEEST})
            rows["hygov"].append({"id": gid, "gen": gid, **HYGOV, "r_temp_pu": r_t,
                                  "t_r_s": t_r, "t_w_s": T_W_S[plant_name], "a_t": a_t})
        elif gid == 511:
            rows["gencls"].append({"id": gid, "gen": gid, "h_s": AFGHAN_EQ["h_s"], "d_pu": 0.0,
                                   "xdp_pu": AFGHAN_EQ["xdp_pu"], "ra_pu": 0.0})
        else:
            rows["genrou"].append({"id": gid, "gen": gid, "h_s": eq["h_s"], **GENROU_EQ})
            rows["sexs"].append({"id": gid, "gen": gid, **SEXS_EQ})
            rows["tgov1"].append({"id": gid, "gen": gid, **TGOV1_EQ})
    for cid in conv_ids:
        extra = {"gamma_min_deg": GAMMA_DEG} if cid in inverters else {}
        rows["lcc_control"].append({"id": cid, "conv": cid, **LCC_CONTROL, **extra})
    return {k: {c: [r[c] for r in v] for c in v[0]} for k, v in rows.items() if v}


# ================================================================== the case
def build(kabul: bool = False, scr: float = SCR_DEFAULT) -> Case:
    """The summer export case; ``kabul`` adds the 300 MW Kabul tap (three terminals)."""
    buses = list(HV_BUSES)
    gens, gen_rows, trafos, loads, shunts, lines = [], [], [], [], [], []
    for pname, p in PLANTS.items():
        s = mva(p)
        for k in range(p["n"]):
            b = p["first"] + k
            buses.append((b, f"{pname} G{k + 1}", GEN_KV, p["area"]))
            gens.append((b, f"{pname} G{k + 1}", b, p["p_mw"], V_SET[pname], Q_MIN_FRAC * s,
                         Q_MAX_FRAC * s, 0.0, p.get("p_avail", p["p_rated"]), s))
            gen_rows.append((b, pname, None))
            trafos.append((1000 * b + 10 * p["hv"] + 1, f"{pname} GSU {k + 1}", b, p["hv"],
                           GSU_X_PU * BASE_MVA / s, s))
    for b, eq in EQUIV.items():
        gens.append((b, eq["name"], b, 0.0, eq["vset"], -0.5 * eq["mva"], 0.6 * eq["mva"], 0.0,
                     eq["mva"], eq["mva"]))
        gen_rows.append((b, None, eq))
    for f, t, km, n_reactors, name, _why in LINES:
        z, b_pu = exact_pi(km)
        b_pu -= 2 * n_reactors * REACTOR_MVAR / BASE_MVA   # one bank in each shunt half
        lines.append((1000 * f + 10 * t + 1, name, f, t, z.real, z.imag, b_pu, LINE_RATE_MVA))
    for b, name, n in BUS_REACTORS:
        shunts.append((b, name, b, -n * REACTOR_MVAR))
    for b, name, p_mw in LOADS:
        loads.append((b, name, b, p_mw, p_mw * LOAD_TAN_PHI))
    # the NTDC behind Nowshera: short-circuit power scr x 1,300 MW at Nowshera
    x_eq = GENROU_EQ["xdpp_pu"] * BASE_MVA / EQUIV[411]["mva"]
    z_ntdc = thevenin_branch(scr * 2 * P_POLE_MW, x_eq)
    lines.append((411 * 1000 + 4101, "NTDC equivalent impedance", 411, 410, z_ntdc.real,
                  z_ntdc.imag, 0.0, 0.0))
    # Nowshera 500 kV capacitor banks carry the local load's reactive power (assumed)
    shunts.append((4101, "Nowshera 500 kV capacitors", 410, LOADS[-2][2] * LOAD_TAN_PHI))
    if kabul:
        buses += [(510, "Kabul 220", 220.0, 5), (511, "Afghan equivalent 220", 220.0, 5)]
        gens.append((511, "Afghan equivalent", 511, 0.0, 1.0, -5000.0, 5000.0, -9999.0,
                     AFGHAN_EQ["mva"], AFGHAN_EQ["mva"]))
        gen_rows.append((511, None, None))
        x_af = AFGHAN_EQ["xdp_pu"] * BASE_MVA / AFGHAN_EQ["mva"]
        z_af = thevenin_branch(KABUL_SCR * 2 * KABUL_I_KA * V_DC_KV, x_af)
        lines.append((511 * 1000 + 5101, "Afghan equivalent impedance", 511, 510, z_af.real,
                      z_af.imag, 0.0, 0.0))
        loads.append((510, "Kabul", 510, KABUL_LOAD_MW, KABUL_LOAD_MW * LOAD_TAN_PHI))
        shunts.append((5101, "Kabul 220 kV capacitors", 510, KABUL_LOAD_MW * LOAD_TAN_PHI))
    node, branch, conv, designs = _dc_tables(kabul)
    for name, s, bus, *_ in _stations(kabul):
        q = 2.0 * converter_q_mvar(designs[name])
        n_banks = 2 if name == "Kabul" else 4
        for k in range(n_banks):
            shunts.append((100 * bus + 10 + k + 1, f"{name} AC filter bank {k + 1}", bus,
                           round(q / n_banks)))
    slack = {310, 411, 511}
    gen_buses = {g[2] for g in gens}
    bus_t = {"id": [b[0] for b in buses], "name": [b[1] for b in buses],
             "base_kv": [b[2] for b in buses], "area": [b[3] for b in buses],
             "type": [3 if b[0] in slack else 2 if b[0] in gen_buses else 1 for b in buses],
             "vmin_pu": [0.95] * len(buses), "vmax_pu": [1.05] * len(buses)}
    tables = {
        "bus": bus_t,
        "line": _rows(("id", "name", "from_bus", "to_bus", "r_pu", "x_pu", "b_pu", "rate_mva"),
                      lines),
        "transformer": _rows(("id", "name", "from_bus", "to_bus", "x_pu", "rate_mva"), trafos),
        "generator": _rows(("id", "name", "bus", "p_mw", "vm_set_pu", "q_min_mvar",
                            "q_max_mvar", "p_min_mw", "p_max_mw", "mbase_mva"), gens),
        "load": _rows(("id", "name", "bus", "p_mw", "q_mvar"), loads),
        "shunt": _rows(("id", "name", "bus", "b_mvar"), shunts),
        "dc_node": node, "dc_branch": branch, "lcc_converter": conv,
    }
    inverters = {c for c, k in zip(conv["id"], conv["kind"]) if k == INVERTER}
    tables.update(_dynamic(gen_rows, conv["id"], inverters, kabul))
    name = NAME + ("_kabul" if kabul else "")
    return Case.from_tables(name, tables, base_mva=BASE_MVA, freq_hz=FREQ_HZ, source=SOURCE,
                            citation=CITATION)


if __name__ == "__main__":
    print(build().content_hash())
