"""Reader of PSS/E RAW power-flow files, versions 32 to 35, into plain records.

The file is three header lines (``IC, SBASE, REV, XFRRAT, NXFRAT, BASFRQ`` and two titles),
then data sections in a fixed order, each ended by a line holding the single field ``0``
(PSS/E writes ``0 / END OF BUS DATA, BEGIN LOAD DATA``), and ``Q``.  The section that
follows a ``0`` line is the one its comment names, or else the next in the version's order
(``raw_layouts.SECTION_ORDER``).  Lines starting with ``@`` are comments (PSS/E 35 writes
column headings that way).  Multi-line records: transformers (4 lines, 5 for three
windings), two-terminal DC lines (3), VSC DC lines (3), multi-terminal DC lines (1 + NCONV +
NDCBS + NDCLN), impedance correction tables of v34+ (until the point ``0, 0, 0``).

Every record keeps the number of its first line so later stages can point at it.  Anything
malformed raises ``PsseFormatError`` naming file, line, record type and what was expected.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from casa_dyn.io.psse import raw_layouts as L
from casa_dyn.io.psse._text import Field, PsseFormatError, read_text, split_fields, to_float, to_int

VERSIONS = (32, 33, 34, 35)
#: sections read only to count their records (casa_dyn does not model them)
COUNTED = ("vsc_dc", "multi_section_line", "inter_area", "facts", "gne", "induction_machine",
           "substation")
_MAX_ROWS = 10000  # bound on counts read from the file (NCONV, NDCBS, NDCLN)
_TYPE_WORDS = {"i": "an integer", "f": "a number", "s": "text"}


@dataclass
class RawRecord:
    """One record: the values of its first line, further lines in ``parts``."""

    line: int
    v: dict
    parts: tuple = ()


@dataclass
class RawCase:
    path: str
    version: int
    ic: int
    sbase_mva: float
    freq_hz: float
    titles: tuple[str, str]
    thrshz_pu: float = 0.0001           # zero-impedance threshold (GENERAL record, v34+)
    records: dict[str, list[RawRecord]] = field(default_factory=dict)
    counted: dict[str, list[int]] = field(default_factory=dict)  # key -> [records, in service]

    def get(self, key: str) -> list[RawRecord]:
        return self.records.get(key, [])


# ---------------------------------------------------------------------------- fields
def parse_fields(fields: list[Field], layout, path: str, line: int, record: str,
                 extra_ok: bool = False) -> dict:
    """Values of ``fields`` by ``layout`` (``raw_layouts``), defaults for empty and missing
    trailing fields."""
    if len(fields) > len(layout) and not extra_ok:
        raise PsseFormatError(path, line, record, f"expected at most {len(layout)} fields "
                              f"({', '.join(n for n, _, _ in layout)}), found {len(fields)}")
    out = {}
    for k, (name, typ, default) in enumerate(layout):
        f = fields[k] if k < len(fields) else None
        if f is None or f.text is None:
            if default is L.REQUIRED:
                raise PsseFormatError(path, f.line if f else line, record,
                                      f"field {k + 1} ({name}) is required and has no default")
            out[name] = default
            continue
        out[name] = convert(f, typ, path, record, f"field {k + 1} ({name})")
    return out


def convert(f: Field, typ: str, path: str, record: str, what: str):
    if typ == "s":
        return f.text.strip()
    try:
        return to_int(f) if typ == "i" else to_float(f)
    except (ValueError, OverflowError):
        found = f"quoted text '{f.text}'" if f.quoted else repr(f.text)
        hint = " (extended bus names are not supported)" if f.quoted and typ == "i" else ""
        raise PsseFormatError(path, f.line, record,
                              f"{what}: expected {_TYPE_WORDS[typ]}, found {found}{hint}") from None


# ---------------------------------------------------------------------------- lines
class _Lines:
    def __init__(self, path: str, lines: list[str]):
        self.path, self.lines, self.i = path, lines, 0

    def next_data(self):
        """``(line number, fields, comment)`` of the next data line, or ``None`` at the end."""
        while self.i < len(self.lines):
            text = self.lines[self.i]
            self.i += 1
            s = text.strip()
            if not s or s.startswith("@"):
                continue
            fields, comment = self.split(text, self.i)
            if fields:  # a line holding only a comment is skipped
                return self.i, fields, comment

        return None

    def split(self, text: str, lineno: int):
        try:
            return split_fields(text, lineno)
        except ValueError as e:
            raise PsseFormatError(self.path, lineno, "line", str(e)) from None

    def more(self, record: str, first_line: int, needed: str):
        """The next line of a multi-line record (not a section end, not the end of data)."""
        nxt = self.next_data()
        if nxt is None:
            raise PsseFormatError(self.path, first_line, record,
                                  f"the file ends inside the record: expected {needed}")
        ln, fields, comment = nxt
        if _is_q(fields) or (_is_end(fields) and "END OF" in (comment or "").upper()):
            raise PsseFormatError(self.path, first_line, record, f"the record is cut short by "
                                  f"the section end on line {ln}: expected {needed}")
        return nxt


def _is_end(fields: list[Field]) -> bool:
    return len(fields) == 1 and not fields[0].quoted and fields[0].text == "0"


def _is_q(fields: list[Field]) -> bool:
    return len(fields) == 1 and not fields[0].quoted and (fields[0].text or "").upper() == "Q"


def _named_section(comment: str | None) -> str | None:
    if not comment:
        return None
    text = comment.upper()
    k = text.find("BEGIN")
    if k < 0:
        return None
    text = text[k + 5:]
    for words, key in L.SECTION_WORDS:
        if words in text:
            return key
    return None


# ---------------------------------------------------------------------------- reader
def read_raw(path: str) -> RawCase:
    """Read a PSS/E RAW file (versions 32-35) into records; see the module docstring."""
    lines = _Lines(path, read_text(path))
    case = _header(lines)
    order = L.SECTION_ORDER[case.version]
    current, pos = order[0], 0
    while True:
        nxt = lines.next_data()
        if nxt is None:
            raise PsseFormatError(path, len(lines.lines), L.RECORD_NAMES.get(current, "data"),
                                  "the file ends before the 'Q' record that closes the data "
                                  "(truncated file?)")
        lineno, fields, comment = nxt
        if _is_q(fields):
            break
        if current == "substation":  # node-breaker detail: counted, never interpreted
            if not _is_end(fields):
                _count(case, current, 1, 1)
            continue
        if _is_end(fields):
            named = _named_section(comment)
            if named in order:
                pos = order.index(named)
            else:
                pos += 1
            current = order[pos] if pos < len(order) else "after_last"
            continue
        if current == "after_last":
            raise PsseFormatError(path, lineno, "data",
                                  f"data after the last of the {len(order)} sections of a "
                                  f"version {case.version} file (a section end too many?)")
        if current == "system_wide" and fields and _looks_numeric(fields[0]):
            current, pos = "bus", order.index("bus")  # no system-wide section in this file
        _HANDLERS[current](case, lines, lineno, fields)
    return case


def _looks_numeric(f: Field) -> bool:
    try:
        to_float(f)
        return True
    except ValueError:
        return False


def _header(lines: _Lines) -> RawCase:
    path = lines.path
    if not lines.lines:
        raise PsseFormatError(path, None, "case identification", "the file is empty")
    fields, _ = lines.split(lines.lines[0], 1)
    lines.i = 1
    layout = L._parse("IC:i=0 SBASE:f=100 REV:i=? XFRRAT:f=0 NXFRAT:f=0 BASFRQ:f=60")
    v = parse_fields(fields, layout, path, 1, "case identification", extra_ok=True)
    if v["REV"] is None:
        raise PsseFormatError(path, 1, "case identification",
                              "field 3 (REV) must give the RAW version; versions 32 to 35 are read")
    if v["REV"] not in VERSIONS:
        raise PsseFormatError(path, 1, "case identification",
                              f"RAW version {v['REV']} is not supported (versions 32 to 35 are read)")
    if not v["SBASE"] > 0:
        raise PsseFormatError(path, 1, "case identification",
                              f"field 2 (SBASE): system base must be > 0 MVA, found {v['SBASE']:g}")
    titles = []
    for _ in range(2):  # two title lines, unless a writer left them out
        if lines.i >= len(lines.lines):
            break
        text = lines.lines[lines.i]
        f, comment = _split_quiet(text)
        if f is not None and _is_end(f) and "END OF" in (comment or "").upper():
            break
        titles.append(text.strip())
        lines.i += 1
    titles += [""] * (2 - len(titles))
    return RawCase(path=path, version=v["REV"], ic=v["IC"], sbase_mva=v["SBASE"],
                   freq_hz=v["BASFRQ"], titles=(titles[0], titles[1]))


def _split_quiet(text: str):
    try:
        return split_fields(text)
    except ValueError:
        return None, None


# ---------------------------------------------------------------------------- handlers
def _add(case: RawCase, key: str, rec: RawRecord) -> None:
    case.records.setdefault(key, []).append(rec)


def _count(case: RawCase, key: str, n: int, on: int) -> None:
    c = case.counted.setdefault(key, [0, 0])
    c[0] += n
    c[1] += on


def _simple(key: str, layout):
    def handler(case, lines, lineno, fields):
        lay = layout[case.version] if isinstance(layout, dict) else layout
        _add(case, key, RawRecord(lineno, parse_fields(fields, lay, lines.path, lineno,
                                                          L.RECORD_NAMES[key])))
    return handler


def _system_wide(case, lines, lineno, fields):
    # GENERAL, THRSHZ=0.0001, PQBRAK=0.7, ... : only THRSHZ is used
    if not fields or (fields[0].text or "").upper() != "GENERAL":
        return
    for f in fields[1:]:
        key, _, val = (f.text or "").partition("=")
        if key.strip().upper() == "THRSHZ" and val:
            case.thrshz_pu = convert(Field(val.strip(), False, lineno), "f", lines.path,
                                     "system-wide data", "GENERAL THRSHZ")


def _transformer(case, lines, lineno, fields):
    rec, path = "transformer", lines.path
    v = parse_fields(fields, L.XF_LINE1[case.version], path, lineno, rec)
    three = v["K"] not in (0, None)
    n_lines = 5 if three else 4
    parts = []
    layouts = ([L.XF_LINE2_3W] + [L.WINDING[case.version]] * 3 if three else
               [L.XF_LINE2_2W, L.WINDING[case.version], L.WINDING_LAST_2W])
    for k, lay in enumerate(layouts):
        ln, f, _ = lines.more(rec, lineno, f"{n_lines} lines (this one is line {k + 2})")
        parts.append(parse_fields(f, lay, path, ln, f"{rec} line {k + 2}"))
    _add(case, "transformer", RawRecord(lineno, v, tuple(parts)))


def _two_terminal_dc(case, lines, lineno, fields):
    rec, path = "two-terminal DC line", lines.path
    v = parse_fields(fields, L.DC2_LINE1, path, lineno, rec)
    parts = []
    for k, end in ((2, "rectifier"), (3, "inverter")):
        ln, f, _ = lines.more(rec, lineno, f"3 lines (line {k}: {end})")
        lay = L.DC2_CONVERTER[case.version]
        if case.version == 34 and len(f) == len(L.DC2_CONVERTER[35]):
            lay = L.DC2_CONVERTER[35]  # a v34 file written with node numbers NDR/NDI
        parts.append(parse_fields(f, lay, path, ln, f"{rec} line {k} ({end})"))
    _add(case, "two_terminal_dc", RawRecord(lineno, v, tuple(parts)))


def _multi_terminal_dc(case, lines, lineno, fields):
    rec, path = "multi-terminal DC line", lines.path
    v = parse_fields(fields, L.MTDC_LINE1, path, lineno, rec)
    counts = (("NCONV", L.MTDC_CONVERTER, "converter"), ("NDCBS", L.MTDC_BUS, "DC bus"),
              ("NDCLN", L.MTDC_LINK, "DC link"))
    groups = []
    for key, lay, what in counts:
        n = v[key]
        if not 0 <= n <= _MAX_ROWS:
            raise PsseFormatError(path, lineno, rec, f"{key} = {n} is not a row count")
        rows = []
        for k in range(n):
            ln, f, _ = lines.more(rec, lineno, f"{v['NCONV']} converter, {v['NDCBS']} DC bus "
                                  f"and {v['NDCLN']} DC link rows")
            rows.append((ln, parse_fields(f, lay, path, ln, f"{rec} {what} row {k + 1}")))
        groups.append(tuple(rows))
    _add(case, "multi_terminal_dc", RawRecord(lineno, v, tuple(groups)))


def _impedance_correction(case, lines, lineno, fields):
    rec, path = "impedance correction table", lines.path
    table = convert(fields[0], "i", path, rec, "field 1 (I)") if fields[0].text else None
    if table is None:
        raise PsseFormatError(path, lineno, rec, "field 1 (I) is required and has no default")
    nums = [convert(f, "f", path, rec, f"field {k + 2}") for k, f in enumerate(fields[1:])
            if f.text is not None]
    points = []
    if case.version <= 33:  # T1, F1, ..., T11, F11; unused pairs are 0, 0
        for t, fac in zip(nums[0::2], nums[1::2]):
            if t == 0.0 and fac == 0.0:
                break
            points.append((t, complex(fac, 0.0)))
    else:                   # T, Re(F), Im(F) triples over several lines, ended by 0, 0, 0
        while True:
            for k in range(0, len(nums) - len(nums) % 3, 3):
                t, re, im = nums[k:k + 3]
                if t == 0.0 and re == 0.0 and im == 0.0:
                    _add(case, "impedance_correction", RawRecord(lineno, {"I": table,
                                                                         "points": points}))
                    return
                points.append((t, complex(re, im)))
            nums = nums[len(nums) - len(nums) % 3:]
            ln, f, _ = lines.more(rec, lineno, "points T, Re(F), Im(F) ended by 0.0, 0.0, 0.0")
            nums += [convert(x, "f", path, rec, "a point value") for x in f if x.text is not None]
    _add(case, "impedance_correction", RawRecord(lineno, {"I": table, "points": points}))


def _switched_shunt(case, lines, lineno, fields):
    path, rec = lines.path, "switched shunt"
    if case.version >= 35:
        lay = L.SWITCHED_SHUNT["v35"]
    elif case.version == 34 and len(fields) > 9 and fields[9].quoted:
        lay = L.SWITCHED_SHUNT["v34"]  # written with NREG before RMPCT
    else:
        lay = L.SWITCHED_SHUNT["v33"]
    v = parse_fields(fields, lay, path, lineno, rec, extra_ok=True)
    blocks = fields[len(lay):]
    for k, f in enumerate(blocks):  # N/B (S/N/B in v35) blocks: checked, not used
        if f.text is not None:
            convert(f, "f", path, rec, f"field {len(lay) + k + 1} (block data)")
    _add(case, "switched_shunt", RawRecord(lineno, v))


def _counted(key: str, layout=None, extra_lines: int = 0, on_field: str | None = None):
    def handler(case, lines, lineno, fields):
        on = 1
        if layout is not None:
            v = parse_fields(fields, layout, lines.path, lineno, L.RECORD_NAMES[key],
                             extra_ok=True)
            on = int(v[on_field] != 0) if on_field else 1
        for k in range(extra_lines):
            lines.more(L.RECORD_NAMES[key], lineno, f"{extra_lines + 1} lines")
        _count(case, key, 1, on)
    return handler


_HANDLERS = {
    "system_wide": _system_wide,
    "bus": _simple("bus", L.BUS),
    "load": _simple("load", L.LOAD),
    "fixed_shunt": _simple("fixed_shunt", L.FIXED_SHUNT),
    "generator": _simple("generator", L.GENERATOR),
    "branch": _simple("branch", L.BRANCH),
    "switching_device": _simple("switching_device", L.SWITCHING_DEVICE),
    "transformer": _transformer,
    "area": _simple("area", L.AREA),
    "two_terminal_dc": _two_terminal_dc,
    "vsc_dc": _counted("vsc_dc", L.VSC_LINE1, extra_lines=2, on_field="MDC"),
    "impedance_correction": _impedance_correction,
    "multi_terminal_dc": _multi_terminal_dc,
    "multi_section_line": _counted("multi_section_line"),
    "zone": _simple("zone", L.ZONE),
    "inter_area": _counted("inter_area"),
    "owner": _simple("owner", L.OWNER),
    "facts": _counted("facts", L.FACTS, on_field="MODE"),
    "switched_shunt": _switched_shunt,
    "gne": _counted("gne"),
    "induction_machine": _counted("induction_machine"),
    "substation": _counted("substation"),
}
