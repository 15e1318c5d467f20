"""DYR data as other tools write it: ANDES's timed-event records, and exciter saturation given
with a point at E = 0.  Small hand-written DYR snippets on the WSCC 9-bus RAW file.

Facts used: ANDES's DYR files carry ``Line 'Toggle' Line_1 1.0 /`` records (its cases
``kundur_full.dyr`` and ``ieee14.dyr``); PSS/E's exciter saturation is
``Efd SE(Efd) = B (Efd - A)^2`` above A through two points (PSS/E Model Library, IEEET1 /
ESDC1A "SE" definition), and ANDES's EXDC2 source describes E1 = SE(E1) = 0, E2 = SE(E2) = 1
as "saturation is disabled".  The IEEE Std 421.5-2005 DC1A sample data
(E1 = 3.1, SE(E1) = 0.33, E2 = 2.3, SE(E2) = 0.1) is an ordinary two-point curve.
"""
from __future__ import annotations

import pathlib

import pytest

from casa_dyn.errors import CasaDynError
from casa_dyn.io.psse import ConvertOptions, psse_to_case, read_dyr
from casa_dyn.models.exciter._common import quad_sat

DATA = pathlib.Path(__file__).parent / "data" / "psse"
RAW = str(DATA / "wscc9_v33.raw")
# GENROU CONs (Kundur 1994 Example 12.6 machine, no saturation): T'do T''do T'qo T''qo H D Xd
# Xq X'd X'q X''d Xl S(1.0) S(1.2)
GENROU = "'GENROU' 1  8.0 0.03 0.4 0.05 6.5 0.0 1.8 1.7 0.3 0.55 0.25 0.2 0.0 0.0 /"
# EXDC2 CONs: TR KA TA TB TC VRMAX VRMIN KE TE KF TF1 SWITCH E1 SE(E1) E2 SE(E2)
EXDC2 = "'EXDC2' 1  0.02 20.0 0.02 1.0 1.0 5.2 -4.16 1.0 0.83 0.0754 1.246 0.0 {} {} {} {} /"


def _dyr(tmp_path, text: str) -> str:
    p = tmp_path / "t.dyr"
    p.write_text(text)
    return str(p)


def test_andes_event_records_are_skipped_and_reported(tmp_path):
    text = (f"2 {GENROU}\n"
            "  Line  'Toggle'  Line_1  1.0 /\n"
            "  Line  'Toggle'  Line_1  1.1 /\n")
    recs = read_dyr(_dyr(tmp_path, text))
    assert [(r.model, r.andes_event, r.line) for r in recs] == [
        ("GENROU", False, 1), ("TOGGLE", True, 2), ("TOGGLE", True, 3)]
    case, report = psse_to_case(RAW, _dyr(tmp_path, text))
    assert case.n("genrou") == 1                                  # the data still converts
    (what, s), = report.skipped.items()
    assert "ANDES timed-event records" in what and s.records == 2
    with pytest.raises(CasaDynError, match="ANDES timed-event records"):
        psse_to_case(RAW, _dyr(tmp_path, text), ConvertOptions(strict=True))


def test_a_word_before_a_model_that_is_not_an_andes_event_stays_an_error(tmp_path):
    with pytest.raises(CasaDynError, match=r"t\.dyr:1: DYR record: field 1: expected a bus number"):
        psse_to_case(RAW, _dyr(tmp_path, "Line 'GENCLS' 1 3.0 0.0 /\n"))


def test_one_point_at_zero_does_not_define_a_saturation_curve():
    # why the converter drops such data: (A, B) = (0, 1) and (0.5, 4) both give
    # Efd SE(Efd) = 0 at Efd = 0 and 1 at Efd = 1 (the data), and differ at Efd = 2 (4 vs 9)
    for a, b in ((0.0, 1.0), (0.5, 4.0)):
        assert quad_sat(0.0, a, b)[0] == 0.0 and quad_sat(1.0, a, b)[0] == pytest.approx(1.0)
    assert quad_sat(2.0, 0.0, 1.0)[0] == pytest.approx(4.0)
    assert quad_sat(2.0, 0.5, 4.0)[0] == pytest.approx(9.0)


def test_exciter_saturation_with_a_point_at_zero_converts_without_saturation(tmp_path):
    text = (f"2 {GENROU}\n3 {GENROU}\n"
            f"2 {EXDC2.format(0.0, 0.0, 1.0, 1.0)}\n"        # ANDES's Kundur EXDC2 data
            f"3 {EXDC2.format(3.1, 0.33, 2.3, 0.1)}\n")      # IEEE 421.5 DC1A sample curve
    case, report = psse_to_case(RAW, _dyr(tmp_path, text))
    t = case["exdc2"]
    assert t["se1"].tolist() == [0.0, 0.33] and t["se2"].tolist() == [0.0, 0.1]   # exact
    assert t["e1_pu"].tolist() == [0.0, 3.1] and t["e2_pu"].tolist() == [1.0, 2.3]
    note, = [n for n in report.notes if "saturation point at E = 0" in n]
    assert "1 exciter(s)" in note and "EXDC2 at bus 2 (line 3)" in note
