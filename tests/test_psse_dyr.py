"""PSS/E DYR import: record splitting, the generic CON mapping through the model tables'
``dyr`` positions, models casa_dyn lacks, located errors, mangled DYR text (hypothesis), the
``casa-dyn convert`` command, and a flat dynamic run of converted cases.

Reference values: Kundur 1994 Example 12.6 (REFERENCE.md 4.2) typed in PSS/E CON order in
tests/data/psse/kundur.dyr, compared with cases/kundur2area.h5 (built by other code from the
same publication); Anderson & Fouad Example 2.6 (REFERENCE.md 4.3) for the WSCC machines.
"""
from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from casa_dyn.case import schema as S
from casa_dyn.cli import cli
from casa_dyn.errors import CasaDynError
from casa_dyn.io import read_case
from casa_dyn.io.psse import PsseFormatError, psse_to_case, read_dyr
from casa_dyn.io.psse.convert_dyn import CON_COUNT, ICON_COUNT, UNIT_FAMILIES, dyr_layout

DATA = pathlib.Path(__file__).parent / "data" / "psse"
CASES = pathlib.Path(__file__).resolve().parents[1] / "cases"
KUNDUR = (str(DATA / "kundur_v33.raw"), str(DATA / "kundur.dyr"))


def test_records_span_lines_and_end_at_slash():
    recs = read_dyr(str(DATA / "kundur.dyr"))
    assert [r.model for r in recs[:2]] == ["GENROU", "GENROU"]
    assert recs[1].line == 4 and len(recs[1].fields) == 15      # ID + 14 CONs over two lines
    assert recs[1].fields[-1].line == 5
    assert recs[2].fields[0].text == "1" and recs[2].fields[0].quoted   # '1' or 1: same ID
    dc = read_dyr(str(DATA / "cigre.dyr"))[-1]
    assert (dc.target, dc.model, len(dc.fields)) == ("CIGRE", "CDC4T", 22)


def test_kundur_models_equal_the_published_data():
    case, report = psse_to_case(*KUNDUR)
    ref = read_case(str(CASES / "kundur2area.h5"))
    for table in ("genrou", "sexs", "ieeest"):
        for col in ref[table]:
            if col == "tr_s":
                continue  # casa_dyn's SEXS transducer lag is not a PSS/E CON (default 0 here)
            assert np.allclose(case[table][col], ref[table][col], rtol=1e-8), (table, col)
    # ZSORCE R of the generator records is GENROU's Ra (Kundur: Ra = 0.0025)
    assert list(case["genrou"]["ra_pu"]) == [0.0025] * 4
    assert case["genrou"]["h_s"].tolist() == [6.5, 6.5, 6.175, 6.175]   # Kundur: H per unit
    assert list(case["sexs"]["tr_s"]) == [0.0] * 4


def test_wscc_gencls_takes_xd_prime_from_zsorce():
    case, _ = psse_to_case(str(DATA / "wscc9_v33.raw"), str(DATA / "wscc9.dyr"))
    g = case["gencls"]
    # Anderson & Fouad: x'd 0.0608 / 0.1198 / 0.1813 and H 23.64 / 6.40 / 3.01 s on 100 MVA,
    # i.e. times (and divided by) the machine ratings 247.5 / 192 / 128 MVA
    mbase = np.array([247.5, 192.0, 128.0])
    assert np.allclose(g["xdp_pu"] * 100 / mbase, [0.0608, 0.1198, 0.1813], rtol=1e-9)
    assert np.allclose(g["h_s"] * mbase / 100, [23.64, 6.40, 3.01], rtol=1e-9)


def test_missing_models_are_reported_by_name_count_and_buses():
    case, report = psse_to_case(*KUNDUR)
    assert report.missing_models == {"WT4G1": [1, 3], "CIM5BL": [7]}
    assert case.n("genrou") == 4 and case.n("sexs") == 4    # the rest converts
    dropped = "\n".join(report.dropped)
    assert "WT4G1: 2 record(s)" in dropped and "bus 1, bus 3" in dropped
    with pytest.raises(CasaDynError, match="WT4G1"):
        from casa_dyn.io.psse import ConvertOptions

        psse_to_case(*KUNDUR, ConvertOptions(strict=True))


def test_every_unit_model_table_maps_from_dyr():
    # each registered machine / exciter / governor / stabilizer table is reachable from a DYR
    # record: CON positions 1..n without gaps, n the PSS/E CON count where it is known here
    # (CON_COUNT), ICON columns matching the PSS/E ICON count (ICON_COUNT)
    for name, table in S.tables().items():
        if table.family not in UNIT_FAMILIES:
            continue
        icons, cons = dyr_layout(table)
        assert sorted(cons) == list(range(1, max(cons) + 1)), name
        if name.upper() in CON_COUNT:
            assert max(cons) == CON_COUNT[name.upper()], name
        if icons:
            assert len(icons) == ICON_COUNT[name.upper()], name


def _dyr_for_all_tables() -> str:
    """One record per registered unit model for machine 1 of the WSCC case: CONs 1..n numbered
    k + 0.5 (ICONs 1), so each column must receive the value of its own position."""
    out = []
    for name, table in S.tables().items():
        if table.family not in UNIT_FAMILIES:
            continue
        icons, cons = dyr_layout(table)
        n_icon = ICON_COUNT.get(name.upper(), len(icons))
        n_con = max(max(cons), CON_COUNT.get(name.upper(), 0))
        out.append(f"2 '{name.upper()}' 1 " + " ".join(["1"] * n_icon) + " "
                   + " ".join(f"{k + 0.5}" for k in range(1, n_con + 1)) + " /")
    return "\n".join(out)


def test_one_record_per_model_table_converts(tmp_path):
    # each unit model table, alone, from a record built by CON position (values k + 0.5 need
    # not be valid parameters: the mapping is checked before validation)
    from casa_dyn.io.psse.convert import Context, Tables, convert_network
    from casa_dyn.io.psse.convert_dyn import convert_dyn
    from casa_dyn.io.psse.raw import read_raw
    from casa_dyn.io.psse.report import ConversionReport

    raw = read_raw(str(DATA / "wscc9_v33.raw"))
    for line in _dyr_for_all_tables().splitlines():
        dyr = tmp_path / "one.dyr"
        dyr.write_text(line + "\n")
        ctx = Context(raw, ConversionReport(raw.path, str(dyr), raw.version))
        t = Tables()
        convert_network(ctx, t)
        convert_dyn(ctx, t, read_dyr(str(dyr)))
        name = line.split("'")[1].lower()
        icons, cons = dyr_layout(S.get(name))
        assert t.n(name) == 1 and t.t[name]["gen"] == [2]
        for pos, col in cons.items():
            assert t.t[name][col.name][0] == pos + 0.5, (name, col.name)
        for col in icons:
            assert t.t[name][col.name][0] == 1


# ---------------------------------------------------------------------------- errors
def _dyr(tmp_path, text):
    p = tmp_path / "t.dyr"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("text, pattern", [
    ("1 'GENCLS' 1 3.0 /\n", r"t\.dyr:1: GENCLS: expected the machine ID, 0 ICONs and 2 CONs "
                             r"\(2 values after the ID\), found 1"),
    ("\n1 'GENCLS' 1\n 3.0 zero /\n", r"t\.dyr:3: GENCLS: CON 2 \(d_pu\): expected a number, "
                                      r"found 'zero'"),
    ("1 'GENCLS' 1 3.0 0.0\n", r"t\.dyr:1: DYR record: the record is not ended by '/'"),
    ("x 'GENCLS' 1 3.0 0.0 /\n", r"t\.dyr:1: DYR record: field 1: expected a bus number"),
    ("1 'GENCLS' 1 3.0 0.0 /\n1 'GENCLS' 1 4.0 0.0 /\n",
     r"t\.dyr:2: GENCLS: machine '1' at bus 1 already has a generator model \(GENCLS, line 1\)"),
    ("1 'IEEEST' 1 1.5 0 0 0 0 0 0 0 0.05 0.02 3 5.4 10 10 20 1 -1 0 0 /\n",
     r"t\.dyr:1: IEEEST: ICON 1 \(input_code\): expected an integer, found '1.5'"),
])
def test_dyr_errors_name_file_line_model_and_expectation(tmp_path, text, pattern):
    with pytest.raises(PsseFormatError) as e:
        psse_to_case(str(DATA / "wscc9_v33.raw"), _dyr(tmp_path, text))
    assert re.search(pattern, str(e.value)), str(e.value)


def test_invalid_parameters_point_at_the_dyr_line(tmp_path):
    text = "1 'GENCLS' 1 -3.0 0.0 /\n"                  # H < 0
    with pytest.raises(CasaDynError, match=r"gencls.*h_s.*\(DYR .*t\.dyr:1, GENCLS at bus 1\)"):
        psse_to_case(str(DATA / "wscc9_v33.raw"), _dyr(tmp_path, text))


def test_record_of_an_unknown_machine_is_skipped_and_reported(tmp_path):
    text = "1 'GENCLS' 1 3.0 0.0 /\n5 'GENCLS' 1 3.0 0.0 /\n"
    case, report = psse_to_case(str(DATA / "wscc9_v33.raw"), _dyr(tmp_path, text))
    assert case.n("gencls") == 1
    assert any("t.dyr:2: GENCLS for machine '1' at bus 5" in n for n in report.notes)


# ---------------------------------------------------------------------------- mangled text
_JUNK = ["", "/", "'", ",", "x", "1.5", "-1", "0", "1e999", "'GENROU'", "99", "//", "'1'"]


def _mangle(text: str, ops) -> str:
    lines = text.split("\n")
    for op, a, b, junk in ops:
        i = a % max(len(lines), 1)
        if not lines:
            lines = [""]
        if op == 0:
            del lines[i]
        elif op == 1:
            k = b % (len(lines[i]) + 1)
            lines[i] = lines[i][:k] + junk + lines[i][k + 1:]
        else:
            w = lines[i].split()
            if w:
                w[b % len(w)] = junk
            lines[i] = " ".join(w)
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["kundur.dyr", "wscc9.dyr", "cigre.dyr"]),
       ops=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 10**6),
                              st.sampled_from(_JUNK)), min_size=1, max_size=5))
def test_mangled_dyr_gives_a_case_or_a_located_error(tmp_path, name, ops):
    raw = {"kundur.dyr": "kundur_v33.raw", "wscc9.dyr": "wscc9_v33.raw",
           "cigre.dyr": "cigre_mdc2_v33.raw"}[name]
    path = _dyr(tmp_path, _mangle((DATA / name).read_text(), ops))
    try:
        psse_to_case(str(DATA / raw), path)
    except PsseFormatError as e:
        assert str(e).startswith(path) and e.record
    except CasaDynError:
        pass  # located parameter problems (CaseError)


# ---------------------------------------------------------------------------- CLI
def test_cli_convert_writes_a_valid_case(tmp_path):
    out = str(tmp_path / "k.h5")
    res = CliRunner().invoke(cli, ["convert", *KUNDUR, "-o", out, "--check-pf", "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["rows"]["genrou"] == 4 and rep["missing_models"]["WT4G1"]["count"] == 2
    assert rep["power_flow"]["converged"] and rep["power_flow"]["vm_pu"] < 1e-7
    assert read_case(out).n("ieeest") == 4
    assert CliRunner().invoke(cli, ["validate", out]).exit_code == 0


def test_cli_convert_strict_and_errors_exit_1_without_traceback(tmp_path):
    out = str(tmp_path / "k.h5")
    res = CliRunner().invoke(cli, ["convert", *KUNDUR, "-o", out, "--strict"])
    assert res.exit_code == 1 and "CIM5BL" in res.output and "Traceback" not in res.output
    bad = tmp_path / "bad.raw"
    bad.write_text("0, 100.0, 33, 0, 0, 60.0\n\n\n1,'A',abc,3\n")
    res = CliRunner().invoke(cli, ["convert", str(bad), "-o", out])
    assert res.exit_code == 1
    assert "bad.raw:4: bus: field 3 (BASKV): expected a number, found 'abc'" in res.output


# ---------------------------------------------------------------------------- dynamics
def test_converted_case_starts_in_equilibrium():
    # a flat 1 s run of the converted Kundur case (GENROU, SEXS, IEEEST from the DYR file):
    # speeds stay at 1 and voltages at the power-flow values (< 1e-6 pu)
    from casa_dyn.solver.options import SimOptions
    from casa_dyn.solver.simulate import simulate

    case, _ = psse_to_case(*KUNDUR)
    r = simulate(case, [], SimOptions(t_end_s=1.0))
    assert r.status == "completed"
    _, w = r.select("gen/*/speed_pu")
    _, v = r.select("bus/*/vm_pu")
    assert np.abs(w - 1.0).max() < 1e-6 and np.abs(v - v[0]).max() < 1e-6
