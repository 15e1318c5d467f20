"""Synchronous islands in the loss-of-synchronism check, the COI channel and the metrics.

Physics: machines stay in step only through AC ties; a DC link or an opened branch leaves two
AC systems that drift apart in frequency without any loss of synchronism (Kundur 1994, sec.
13.2 defines the COI per interconnected system).  A generator cut off by the outage of its
step-up transformer has nothing left to lose step with.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from casa_dyn.io import read_case
from casa_dyn.io.scenario import read_scenario
from casa_dyn.solver.events import BranchTrip
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate
from casa_dyn.solver.sync import SyncState
from casa_dyn.study.metrics import coi_weights_from_case, compute_metrics
from casa_dyn.study.single import run_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_kernel_groups_are_the_islands_of_the_online_machines():
    st = SyncState(delta_idx=np.array([10, 11, 12, 13]), w0=np.array([1.0, 2.0, 3.0, 4.0]),
                   unit_bus=np.array([0, 1, 2, 3]), online=np.array([True, True, False, True]),
                   island=np.array([1, 0, 1, 1]))
    idx, w, start = st.kernel_arrays()
    assert idx.tolist() == [11, 10, 13] and w.tolist() == [2.0, 1.0, 4.0] and start.tolist() == [0, 1, 3]
    assert st.alone().tolist() == [False, True, False, False]


def test_step_up_transformer_outage_separates_the_unit_without_a_false_loss_of_sync():
    """WSCC 9-bus: opening transformer 2-7 cuts generator 2 (163 MW) off the network.  Its rotor
    runs away (no electrical load), which the old single-COI check called loss of
    synchronism; now the run completes and reports the separation."""
    case = read_case(str(ROOT / "cases" / "wscc9.h5"))
    res = simulate(case, [BranchTrip(2071, 1.0, table="transformer")], SimOptions(t_end_s=3.0))
    assert res.status == "completed", res.message
    assert res.meta["separated_generators"] == [{"gen": 2, "t_s": 1.0}]
    # generator 2 really runs away: its speed rises by well over 1 % in 2 s
    w2 = res.channel("gen/2/speed_pu")
    assert w2[-1] - w2[0] > 0.01
    # the COI frequency after the trip is the inertia-weighted speed of generators 1 and 3
    h = {g: float(case["gencls"]["h_s"][case["gencls"]["gen"] == g][0])
         * float(case["generator"]["mbase_mva"][case["generator"]["id"] == g][0]) for g in (1, 3)}
    after = res.t_s > 1.0
    expect = 60.0 * (h[1] * res.channel("gen/1/speed_pu") + h[3] * res.channel("gen/3/speed_pu")) / (h[1] + h[3])
    assert np.allclose(res.channel("system/coi_freq_hz")[after], expect[after], rtol=0, atol=1e-9)
    # metrics compare machines of one island only: no loss of synchronism either
    m = compute_metrics(res)
    assert m["loss_of_sync"] == 0 and m["angle_sep_max_deg"] < 90.0


@pytest.mark.parametrize("name", ["bipole_block"])
def test_asynchronous_sides_of_a_dc_link_drift_apart_without_a_trip(name):
    """CASA-1000 bipole block with the default 180 deg check on: Central Asia speeds up and
    Pakistan slows down; their angles part by thousands of degrees, yet each side stays in
    step with itself."""
    sc = read_scenario(str(ROOT / "cases" / "scenarios" / f"{name}.toml"))
    case = read_case(str(ROOT / "cases" / "casa1000.h5"))
    res = run_scenario(case, sc, t_end_s=10.0)
    assert res.status == "completed", res.message
    assert SimOptions().loss_of_sync_deg == 180.0 and res.meta["options"]["loss_of_sync_deg"] == 180.0
    d_ca, d_pk = res.channel("gen/310/delta_deg"), res.channel("gen/411/delta_deg")
    assert abs((d_ca[-1] - d_ca[0]) - (d_pk[-1] - d_pk[0])) > 1000.0   # the sides drift apart
    assert compute_metrics(res)["loss_of_sync"] == 0


def test_frequency_metrics_take_the_extremes_of_each_island():
    """After the bipole block Central Asia speeds up and Pakistan slows down; the inertia mix
    of both (the system COI channel) hides both extremes.  The metrics give the zenith of the
    Central Asian island and the nadir of the Pakistani one, each equal to that island's own
    inertia-weighted speed (Pakistan: its one NTDC equivalent, generator 411)."""
    sc = read_scenario(str(ROOT / "cases" / "scenarios" / "bipole_block.toml"))
    case = read_case(str(ROOT / "cases" / "casa1000.h5"))
    res = run_scenario(case, sc, t_end_s=5.0)
    m = compute_metrics(res, coi_weights=coi_weights_from_case(case))
    f0 = case.freq_hz
    f_pk = f0 * res.channel("gen/411/speed_pu")
    assert m["freq_nadir_hz"] == pytest.approx(f_pk.min(), abs=1e-9)
    f_sys = res.channel("system/coi_freq_hz")
    assert m["freq_zenith_hz"] > f_sys.max() + 0.05 and m["freq_nadir_hz"] < f_sys.min() - 0.05
    # the Central Asian zenith is the one casa_outcomes reports for this scenario (50.488 Hz
    # over 30 s; within 5 s it has not yet peaked fully): between 50.3 and 50.5 Hz
    assert 50.3 < m["freq_zenith_hz"] < 50.5
