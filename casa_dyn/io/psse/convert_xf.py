"""PSS/E two- and three-winding transformers -> casa_dyn transformers (and a star-point bus).

The equations are in the docstring of ``casa_dyn.io.psse.convert`` (CW/CZ/CM codes, the
single-tap equivalent ``ratio = t1/t2, Z = Z12 t2^2``, the star equivalent, the rescaling of a
star point whose winding has a negative reactance, impedance correction tables).
"""
from __future__ import annotations

import cmath
import math

from casa_dyn.io.psse._text import PsseFormatError

_PHASE_CODES = (3, 5)   # |COD| of a winding that controls a phase shift


def convert_transformers(ctx, t) -> None:
    tables = {r.v["I"]: r.v["points"] for r in ctx.raw.get("impedance_correction")}
    counts = {"ctrl": 0, "tab": 0, "neg": 0, "neg_r": 0}
    star_id = max(ctx.buses) if ctx.buses else 0
    for rec in ctx.raw.get("transformer"):
        if rec.v["K"] in (0, None):
            _two_winding(ctx, t, rec, tables, counts)
        else:
            star_id = _next_free(ctx, star_id)
            _three_winding(ctx, t, rec, tables, counts, star_id)
    notes = {"ctrl": "transformer winding(s) with tap or phase-shift control (COD != 0): held "
                     "at the RAW tap and angle",
             "tab": "transformer impedance(s) scaled by an impedance correction table at the "
                    "RAW tap or angle",
             "neg": "three-winding transformer(s) with a negative star reactance: that winding "
                    "is a line of negative reactance after rescaling the star point's base",
             "neg_r": "transformer winding(s) with negative resistance set to 0"}
    for k, n in counts.items():
        if n:
            ctx.report.note(f"{n} {notes[k]}")


def _next_free(ctx, start: int) -> int:
    b = start + 1
    while b in ctx.buses:
        b += 1
    return b


# ---------------------------------------------------------------------------- conversions
def winding_ratio(cw: int, windv, nomv: float, bus_kv: float) -> float:
    """Winding ratio in pu of the bus base voltage (CW = 1, 2, 3)."""
    nom = nomv if nomv > 0 else bus_kv
    if cw == 2:
        return (windv if windv is not None else bus_kv) / bus_kv
    w = windv if windv is not None else 1.0
    return w if cw == 1 else w * nom / bus_kv


def impedance_sys(cz: int, r: float, x: float, sbase_pair: float, sbase: float) -> complex:
    """Pair impedance on the system base from the CZ code's units."""
    if cz == 1:
        return complex(r, x)
    if cz == 2:
        return complex(r, x) * sbase / sbase_pair
    r_w = r / 1e6 / sbase_pair                     # load loss (W) -> pu on the winding base
    x_w = math.sqrt(max(x * x - r_w * r_w, 0.0))   # |Z| -> X
    return complex(r_w, x_w) * sbase / sbase_pair


def magnetizing_sys(cm: int, mag1: float, mag2: float, sbase12: float, sbase: float,
                    nomv1: float, bus_kv: float) -> complex:
    if cm == 1:
        return complex(mag1, mag2)
    k = (bus_kv / (nomv1 if nomv1 > 0 else bus_kv)) ** 2
    g = mag1 / 1e6 / sbase * k
    y = mag2 * sbase12 / sbase * k
    return complex(g, -math.sqrt(max(y * y - g * g, 0.0)))


def correction_factor(points, x: float) -> complex:
    """Impedance correction factor at ``x`` (linear between points, end values outside)."""
    pts = sorted(points, key=lambda p: p[0])
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, f0), (x1, f1) in zip(pts, pts[1:]):
        if x <= x1:
            return f0 + (f1 - f0) * (x - x0) / (x1 - x0) if x1 > x0 else f1
    return pts[-1][1]


# ---------------------------------------------------------------------------- records
def _codes(ctx, rec):
    v = rec.v
    for code, allowed in (("CW", (1, 2, 3)), ("CZ", (1, 2, 3)), ("CM", (1, 2))):
        if v[code] not in allowed:
            raise PsseFormatError(ctx.raw.path, rec.line, "transformer",
                                  f"{code} = {v[code]} (expected one of {allowed})")


def _sbase(ctx, rec, value, name: str) -> float:
    if value is None or value == 0:
        return ctx.raw.sbase_mva
    if value < 0:
        raise PsseFormatError(ctx.raw.path, rec.line, "transformer line 2",
                              f"{name} = {value:g} MVA must be positive")
    return value


def _corrected(ctx, rec, z: complex, w: dict, cw_ratio_pu: float, tables, counts) -> complex:
    if not w.get("TAB"):
        return z
    pts = tables.get(w["TAB"])
    if not pts:
        raise PsseFormatError(ctx.raw.path, rec.line, "transformer",
                              f"impedance correction table {w['TAB']} is not in the file")
    at = w["ANG"] if abs(w.get("COD") or 0) in _PHASE_CODES else cw_ratio_pu
    counts["tab"] += 1
    return z * correction_factor(pts, at)


def _table_ratio(cw: int, w: dict, bus_kv: float) -> float:
    """The winding ratio an impedance correction table is looked up at (pu; kV / NOMV for
    CW = 2)."""
    windv = w["WINDV"] if w["WINDV"] is not None else (bus_kv if cw == 2 else 1.0)
    if cw == 2:
        return windv / (w["NOMV"] if w["NOMV"] > 0 else bus_kv)
    return windv


def _two_winding(ctx, t, rec, tables, counts) -> None:
    _codes(ctx, rec)
    v, (l2, w1, w2) = rec.v, rec.parts
    i = ctx.bus(v["I"], rec, "transformer")
    j = ctx.bus(v["J"], rec, "transformer")
    if i == j:
        raise PsseFormatError(ctx.raw.path, rec.line, "transformer", f"connects bus {i} to itself")
    sb = ctx.raw.sbase_mva
    s12 = _sbase(ctx, rec, l2["SBASE12"], "SBASE1-2")
    t1 = winding_ratio(v["CW"], w1["WINDV"], w1["NOMV"], ctx.kv(i))
    t2 = winding_ratio(v["CW"], w2["WINDV"], w2["NOMV"], ctx.kv(j))
    z = impedance_sys(v["CZ"], l2["R12"], l2["X12"], s12, sb)
    z = _corrected(ctx, rec, z, w1, _table_ratio(v["CW"], w1, ctx.kv(i)), tables, counts)
    z *= t2 * t2
    ymag = magnetizing_sys(v["CM"], v["MAG1"], v["MAG2"], s12, sb, w1["NOMV"], ctx.kv(i))
    counts["ctrl"] += int((w1.get("COD") or 0) != 0)
    on = int(v["STAT"] != 0)
    if t1 <= 0 or t2 <= 0:
        raise PsseFormatError(ctx.raw.path, rec.line, "transformer",
                              f"winding ratios must be positive (WINDV1 -> {t1:g}, WINDV2 -> {t2:g})")
    _emit(ctx, t, rec, i, j, t1 / t2, w1["ANG"], z, ymag, w1["RATE1"], on, v["NAME"] or v["CKT"],
          counts)


def _emit(ctx, t, rec, f, to, ratio, shift, z, ymag, rate, on, name, counts) -> None:
    """One casa_dyn transformer; a negative reactance with ratio 1 and no shift becomes a
    line instead (and its magnetizing admittance a fixed shunt at the from bus)."""
    r, x = z.real, z.imag
    if r < 0:
        r, counts["neg_r"] = 0.0, counts["neg_r"] + 1
    shift = (shift + 180.0) % 360.0 - 180.0
    if x < 0:
        if abs(ratio - 1.0) < 1e-12 and abs(shift) < 1e-12:
            t.add("line", id=t.n("line") + 1, name=name, from_bus=f, to_bus=to, r_pu=r, x_pu=x,
                  b_pu=0.0, rate_mva=max(rate, 0.0), in_service=on)
            if ymag != 0:  # the magnetizing admittance sits at the from bus: a fixed shunt
                base = ctx.raw.sbase_mva
                t.add("shunt", id=t.n("shunt") + 1, name=f"{name} magnetizing", bus=f,
                      g_mw=ymag.real * base, b_mvar=ymag.imag * base, in_service=on)
            return
        raise PsseFormatError(ctx.raw.path, rec.line, "transformer",
                              f"negative reactance {x:.6g} pu with an off-nominal ratio or a "
                              "phase shift cannot be represented")
    t.add("transformer", id=t.n("transformer") + 1, name=name, from_bus=f, to_bus=to, r_pu=r,
          x_pu=x, g_pu=ymag.real, b_pu=ymag.imag, ratio_pu=ratio, shift_deg=shift,
          rate_mva=max(rate, 0.0), in_service=on)


def _three_winding(ctx, t, rec, tables, counts, star: int) -> None:
    _codes(ctx, rec)
    v, (l2, *w) = rec.v, rec.parts
    buses = [ctx.bus(v[k], rec, "transformer") for k in ("I", "J", "K")]
    if len(set(buses)) < 3:
        raise PsseFormatError(ctx.raw.path, rec.line, "transformer",
                              f"three-winding transformer between buses {buses}: not distinct")
    sb = ctx.raw.sbase_mva
    pair = {}
    for key, s_name in (("12", "SBASE12"), ("23", "SBASE23"), ("31", "SBASE31")):
        s = _sbase(ctx, rec, l2[s_name], f"SBASE{key[0]}-{key[1]}")
        pair[key] = impedance_sys(v["CZ"], l2[f"R{key}"], l2[f"X{key}"], s, sb)
    zs = [(pair["12"] + pair["31"] - pair["23"]) / 2, (pair["12"] + pair["23"] - pair["31"]) / 2,
          (pair["23"] + pair["31"] - pair["12"]) / 2]
    tk = [winding_ratio(v["CW"], w[k]["WINDV"], w[k]["NOMV"], ctx.kv(buses[k]))
          * cmath.exp(1j * math.radians(w[k]["ANG"])) for k in range(3)]
    if any(abs(x) <= 0 for x in tk):
        raise PsseFormatError(ctx.raw.path, rec.line, "transformer", "winding ratios must be positive")
    zs = [_corrected(ctx, rec, zs[k], w[k], _table_ratio(v["CW"], w[k], ctx.kv(buses[k])),
                     tables, counts) for k in range(3)]
    neg = [k for k in range(3) if zs[k].imag < 0]
    if neg:  # rescale the star point so the negative winding has ratio 1 (see convert.py)
        c = tk[neg[0]]
        tk = [x / c for x in tk]
        zs = [z * abs(c) ** 2 for z in zs]
        counts["neg"] += 1
    s12 = _sbase(ctx, rec, l2["SBASE12"], "SBASE1-2")
    ymag = magnetizing_sys(v["CM"], v["MAG1"], v["MAG2"], s12, sb, w[0]["NOMV"], ctx.kv(buses[0]))
    stat = v["STAT"]
    b1 = ctx.buses[buses[0]]
    ctx.buses[star] = {"I": star, "VM": l2["VMSTAR"] or 1.0, "VA": l2["ANSTAR"],
                       "IDE": 4 if stat == 0 else 1,
                       "BASKV": ctx.kv(buses[0]), "OWNER": b1["OWNER"]}
    t.add("bus", id=star, name=f"{v['NAME'] or 'T3W ' + v['CKT']} star"[:40],
          base_kv=ctx.kv(buses[0]), type=4 if stat == 0 else 1, vm_pu=l2["VMSTAR"] or 1.0,
          va_deg=l2["ANSTAR"], area=max(b1["AREA"], 0), zone=max(b1["ZONE"], 0),
          vmin_pu=0.9, vmax_pu=1.1)
    off = {0: (0, 1, 2), 2: (1,), 3: (2,), 4: (0,)}.get(stat, ())
    for k in range(3):
        counts["ctrl"] += int((w[k].get("COD") or 0) != 0)
        on = int(k not in off)
        _emit(ctx, t, rec, buses[k], star, abs(tk[k]), math.degrees(cmath.phase(tk[k])), zs[k],
              ymag if k == 0 else 0j, w[k]["RATE1"], on,
              f"{v['NAME'] or v['CKT']} w{k + 1}", counts)
