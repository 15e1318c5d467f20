"""PSS/E two-terminal and multi-terminal DC lines -> casa_dyn DC nodes, branches, converters.

Field meanings: REFERENCE.md 3.1 and 3.2 (PSS/E POM as restated in the ``power_flow_data``
crate docs and GridCal's RAW reader); casa_dyn's converter conventions:
``casa_dyn.network.dc.tables``.

**Two-terminal line** ``NAME, MDC, RDC, SETVL, VSCHD, VCMOD, RCOMP, DELTI, METER, DCVMIN``:
a rectifier pole node and an inverter pole node joined by a branch of RDC ohms (one node when
RDC = 0, back to back), each converter's other terminal on a solidly grounded neutral node.
The inverter sets the DC voltage: ``Vd_i + RCOMP Id = VSCHD`` (mode 3, ``v_min_kv`` DCVMIN).
The rectifier holds the order:

* MDC = 1, SETVL > 0: the power SETVL (MW) at the rectifier's DC terminals (mode 1);
* MDC = 1, SETVL < 0: the power |SETVL| at the inverter.  casa_dyn schedules power at the
  converter that holds it, so the rectifier's order is that power plus the line loss:
  ``Id`` solves ``(VSCHD - RCOMP Id) Id = |SETVL|`` and ``P_r = (VSCHD + (RDC - RCOMP) Id) Id``;
* MDC = 2: the current SETVL in **amperes** (mode 2, ``i_set_ka = SETVL / 1000``); the
  scheduled power is ``SETVL VSCHD / 1000`` MW at the compounding point (REFERENCE.md 6, row 13);
* MDC = 0: blocked, both converters out of service.

VCMOD is the rectifier's mode-switch voltage, DELTI its current margin; the rated current
(base of the dynamic controls) is the scheduled current.  PSS/E's AC transformer tap control
of a converter (IF/IT/ID), METER and CCC data (XCAP, CCCITMX, CCCACC) are not modelled.

**Multi-terminal line**: one DC node per DC bus row (IDC), a solidly grounded node for
converters with IDC2 = 0, neutral nodes (named as IDC2 by some converter) grounded through
RGRND; DC links are branches (RDC ohms, LDC mH).  The converter at AC bus VCONV (VCONVN for
the negative pole) sets the voltage SETVL kV between IDC and IDC2 (mode 3); every other
converter holds its SETVL: MW (MDC = 1) or A (MDC = 2), positive at rectifiers and negative
at inverters.  CNVCOD < 0 puts a converter on the negative pole (IDC is then its lower
terminal).  MARG is the converter's current margin; DCPF (order redistribution) is not
modelled.
"""
from __future__ import annotations

import math

from casa_dyn.io.psse._text import PsseFormatError
from casa_dyn.network.dc.tables import INVERTER, MODE_CURRENT, MODE_POWER, MODE_VOLTAGE, RECTIFIER


def convert_dc(ctx, t) -> None:
    for rec in ctx.raw.get("two_terminal_dc"):
        _two_terminal(ctx, t, rec)
    for rec in ctx.raw.get("multi_terminal_dc"):
        _multi_terminal(ctx, t, rec)


def _node(t, name: str, base_kv: float, v_kv: float = 0.0, grounded: int = 0,
          r_ground: float = 0.0) -> int:
    nid = t.n("dc_node") + 1
    t.add("dc_node", id=nid, name=name[:60], base_kv=base_kv, grounded=grounded,
          r_ground_ohm=r_ground, c_uf=0.0, v_kv=v_kv, in_service=1)
    return nid


def _converter(t, **cols) -> int:
    cid = t.n("lcc_converter") + 1
    t.add("lcc_converter", id=cid, **cols)
    return cid


def scheduled_current_ka(mdc: int, setvl: float, vschd: float, rdc: float, rcomp: float):
    """DC current (kA) of a two-terminal line's schedule, and the rectifier's power order
    (MW at its DC terminals) for MDC = 1; ``None`` if the schedule has no solution."""
    if mdc == 2:
        i = abs(setvl) / 1000.0
        return i, (vschd + (rdc - rcomp) * i) * i
    if setvl >= 0:   # power at the rectifier: (VSCHD + (RDC - RCOMP) I) I = SETVL
        a = rdc - rcomp
        i = setvl / vschd if abs(a) < 1e-12 else (
            (-vschd + math.sqrt(max(vschd * vschd + 4.0 * a * setvl, 0.0))) / (2.0 * a))
        return i, setvl
    p_i = -setvl     # power at the inverter: (VSCHD - RCOMP I) I = |SETVL|
    if rcomp == 0:
        i = p_i / vschd
    else:
        disc = vschd * vschd - 4.0 * rcomp * p_i
        if disc < 0:
            return None
        i = (vschd - math.sqrt(disc)) / (2.0 * rcomp)
    return i, (vschd + (rdc - rcomp) * i) * i


def _conv_cols(c: dict, prefix: str = "") -> dict:
    """Converter-transformer and bridge columns from a RAW converter row."""
    return dict(n_bridges=c["NB"] if "NB" in c else c["N"],
                angle_max_deg=c["ANMX"] if "ANMX" in c else c["ANGMX"],
                angle_min_deg=c["ANMN"] if "ANMN" in c else c["ANGMN"],
                rc_ohm=c["RC"], xc_ohm=c["XC"], ebas_kv=c["EBAS"], ratio=c["TR"], tap_pu=c["TAP"],
                tap_max_pu=c["TMX"] if "TMX" in c else c["TPMX"],
                tap_min_pu=c["TMN"] if "TMN" in c else c["TPMN"],
                tap_step_pu=c["STP"] if "STP" in c else c["TSTP"])


def _two_terminal(ctx, t, rec) -> None:
    path, v, (cr, ci) = ctx.raw.path, rec.v, rec.parts
    name = v["NAME"]
    what = "two-terminal DC line"
    if name in ctx.dc_lines:
        raise PsseFormatError(path, rec.line, what, f"DC line name '{name}' is used twice")
    mdc, vschd, rdc, rcomp = v["MDC"], v["VSCHD"], v["RDC"], v["RCOMP"]
    if mdc not in (0, 1, 2):
        raise PsseFormatError(path, rec.line, what, f"MDC = {mdc} (expected 0, 1 or 2)")
    if rdc < 0 or rcomp < 0:
        raise PsseFormatError(path, rec.line, what, "RDC and RCOMP must not be negative")
    if mdc != 0 and not vschd > 0:
        raise PsseFormatError(path, rec.line, what, f"VSCHD = {vschd:g} kV must be positive")
    if mdc != 0 and v["SETVL"] == 0:
        raise PsseFormatError(path, rec.line, what, "SETVL = 0: no order for an unblocked line")
    br = ctx.bus(cr["IP"], rec, what, "rectifier bus IPR")
    bi = ctx.bus(ci["IP"], rec, what, "inverter bus IPI")
    sched = scheduled_current_ka(mdc or 1, v["SETVL"], vschd if vschd > 0 else 1.0, rdc, rcomp)
    if sched is None and mdc != 0:
        raise PsseFormatError(path, rec.line, what, f"the inverter-end power {-v['SETVL']:g} MW "
                              f"cannot be reached at VSCHD {vschd:g} kV with RCOMP {rcomp:g} ohm")
    i_ka, p_r = sched if sched and sched[0] > 0 else (1.0, 0.0)
    base = vschd if vschd > 0 else 1.0
    rp = _node(t, f"{name} rectifier pole", base, base + (rdc - rcomp) * i_ka)
    rn = _node(t, f"{name} rectifier neutral", base, 0.0, grounded=1)
    ip = rp if rdc == 0 else _node(t, f"{name} inverter pole", base, base - rcomp * i_ka)
    inn = _node(t, f"{name} inverter neutral", base, 0.0, grounded=1)
    if rdc > 0:
        t.add("dc_branch", id=t.n("dc_branch") + 1, name=f"{name} line", from_node=rp,
              to_node=ip, r_ohm=rdc, l_mh=0.0, in_service=1)
    on = int(mdc != 0)
    common = dict(i_margin_pu=v["DELTI"], i_rated_ka=i_ka, in_service=on)
    rid = _converter(t, name=f"{name} rectifier", bus=br, dc_node_p=rp, dc_node_n=rn, pole=1,
                     kind=RECTIFIER, mode=MODE_POWER if mdc == 1 else MODE_CURRENT,
                     p_set_mw=p_r if mdc == 1 else 0.0, i_set_ka=i_ka if mdc != 1 else 0.0,
                     v_set_kv=0.0, r_comp_ohm=0.0, v_min_kv=0.0,
                     v_cmod_kv=v["VCMOD"] if mdc == 1 else 0.0, **common, **_conv_cols(cr))
    iid = _converter(t, name=f"{name} inverter", bus=bi, dc_node_p=ip, dc_node_n=inn, pole=1,
                     kind=INVERTER, mode=MODE_VOLTAGE, p_set_mw=0.0, i_set_ka=0.0,
                     v_set_kv=vschd if vschd > 0 else base, r_comp_ohm=rcomp,
                     v_min_kv=v["DCVMIN"], v_cmod_kv=0.0, **common, **_conv_cols(ci))
    ctx.dc_lines[name] = {"rect": rid, "inv": iid, "base_kv": base, "i_rated_ka": i_ka,
                          "line": rec.line}
    _two_terminal_notes(ctx, v, cr, ci, on)


def _two_terminal_notes(ctx, v, cr, ci, on) -> None:
    rep = ctx.report
    if v["MDC"] == 1 and v["SETVL"] < 0:
        rep.note("two-terminal DC line(s) scheduling power at the inverter (SETVL < 0): the "
                 "rectifier's order is that power plus the DC line loss at the schedule")
    if cr["XCAP"] or ci["XCAP"]:
        rep.skip("capacitor-commutated converter data (XCAPR/XCAPI) of two-terminal DC lines",
                 1, on)
    if cr["IF"] or ci["IF"]:
        rep.note("two-terminal DC line converter(s) with an AC transformer doing the tap control "
                 "(IF/IT/ID): casa_dyn moves the converter tap (TAPR/TAPI) instead")
    if (cr["IC"] and cr["IC"] != cr["IP"]) or (ci["IC"] and ci["IC"] != ci["IP"]):
        rep.note("two-terminal DC line commutating buses (ICR/ICI) other than the converter bus "
                 "are not modelled")


def _multi_terminal(ctx, t, rec) -> None:
    path, v = ctx.raw.path, rec.v
    convs, dcbuses, links = rec.parts
    name, mdc, what = v["NAME"], v["MDC"], "multi-terminal DC line"
    if name in ctx.dc_lines:
        raise PsseFormatError(path, rec.line, what, f"DC line name '{name}' is used twice")
    if mdc not in (0, 1, 2):
        raise PsseFormatError(path, rec.line, what, f"MDC = {mdc} (expected 0, 1 or 2)")
    vst_bus = {1: v["VCONV"], -1: v["VCONVN"] or None}
    if mdc != 0 and not any(c["IB"] == v["VCONV"] for _, c in convs):
        raise PsseFormatError(path, rec.line, what, f"VCONV = {v['VCONV']} is not the AC bus of "
                              "one of the line's converters")
    base = max((abs(c["SETVL"]) for _, c in convs if c["IB"] in (v["VCONV"], v["VCONVN"])),
               default=0.0) or 1.0
    rows = {}
    for ln, b in dcbuses:
        if b["IDC"] in rows:
            raise PsseFormatError(path, ln, what, f"DC bus {b['IDC']} is given twice")
        rows[b["IDC"]] = (ln, b)
    neutrals = {b["IDC2"] for _, b in dcbuses if b["IDC2"]}
    nodes = {}
    for idc, (ln, b) in rows.items():
        grounded = int(idc in neutrals)
        nodes[idc] = _node(t, f"{name} {b['DCNAME'] or 'dc' + str(idc)}", base,
                           0.0 if grounded else base, grounded, b["RGRND"] if grounded else 0.0)
    ground = None
    for ln, lk in links:
        a, b = abs(lk["IDC"]), abs(lk["JDC"])
        for x in (a, b):
            if x not in nodes:
                raise PsseFormatError(path, ln, what, f"DC link to DC bus {x}, which is not given")
        t.add("dc_branch", id=t.n("dc_branch") + 1, name=f"{name} {a}-{b} {lk['DCCKT']}",
              from_node=nodes[a], to_node=nodes[b], r_ohm=lk["RDC"], l_mh=lk["LDC"], in_service=1)
    conv_ids, on = [], int(mdc != 0)
    items = []  # (line, row, pole, voltage-setting, scheduled current kA)
    for ln, c in convs:
        pole = 1 if c["CNVCOD"] >= 0 else -1
        is_vst = c["IB"] == vst_bus[pole]
        if not is_vst and c["SETVL"] == 0:
            raise PsseFormatError(path, ln, what, f"converter at bus {c['IB']}: SETVL = 0")
        order = 0.0 if is_vst else abs(c["SETVL"]) / (base if mdc == 1 else 1000.0)
        items.append((ln, c, pole, is_vst, order))
    rect_ka = {p: sum(o for _, c, q, vst, o in items if q == p and not vst and c["SETVL"] > 0)
               for p in (1, -1)}
    for ln, c, pole, is_vst, order in items:
        bus = ctx.bus(c["IB"], rec, what, "converter bus IB")
        mine = [(l2, b) for l2, b in dcbuses if b["IB"] == c["IB"]]
        if len(mine) != 1:
            raise PsseFormatError(path, ln, what, f"converter at AC bus {c['IB']} needs exactly one "
                                  f"DC bus row with IB = {c['IB']}, found {len(mine)}")
        brow = mine[0][1]
        if brow["IDC2"] and brow["IDC2"] not in nodes:
            raise PsseFormatError(path, mine[0][0], what, f"IDC2 = {brow['IDC2']} is not a DC bus")
        if not brow["IDC2"] and ground is None:
            ground = _node(t, f"{name} ground", base, 0.0, grounded=1)
        other = nodes[brow["IDC2"]] if brow["IDC2"] else ground
        hi, lo = (nodes[brow["IDC"]], other) if pole > 0 else (other, nodes[brow["IDC"]])
        kind = INVERTER if is_vst or c["SETVL"] < 0 else RECTIFIER
        mode = MODE_VOLTAGE if is_vst else (MODE_POWER if mdc == 1 else MODE_CURRENT)
        conv_ids.append(_converter(
            t, name=f"{name} {c['IB']}", bus=bus, dc_node_p=hi, dc_node_n=lo, pole=pole, kind=kind,
            mode=mode, p_set_mw=abs(c["SETVL"]) if mode == MODE_POWER else 0.0,
            i_set_ka=abs(c["SETVL"]) / 1000.0 if mode == MODE_CURRENT else 0.0,
            v_set_kv=abs(c["SETVL"]) if is_vst else 0.0, r_comp_ohm=0.0, v_min_kv=0.0,
            v_cmod_kv=v["VCMOD"] if mode == MODE_POWER else 0.0, i_margin_pu=c["MARG"],
            i_rated_ka=(rect_ka[pole] if is_vst else order) or 1.0, in_service=on,
            **_conv_cols(c)))
    if len({c["DCPF"] for _, c in convs}) > 1:
        ctx.report.note("multi-terminal DC participation factors (DCPF) are not modelled")
    ctx.dc_lines[name] = {"converters": conv_ids, "base_kv": base, "line": rec.line}
