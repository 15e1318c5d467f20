"""PSS/E RAW reader: field splitting, version layouts, sections, and located errors; mangled
RAW text (hypothesis) gives a clean ``CasaDynError`` or a case, never anything else.

Record layouts: casa_dyn/io/psse/raw_layouts.py (sources in its docstring).  The small RAW
texts below are written for these tests.
"""
from __future__ import annotations

import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from casa_dyn.errors import CasaDynError
from casa_dyn.io.psse import PsseFormatError, psse_to_case, read_raw
from casa_dyn.io.psse._text import split_fields

DATA = pathlib.Path(__file__).parent / "data" / "psse"

SECTIONS_33 = ("LOAD", "FIXED SHUNT", "GENERATOR", "BRANCH", "TRANSFORMER", "AREA",
               "TWO-TERMINAL DC", "VSC DC LINE", "IMPEDANCE CORRECTION", "MULTI-TERMINAL DC",
               "MULTI-SECTION LINE", "ZONE", "INTER-AREA TRANSFER", "OWNER", "FACTS DEVICE",
               "SWITCHED SHUNT", "GNE DEVICE", "INDUCTION MACHINE")


def raw33(buses="1,'A',230.0,3\n2,'B',230.0,1", loads="2,'1',1,1,1,50.0,10.0",
          gens="1,'1',50.0,0.0", branches="1,2,'1',0.01,0.1,0.02", extra=None, version=33):
    """A small RAW text: sections given by name (``extra``: name -> record text)."""
    extra = dict(extra or {})
    body = {"LOAD": loads, "GENERATOR": gens, "BRANCH": branches, **extra}
    out = [f"0, 100.0, {version}, 0, 0, 60.0 / test", "TITLE 1", "TITLE 2", buses]
    prev = "BUS"
    for sec in SECTIONS_33:
        out.append(f"0 / END OF {prev} DATA, BEGIN {sec} DATA")
        if body.get(sec):
            out.append(body[sec])
        prev = sec
    out += [f"0 / END OF {prev} DATA", "Q", ""]
    return "\n".join(out)


def write(tmp_path, text, name="t.raw"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


# ---------------------------------------------------------------------------- fields
@pytest.mark.parametrize("text, fields, comment", [
    ("1,2,,4", ["1", "2", None, "4"], None),
    ("1 'BUS 1' 230.0", ["1", "BUS 1", "230.0"], None),              # blanks separate too
    ("2,'1 ',1,,,   40.000", ["2", "1 ", "1", None, None, "40.000"], None),
    ("1,2,", ["1", "2"], None),                                       # trailing comma
    ("0 / END OF BUS DATA, BEGIN LOAD DATA", ["0"], " END OF BUS DATA, BEGIN LOAD DATA"),
    ("'a/b', 3 / c", ["a/b", "3"], " c"),                             # slash inside quotes
])
def test_split_fields(text, fields, comment):
    got, com = split_fields(text)
    assert [f.text for f in got] == fields and com == comment


def test_split_fields_rejects_open_quote():
    with pytest.raises(ValueError, match="not closed"):
        split_fields("1, 'abc, 2")


# ---------------------------------------------------------------------------- layouts
def test_v33_defaults_and_empty_fields(tmp_path):
    r = read_raw(write(tmp_path, raw33(loads="2,'1',,,, 50.0, 10.0")))
    assert (r.version, r.sbase_mva, r.freq_hz, r.titles) == (33, 100.0, 60.0, ("TITLE 1", "TITLE 2"))
    bus = r.get("bus")[1].v
    # PSS/E defaults of the trailing bus fields (power_flow_data docs: VM 1, VA 0, NVHI 1.1, ...)
    assert (bus["IDE"], bus["AREA"], bus["VM"], bus["VA"], bus["NVHI"], bus["NVLO"]) == (
        1, 1, 1.0, 0.0, 1.1, 0.9)
    load = r.get("load")[0]
    assert (load.v["STATUS"], load.v["PL"], load.v["QL"], load.v["IP"]) == (1, 50.0, 10.0, 0.0)
    assert load.v["AREA"] is None            # default depends on the bus: left to the converter
    assert load.line == 7
    gen = r.get("generator")[0].v
    assert (gen["QT"], gen["QB"], gen["VS"], gen["ZX"], gen["STAT"], gen["PT"]) == (
        9999.0, -9999.0, 1.0, 1.0, 1, 9999.0)


def test_sections_follow_the_comments_not_only_the_order(tmp_path):
    # a writer that leaves out sections: the "BEGIN ... DATA" comments say what comes next
    text = "\n".join(["0, 100, 33, 0, 0, 50", "", "", "1,'A',110.0,3",
                      "0 / END OF BUS DATA, BEGIN GENERATOR DATA", "1,'1',10.0",
                      "0 / END OF GENERATOR DATA, BEGIN SWITCHED SHUNT DATA",
                      "1, 1, 0, 1, 1.05, 0.95, 0, 100.0, '', 12.5, 1, 12.5",
                      "0 / END OF SWITCHED SHUNT DATA", "Q"])
    r = read_raw(write(tmp_path, text))
    assert r.freq_hz == 50.0
    assert [x.v["PG"] for x in r.get("generator")] == [10.0]
    assert [x.v["BINIT"] for x in r.get("switched_shunt")] == [12.5]


def test_v34_switched_shunt_with_and_without_nreg(tmp_path):
    # v34 switched shunts are read with or without NREG: found from the quoted RMIDNT
    lines = ["0, 100, 34, 0, 0, 60", "", "", "0 / END OF SYSTEM-WIDE DATA", "1,'A',110.0,3",
             "0 / END OF BUS DATA, BEGIN SWITCHED SHUNT DATA",
             "1, 1, 0, 1, 1.05, 0.95, 0, 100.0, 'X', 7.5, 1, 7.5",
             "1, 1, 0, 1, 1.05, 0.95, 0, 0, 100.0, 'X', 9.0, 1, 9.0",
             "0 / END OF SWITCHED SHUNT DATA", "Q"]
    r = read_raw(write(tmp_path, "\n".join(lines)))
    assert [x.v["BINIT"] for x in r.get("switched_shunt")] == [7.5, 9.0]


def test_v35_file_with_system_wide_data_and_comment_lines():
    r = read_raw(str(DATA / "wscc9_v35.raw"))
    assert r.version == 35 and r.thrshz_pu == 0.0001
    gen = r.get("generator")[1].v
    assert gen["NREG"] == 0 and gen["MBASE"] == 192.0          # NREG shifts MBASE in v35
    assert r.get("load")[1].v["LOADTYPE"] == ""
    assert r.counted["facts"] == [1, 0] and r.counted["vsc_dc"] == [1, 0]
    assert r.get("switching_device")[0].v["STAT"] == 0


def test_impedance_correction_tables_v33_and_v34(tmp_path):
    t33 = raw33(extra={"IMPEDANCE CORRECTION": "7, 0.9, 1.1, 1.0, 1.0, 1.1, 0.92, 0.0, 0.0"})
    pts = read_raw(write(tmp_path, t33)).get("impedance_correction")[0].v
    assert pts == {"I": 7, "points": [(0.9, 1.1 + 0j), (1.0, 1.0 + 0j), (1.1, 0.92 + 0j)]}
    r34 = read_raw(str(DATA / "t3w_v34.raw")).get("impedance_correction")[0].v
    assert r34["points"] == [(0.9, 1.1 + 0j), (1.0, 1.0 + 0j), (1.1, 0.92 + 0j)]


# ---------------------------------------------------------------------------- errors
def _error(tmp_path, text) -> str:
    with pytest.raises(PsseFormatError) as e:
        read_raw(write(tmp_path, text))
    return str(e.value)


def test_error_names_file_line_record_and_expectation(tmp_path):
    msg = _error(tmp_path, raw33(buses="1,'A',230.0,3\n2,'B',230.0,1,1,1,1,1.0,abc"))
    assert re.match(r".*t\.raw:5: bus: field 9 \(VA\): expected a number, found 'abc'$", msg)


@pytest.mark.parametrize("mangle, pattern", [
    (lambda t: t.replace("1,2,'1',0.01,0.1,0.02", "1,2,'1',0.01"),
     r":\d+: branch: field 5 \(X\) is required and has no default"),
    (lambda t: t.replace("0, 100.0, 33,", "0, 100.0, 31,"),
     r":1: case identification: RAW version 31 is not supported"),
    (lambda t: t.replace("'B'", "'B"), r":5: line: a quoted field is not closed"),
    (lambda t: t.replace("\nQ\n", "\n"), r": the file ends before the 'Q' record"),
    (lambda t: t.replace("2,'1',1,1,1,50.0,10.0", "2,'1',1,1,1,50.0,10.0," + "1," * 14),
     r": load: expected at most 14 fields"),
    (lambda t: t.replace("1,'1',50.0,0.0", "'BUS A','1',50.0"),
     r": generator: field 1 \(I\): expected an integer, found quoted text 'BUS A' "
     r"\(extended bus names are not supported\)"),
])
def test_malformed_lines_are_located(tmp_path, mangle, pattern):
    assert re.search(pattern, _error(tmp_path, mangle(raw33())))


def test_record_cut_short_by_a_section_end(tmp_path):
    # lines 14-15: first two lines of a four-line transformer record; line 16 ends the section
    text = raw33(extra={"TRANSFORMER": "1,2,0,'1',1,1,1,0,0,2,'T',1\n0.0,0.1,100.0"})
    assert re.search(r":14: transformer: the record is cut short by the section end on line 16: "
                     r"expected 4 lines \(this one is line 3\)", _error(tmp_path, text))


def test_unknown_bus_reference_is_located(tmp_path):
    with pytest.raises(PsseFormatError, match=r":7: load: bus 7 is not in the bus data"):
        psse_to_case(write(tmp_path, raw33(loads="7,'1',1,1,1,50.0,10.0")))


# ---------------------------------------------------------------------------- mangled text
_JUNK = ["", ",", "'", "/", "0", "Q", " ", "x", "-1", "1e999", "nan", "99999", "0.0", "-5.0",
         "1e300", ",,", "3", "0 / END OF BUS DATA", "2", "4"]
_FILES = ["wscc9_v33.raw", "wscc9_v35.raw", "kundur_v33.raw", "t3w_v34.raw",
          "cigre_mdc1_inv_v33.raw", "mtdc_v33.raw"]


def mangle(text: str, ops) -> str:
    lines = text.split("\n")
    for op, a, b, junk in ops:
        if not lines:
            break
        i = a % len(lines)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[b % len(lines)])
        elif op == 2:
            k = b % (len(lines[i]) + 1)
            lines[i] = lines[i][:k] + junk + lines[i][k + 1:]
        else:
            f = lines[i].split(",")
            f[b % len(f)] = junk
            lines[i] = ",".join(f)
    return "\n".join(lines)


OPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.integers(0, 10**6),
                         st.sampled_from(_JUNK)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(_FILES), ops=OPS)
def test_mangled_raw_gives_a_case_or_a_located_error(tmp_path, name, ops):
    text = mangle((DATA / name).read_text(), ops)
    path = write(tmp_path, text, "mangled.raw")
    try:
        psse_to_case(path)
    except PsseFormatError as e:
        assert str(e).startswith(path)
        n = len(text.split("\n"))
        assert e.line is None or 1 <= e.line <= n
        assert e.record
    except CasaDynError:
        pass  # a well-formed file whose data do not make a valid case: listed problems


def test_v32_layouts(tmp_path):
    # version 32 has no load INTRPT and no transformer VECGRP: the WSCC file without them
    text = (DATA / "wscc9_v33.raw").read_text().replace("0, 100, 33,", "0, 100, 32,")
    text = text.replace(", 1, 1, 0\n", ", 1, 1\n").replace(", 'YNd1'\n", "\n")
    r = read_raw(write(tmp_path, text))
    assert r.version == 32 and "INTRPT" not in r.get("load")[0].v
    assert r.get("transformer")[0].parts[0]["X12"] == pytest.approx(0.14256)
    with pytest.raises(PsseFormatError, match="expected at most 13 fields"):
        read_raw(write(tmp_path, text.replace(", 1, 1\n", ", 1, 1, 0\n", 1)))
