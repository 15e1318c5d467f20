"""CIGRE first HVDC benchmark (1,000 MW, 500 kV, 12-pulse monopole), adapted to QSS/RMS.

Source data (REFERENCE.md section 4.1): M. Szechtman, T. Wess, C. V. Thio, "First benchmark
model for HVDC control studies", Electra no. 135, 1991; M. O. Faruque, Y. Zhang,
V. Dinavahi, "Detailed modeling of CIGRE HVDC benchmark system using PSCAD/EMTDC and
PSB/SIMULINK", IEEE Trans. Power Delivery 21(1), 2006.  Data used:

* rating 1,000 MW, 500 kV, 2 kA, monopole with ground return, 12-pulse (2 bridges) per end,
  50 Hz; alpha = gamma = 15 deg at rated;
* rectifier AC system 345 kV, SCR 2.5 at 84 deg; inverter AC system 230 kV, SCR 2.5 at 75 deg;
* converter transformers, one per bridge: rectifier 603.73 MVA, 345 / 213.4469 kV,
  X = 0.18 pu; inverter 591.79 MVA, 230 / 209.2288 kV, X = 0.18 pu;
* DC circuit, T model: 2 x (2.5 ohm + 0.5968 H) with a 26 uF mid-point shunt, and a 0.5968 H
  smoothing reactor at each end (total R 5 ohm).

Adaptation to a QSS power-flow/RMS case (own choices, stated):

* Each AC system is a Thevenin equivalent: a source bus (slack generator) behind the
  short-circuit impedance ``|Z| = base_mva / (SCR * 1000 MW)`` pu at the stated angle.
  The source voltage (magnitude and angle) is chosen so that the converter bus sits at
  1.0 pu, 0 deg at the rated operating point (E = V + Z I with the rated bus power).
* The AC filters and capacitor banks are one fixed shunt per converter bus, sized to the
  converter's reactive power at rated (Kimbark's power factor, ``casa_dyn.network.dc.qss``),
  so the AC systems exchange no reactive power at rated (the benchmark's 11th/13th/high-pass
  filters and capacitor are not represented individually; QSS has no harmonics).
* Commutating reactance per bridge ``Xc = uk Ev^2 / S`` (13.583 / 13.315 ohm), Rc = 0; the
  transformer ratio is the valve-side over the primary kV (PSS/E TR), tap 1.0.
* Controls in the power flow: the rectifier holds the current 2 kA (alpha kept by its tap
  between 12.5 and 17.5 deg); the inverter sets the DC voltage 495 kV at its own terminals
  (RCOMP = 0) at constant gamma = 15 deg, its tap holding the voltage.
* The DC T model is three DC nodes (rectifier pole, mid-point with 26 uF, inverter pole) and
  two branches of 2.5 ohm and 0.5968 + 0.5968 H (line half + smoothing reactor); the
  neutral of each station is a solidly grounded DC node (ground return).

Expected steady state (REFERENCE.md section 6, rows 2-5 and 7): Vdr = 504.98 kV, Vdi =
495.00 kV, Id = 2 kA, alpha = gamma = 15 deg, mu = 23.19 deg, P = 1009.96 / 990.0 MW,
dx = 0.090.
"""
from __future__ import annotations

import math

from casa_dyn.case import schema as S
from casa_dyn.case.case import Case
from casa_dyn.network.dc import qss as Q

NAME = "cigre_hvdc"
SOURCE = ("CIGRE first HVDC benchmark (Szechtman et al., Electra 135, 1991; data as in "
          "Faruque et al., IEEE TPWRD 21(1), 2006), adapted to QSS: Thevenin AC systems, "
          "filters as fixed shunts (cases/src/cigre_hvdc.py)")
CITATION = ("M. Szechtman, T. Wess, C. V. Thio, First benchmark model for HVDC control studies, "
            "Electra no. 135, pp. 54-73, 1991; M. O. Faruque, Y. Zhang, V. Dinavahi, Detailed "
            "modeling of CIGRE HVDC benchmark system using PSCAD/EMTDC and PSB/SIMULINK, IEEE "
            "Trans. Power Delivery 21(1), 2006")
BASE_MVA = 100.0
FREQ_HZ = 50.0

P_RATED_MW, I_RATED_KA, V_INV_KV = 1000.0, 2.0, 495.0
SCR = 2.5
RECT = dict(kv=345.0, z_deg=84.0, ev_kv=213.4469, s_mva=603.73, uk=0.18)
INV = dict(kv=230.0, z_deg=75.0, ev_kv=209.2288, s_mva=591.79, uk=0.18)
ALPHA_DEG = GAMMA_DEG = 15.0
N_BRIDGES = 2
R_HALF_OHM, L_HALF_MH, L_SMOOTH_MH, C_MID_UF = 2.5, 596.8, 596.8, 26.0


def xc_ohm(end) -> float:
    """Commutating reactance per bridge, valve side: uk Ev^2 / S."""
    return end["uk"] * end["ev_kv"] ** 2 / end["s_mva"]


def rated_point():
    """Converter P (AC side, MW) and Q (Mvar, Kimbark) at rated with V = 1 pu, tap 1."""
    a = math.radians(ALPHA_DEG)
    vdr = Q.vd_kv(Q.vd0_kv(RECT["ev_kv"], N_BRIDGES), a, I_RATED_KA, N_BRIDGES, xc_ohm(RECT),
                  0.0, 1)[0]
    p_r, q_r, *_ = Q.pq_ac(RECT["ev_kv"], a, I_RATED_KA, N_BRIDGES, xc_ohm(RECT), 1)
    p_i, q_i, *_ = Q.pq_ac(INV["ev_kv"], math.radians(GAMMA_DEG), I_RATED_KA, N_BRIDGES,
                           xc_ohm(INV), 1)
    return dict(vdr_kv=vdr, p_r=p_r, q_r=q_r, p_i=p_i, q_i=q_i)


def _source(s_bus_mw_mvar: complex, z_deg: float):
    """Thevenin source voltage (pu, deg) that puts the converter bus at 1 pu, 0 deg when
    the bus draws ``s_bus`` (MW + j Mvar) from the AC system."""
    z = BASE_MVA / (SCR * P_RATED_MW) * complex(math.cos(math.radians(z_deg)),
                                                 math.sin(math.radians(z_deg)))
    i_into_bus = (s_bus_mw_mvar / BASE_MVA).conjugate()  # V = 1
    e = 1.0 + z * i_into_bus
    return z, abs(e), math.degrees(math.atan2(e.imag, e.real))


def build() -> Case:
    rp = rated_point()
    # filters cancel the converter Q at rated: the bus draws only P (rectifier) or gives P
    z_r, e_r, a_r = _source(complex(rp["p_r"], 0.0), RECT["z_deg"])
    z_i, e_i, a_i = _source(complex(-rp["p_i"], 0.0), INV["z_deg"])
    tables = {
        "bus": {"id": [1, 2, 3, 4], "name": ["Rect source", "Rect AC", "Inv AC", "Inv source"],
                "base_kv": [345.0, 345.0, 230.0, 230.0], "type": [3, 1, 1, 3],
                "vm_pu": [e_r, 1.0, 1.0, e_i], "va_deg": [a_r, 0.0, 0.0, a_i]},
        # Thevenin impedances, SCR 2.5 on 1,000 MW (line id 1000*from + 10*to + 1)
        "line": {"id": [1021, 4031], "name": ["Rect Thevenin", "Inv Thevenin"],
                 "from_bus": [1, 4], "to_bus": [2, 3], "r_pu": [z_r.real, z_i.real],
                 "x_pu": [z_r.imag, z_i.imag]},
        "generator": {"id": [1, 4], "name": ["Rect system", "Inv system"], "bus": [1, 4],
                      "p_mw": [rp["p_r"], -rp["p_i"]], "vm_set_pu": [e_r, e_i],
                      "mbase_mva": [10000.0, 10000.0]},
        "shunt": {"id": [2, 3], "name": ["Rect filters", "Inv filters"], "bus": [2, 3],
                  "b_mvar": [rp["q_r"], rp["q_i"]]},
        "dc_node": {"id": [1, 2, 3, 4, 5],
                    "name": ["Rect pole", "Line mid-point", "Inv pole", "Rect neutral",
                             "Inv neutral"],
                    "base_kv": [500.0] * 5, "grounded": [0, 0, 0, 1, 1],
                    "c_uf": [0.0, C_MID_UF, 0.0, 0.0, 0.0],
                    "v_kv": [rp["vdr_kv"], rp["vdr_kv"] - 5.0, V_INV_KV, 0.0, 0.0]},
        "dc_branch": {"id": [1, 2], "name": ["Rect half", "Inv half"], "from_node": [1, 2],
                      "to_node": [2, 3], "r_ohm": [R_HALF_OHM] * 2,
                      "l_mh": [L_HALF_MH + L_SMOOTH_MH] * 2},
        "lcc_converter": {
            "id": [1, 2], "name": ["Rectifier", "Inverter"], "bus": [2, 3],
            "dc_node_p": [1, 3], "dc_node_n": [4, 5], "pole": [1, 1], "kind": [1, 2],
            "mode": [2, 3], "i_set_ka": [I_RATED_KA, 0.0], "v_set_kv": [0.0, V_INV_KV],
            "i_rated_ka": [I_RATED_KA] * 2, "n_bridges": [N_BRIDGES] * 2,
            "angle_min_deg": [12.5, GAMMA_DEG], "angle_max_deg": [17.5, GAMMA_DEG],
            "xc_ohm": [xc_ohm(RECT), xc_ohm(INV)], "ebas_kv": [RECT["kv"], INV["kv"]],
            "ratio": [RECT["ev_kv"] / RECT["kv"], INV["ev_kv"] / INV["kv"]],
            "tap_pu": [1.0, 1.0], "i_margin_pu": [0.1, 0.1]},
    }
    for name, rows in DYNAMIC.items():
        tables[name] = _columns(name, rows)
    return Case.from_tables(NAME, tables, base_mva=BASE_MVA, freq_hz=FREQ_HZ, source=SOURCE,
                            citation=CITATION)


def _columns(table: str, rows: list[dict]) -> dict:
    """Rows (dicts) to columns; a setting given for some rows only takes the schema default
    in the others (an earlier version kept only the first row's keys and so silently dropped
    the inverter's gamma PI)."""
    spec = S.get(table)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [r.get(k, spec.column(k).default) for r in rows] for k in keys}


# ------------------------------------------------------------------------ dynamic data
# The AC systems are stiff sources: classical machines of very large inertia (H = 50 s on
# 10,000 MVA) with a negligible source reactance (the SCR impedance is the Thevenin line).
# Controls: current PI of the PSCAD benchmark (Kp 1.0989, Ti 10.92 ms) and its gamma PI
# (Kp 0.7506, Ti 54.4 ms), recalled values tagged [L] in REFERENCE.md 2.4; DC-voltage
# transducer (VDCOL input) 20 ms, the upper end of REFERENCE.md 2.4's 1-20 ms: with 2 ms the
# VDCOL and the current-margin hand-over settle into a sustained 24 Hz oscillation after the
# 100 ms inverter fault at 1 ms steps (at 5 ms steps the backward-Euler half steps after
# each controller switch damp it, so the result would depend on the step; table in
# docs/hvdc.md); other settings are the lcc_control defaults (REFERENCE.md 2.3/2.4 typical
# values).
DYNAMIC = {
    "gencls": [{"id": g, "gen": g, "h_s": 50.0, "d_pu": 0.0, "xdp_pu": 1e-3, "ra_pu": 0.0}
               for g in (1, 4)],
    "lcc_control": [
        {"id": 1, "conv": 1, "k_p_i": 1.0989, "k_i_i": 1.0989 / 0.01092, "t_vd_s": 0.02},
        {"id": 2, "conv": 2, "k_p_i": 1.0989, "k_i_i": 1.0989 / 0.01092,
         "k_p_g": 0.7506, "k_i_g": 0.7506 / 0.0544, "t_vd_s": 0.02},
    ],
}


if __name__ == "__main__":
    print(build().content_hash())
