"""PSS/E RAW (+ DYR) -> casa_dyn ``Case``: buses, loads, shunts, generators, branches,
two- and three-winding transformers, switched shunts, DC lines and dynamic models.

Conversions (PSS/E POM record descriptions as restated in the sources of ``raw_layouts``;
equations are textbook per-unit algebra):

* **Loads** ``PL + jQL`` (constant power), ``IP + jIQ`` (constant current, MW/Mvar at 1 pu),
  ``YP + jYQ`` (constant admittance, MW/Mvar at 1 pu, YQ > 0 capacitive), less distributed
  generation ``DGENP + jDGENQ`` when ``DGENM = 1``.  At the RAW bus voltage V the load draws
  ``P = PL + IP V + YP V^2`` and ``Q = QL + IQ V - YQ V^2``; casa_dyn's power flow holds that
  constant and its dynamic ZIP model (relative to the power-flow voltage) gets the shares
  ``p_i = IP V / P``, ``p_z = YP V^2 / P`` (likewise for Q), which reproduces PSS/E's voltage
  dependence exactly.  A load whose parts have opposite signs is split into one row per part.
* **Generators**: ``PG, QG, QT, QB, VS, PT, PB, MBASE, STAT``; ZSORCE = ZR + jZX (machine base)
  is kept for the DYR stage (GENCLS X'd, GENROU/GENSAL Ra).  A generator regulating a remote
  bus (IREG) holds its own bus at the RAW voltage instead.
* **Branches**: R, X, B on the system base; line shunts GI + jBI, GJ + jBJ become fixed
  shunts; a zero impedance gets X = THRSHZ (PSS/E's zero-impedance threshold, 0.0001).
* **Transformers** (PSS/E: bus I - ideal t1:1 - Z12 - 1:t2 - bus J, magnetizing admittance
  at bus I).  Winding ratios in pu of the bus base kV: ``CW=1: WINDV``, ``CW=2: WINDV/BASKV``,
  ``CW=3: WINDV NOMV/BASKV`` (NOMV = 0 means BASKV).  Impedance on the system base:
  ``CZ=1: R + jX``; ``CZ=2: (R + jX) SBASE/SBASE12``; ``CZ=3: R = LOSS[W]/(1e6 SBASE12)`` and
  ``X = sqrt(|Z|^2 - R^2)`` on SBASE12, then x SBASE/SBASE12.  (Only the MVA base changes: PSS/E
  uses NOMV for CM=2 and CW=3 only; MATPOWER and PowerModels also scale by (NOMV/BASKV)^2,
  which differs when NOMV is neither 0 nor the bus base.)  Magnetizing admittance:
  ``CM=1: MAG1 + jMAG2``; ``CM=2: G = LOSS[W]/(1e6 SBASE) (BASKV/NOMV)^2``,
  ``|Y| = I0 SBASE12/SBASE (BASKV/NOMV)^2``, ``B = -sqrt(|Y|^2 - G^2)``.  One tap at the from
  side: ``ratio = t1/t2``, ``shift = ANG1``, ``Z = Z12 t2^2`` (PSS/E Program Application Guide
  eq. 4.21b, as quoted in PowerSystems.jl's PSS/E parser).  An impedance correction table
  (TAB) scales the impedance by its factor interpolated at the winding's ratio (or angle when
  the winding controls a phase shift, COD = +-3, +-5).
* **Three-winding transformers**: a star-point bus; ``Z1 = (Z12 + Z31 - Z23)/2`` and
  permutations (Kundur 1994, eq. 6.72); winding k is a transformer from its bus (ratio t_k,
  shift ANG_k) to the star point; MAG at the winding-1 bus.  A negative star reactance cannot
  be a casa_dyn transformer: the star point's voltage base is then rescaled by that winding's
  complex ratio c (all ratios divided by c, all star impedances times |c|^2, which leaves the
  network seen from the three buses unchanged) so that the winding has ratio 1 and becomes a
  line with negative reactance.
* **Switched shunts** at BINIT (Mvar at 1 pu), their voltage control not modelled.
* **DC lines**: ``casa_dyn.io.psse.convert_dc``; **DYR**: ``casa_dyn.io.psse.convert_dyn``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from casa_dyn.case.case import Case
from casa_dyn.case.tables import ISOLATED, SLACK
from casa_dyn.errors import CaseError, CasaDynError
from casa_dyn.io.psse._text import PsseFormatError
from casa_dyn.io.psse.convert_xf import convert_transformers
from casa_dyn.io.psse.raw import RawCase, RawRecord, read_raw
from casa_dyn.io.psse.raw_layouts import RECORD_NAMES
from casa_dyn.io.psse.report import ConversionReport


@dataclass(frozen=True)
class ConvertOptions:
    strict: bool = False   # any record or model that is not converted is an error


@dataclass
class Context:
    """What the DC and DYR stages need from the network conversion."""

    raw: RawCase
    report: ConversionReport
    buses: dict[int, dict] = field(default_factory=dict)      # bus number -> RAW values
    gen_ids: dict[tuple[int, str], int] = field(default_factory=dict)
    zsorce: dict[int, complex] = field(default_factory=dict)  # generator id -> ZR + jZX
    dc_lines: dict[str, dict] = field(default_factory=dict)   # name -> converters, bases
    model_lines: dict[str, list[int]] = field(default_factory=dict)  # table -> DYR line per row

    def bus(self, number, rec: RawRecord, record: str, what: str = "bus") -> int:
        b = abs(int(number))
        if b not in self.buses:
            raise PsseFormatError(self.raw.path, rec.line, record,
                                  f"{what} {b} is not in the bus data")
        return b

    def vm(self, b: int) -> float:
        return self.buses[b]["VM"]

    def kv(self, b: int) -> float:
        return self.buses[b]["BASKV"] if self.buses[b]["BASKV"] > 0 else 1.0

    def isolated(self, b: int) -> bool:
        return self.buses[b]["IDE"] == ISOLATED


class Tables:
    """Rows collected per table: ``add("line", id=.., r_pu=..)``."""

    def __init__(self):
        self.t: dict[str, dict[str, list]] = {}

    def add(self, table: str, **cols) -> int:
        t = self.t.setdefault(table, {})
        n = len(next(iter(t.values()))) if t else 0
        for k, v in cols.items():
            t.setdefault(k, [None] * n).append(v)
        for k, col in t.items():
            if len(col) == n:
                raise ValueError(f"table {table}: row {n} has no value for column {k}")
        return n

    def n(self, table: str) -> int:
        t = self.t.get(table)
        return len(next(iter(t.values()))) if t else 0


# ---------------------------------------------------------------------------- entry point
def psse_to_case(raw_path: str, dyr_path: str | None = None,
                 options: ConvertOptions | None = None) -> tuple[Case, ConversionReport]:
    """Convert a RAW file (and optionally a DYR file) into a validated ``Case``."""
    from casa_dyn.case.validate import check_case
    from casa_dyn.io.psse.convert_dc import convert_dc
    from casa_dyn.io.psse.convert_dyn import convert_dyn, locate_problems
    from casa_dyn.io.psse.dyr import read_dyr

    options = options or ConvertOptions()
    raw = read_raw(raw_path)
    records = read_dyr(dyr_path) if dyr_path else None
    report = ConversionReport(raw_path, dyr_path, raw.version)
    ctx = Context(raw, report)
    tables = Tables()
    convert_network(ctx, tables)
    convert_dc(ctx, tables)
    if records is not None:
        convert_dyn(ctx, tables, records)
    if options.strict and report.dropped:
        raise CasaDynError(f"{raw_path}: --strict: not everything converts:\n  - "
                           + "\n  - ".join(report.dropped))
    try:
        case = Case.from_tables(_case_name(raw_path), tables.t, base_mva=raw.sbase_mva,
                                freq_hz=raw.freq_hz, source=_source(raw, dyr_path))
    except (KeyError, ValueError) as e:  # a column the schema does not know: a bug here
        raise CasaDynError(f"{raw_path}: conversion produced invalid tables ({e})") from e
    problems = check_case(case)
    if problems:
        raise CaseError(locate_problems(ctx, case, problems), raw_path)
    report.rows = {t: case.n(t) for t in case.tables}
    return case, report


def _case_name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _source(raw: RawCase, dyr_path: str | None) -> str:
    text = f"PSS/E RAW v{raw.version} {os.path.basename(raw.path)}"
    if dyr_path:
        text += f" + DYR {os.path.basename(dyr_path)}"
    titles = " / ".join(t for t in raw.titles if t)
    return text + (f" ({titles})" if titles else "") + ", converted by casa-dyn convert"


# ---------------------------------------------------------------------------- network
def convert_network(ctx: Context, t: Tables) -> None:
    raw, report = ctx.raw, ctx.report
    if raw.freq_hz not in (50.0, 60.0):
        report.note(f"BASFRQ {raw.freq_hz:g} Hz is not 50 or 60; the case will not validate")
    if raw.ic != 0:
        report.note(f"IC = {raw.ic}: the file is a change case; converted as a complete case")
    _buses(ctx, t)
    _loads(ctx, t)
    _fixed_shunts(ctx, t)
    _generators(ctx, t)
    _branches(ctx, t)
    _switching_devices(ctx, t)
    convert_transformers(ctx, t)
    _switched_shunts(ctx, t)
    _labels(ctx)
    for key, (n, on) in raw.counted.items():
        if key in ("multi_section_line", "inter_area"):
            continue  # groupings and schedules: no electrical effect
        unit = "data lines" if key in ("gne", "induction_machine", "substation") else "records"
        report.skip(RECORD_NAMES[key], n, on, unit)


def _buses(ctx: Context, t: Tables) -> None:
    path = ctx.raw.path
    for rec in ctx.raw.get("bus"):
        v = rec.v
        if v["I"] <= 0:
            raise PsseFormatError(path, rec.line, "bus", f"bus number {v['I']} must be positive")
        if v["I"] in ctx.buses:
            raise PsseFormatError(path, rec.line, "bus", f"bus {v['I']} is defined twice")
        if v["IDE"] not in (1, 2, 3, 4):
            raise PsseFormatError(path, rec.line, "bus", f"field 4 (IDE) must be 1, 2, 3 or 4, "
                                  f"found {v['IDE']}")
        if not v["VM"] > 0:
            v["VM"] = 1.0
        ctx.buses[v["I"]] = v
        if not v["BASKV"] > 0:
            ctx.report.note("buses without a base voltage (BASKV = 0) get 1 kV")
        t.add("bus", id=v["I"], name=v["NAME"], base_kv=ctx.kv(v["I"]), type=v["IDE"],
              vm_pu=v["VM"], va_deg=_wrap_deg(v["VA"]), area=max(v["AREA"], 0),
              zone=max(v["ZONE"], 0), vmin_pu=v["NVLO"] if v["NVLO"] > 0 else 0.9,
              vmax_pu=v["NVHI"] if v["NVHI"] > 0 else 1.1)
    if not ctx.buses:
        raise PsseFormatError(path, None, "bus", "the file has no bus data")


def _wrap_deg(a: float) -> float:
    return (a + 180.0) % 360.0 - 180.0 if abs(a) > 360.0 else a


def load_parts(v: dict, vm: float) -> list[tuple[str, float, float, float, float, float, float]]:
    """``(suffix, p_mw, q_mvar, p_z, p_i, q_z, q_i)`` rows of one PSS/E load at voltage ``vm``
    (module docstring)."""
    dg = v.get("DGENM") == 1
    pp = v["PL"] - (v.get("DGENP") or 0.0 if dg else 0.0)
    qp = v["QL"] - (v.get("DGENQ") or 0.0 if dg else 0.0)
    p3 = (pp, v["IP"] * vm, v["YP"] * vm * vm)            # constant P, I, Z parts
    q3 = (qp, v["IQ"] * vm, -v["YQ"] * vm * vm)

    def same_sign(x):
        return all(a >= 0 for a in x) or all(a <= 0 for a in x)

    if same_sign(p3) and same_sign(q3):
        p, q = sum(p3), sum(q3)
        return [("", p, q, p3[2] / p if p else 0.0, p3[1] / p if p else 0.0,
                 q3[2] / q if q else 0.0, q3[1] / q if q else 0.0)]
    rows = []
    for k, (suffix, z, i) in enumerate((("/P", 0.0, 0.0), ("/I", 0.0, 1.0), ("/Y", 1.0, 0.0))):
        if p3[k] or q3[k]:
            rows.append((suffix, p3[k], q3[k], z, i, z, i))
    return rows


def _loads(ctx: Context, t: Tables) -> None:
    n_zip = n_split = n_off = 0
    for rec in ctx.raw.get("load"):
        v = rec.v
        b = ctx.bus(v["I"], rec, "load")
        on = int(v["STATUS"] != 0)
        if on and ctx.isolated(b):
            on, n_off = 0, n_off + 1
        parts = load_parts(v, ctx.vm(b))
        n_zip += int(any(p[3] or p[4] or p[5] or p[6] for p in parts))
        n_split += int(len(parts) > 1)
        for suffix, p, q, pz, pi, qz, qi in parts:
            t.add("load", id=t.n("load") + 1, name=v["ID"] + suffix, bus=b, p_mw=p, q_mvar=q,
                  p_z=pz, p_i=pi, q_z=qz, q_i=qi, in_service=on)
    if n_zip:
        ctx.report.note(f"{n_zip} load(s) with constant-current or constant-admittance parts: "
                        "held at their power at the RAW bus voltage in the power flow (exact "
                        "when the RAW voltages are a solved power flow), ZIP shares for dynamics")
    if n_split:
        ctx.report.note(f"{n_split} load(s) with parts of opposite sign split into one row per part")
    if n_off:
        ctx.report.note(f"{n_off} in-service load(s) at isolated buses set out of service")


def _fixed_shunts(ctx: Context, t: Tables) -> None:
    for rec in ctx.raw.get("fixed_shunt"):
        v = rec.v
        b = ctx.bus(v["I"], rec, "fixed shunt")
        on = int(v["STATUS"] != 0 and not ctx.isolated(b))
        t.add("shunt", id=t.n("shunt") + 1, name=v["ID"], bus=b, g_mw=v["GL"], b_mvar=v["BL"],
              in_service=on)


def _switched_shunts(ctx: Context, t: Tables) -> None:
    n_ctrl = 0
    for rec in ctx.raw.get("switched_shunt"):
        v = rec.v
        b = ctx.bus(v["I"], rec, "switched shunt")
        on = int(v["STAT"] != 0 and not ctx.isolated(b))
        n_ctrl += int(v["MODSW"] != 0 and on)
        t.add("shunt", id=t.n("shunt") + 1, name=f"switched {v.get('ID') or ''}".strip(),
              bus=b, g_mw=0.0, b_mvar=v["BINIT"], in_service=on)
    if n_ctrl:
        ctx.report.note(f"{n_ctrl} switched shunt(s) with voltage or Mvar control held at BINIT")


def _generators(ctx: Context, t: Tables) -> None:
    raw, report = ctx.raw, ctx.report
    first_vs: dict[int, float] = {}
    counts = {"remote": 0, "vs": 0, "gsu": 0, "wind": 0, "iso": 0}
    for rec in raw.get("generator"):
        v = rec.v
        b = ctx.bus(v["I"], rec, "generator")
        gid = t.n("generator") + 1
        key = (b, v["ID"].upper())
        if key in ctx.gen_ids:
            raise PsseFormatError(raw.path, rec.line, "generator",
                                  f"machine '{v['ID']}' at bus {b} is defined twice")
        ctx.gen_ids[key] = gid
        ctx.zsorce[gid] = complex(v["ZR"], v["ZX"])
        on = int(v["STAT"] != 0)
        if on and ctx.isolated(b):
            on, counts["iso"] = 0, counts["iso"] + 1
        vs = v["VS"]
        if v["IREG"] not in (0, b):
            ctx.bus(v["IREG"], rec, "generator", "regulated bus IREG")
            vs, counts["remote"] = ctx.vm(b), counts["remote"] + 1
        if on:
            if b in first_vs and abs(first_vs[b] - vs) > 1e-9:
                vs, counts["vs"] = first_vs[b], counts["vs"] + 1
            first_vs.setdefault(b, vs)
        counts["gsu"] += int(v["XT"] != 0 or v["RT"] != 0)
        counts["wind"] += int(v["WMOD"] != 0)
        mbase = v["MBASE"] if v["MBASE"] is not None and v["MBASE"] > 0 else raw.sbase_mva
        t.add("generator", id=gid, name=v["ID"], bus=b, p_mw=v["PG"], q_mvar=v["QG"],
              vm_set_pu=vs if vs > 0 else 1.0, q_min_mvar=v["QB"], q_max_mvar=v["QT"],
              p_min_mw=v["PB"], p_max_mw=v["PT"], mbase_mva=mbase, in_service=on)
    msgs = {"remote": "generator(s) regulating a remote bus (IREG) hold their own bus at its "
                      "RAW voltage instead",
            "vs": "generator(s) whose VS differs from another unit on the same bus take the "
                  "first unit's VS",
            "gsu": "generator(s) with step-up transformer data in the generator record (RT, XT, "
                   "GTAP): ignored, as in PSS/E's power flow",
            "wind": "wind machine(s) (WMOD != 0): converted as conventional generators",
            "iso": "in-service generator(s) at isolated buses set out of service"}
    for k, n in counts.items():
        if n:
            report.note(f"{n} {msgs[k]}")
    slack = [b for b, v in ctx.buses.items() if v["IDE"] == SLACK]
    if not slack:
        report.note("no swing bus (IDE = 3): the case will not validate")


def _branches(ctx: Context, t: Tables) -> None:
    raw, base = ctx.raw, ctx.raw.sbase_mva
    n_zero = n_neg_r = n_sh = 0
    for rec in raw.get("branch"):
        v = rec.v
        i = ctx.bus(v["I"], rec, "branch")
        j = ctx.bus(v["J"], rec, "branch")
        if i == j:
            raise PsseFormatError(raw.path, rec.line, "branch", f"connects bus {i} to itself")
        r, x = v["R"], v["X"]
        if r < 0:
            r, n_neg_r = 0.0, n_neg_r + 1
        if r == 0 and x == 0:
            x, n_zero = raw.thrshz_pu or 0.0001, n_zero + 1
        on = int(v["ST"] != 0)
        t.add("line", id=t.n("line") + 1, name=v["CKT"], from_bus=i, to_bus=j, r_pu=r, x_pu=x,
              b_pu=v["B"], rate_mva=max(v["RATE1"], 0.0), in_service=on)
        for bus, g, b in ((i, v["GI"], v["BI"]), (j, v["GJ"], v["BJ"])):
            if g or b:
                n_sh += 1
                t.add("shunt", id=t.n("shunt") + 1, name=f"line {i}-{j} {v['CKT']}", bus=bus,
                      g_mw=g * base, b_mvar=b * base, in_service=on)
    if n_zero:
        ctx.report.note(f"{n_zero} zero-impedance branch(es) given X = THRSHZ "
                        f"({raw.thrshz_pu or 0.0001:g} pu)")
    if n_neg_r:
        ctx.report.note(f"{n_neg_r} branch(es) with negative R: set to 0 (casa_dyn lines need "
                        "R >= 0)")
    if n_sh:
        ctx.report.note(f"{n_sh} line shunt(s) (GI/BI, GJ/BJ) converted to fixed shunts that "
                        "stay in service when the line trips in a dynamic run")


def _switching_devices(ctx: Context, t: Tables) -> None:
    recs = ctx.raw.get("switching_device")
    for rec in recs:
        v = rec.v
        i = ctx.bus(v["I"], rec, "system switching device")
        j = ctx.bus(v["J"], rec, "system switching device")
        x = v["X"] if v["X"] != 0 else (ctx.raw.thrshz_pu or 0.0001)
        t.add("line", id=t.n("line") + 1, name=f"switch {v['CKT']}", from_bus=i, to_bus=j,
              r_pu=0.0, x_pu=x, b_pu=0.0, rate_mva=max(v["RATE1"], 0.0),
              in_service=int(v["STAT"] != 0))
    if recs:
        ctx.report.note(f"{len(recs)} system switching device(s) converted to lines of their "
                        "reactance X")


def _labels(ctx: Context) -> None:
    for key, name_field in (("area", "ARNAME"), ("zone", "ZONAME"), ("owner", "OWNAME")):
        recs = ctx.raw.get(key)
        if recs:
            ctx.report.labels[key] = {r.v["I"]: r.v[name_field] for r in recs}
    owners = {v["OWNER"] for v in ctx.buses.values()}
    if len(owners) > 1:
        ctx.report.note("bus owners are not kept in the case (areas and zones are); owner "
                        "names are listed in the conversion report")


# ---------------------------------------------------------------------------- checking
def stored_voltage_mismatch(case: Case, raw: RawCase, result) -> dict:
    """Largest difference between a power-flow ``result`` of the converted ``case`` and the
    RAW file's stored bus voltages (buses of the RAW file only, isolated buses excluded)."""
    import numpy as np

    ids = case["bus"]["id"]
    stored = {r.v["I"]: (r.v["VM"], r.v["VA"]) for r in raw.get("bus") if r.v["IDE"] != 4}
    rows = [k for k, b in enumerate(ids) if int(b) in stored]
    if not rows:
        return {"vm_pu": 0.0, "va_deg": 0.0, "vm_bus": None, "va_bus": None}
    vm0 = np.array([stored[int(ids[k])][0] for k in rows])
    va0 = np.array([stored[int(ids[k])][1] for k in rows])
    dv = np.abs(result.vm_pu[rows] - vm0)
    da = np.abs((result.va_deg[rows] - va0 + 180.0) % 360.0 - 180.0)
    return {"vm_pu": float(dv.max()), "va_deg": float(da.max()),
            "vm_bus": int(ids[rows[int(dv.argmax())]]), "va_bus": int(ids[rows[int(da.argmax())]])}


def compare_with_raw(case: Case, raw_path: str) -> dict:
    """Solve the power flow of a converted case and compare it with the RAW file's stored
    voltages: ``{"converged", "message", "vm_pu", "va_deg", "vm_bus", "va_bus"}``."""
    from casa_dyn.network.powerflow import solve_power_flow

    res = solve_power_flow(case, raise_on_failure=False)
    out = {"converged": bool(res.converged), "message": res.message}
    if res.converged:
        out.update(stored_voltage_mismatch(case, read_raw(raw_path), res))
    return out
