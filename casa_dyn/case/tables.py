"""The network tables of case format version 1: buses, lines, transformers, generators, loads,
fixed shunts.  Impedances of lines and transformers are per unit on the system base (MATPOWER
and PSS/E CZ=1 convention); generator dynamic data live in model tables on the machine base.
"""
from __future__ import annotations

import math

from casa_dyn.case.schema import (
    FLOAT, INT, Column, Table, bus_col, id_col, name_col, pos, real, register, status_col,
)

PQ, PV, SLACK, ISOLATED = 1, 2, 3, 4

BUS = register(Table(
    "bus", "AC buses (nodes).",
    (
        id_col("bus number"),
        name_col(),
        pos("base_kv", "kV", "nominal line-to-line voltage"),
        Column("type", INT, "PSS/E IDE code: 1 PQ, 2 PV (generator), 3 slack, 4 isolated",
               default=PQ, lo=1, hi=4),
        pos("vm_pu", "pu", "voltage magnitude: initial guess, or the setpoint source if no generator",
            default=1.0),
        real("va_deg", "deg", "voltage angle: initial guess; the slack angle reference", 0.0,
             -360.0, 360.0),
        Column("area", INT, "area number (label)", default=1, lo=0),
        Column("zone", INT, "zone number (label)", default=1, lo=0),
        pos("vmin_pu", "pu", "lower normal voltage limit (reporting)", default=0.9),
        pos("vmax_pu", "pu", "upper normal voltage limit (reporting)", default=1.1),
    ),
))

LINE = register(Table(
    "line", "AC lines, nominal pi model, impedances on the system base.",
    (
        id_col(),
        name_col(),
        bus_col("from_bus", "sending-end bus id"),
        bus_col("to_bus", "receiving-end bus id"),
        real("r_pu", "pu", "series resistance", lo=0.0),
        real("x_pu", "pu", "series reactance (negative allowed: series compensation)"),
        real("b_pu", "pu", "total line charging susceptance (half at each end)", 0.0),
        pos("rate_mva", "MVA", "thermal rating (0 = unrated)", 0.0, open_lo=False),
        status_col(),
    ),
))

TRANSFORMER = register(Table(
    "transformer",
    "Two-winding transformers: series impedance on the system base, off-nominal ratio "
    "(tap side = from bus) and phase shift; magnetizing admittance at the from bus.",
    (
        id_col(),
        name_col(),
        bus_col("from_bus", "tap-side bus id"),
        bus_col("to_bus", "impedance-side bus id"),
        real("r_pu", "pu", "series resistance", 0.0, lo=0.0),
        real("x_pu", "pu", "series (leakage) reactance; a two-winding transformer's is not negative",
             lo=0.0),
        real("g_pu", "pu", "magnetizing conductance", 0.0, lo=0.0),
        real("b_pu", "pu", "magnetizing susceptance", 0.0),
        pos("ratio_pu", "pu", "off-nominal turns ratio (from side)", 1.0),
        real("shift_deg", "deg", "phase shift, from side leads", 0.0, -90.0, 90.0),
        pos("rate_mva", "MVA", "thermal rating (0 = unrated)", 0.0, open_lo=False),
        status_col(),
    ),
))

GENERATOR = register(Table(
    "generator", "Generating units (power-flow data); dynamic models reference them by id.",
    (
        id_col(),
        name_col(),
        bus_col(),
        real("p_mw", "MW", "active power output (ignored at the slack)", 0.0),
        real("q_mvar", "Mvar", "reactive output (initial guess; used at PQ buses)", 0.0),
        pos("vm_set_pu", "pu", "voltage setpoint of the regulated (own) bus", 1.0),
        real("q_min_mvar", "Mvar", "minimum reactive output", -9999.0),
        real("q_max_mvar", "Mvar", "maximum reactive output", 9999.0),
        real("p_min_mw", "MW", "minimum active output", 0.0),
        real("p_max_mw", "MW", "maximum active output", 9999.0),
        pos("mbase_mva", "MVA", "machine base for dynamic data", 100.0),
        status_col(),
    ),
))

LOAD = register(Table(
    "load",
    "Loads: constant P/Q in the power flow; in dynamics a ZIP mix of the same initial power, "
    "converted to constant impedance below v_zip_pu.",
    (
        id_col(),
        name_col(),
        bus_col(),
        real("p_mw", "MW", "active power at 1 pu voltage"),
        real("q_mvar", "Mvar", "reactive power at 1 pu voltage", 0.0),
        real("p_z", "", "constant-impedance share of P (dynamics)", 1.0, 0.0, 1.0),
        real("p_i", "", "constant-current share of P (dynamics)", 0.0, 0.0, 1.0),
        real("q_z", "", "constant-impedance share of Q (dynamics)", 1.0, 0.0, 1.0),
        real("q_i", "", "constant-current share of Q (dynamics)", 0.0, 0.0, 1.0),
        real("v_zip_pu", "pu", "below this voltage the whole load is constant impedance",
             0.7, 0.0, 1.0),
        status_col(),
    ),
))

SHUNT = register(Table(
    "shunt", "Fixed shunts, admittance given as power drawn at 1 pu voltage.",
    (
        id_col(),
        name_col(),
        bus_col(),
        real("g_mw", "MW", "active power drawn at 1 pu", 0.0),
        real("b_mvar", "Mvar", "reactive power injected at 1 pu (positive = capacitor)", 0.0),
        status_col(),
    ),
))

#: tables every case must contain (possibly empty)
REQUIRED = ("bus", "line", "transformer", "generator", "load", "shunt")
NETWORK_TABLES = REQUIRED
