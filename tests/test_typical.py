"""Typical dynamic data put on a synthetic grid start in equilibrium and stay flat."""
from __future__ import annotations

import numpy as np
import pytest

from casa_dyn.network.synthetic import synthetic_grid
from casa_dyn.case.typical import add_typical_dynamics
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.simulate import simulate


@pytest.mark.parametrize("preset", ["classical", "full"])
def test_typical_dynamics_flat_run(preset):
    case = add_typical_dynamics(synthetic_grid(60, seed=3), preset)
    r = simulate(case, [], SimOptions(t_end_s=2.0))
    assert r.status == "completed", r.message
    _, w = r.select("gen/*/speed_pu")
    _, v = r.select("bus/*/vm_pu")
    assert w.shape[1] == case.n("generator")
    assert np.abs(w - 1).max() < 1e-6 and np.abs(v - v[0]).max() < 1e-5
