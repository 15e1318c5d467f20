"""PSS/E two-terminal (each MDC mode) and multi-terminal DC lines: the converted case's power
flow reproduces the scheduled DC power, current and voltage of the RAW record.

Files: tests/data/psse/cigre_*_v33.raw, the CIGRE HVDC benchmark link (REFERENCE.md 4.1: 500 kV,
2 kA, RDC 5 ohm, 12-pulse, Xc 13.58 / 13.32 ohm per bridge) with the DC line as a PSS/E record
in each control mode; all but MDC = 0 schedule the same 2 kA point.  Tolerances: the inverter
holds its voltage with a tap of 0.00625 pu steps at constant gamma, so the DC voltage sits
within 1e-3 kV of the schedule here; powers are compared to 0.01 MW.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

from casa_dyn.io.psse import psse_to_case, read_raw, stored_voltage_mismatch
from casa_dyn.io.psse.convert_dc import scheduled_current_ka
from casa_dyn.network.powerflow import solve_power_flow

DATA = pathlib.Path(__file__).parent / "data" / "psse"


def solved(name, dyr=None):
    case, report = psse_to_case(str(DATA / name), str(DATA / dyr) if dyr else None)
    res = solve_power_flow(case)
    mm = stored_voltage_mismatch(case, read_raw(str(DATA / name)), res)
    return case, report, res, mm


def test_mdc1_power_at_the_rectifier():
    # SETVL = +1010 MW (rectifier end), VSCHD = 495 kV at the inverter (RCOMP = 0)
    case, _, res, mm = solved("cigre_mdc1_rect_v33.raw")
    cv = case["lcc_converter"]
    assert (cv["mode"][0], cv["p_set_mw"][0]) == (1, 1010.0)
    assert res.dc.p_dc_mw[0] == pytest.approx(1010.0, abs=0.01)
    assert res.dc.vd_kv[1] == pytest.approx(495.0, abs=1e-3)
    assert mm["vm_pu"] < 1e-5 and mm["va_deg"] < 1e-3


def test_mdc1_power_at_the_inverter():
    # SETVL = -990 MW: 990 MW at the inverter; the rectifier's order adds the line loss
    # I^2 RDC = 2^2 x 5 = 20 MW at the schedule (I = 990/495 = 2 kA)
    case, report, res, mm = solved("cigre_mdc1_inv_v33.raw")
    assert case["lcc_converter"]["p_set_mw"][0] == pytest.approx(1010.0, rel=1e-12)
    assert res.dc.p_dc_mw[1] == pytest.approx(990.0, abs=0.01)
    assert any("SETVL < 0" in n for n in report.notes)
    assert mm["vm_pu"] < 1e-5 and mm["va_deg"] < 1e-3


def test_mdc1_compounded_at_the_rectifier_end():
    # RCOMP = RDC = 5 ohm: the compounded voltage Vd_i + 5 Id = VSCHD = 505 kV is the rectifier
    # end; SETVL = -990 MW at the inverter: 5 I^2 - 505 I + 990 = 0 gives I = 2 kA
    case, _, res, _ = solved("cigre_mdc1_rcomp_v33.raw")
    assert res.dc.p_dc_mw[1] == pytest.approx(990.0, abs=0.01)
    assert res.dc.vd_kv[1] + 5.0 * res.dc.id_ka[1] == pytest.approx(505.0, abs=1e-3)


def test_mdc2_current_in_amperes():
    # SETVL = 2000 A (not kA, not MW): i_set = 2 kA; scheduled power SETVL x VSCHD / 1000 =
    # 2000 x 495 / 1000 = 990 MW at the inverter (REFERENCE.md 6 row 13)
    case, _, res, mm = solved("cigre_mdc2_v33.raw")
    cv = case["lcc_converter"]
    assert (cv["mode"][0], cv["i_set_ka"][0]) == (2, 2.0)
    assert res.dc.id_ka[0] == pytest.approx(2.0, abs=1e-9)
    assert res.dc.p_dc_mw[1] == pytest.approx(2000 * 495 / 1000, abs=0.01)
    assert mm["vm_pu"] < 1e-7 and mm["va_deg"] < 1e-5
    # CIGRE benchmark QSS point (REFERENCE.md 6 rows 2 and 4): Vdr 504.98 kV (+-0.5),
    # P 1009.96 / 990.0 MW (+-1)
    assert res.dc.vd_kv[0] == pytest.approx(504.98, abs=0.5)
    assert res.dc.p_dc_mw == pytest.approx([1009.96, 990.0], abs=1.0)


def test_mdc0_blocked():
    case, _, res, mm = solved("cigre_mdc0_v33.raw")
    assert list(case["lcc_converter"]["in_service"]) == [0, 0]
    assert res.dc is None
    assert mm["vm_pu"] < 1e-7 and mm["va_deg"] < 1e-5


def test_scheduled_current_by_hand():
    # MDC 1 at the rectifier: (495 + 5 I) I = 1010 -> I = 2; at the inverter with RCOMP 5 and
    # VSCHD 505: (505 - 5 I) I = 990 -> I = 2, rectifier (505 + 0) x 2 = 1010
    assert scheduled_current_ka(1, 1010.0, 495.0, 5.0, 0.0) == pytest.approx((2.0, 1010.0))
    assert scheduled_current_ka(1, -990.0, 505.0, 5.0, 5.0) == pytest.approx((2.0, 1010.0))
    assert scheduled_current_ka(2, 2000.0, 495.0, 5.0, 0.0) == pytest.approx((2.0, 1010.0))
    assert scheduled_current_ka(1, -1e6, 500.0, 5.0, 5.0) is None   # unreachable power


def test_multi_terminal_line():
    # rectifier 2000 A (MDC 2), tap inverter -600 A, voltage-setting inverter 495 kV (VCONV);
    # links 1-3 of 3 ohm and 3-2 of 2 ohm, solidly grounded neutral
    case, _, res, _ = solved("mtdc_v33.raw")
    cv = case["lcc_converter"]
    assert list(cv["kind"]) == [1, 2, 2] and list(cv["mode"]) == [2, 3, 2]
    assert list(cv["i_set_ka"]) == [2.0, 0.0, 0.6] and cv["v_set_kv"][1] == 495.0
    dc = res.dc
    assert dc.id_ka == pytest.approx([2.0, 1.4, 0.6], abs=1e-9)       # KCL: 2.0 - 0.6 = 1.4
    # constant gamma with tap steps of 0.625 %: the DC voltage within one step of 495 kV
    assert abs(dc.vd_kv[1] - 495.0) < 0.00625 * 495.0
    v = dict(zip(dc.node_ids.tolist(), dc.v_node_kv.tolist()))
    rect, tap, vst = (case["lcc_converter"]["dc_node_p"][k] for k in (0, 2, 1))
    assert v[tap] - v[vst] == pytest.approx(2.0 * 1.4, abs=1e-9)        # Ohm: 2 ohm x 1.4 kA
    assert v[rect] - v[tap] == pytest.approx(3.0 * 2.0, abs=1e-9)       # 3 ohm x 2.0 kA
    assert case["dc_branch"]["l_mh"] == pytest.approx([600.0, 600.0])


def test_cdc4t_maps_onto_lcc_control():
    case, report, res, _ = solved("cigre_mdc2_v33.raw", "cigre.dyr")
    ctl = case["lcc_control"]
    assert list(ctl["conv"]) == [1, 2]
    # CONs of cigre.dyr: ALFDY 5, GAMDY 15, TVDC 0.01, TIDC 0.005, VBLOCK 0.6, VUNBL 0.8,
    # TBLOCK 0.1, VBYPAS 250 kV, VUNBY 0.8, TBYPAS 0.1, RSVOLT 0, RSCUR 200 A, VRAMP 0.5,
    # CRAMP 5, C0 200 A, (V1, C1) = (100 kV, 600 A), (V3, C3) = (450 kV, 2200 A), TCMODE 0.05;
    # bases VSCHD = 495 kV and the scheduled 2000 A
    assert ctl["alpha_min_deg"][0] == 5.0 and ctl["gamma_min_deg"][1] == 15.0
    for col, value in {"t_vd_s": 0.01, "t_id_s": 0.005, "v_block_pu": 0.6, "v_unblock_pu": 0.8,
                       "t_block_s": 0.1, "v_bypass_pu": 250 / 495, "v_unbypass_pu": 0.8,
                       "t_bypass_s": 0.1, "v_restart_pu": 0.0, "i_restart_pu": 0.1,
                       "v_ramp_pu_per_s": 0.5, "i_ramp_pu_per_s": 5.0, "i_min_pu": 0.1,
                       "vdcol_v_low_pu": 100 / 495, "vdcol_i_low_pu": 0.3,
                       "vdcol_v_high_pu": 450 / 495, "vdcol_i_high_pu": 1.1,
                       "t_cmode_s": 0.05}.items():
        assert np.allclose(ctl[col], value, rtol=1e-12), col
    # (V2, C2) = (250 kV, 1000 A) is off the line through the end points (1285.7 A at 250 kV)
    assert any("VDCOL middle point" in n for n in report.notes)


def test_cdc6t_and_dc_models_of_unknown_lines(tmp_path):
    cons = "5 15 0.01 0.005 0.6 0.8 0.1 250 0.8 0.1 0 200 0.5 5 200 100 600 250 1285.7142857 450 2200 0.05"
    extra = " 0.55 0.02 0.1 0.5 0.01 0.7 0.02 0.1 0.1 0.003"            # CONs 23-32
    dyr = tmp_path / "c6.dyr"
    dyr.write_text(f"'CIGRE' 'CDC6T' {cons}{extra} /\n'NOPE' 'CDC4T' {cons} /\n")
    case, report = psse_to_case(str(DATA / "cigre_mdc2_v33.raw"), str(dyr))
    ctl = case["lcc_control"]
    assert list(ctl["t_vd_s"]) == [0.003, 0.01]          # CON 32 TVDCR at the rectifier
    assert not any("VDCOL middle point" in n for n in report.notes)   # (V2, C2) on the line
    assert any("CDC6T delayed" in n for n in report.notes)
    assert report.skipped["DYR records of two-terminal DC lines that are not in the RAW file"].records == 1
