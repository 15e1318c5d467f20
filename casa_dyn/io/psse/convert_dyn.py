"""PSS/E DYR records -> casa_dyn model tables.

Generating-unit models (families generator, exciter, governor, pss) are mapped generically:
the model name is the table name in lower case (``GENROU`` -> ``genrou``), each column with a
``dyr`` position takes that CON (1-based, counted after the ICONs), the columns documented as
``ICON ...`` take the ICONs in table order, ``gen`` is the generator with the record's bus and
machine ID.  A model table registered later (by a new model module) is picked up without any
change here.  Columns with no DYR position come from the RAW generator record: ``ra_pu``
(machine models) from ZSORCE's R, GENCLS ``xdp_pu`` from ZSORCE's X.  How many ICONs precede
the CONs is a fact of the PSS/E Model Library (``ICON_COUNT``; IEEEG1's two ICONs, the
cross-compound JBUS and M, have no casa_dyn column).

Exciter saturation given by one point only: PSS/E's curve ``Efd SE(Efd) = B (Efd - A)^2``
needs two points (E1, SE(E1)), (E2, SE(E2)) with E > 0.  A point at E = 0 carries no data
(every curve with A >= 0 passes through it), so with it the curve is undetermined; the record
is converted without saturation (SE(E1) = SE(E2) = 0) and a note says so.  ANDES reads such
data (its EXDC2 defaults E1 = SE(E1) = 0, E2 = SE(E2) = 1) as "saturation is disabled";
fitting a curve through (0, 0) instead (A = 0, SE = B Efd) makes ANDES's Kundur EXDC2 data
start with VR 5.3-6.1 pu, above VRMAX 5.2 pu, so that data set cannot mean it.

ANDES's timed-event records (``Line 'Toggle' ...``, see ``dyr.py``) are skipped and reported.

Two-terminal DC line models ``CDC4T`` (22 CONs) and ``CDC6T`` (32) map onto the
``lcc_control`` rows of the line's rectifier and inverter (CON meanings: REFERENCE.md 3.3,
from PowerWorld's CDC4T/CDC6 help and STEPS ``CDC4T.cpp``/``CDC6T.cpp``):

====  =======  ==========================================  ==================================
CON   name     meaning (unit)                              lcc_control column (row)
====  =======  ==========================================  ==================================
1     ALFDY    minimum alpha in dynamics (deg)             alpha_min_deg (rectifier)
2     GAMDY    minimum gamma in dynamics (deg)             gamma_min_deg (inverter)
3     TVDC     DC voltage transducer (s)                   t_vd_s (both; CDC6T: inverter)
4     TIDC     DC current transducer (s)                   t_id_s (both)
5-7   VBLOCK, VUNBL, TBLOCK (pu, pu, s)                    v_block_pu, v_unblock_pu, t_block_s
8     VBYPAS   inverter DC bypass voltage (kV)             v_bypass_pu = VBYPAS / base kV
9-10  VUNBY, TBYPAS (pu, s)                                v_unbypass_pu, t_bypass_s
11    RSVOLT   restart DC voltage (kV)                     v_restart_pu = RSVOLT / base kV
12    RSCUR    restart DC current (A)                      i_restart_pu = RSCUR / rated A
13-14 VRAMP, CRAMP restart ramps (pu/s; <= 0 step)         v_ramp_pu_per_s, i_ramp_pu_per_s
15    C0       minimum current order (A)                   i_min_pu = C0 / rated A
16-21 V1 C1 V2 C2 V3 C3  VDCOL points (kV, A)              vdcol (V1, C1) low, (V3, C3) high
22    TCMODE   time in current mode after VCMOD (s)        t_cmode_s
32    TVDCR    (CDC6T) rectifier DC voltage transducer     t_vd_s (rectifier)
====  =======  ==========================================  ==================================

The rated current is the line's scheduled current, the base voltage its VSCHD (see
``convert_dc``).  casa_dyn's VDCOL has two points; a middle point (V2, C2) off the straight
line is reported.  CDC6T's delayed blocking and bypass logic (CONs 23-31) is not modelled.
Blocking data are written to both rows (casa_dyn evaluates blocking at rectifiers and bypass
at inverters).
"""
from __future__ import annotations

from casa_dyn.case import schema as S
from casa_dyn.errors import Problem
from casa_dyn.io.psse._text import Field, PsseFormatError, to_float, to_int

#: ICONs before the CONs, per PSS/E model (PSS/E Model Library; ANDES psse-dyr.yaml for
#: IEEEST and IEEEG1, PowerSystems.jl's PSS2A); absent models have none
ICON_COUNT = {"IEEEST": 2, "ESST1A": 2, "IEEEG1": 2, "ST2CUT": 4, "PSS2A": 6}
#: CON counts of PSS/E models (the tests compare them with the tables' highest ``dyr``
#: position; a record must have this many CONs even if a table leaves trailing ones out)
CON_COUNT = {"GENCLS": 2, "GENROU": 14, "GENSAL": 12, "SEXS": 6, "IEEET1": 14, "ESST1A": 18,
             "EXST1": 12, "ESST3A": 21, "ESDC1A": 16, "ESDC2A": 16, "EXDC2": 16, "IEEEX1": 16,
             "TGOV1": 7, "HYGOV": 12, "IEEEG1": 20, "GAST": 9, "IEEEST": 17, "ST2CUT": 16,
             "PSS2A": 17, "CDC4T": 22, "CDC6T": 32}
UNIT_FAMILIES = ("generator", "exciter", "governor", "pss")
DC_MODELS = ("CDC4T", "CDC6T")
_ZSORCE = {"ra_pu": lambda z: z.real, "xdp_pu": lambda z: z.imag}


def dyr_layout(table: S.Table) -> tuple[list[S.Column], dict[int, S.Column]]:
    """(ICON columns in order, CON position -> column) of a model table."""
    icons = [c for c in table.columns if c.doc.startswith("ICON")]
    cons = {c.dyr: c for c in table.columns if c.dyr}
    return icons, cons


def convert_dyn(ctx, t, records) -> None:
    schemas = S.tables()
    owners: dict[tuple[str, int], tuple[int, str]] = {}  # (family, gen) -> (line, model)
    n_zx = 0
    n_sat = []
    for rec in records:
        if rec.andes_event:
            ctx.report.skip("ANDES timed-event records (e.g. Line 'Toggle'; not PSS/E data: a "
                            "casa_dyn run takes its events from the scenario)", 1, 1)
            continue
        if rec.model in DC_MODELS:
            _dc_model(ctx, t, rec)
            continue
        table = schemas.get(rec.model.lower())
        if table is None or table.family not in UNIT_FAMILIES or "gen" not in table.names:
            ctx.report.missing(rec.model, rec.target)
            continue
        row = _unit_row(ctx, rec, table, owners)
        if row is None:
            continue
        z = ctx.zsorce[row["gen"]]
        n_zx += int("xdpp_pu" in row and abs(z.imag - row["xdpp_pu"]) > 1e-6)
        if _one_point_saturation(row):
            row["se1"] = row["se2"] = 0.0
            n_sat.append(f"{rec.model} at bus {rec.target} (line {rec.line})")
        t.add(table.name, id=t.n(table.name) + 1, **row)
        ctx.model_lines.setdefault(table.name, []).append(
            f"{ctx.report.dyr_path}:{rec.line}, {rec.model} at bus {rec.target}")
    if n_zx:
        ctx.report.note(f"{n_zx} machine(s) whose ZSORCE X differs from X''d of their GENROU or "
                        "GENSAL record (PSS/E expects them equal); casa_dyn uses X''d")
    if n_sat:
        ctx.report.note(f"{len(n_sat)} exciter(s) with a saturation point at E = 0, which leaves "
                        "one point and no defined curve: converted without saturation "
                        f"(SE(E1) = SE(E2) = 0): {', '.join(n_sat[:5])}"
                        + (", ..." if len(n_sat) > 5 else ""))


def _one_point_saturation(row: dict) -> bool:
    """True when an exciter row's saturation data have a point at E = 0 and some saturation
    (see the module docstring)."""
    if not {"e1_pu", "se1", "e2_pu", "se2"} <= row.keys():
        return False
    at_zero = row["e1_pu"] == 0.0 or row["e2_pu"] == 0.0
    return at_zero and (row["se1"] != 0.0 or row["se2"] != 0.0)


def _unit_row(ctx, rec, table: S.Table, owners) -> dict | None:
    path, m = ctx.report.dyr_path, rec.model
    if not isinstance(rec.target, int):
        raise PsseFormatError(path, rec.line, m, f"field 1: expected a bus number, found "
                              f"'{rec.target}'")
    if not rec.fields or rec.fields[0].text is None:
        raise PsseFormatError(path, rec.line, m, "field 3: expected the machine ID")
    mid = rec.fields[0].text.strip().upper()
    gid = ctx.gen_ids.get((rec.target, mid))
    if gid is None:
        ctx.report.skip("DYR records of machines that are not in the RAW file", 1, 1)
        ctx.report.note(f"{path}:{rec.line}: {m} for machine '{mid}' at bus {rec.target}, which "
                        "the RAW file does not have: skipped")
        return None
    icons, cons = dyr_layout(table)
    n_icon = ICON_COUNT.get(m, len(icons))
    n_con = max(max(cons, default=0), CON_COUNT.get(m, 0))  # trailing CONs a table leaves out
    values = rec.fields[1:]
    if len(values) != n_icon + n_con:
        raise PsseFormatError(path, rec.line, m, f"expected the machine ID, {n_icon} ICONs and "
                              f"{n_con} CONs ({n_icon + n_con} values after the ID), found "
                              f"{len(values)}")
    row = {"gen": gid}
    for k, col in enumerate(icons[:n_icon]):
        row[col.name] = _value(path, m, values[k], "i", f"ICON {k + 1} ({col.name})")
    unused = [_value(path, m, values[k], "i", f"ICON {k + 1}") for k in range(len(icons), n_icon)]
    if any(unused):
        ctx.report.note(f"{path}:{rec.line}: {m} ICONs {len(icons) + 1}-{n_icon} = {unused} are "
                        "not used by casa_dyn's model (e.g. IEEEG1's cross-compound JBUS, M)")
    for pos, col in cons.items():
        row[col.name] = _value(path, m, values[n_icon + pos - 1], "i" if col.dtype == S.INT else "f",
                               f"CON {pos} ({col.name})")
    for col in table.columns:
        if col.name in row or col.name == "id":
            continue
        if table.family == "generator" and col.name in _ZSORCE:
            row[col.name] = _ZSORCE[col.name](ctx.zsorce[gid])
        elif col.required:
            raise PsseFormatError(path, rec.line, m, f"column {col.name} of table {table.name} "
                                  "has no DYR position and no default")
    key = (table.family, gid)
    if key in owners:
        line, other = owners[key]
        raise PsseFormatError(path, rec.line, m, f"machine '{mid}' at bus {rec.target} already has "
                              f"a {table.family} model ({other}, line {line})")
    owners[key] = (rec.line, m)
    return row


def _value(path: str, model: str, f: Field, typ: str, what: str):
    try:
        return to_int(f) if typ == "i" else to_float(f)
    except (ValueError, OverflowError):
        word = "an integer" if typ == "i" else "a number"
        raise PsseFormatError(path, f.line, model, f"{what}: expected {word}, found "
                              f"{f.text!r}") from None


# ---------------------------------------------------------------------------- DC line models
def _dc_model(ctx, t, rec) -> None:
    path, m = ctx.report.dyr_path, rec.model
    line = ctx.dc_lines.get(str(rec.target))
    if line is None or "rect" not in line:
        ctx.report.skip("DYR records of two-terminal DC lines that are not in the RAW file", 1, 1)
        ctx.report.note(f"{path}:{rec.line}: {m} for DC line {rec.where}, which the RAW file "
                        "does not have as a two-terminal line: skipped")
        return
    n = 22 if m == "CDC4T" else 32
    if len(rec.fields) != n:
        raise PsseFormatError(path, rec.line, m, f"expected {n} CONs, found {len(rec.fields)}")
    c = [None] + [_value(path, m, f, "f", f"CON {k + 1}") for k, f in enumerate(rec.fields)]
    if any(r["conv"] in (line["rect"], line["inv"]) for r in _rows(t, "lcc_control")):
        raise PsseFormatError(path, rec.line, m, f"DC line {rec.where} already has a dynamic model")
    rect, inv = cdc_rows(c, line["base_kv"], line["i_rated_ka"], m)
    schema = S.get("lcc_control")
    defaults = {c.name: c.default for c in schema.columns if c.default is not None}
    for conv, row in ((line["rect"], rect), (line["inv"], inv)):
        cols = dict(defaults, **{k: v for k, v in row.items() if k in defaults})
        t.add("lcc_control", id=t.n("lcc_control") + 1, conv=conv, **cols)
        ctx.model_lines.setdefault("lcc_control", []).append(f"{path}:{rec.line}, {m} {rec.where}")
    if m == "CDC6T":
        ctx.report.note("CDC6T delayed blocking and bypass data (CONs 23-31) are not modelled")
    if c[20] != c[16] and abs(_on_line(c) - c[19]) > 0.01 * 1000.0 * line["i_rated_ka"]:
        ctx.report.note(f"{m} {rec.where}: the VDCOL middle point (V2, C2) is off the line "
                        "through (V1, C1) and (V3, C3); casa_dyn's VDCOL uses the two end points")


def _on_line(c) -> float:
    """C at V2 on the straight line through (V1, C1) and (V3, C3)."""
    return c[17] + (c[21] - c[17]) * (c[18] - c[16]) / (c[20] - c[16])


def cdc_rows(c: list, base_kv: float, i_rated_ka: float, model: str) -> tuple[dict, dict]:
    """lcc_control values of the rectifier and inverter rows from CDC4T/CDC6T CONs
    (``c[1..]``; table in the module docstring)."""
    amps = 1000.0 * i_rated_ka
    both = {"t_vd_s": c[3], "t_id_s": c[4], "v_block_pu": c[5], "v_unblock_pu": c[6],
            "t_block_s": c[7], "v_bypass_pu": c[8] / base_kv, "v_unbypass_pu": c[9],
            "t_bypass_s": c[10], "v_restart_pu": c[11] / base_kv, "i_restart_pu": c[12] / amps,
            "v_ramp_pu_per_s": max(c[13], 0.0), "i_ramp_pu_per_s": max(c[14], 0.0),
            "i_min_pu": c[15] / amps, "vdcol_v_low_pu": c[16] / base_kv,
            "vdcol_i_low_pu": c[17] / amps, "vdcol_v_high_pu": c[20] / base_kv,
            "vdcol_i_high_pu": c[21] / amps, "t_cmode_s": c[22]}
    rect = dict(both, alpha_min_deg=c[1])
    if model == "CDC6T":
        rect["t_vd_s"] = c[32]
    inv = dict(both, gamma_min_deg=c[2])
    return rect, inv


def _rows(t, table: str) -> list[dict]:
    cols = t.t.get(table, {})
    n = t.n(table)
    return [{k: v[r] for k, v in cols.items()} for r in range(n)]


# ---------------------------------------------------------------------------- problems
def locate_problems(ctx, case, problems: list[Problem]) -> list[Problem]:
    """Add the DYR file and line to problems found in model tables."""
    out = []
    for p in problems:
        where = ctx.model_lines.get(p.table)
        if where is not None and p.row is not None and p.row < len(where):
            p = Problem(p.table, p.row, p.column, f"{p.message} (DYR {where[p.row]})",
                        p.element_id)
        out.append(p)
    return out
