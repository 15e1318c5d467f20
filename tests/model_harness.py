"""Shared checks for dynamic models: every family's analytic local Jacobian against central
finite differences at perturbed operating points, and the initial point as an equilibrium.

Use from a model's test::

    from model_harness import check_family_jacobian
    check_family_jacobian(system, "genrou", seed=1)
"""
from __future__ import annotations

import numpy as np

from casa_dyn.solver.workspace import evaluate

FD_STEP = 1e-6
#: |analytic - FD| <= ATOL + RTOL * |FD|  (central differences: error ~ h^2 * f''')
ATOL, RTOL = 2e-6, 1e-5


def family_local(sysm, fam_name):
    k = [f.spec.name for f in sysm.families].index(fam_name)
    return k, sysm.families[k]


def eval_local(sysm, k, z, want_jac=True):
    """Evaluate one family alone: returns its local residual r and local Jacobian jl."""
    f = sysm.families[k]
    tup = f.as_tuple()
    p, col, rowg, r, jl, ds = tup[:6]
    f.spec.eval(0.0, z, p, col, r, jl, ds, want_jac)
    return r.copy(), jl.copy()


def perturbed_points(sysm, seed, n_points=3, scale=0.05):
    rng = np.random.default_rng(seed)
    pts = []
    for _ in range(n_points):
        z = sysm.z0.copy()
        z += scale * rng.standard_normal(z.size) * np.maximum(np.abs(z), 0.1)
        pts.append(z)
    return pts


def check_family_jacobian(sysm, fam_name, seed=0, n_points=3, scale=0.05):
    """Assert the analytic Jacobian of a family equals central finite differences, and that
    no entry outside the declared structural mask is non-zero."""
    k, f = family_local(sysm, fam_name)
    assert f.n > 0, f"no units of {fam_name} in the system"
    mask = f.spec.mask()
    for z in perturbed_points(sysm, seed, n_points, scale):
        r0, jl = eval_local(sysm, k, z)
        ncol = jl.shape[2]
        fd = np.zeros_like(jl)
        for u in range(f.n):
            for c in range(ncol):
                gi = f.col[u, c]
                zp, zm = z.copy(), z.copy()
                h = FD_STEP * max(1.0, abs(z[gi]))
                zp[gi] += h
                zm[gi] -= h
                rp, _ = eval_local(sysm, k, zp, False)
                rm, _ = eval_local(sysm, k, zm, False)
                fd[u, :, c] = (rp[u] - rm[u]) / (2 * h)
        err = np.abs(jl - fd) - (ATOL + RTOL * np.abs(fd))
        if np.any(err > 0):
            u, rr, cc = np.unravel_index(np.argmax(err), err.shape)
            raise AssertionError(
                f"{fam_name} unit {u}: d(row {f.spec.rows[rr]})/d({f.spec.cols[cc]}) analytic "
                f"{jl[u, rr, cc]:.8g} vs finite difference {fd[u, rr, cc]:.8g}")
        outside = np.abs(fd[:, ~mask]).max() if (~mask).any() else 0.0
        assert outside <= ATOL, f"{fam_name}: non-zero derivative outside the declared Jacobian mask"


def full_residual(sysm, z=None):
    """Right-hand sides and Jacobian values of the assembled system (through the one compiled
    entry point, so tests do not compile a second copy of every model)."""
    return evaluate(sysm, z, 0.0, jac=True)


def check_system_jacobian(sysm, seed=0, scale=0.02):
    """The assembled sparse Jacobian (network + all families) against finite differences of
    the assembled residual, column by column."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    z = sysm.z0 + scale * rng.standard_normal(sysm.n) * np.maximum(np.abs(sysm.z0), 0.1)
    _, jd = full_residual(sysm, z)
    J = sp.csc_matrix((jd, sysm.ai, sysm.ap), shape=(sysm.n, sysm.n)).toarray()
    fd = np.zeros((sysm.n, sysm.n))
    for c in range(sysm.n):
        h = FD_STEP * max(1.0, abs(z[c]))
        zp, zm = z.copy(), z.copy()
        zp[c] += h
        zm[c] -= h
        fd[:, c] = (full_residual(sysm, zp)[0] - full_residual(sysm, zm)[0]) / (2 * h)
    err = np.abs(J - fd) - (ATOL + RTOL * np.abs(fd))
    if np.any(err > 0):
        r, c = np.unravel_index(np.argmax(err), err.shape)
        raise AssertionError(f"d({sysm.names[r]})/d({sysm.names[c]}): analytic {J[r, c]:.8g} vs FD {fd[r, c]:.8g}")


def check_equilibrium_and_flat_run(case, sysm, t_end_s=20.0):
    """The initial point satisfies every equation (1e-9) and a run without events stays put:
    speeds within 1e-6 pu of 1, voltages within 1e-5 pu of their start, no limiter switching."""
    from casa_dyn.solver.options import SimOptions
    from casa_dyn.solver.simulate import simulate

    rg, _ = full_residual(sysm)
    assert np.abs(rg).max() < 1e-9
    r = simulate(case, [], SimOptions(t_end_s=t_end_s, channels=("gen/*/speed_pu", "bus/*/vm_pu")))
    assert r.status == "completed"
    _, w = r.select("gen/*/speed_pu")
    _, v = r.select("bus/*/vm_pu")
    assert np.abs(w - 1.0).max() < 1e-6
    assert np.abs(v - v[0]).max() < 1e-5
    assert r.counters["limiter_changes"] == 0
