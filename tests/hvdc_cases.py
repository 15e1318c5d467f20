"""Builders of HVDC test cases: a CASA-1000-like bipole and a three-terminal link (the
original CASA-1000 design with a 300 MW Kabul tap, REFERENCE.md 1.1 C10 and 5).

The stations sit along one DC line (station 0 at the sending end, the last one the
voltage-setting inverter).  Each station is a Thevenin AC system (source bus, slack
generator, SCR impedance at the given angle, converter bus with filters sized to the
converters' reactive power at the design point) and, per pole, a 12-pulse converter whose
transformer is designed for that point: valve-side voltage from ``Vd = Vd0 (cos angle - dx)``
with ``dx = uk/2`` (transformer rated ``(pi/3) Vd0 Id`` per bridge, REFERENCE.md 2.1) and
``Xc = uk Ev^2 / S``.  The design point comes from the current orders (radial line, so the
current of each segment is the sum of the orders upstream) and the scheduled voltage.

Numbers (own design, not published CASA data, which do not exist; REFERENCE.md 1.1 C12):
+-500 kV, 1.3 kA per pole (C6 / row 11), 750 km line of about 0.0133 ohm/km per pole
(R = 10 ohm), uk = 0.18, alpha = 15 deg, gamma = 17 deg (REFERENCE.md 2.4).
"""
from __future__ import annotations

import math

import numpy as np

from casa_dyn.case.case import Case
from casa_dyn.network.dc import qss as Q
from casa_dyn.network.dc.tables import INVERTER, MODE_CURRENT, MODE_POWER, MODE_VOLTAGE, RECTIFIER

UK, N_BR = 0.18, 2


def station(name, kind, mode, order, kv=500.0, scr=3.0, z_deg=80.0, angle_deg=None,
            r_ground_ohm=0.5, p_scr_mw=None):
    """``order``: kA (mode 2), MW (mode 1) or kV (mode 3), per pole."""
    if angle_deg is None:
        angle_deg = 15.0 if kind == RECTIFIER else 17.0
    return dict(name=name, kind=kind, mode=mode, order=order, kv=kv, scr=scr, z_deg=z_deg,
                angle=angle_deg, r_ground=r_ground_ohm, p_scr=p_scr_mw)


def _design(stations, seg_r, v_set):
    """Per-pole current (kA, drawn positive at rectifiers) and DC voltage of every station."""
    n = len(stations)
    i = np.zeros(n)
    vd = np.zeros(n)
    vd[-1] = v_set
    for k, s in enumerate(stations[:-1]):
        i[k] = s["order"] if s["mode"] == MODE_CURRENT else s["order"] / v_set
    seg_i = np.cumsum(np.where([s["kind"] == RECTIFIER for s in stations[:-1]], i[:-1],
                               -i[:-1]))
    i[-1] = seg_i[-1]
    for k in range(n - 2, -1, -1):
        vd[k] = vd[k + 1] + seg_r[k] * seg_i[k]
    return i, vd


def build_link(name, stations, seg_r_ohm, seg_l_mh=(1500.0,), poles=(1, -1), v_set_kv=500.0,
               base_mva=100.0, tap_limits=(0.8, 1.2)):
    """A radial LCC link; ``seg_r_ohm[k]`` is the pole-line resistance from station k to k+1."""
    seg_l = list(seg_l_mh) * len(seg_r_ohm) if len(seg_l_mh) == 1 else list(seg_l_mh)
    i_des, vd_des = _design(stations, seg_r_ohm, v_set_kv)
    bus, line, gen, shunt = ({k: [] for k in cols} for cols in (
        ("id", "name", "base_kv", "type", "vm_pu", "va_deg"),
        ("id", "name", "from_bus", "to_bus", "r_pu", "x_pu"),
        ("id", "name", "bus", "p_mw", "vm_set_pu", "mbase_mva"),
        ("id", "name", "bus", "b_mvar")))
    node = {k: [] for k in ("id", "name", "base_kv", "grounded", "r_ground_ohm")}
    branch = {k: [] for k in ("id", "name", "from_node", "to_node", "r_ohm", "l_mh")}
    conv = {k: [] for k in ("id", "name", "bus", "dc_node_p", "dc_node_n", "pole", "kind",
                            "mode", "p_set_mw", "i_set_ka", "v_set_kv", "i_rated_ka",
                            "n_bridges", "angle_min_deg", "angle_max_deg", "xc_ohm",
                            "ebas_kv", "ratio", "tap_pu", "tap_min_pu", "tap_max_pu")}
    for k, s in enumerate(stations):
        src, acb = 10 * (k + 1) + 1, 10 * (k + 1) + 2
        a = math.radians(s["angle"])
        ev = (vd_des[k] / N_BR) / (Q.K_VD0 * (math.cos(a) - UK / 2))
        s_br = math.pi / 3 * Q.K_VD0 * ev * i_des[k]
        xc = UK * ev ** 2 / s_br
        p_sta, q_sta = 0.0, 0.0
        for pole in poles:
            p, q, *_ = Q.pq_ac(ev, a, i_des[k], N_BR, xc, 1)
            p_sta += p
            q_sta += q
        # Thevenin source so that the converter bus is at 1 pu, 0 deg at the design point
        p_scr = s["p_scr"] or p_sta
        z = base_mva / (s["scr"] * p_scr) * complex(math.cos(math.radians(s["z_deg"])),
                                                     math.sin(math.radians(s["z_deg"])))
        sign = 1.0 if s["kind"] == RECTIFIER else -1.0
        e = 1.0 + z * complex(sign * p_sta / base_mva, 0.0)
        bus["id"] += [src, acb]
        bus["name"] += [f"{s['name']} source", f"{s['name']} AC"]
        bus["base_kv"] += [s["kv"]] * 2
        bus["type"] += [3, 1]
        bus["vm_pu"] += [abs(e), 1.0]
        bus["va_deg"] += [math.degrees(math.atan2(e.imag, e.real)), 0.0]
        line["id"].append(1000 * src + 10 * acb + 1)
        line["name"].append(f"{s['name']} Thevenin")
        line["from_bus"].append(src)
        line["to_bus"].append(acb)
        line["r_pu"].append(z.real)
        line["x_pu"].append(z.imag)
        gen["id"].append(src)
        gen["name"].append(f"{s['name']} system")
        gen["bus"].append(src)
        gen["p_mw"].append(sign * p_sta)
        gen["vm_set_pu"].append(abs(e))
        gen["mbase_mva"].append(10000.0)
        shunt["id"].append(acb)
        shunt["name"].append(f"{s['name']} filters")
        shunt["bus"].append(acb)
        shunt["b_mvar"].append(q_sta)
        neutral = 100 * (k + 1)
        node["id"].append(neutral)
        node["name"].append(f"{s['name']} neutral")
        node["base_kv"].append(v_set_kv)
        node["grounded"].append(1)
        node["r_ground_ohm"].append(s["r_ground"])
        for pole in poles:
            pn = 100 * (k + 1) + (1 if pole > 0 else 2)
            node["id"].append(pn)
            node["name"].append(f"{s['name']} pole {'+' if pole > 0 else '-'}")
            node["base_kv"].append(v_set_kv)
            node["grounded"].append(0)
            node["r_ground_ohm"].append(0.0)
            conv["id"].append(10 * (k + 1) + (1 if pole > 0 else 2))
            conv["name"].append(f"{s['name']} {'+' if pole > 0 else '-'}")
            conv["bus"].append(acb)
            conv["dc_node_p"].append(pn if pole > 0 else neutral)
            conv["dc_node_n"].append(neutral if pole > 0 else pn)
            conv["pole"].append(pole)
            conv["kind"].append(s["kind"])
            conv["mode"].append(s["mode"])
            conv["p_set_mw"].append(s["order"] if s["mode"] == MODE_POWER else 0.0)
            conv["i_set_ka"].append(s["order"] if s["mode"] == MODE_CURRENT else 0.0)
            conv["v_set_kv"].append(s["order"] if s["mode"] == MODE_VOLTAGE else 0.0)
            conv["i_rated_ka"].append(i_des[k])
            conv["n_bridges"].append(N_BR)
            lo, hi = (s["angle"], s["angle"]) if s["mode"] == MODE_VOLTAGE else (
                s["angle"] - 2.5, s["angle"] + 2.5)
            conv["angle_min_deg"].append(lo)
            conv["angle_max_deg"].append(hi)
            conv["xc_ohm"].append(xc)
            conv["ebas_kv"].append(s["kv"])
            conv["ratio"].append(ev / s["kv"])
            conv["tap_pu"].append(1.0)
            conv["tap_min_pu"].append(tap_limits[0])
            conv["tap_max_pu"].append(tap_limits[1])
    for k, r in enumerate(seg_r_ohm):
        for pole in poles:
            off = 1 if pole > 0 else 2
            branch["id"].append(10 * (k + 1) + off)
            branch["name"].append(f"line {k + 1}-{k + 2} {'+' if pole > 0 else '-'}")
            branch["from_node"].append(100 * (k + 1) + off)
            branch["to_node"].append(100 * (k + 2) + off)
            branch["r_ohm"].append(r)
            branch["l_mh"].append(seg_l[k])
    tables = {"bus": bus, "line": line, "generator": gen, "shunt": shunt, "dc_node": node,
              "dc_branch": branch, "lcc_converter": conv}
    return Case.from_tables(name, tables, base_mva=base_mva, freq_hz=50.0,
                            source="tests/hvdc_cases.py (own design)")


def bipole(**kw):
    """CASA-1000-like bipole: Sangtuda rectifier (current order 1.3 kA per pole) and Nowshera
    inverter holding 500 kV, 750 km line of 10 ohm per pole, electrodes 0.5 ohm."""
    stations = [station("Sangtuda", RECTIFIER, MODE_CURRENT, 1.3, scr=4.0),
                station("Nowshera", INVERTER, MODE_VOLTAGE, 500.0, scr=3.0)]
    return build_link("bipole", stations, [10.0], **kw)


def three_terminal(poles=(1, -1), **kw):
    """Sangtuda rectifier 1.3 kA per pole, Kabul tap inverter 0.3 kA per pole (300 MW for the
    bipole) at 562 km, Nowshera inverter setting 500 kV at the end (113 km further)
    (REFERENCE.md 1.1 C7, C10; section lengths Afghanistan 562 km, Pakistan 113 km)."""
    stations = [station("Sangtuda", RECTIFIER, MODE_CURRENT, 1.3, scr=4.0),
                station("Kabul", INVERTER, MODE_CURRENT, 0.3, scr=2.5, kv=220.0),
                station("Nowshera", INVERTER, MODE_VOLTAGE, 500.0, scr=3.0)]
    r_per_km = 10.0 / 750.0
    return build_link("three_terminal", stations, [562 * r_per_km, 113 * r_per_km],
                      poles=poles, **kw)
