"""Case tables of DC networks and LCC HVDC converters (case format version 3).

Four tables, registered at import:

* ``dc_node``   DC buses: pole lines, converter terminals, neutral buses, line mid-points.
* ``dc_branch`` DC lines, cables, smoothing reactors and neutral conductors (R-L series).
* ``lcc_converter`` one 6-pulse-bridge group (a pole of a station) per row: AC bus, the two DC
  terminals, bridges in series, commutating R and X per bridge, converter transformer, angle
  limits, power-flow control role and set-points.  This is the data of a PSS/E RAW
  two-terminal (line 2/3) or multi-terminal (converter row) DC record.
* ``lcc_control`` the converter controls used by the dynamic simulation (one row per
  converter; family ``hvdc``).

Conventions (used by ``casa_dyn.network.dc.qss``, the power flow and the dynamics):

* DC node voltages are to ground (kV).  A converter sits between ``dc_node_p`` and
  ``dc_node_n`` with DC voltage ``Vd = V(dc_node_p) - V(dc_node_n) >= 0`` and a current
  ``Id >= 0`` that the valves pass in one direction only: a **rectifier** pushes ``Id`` out of
  ``dc_node_p`` into the DC network (and draws it from ``dc_node_n``); an **inverter** draws
  ``Id`` from ``dc_node_p`` (and returns it into ``dc_node_n``).  A positive-pole converter has
  ``dc_node_p`` on the pole line and ``dc_node_n`` on the neutral; a negative-pole converter
  the other way round (``dc_node_p`` = neutral, ``dc_node_n`` = the -500 kV line).
* A neutral or electrode bus is a ``dc_node`` with ``grounded = 1`` (``r_ground_ohm`` = 0 is a
  solid ground).  Every DC island needs at least one grounded node.
* Converter-transformer ratio and tap follow PSS/E's RAW definitions: ``ebas_kv`` (EBASR /
  EBASI / EBAS) is the primary (AC-side) base voltage, ``ratio`` (TRR / TRI / TR) the
  transformer ratio valve-side kV over primary kV, ``tap_pu`` (TAPR / TAPI / TAP) the tap on
  the primary side.  The valve-side (commutating) line-to-line voltage is
  ``Eac = Vbus_pu * ebas_kv * ratio / tap_pu``  (so raising the tap lowers Eac).
  Sources: PSS/E RAW field descriptions as reproduced in the ``power_flow_data`` crate docs
  (docs.rs ``TwoTerminalDCLine``, ``ACConverter``: "primary base AC voltage", "actual
  transformer ratio", "tap setting", TMX 1.5, TMN 0.51, STP 0.00625) and the PSS/E importer
  and solver of STEPS (``changgang/steps``: valve-side base kV = EBAS * TR;
  ``eac = vac / tap * ebase_converter / ebase_grid`` in ``hvdc.cpp``).
* ``rc_ohm``/``xc_ohm`` are per bridge on the valve side (PSS/E RCR/XCR), so a transformer of
  short-circuit reactance ``uk`` (pu on ``S`` MVA, valve-side kV ``Ev``) per bridge has
  ``xc_ohm = uk * Ev**2 / S``.
"""
from __future__ import annotations

import numpy as np

from casa_dyn.case.schema import (
    INT, Column, Table, id_col, name_col, pos, real, register, status_col,
)

# converter kinds and power-flow control modes (integer codes, kernels take numbers)
RECTIFIER, INVERTER = 1, 2
MODE_POWER, MODE_CURRENT, MODE_VOLTAGE = 1, 2, 3
# commutation-failure criteria of lcc_control.cf_criterion
CF_OFF, CF_GAMMA, CF_VOLTAGE = 0, 1, 2


def _node_col(name, doc):
    return Column(name, INT, doc, ref="dc_node", lo=1)


# ---------------------------------------------------------------------------- row checks
def _rows(mask):
    return np.flatnonzero(mask)


def _check_dc_node(t):
    out = []
    for r in _rows((t["grounded"] == 0) & (t["r_ground_ohm"] != 0)):
        out.append((int(r), "r_ground_ohm", "is set but the node is not grounded (grounded = 0)"))
    return out


def _check_dc_branch(t):
    out = [(int(r), "to_node", f"branch connects DC node {t['to_node'][r]} to itself")
           for r in _rows(t["from_node"] == t["to_node"])]
    out += [(int(r), "r_ohm", "zero impedance (r_ohm = l_mh = 0)")
            for r in _rows((t["r_ohm"] == 0) & (t["l_mh"] == 0))]
    return out


def _check_lcc_converter(t):
    out = []
    out += [(int(r), "dc_node_n", f"both DC terminals on DC node {t['dc_node_n'][r]}")
            for r in _rows(t["dc_node_p"] == t["dc_node_n"])]
    out += [(int(r), "pole", f"must be +1 or -1, found {t['pole'][r]}")
            for r in _rows(t["pole"] == 0)]
    out += [(int(r), "angle_min_deg",
             f"angle_min_deg {t['angle_min_deg'][r]:g} > angle_max_deg {t['angle_max_deg'][r]:g}")
            for r in _rows(t["angle_min_deg"] > t["angle_max_deg"])]
    out += [(int(r), "tap_min_pu",
             f"tap_min_pu {t['tap_min_pu'][r]:g} > tap_max_pu {t['tap_max_pu'][r]:g}")
            for r in _rows(t["tap_min_pu"] > t["tap_max_pu"])]
    bad_tap = (t["tap_min_pu"] <= t["tap_max_pu"]) & (
        (t["tap_pu"] < t["tap_min_pu"] - 1e-12) | (t["tap_pu"] > t["tap_max_pu"] + 1e-12))
    out += [(int(r), "tap_pu", f"tap_pu {t['tap_pu'][r]:g} outside "
             f"[{t['tap_min_pu'][r]:g}, {t['tap_max_pu'][r]:g}]") for r in _rows(bad_tap)]
    vst_rect = (t["mode"] == MODE_VOLTAGE) & (t["kind"] == RECTIFIER)
    out += [(int(r), "mode", "the voltage-setting converter must be an inverter "
             "(PSS/E VCONV); set mode 1 (power) or 2 (current) for a rectifier")
            for r in _rows(vst_rect)]
    need = {MODE_POWER: "p_set_mw", MODE_CURRENT: "i_set_ka", MODE_VOLTAGE: "v_set_kv"}
    for m, col in need.items():
        out += [(int(r), col, f"must be > 0 in mode {m}")
                for r in _rows((t["mode"] == m) & (t[col] <= 0) & (t["in_service"] == 1))]
    out += [(int(r), "i_margin_pu", "margin must be below 1 (pu of the current order)")
            for r in _rows(t["i_margin_pu"] >= 1.0)]
    return out


def _check_lcc_control(t):
    out = []
    pairs = (("alpha_min_deg", "alpha_max_deg"), ("vdcol_v_low_pu", "vdcol_v_high_pu"),
             ("vdcol_i_low_pu", "vdcol_i_high_pu"), ("v_block_pu", "v_unblock_pu"))
    for lo, hi in pairs:
        out += [(int(r), lo, f"{lo} {t[lo][r]:g} > {hi} {t[hi][r]:g}")
                for r in _rows(t[lo] > t[hi])]
    out += [(int(r), "i_min_pu", f"i_min_pu {t['i_min_pu'][r]:g} > vdcol_i_low_pu "
             f"{t['vdcol_i_low_pu'][r]:g}") for r in _rows(t["i_min_pu"] > t["vdcol_i_low_pu"])]
    return out


# ---------------------------------------------------------------------------- tables
DC_NODE = register(Table(
    "dc_node",
    "DC buses (pole lines, converter terminals, neutral/electrode buses, line mid-points); "
    "voltages are to ground. PSS/E RAW multi-terminal DC bus rows (IDC, RGRND).",
    (
        id_col("DC node number"),
        name_col(),
        pos("base_kv", "kV", "nominal voltage magnitude to ground (pole voltage, e.g. 500; "
            "for a neutral bus the pole voltage it belongs to); base of per-unit DC quantities"),
        Column("grounded", INT, "1: connected to ground through r_ground_ohm (neutral, "
               "electrode); 0: floating", default=0, lo=0, hi=1),
        real("r_ground_ohm", "ohm", "resistance to ground when grounded (PSS/E RGRND); "
             "0 = solid ground", 0.0, lo=0.0),
        real("c_uf", "uF", "shunt capacitance to ground (dynamics only; 0 = none)", 0.0, lo=0.0),
        real("v_kv", "kV", "voltage to ground: initial guess; the power flow overwrites it "
             "in its result, not here", 0.0),
        status_col(),
    ),
    since_version=3,
    checks=(_check_dc_node,),
))

DC_BRANCH = register(Table(
    "dc_branch",
    "DC series R-L branches: overhead lines, cables, smoothing reactors, neutral conductors. "
    "PSS/E RAW DC link rows (IDC, JDC, RDC, LDC). Positive current flows from from_node to "
    "to_node. Shunt capacitance of a line is modelled at its DC nodes (dc_node.c_uf), e.g. "
    "the CIGRE T model = two branches and a mid-point node.",
    (
        id_col(),
        name_col(),
        _node_col("from_node", "DC node at the sending end"),
        _node_col("to_node", "DC node at the receiving end"),
        real("r_ohm", "ohm", "series resistance (PSS/E RDC)", lo=0.0),
        real("l_mh", "mH", "series inductance including smoothing reactors modelled in the "
             "branch (PSS/E LDC; dynamics only)", 0.0, lo=0.0),
        status_col(),
    ),
    since_version=3,
    checks=(_check_dc_branch,),
))

LCC_CONVERTER = register(Table(
    "lcc_converter",
    "Line-commutated converters, one row per pole of a station (its bridges in series). "
    "PSS/E RAW two-terminal DC lines 2-3 (IPR/IPI, NBR, ALFMX/ALFMN or GAMMX/GAMMN, RCR, XCR, "
    "EBASR, TRR, TAPR, TMXR, TMNR, STPR) and the control line (MDC, SETVL, VSCHD, VCMOD, RCOMP, "
    "DELTI, DCVMIN); multi-terminal converter rows (SETVL, MARG, CNVCOD). Vd = V(dc_node_p) - "
    "V(dc_node_n) >= 0; a rectifier drives Id out of dc_node_p, an inverter draws it in.",
    (
        id_col(),
        name_col(),
        Column("bus", INT, "AC bus of the converter transformer primary (PSS/E IPR/IPI/IB)",
               ref="bus", lo=1),
        _node_col("dc_node_p", "DC terminal at the higher potential (pole line of a positive "
                  "pole, neutral of a negative pole)"),
        _node_col("dc_node_n", "DC terminal at the lower potential (neutral of a positive pole, "
                  "pole line of a negative pole)"),
        Column("pole", INT, "+1 positive pole, -1 negative pole (PSS/E CNVCOD sign)",
               lo=-1, hi=1),
        Column("kind", INT, "1 rectifier, 2 inverter (sign of PSS/E SETVL)", lo=1, hi=2),
        Column("mode", INT, "power-flow control: 1 constant power p_set_mw, 2 constant current "
               "i_set_ka, 3 DC voltage v_set_kv (the voltage-setting inverter, PSS/E VCONV); "
               "exactly one mode-3 converter per pole and DC island", lo=1, hi=3),
        real("p_set_mw", "MW", "DC power order at this converter's DC terminals (mode 1; PSS/E "
             "SETVL in MW, positive-end semantics)", 0.0, lo=0.0),
        real("i_set_ka", "kA", "DC current order (mode 2; PSS/E SETVL/1000 with SETVL in A)",
             0.0, lo=0.0),
        real("v_set_kv", "kV", "scheduled DC voltage at the compounding point (mode 3; PSS/E "
             "VSCHD or SETVL of VCONV)", 0.0, lo=0.0),
        real("r_comp_ohm", "ohm", "compounding resistance (PSS/E RCOMP; mode 3): the held voltage "
             "is Vd + r_comp_ohm * Id, 0 holds this converter's own DC voltage", 0.0, lo=0.0),
        real("v_min_kv", "kV", "minimum compounded DC voltage in constant-gamma operation "
             "(PSS/E DCVMIN; mode 3); 0 = no minimum", 0.0, lo=0.0),
        real("v_cmod_kv", "kV", "mode-switch DC voltage (PSS/E VCMOD; mode 1): when the DC "
             "voltage of the voltage-setting inverter is below it, the converter holds the "
             "current p_set_mw / v_set_kv (scheduled power at scheduled voltage)", 0.0, lo=0.0),
        real("i_margin_pu", "pu", "current margin, pu of the order (PSS/E DELTI / MARG): the "
             "voltage-setting inverter takes over current control at (1 - margin) x the "
             "current order when a rectifier is held at its minimum angle", 0.1, lo=0.0),
        pos("i_rated_ka", "kA", "rated DC current: base of per-unit control quantities"),
        Column("n_bridges", INT, "6-pulse bridges in series (PSS/E NBR/NBI/N); 2 = 12-pulse",
               default=2, lo=1),
        real("angle_max_deg", "deg", "maximum steady-state alpha (rectifier, PSS/E ALFMX) or "
             "gamma (inverter, GAMMX)", 90.0, lo=0.0, hi=180.0),
        real("angle_min_deg", "deg", "minimum steady-state alpha (rectifier, PSS/E ALFMN) or "
             "gamma (inverter, GAMMN); an inverter with angle_min = angle_max runs at constant "
             "gamma and its tap holds the DC voltage", 5.0, lo=0.0, hi=180.0),
        real("rc_ohm", "ohm", "commutating resistance per bridge (PSS/E RCR/RCI/RC)", 0.0,
             lo=0.0),
        pos("xc_ohm", "ohm", "commutating reactance per bridge, valve side (PSS/E XCR/XCI/XC)"),
        pos("ebas_kv", "kV", "converter-transformer primary (AC-side) base voltage "
            "(PSS/E EBASR/EBASI/EBAS)"),
        pos("ratio", "", "converter-transformer ratio, valve-side kV / primary kV "
            "(PSS/E TRR/TRI/TR)", 1.0),
        pos("tap_pu", "pu", "primary-side tap (PSS/E TAPR/TAPI/TAP): Eac = V * ebas_kv * "
            "ratio / tap_pu; initial value, adjusted by the power flow", 1.0),
        pos("tap_max_pu", "pu", "maximum tap (PSS/E TMXR/TMXI/TPMX)", 1.5),
        pos("tap_min_pu", "pu", "minimum tap (PSS/E TMNR/TMNI/TPMN)", 0.51),
        real("tap_step_pu", "pu", "tap step (PSS/E STPR/STPI/TSTP); 0 = continuous", 0.00625,
             lo=0.0),
        status_col(),
    ),
    since_version=3,
    checks=(_check_lcc_converter,),
))

LCC_CONTROL = register(Table(
    "lcc_control",
    "Dynamic controls of an LCC converter (one row per converter): current / extinction-angle "
    "/ voltage PI controllers, measurement lags, VDCOL, power-order ramp, commutation-failure "
    "criteria, blocking / bypass / restart (PSS/E CDC4T-style thresholds, timers, ramps) and "
    "DC-line-fault restart. Per-unit DC quantities are on the converter's i_rated_ka and its "
    "DC node base_kv. Angles of the PI outputs are in radians.",
    (
        id_col(),
        Column("conv", INT, "converter id", ref="lcc_converter", lo=1),
        real("k_p_i", "rad/pu", "current controller proportional gain", 1.0, lo=0.0),
        real("k_i_i", "rad/(pu s)", "current controller integral gain", 100.0, lo=0.0),
        real("k_p_g", "rad/rad", "extinction-angle (CEA) controller proportional gain", 0.75,
             lo=0.0),
        real("k_i_g", "rad/(rad s)", "extinction-angle controller integral gain", 14.0, lo=0.0),
        real("k_p_v", "rad/pu", "DC-voltage controller proportional gain", 1.0, lo=0.0),
        real("k_i_v", "rad/(pu s)", "DC-voltage controller integral gain", 50.0, lo=0.0),
        real("t_id_s", "s", "DC-current transducer time constant (CDC4T TIDC)", 0.002, lo=0.0),
        real("t_vd_s", "s", "DC-voltage transducer time constant (CDC4T TVDC)", 0.002, lo=0.0),
        real("t_gamma_s", "s", "extinction-angle measurement time constant (gamma is measured "
             "once per commutation; 0 = none)", 0.002, lo=0.0),
        real("alpha_min_deg", "deg", "minimum firing angle in dynamics (CDC4T ALFDY)", 5.0,
             lo=0.0, hi=180.0),
        real("alpha_max_deg", "deg", "maximum firing angle in dynamics (retard limit)", 150.0,
             lo=0.0, hi=180.0),
        real("gamma_min_deg", "deg", "minimum extinction angle in dynamics (CDC4T GAMDY)", 15.0,
             lo=0.0, hi=90.0),
        real("vdcol_v_low_pu", "pu", "VDCOL: below this DC voltage the order limit is "
             "vdcol_i_low_pu", 0.4, lo=0.0),
        real("vdcol_i_low_pu", "pu", "VDCOL current limit at and below vdcol_v_low_pu", 0.55,
             lo=0.0),
        real("vdcol_v_high_pu", "pu", "VDCOL: above this DC voltage the order limit is "
             "vdcol_i_high_pu", 0.9, lo=0.0),
        real("vdcol_i_high_pu", "pu", "VDCOL current limit at and above vdcol_v_high_pu", 1.0,
             lo=0.0),
        real("i_min_pu", "pu", "minimum current order (CDC4T C0)", 0.1, lo=0.0),
        real("p_ramp_mw_per_s", "MW/s", "power-order ramp rate (0 = step)", 0.0, lo=0.0),
        real("t_cmode_s", "s", "minimum time in current mode after a VCMOD switch (CDC4T TCMODE)",
             0.05, lo=0.0),
        Column("cf_criterion", INT, "commutation-failure detection: 0 off, 1 gamma below "
               "gamma_cf_deg, 2 AC voltage dip below dv_cf_pu", default=CF_GAMMA, lo=0, hi=2),
        real("gamma_cf_deg", "deg", "extinction angle below which commutation fails "
             "(7.2 deg = 400 us at 50 Hz)", 7.2, lo=0.0, hi=90.0),
        real("dv_cf_pu", "pu", "AC voltage drop (pu of pre-disturbance) that causes commutation "
             "failure (criterion 2)", 0.15, lo=0.0, hi=1.0),
        real("t_cf_s", "s", "duration of a commutation failure (DC voltage collapsed)", 0.02,
             lo=0.0),
        real("v_block_pu", "pu", "rectifier AC voltage below which the pole blocks (CDC4T "
             "VBLOCK)", 0.6, lo=0.0),
        real("v_unblock_pu", "pu", "rectifier AC voltage above which it unblocks (CDC4T VUNBL)",
             0.8, lo=0.0),
        real("t_block_s", "s", "minimum blocking time (CDC4T TBLOCK)", 0.1, lo=0.0),
        real("v_bypass_pu", "pu", "inverter DC voltage below which it is bypassed (CDC4T "
             "VBYPAS, here in pu of base_kv)", 0.0, lo=0.0),
        real("v_unbypass_pu", "pu", "inverter AC voltage above which the bypass is removed "
             "(CDC4T VUNBY)", 0.8, lo=0.0),
        real("t_bypass_s", "s", "minimum bypass time (CDC4T TBYPAS)", 0.1, lo=0.0),
        real("v_restart_pu", "pu", "DC voltage order at restart after block/bypass (CDC4T "
             "RSVOLT, here in pu)", 0.0, lo=0.0),
        real("i_restart_pu", "pu", "DC current order at restart after block (CDC4T RSCUR, "
             "here in pu)", 0.1, lo=0.0),
        real("v_ramp_pu_per_s", "pu/s", "restart voltage ramp (CDC4T VRAMP; 0 = step)", 0.0,
             lo=0.0),
        real("i_ramp_pu_per_s", "pu/s", "restart current ramp (CDC4T CRAMP; 0 = step)", 5.0,
             lo=0.0),
        real("alpha_retard_deg", "deg", "firing angle forced during a DC line fault", 150.0,
             lo=90.0, hi=180.0),
        real("t_deion_s", "s", "de-ionization time after a DC line fault before restart", 0.15,
             lo=0.0),
        Column("n_restarts", INT, "restart attempts after a DC line fault before the pole "
               "stays blocked", default=2, lo=0),
        real("k_aux", "pu/pu", "gain of the auxiliary power-modulation input (MW per MW)", 1.0),
    ),
    family="hvdc",
    since_version=3,
    checks=(_check_lcc_control,),
))

DC_TABLES = ("dc_node", "dc_branch", "lcc_converter")

__all__ = ["DC_NODE", "DC_BRANCH", "LCC_CONVERTER", "LCC_CONTROL", "DC_TABLES", "RECTIFIER",
           "INVERTER", "MODE_POWER", "MODE_CURRENT", "MODE_VOLTAGE", "CF_OFF", "CF_GAMMA",
           "CF_VOLTAGE"]
