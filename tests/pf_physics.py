"""Physics checks for any power-flow result (used after every test power flow).

Independent of ``casa_dyn.network``: branch flows are recomputed here from the case tables with
the pi model written out per branch type, and every bus's power balance (Kirchhoff) is checked
with them.  Checks:

1. branch flows of the result = flows recomputed from the result's voltages;
2. at every in-service bus: generation - load - shunt consumption = power leaving by branches,
   within ``tol_mw`` (the solver's tolerance 1e-8 pu is 1e-6 MW on 100 MVA);
3. total generation - load - shunts = reported losses (sum of both branch ends);
4. set-points: slack angle, PV-bus magnitudes, isolated buses at 0 V and no flow;
5. generators out of service or at isolated buses produce nothing; PV units within Q limits
   when the limits were enforced.
"""
from __future__ import annotations

import numpy as np


def branch_flows(case, v):
    """(S_from, S_to) in MVA per branch, lines then transformers, zero when out of service or
    connected to an isolated (type 4) bus.

    Line: I_f = (V_f - V_t)/z + j b/2 V_f.  Transformer (ideal ratio t = ratio e^{j shift} at
    the from side, magnetizing g + jb at the from bus): the series current is
    I_s = (V_f/t - V_t)/z, so I_f = I_s / conj(t) + (g + jb) V_f and I_t = -I_s.
    """
    base = case.base_mva
    pos = {int(b): i for i, b in enumerate(case["bus"]["id"])}
    live = case["bus"]["type"] != 4  # a branch touching an isolated bus carries nothing
    out_f, out_t = [], []
    ln = case["line"]
    for k in range(case.n("line")):
        f, t = pos[int(ln["from_bus"][k])], pos[int(ln["to_bus"][k])]
        z = ln["r_pu"][k] + 1j * ln["x_pu"][k]
        i_s = (v[f] - v[t]) / z
        i_f = i_s + 0.5j * ln["b_pu"][k] * v[f]
        i_t = -i_s + 0.5j * ln["b_pu"][k] * v[t]
        on = ln["in_service"][k] == 1 and live[f] and live[t]
        out_f.append(v[f] * np.conj(i_f) * base * on)
        out_t.append(v[t] * np.conj(i_t) * base * on)
    tr = case["transformer"]
    for k in range(case.n("transformer")):
        f, t = pos[int(tr["from_bus"][k])], pos[int(tr["to_bus"][k])]
        tap = tr["ratio_pu"][k] * np.exp(1j * np.deg2rad(tr["shift_deg"][k]))
        z = tr["r_pu"][k] + 1j * tr["x_pu"][k]
        i_s = (v[f] / tap - v[t]) / z
        i_f = i_s / np.conj(tap) + (tr["g_pu"][k] + 1j * tr["b_pu"][k]) * v[f]
        on = tr["in_service"][k] == 1 and live[f] and live[t]
        out_f.append(v[f] * np.conj(i_f) * base * on)
        out_t.append(v[t] * np.conj(-i_s) * base * on)
    return np.array(out_f, dtype=complex), np.array(out_t, dtype=complex)


def check_physics(case, res, tol_mw=1e-5, enforce_q_limits=True):
    """Assert the invariants listed in the module docstring; returns the per-bus residual."""
    assert res.converged, res.message
    bus, gen, load, sh = case["bus"], case["generator"], case["load"], case["shunt"]
    nb = case.n("bus")
    pos = {int(b): i for i, b in enumerate(bus["id"])}
    v = res.v_complex()
    iso = bus["type"] == 4
    # 1. branch flows
    sf, st = branch_flows(case, v)
    for name, got, ref in (("p_from", res.branch_p_from_mw, sf.real),
                           ("q_from", res.branch_q_from_mvar, sf.imag),
                           ("p_to", res.branch_p_to_mw, st.real),
                           ("q_to", res.branch_q_to_mvar, st.imag)):
        assert np.allclose(got, ref, rtol=0, atol=1e-6), f"branch {name} differs"
    # 2. bus balance
    s_bus = np.zeros(nb, dtype=complex)
    for g in range(case.n("generator")):
        s_bus[pos[int(gen["bus"][g])]] += res.gen_p_mw[g] + 1j * res.gen_q_mvar[g]
    for k in range(case.n("load")):
        if load["in_service"][k] == 1:
            s_bus[pos[int(load["bus"][k])]] -= load["p_mw"][k] + 1j * load["q_mvar"][k]
    for k in range(case.n("shunt")):
        if sh["in_service"][k] == 1:
            i = pos[int(sh["bus"][k])]
            s_bus[i] -= abs(v[i]) ** 2 * (sh["g_mw"][k] - 1j * sh["b_mvar"][k])
    leaving = np.zeros(nb, dtype=complex)
    ends_f = np.r_[case["line"]["from_bus"], case["transformer"]["from_bus"]]
    ends_t = np.r_[case["line"]["to_bus"], case["transformer"]["to_bus"]]
    for k in range(len(sf)):
        leaving[pos[int(ends_f[k])]] += sf[k]
        leaving[pos[int(ends_t[k])]] += st[k]
    resid = np.where(iso, 0.0, s_bus - leaving)
    worst_p, worst_q = np.max(np.abs(resid.real)), np.max(np.abs(resid.imag))
    assert worst_p <= tol_mw, f"P balance off by {worst_p} MW"
    assert worst_q <= tol_mw, f"Q balance off by {worst_q} Mvar"
    # 3. totals = losses
    total = s_bus[~iso].sum()
    assert abs(total.real - res.losses_mw) <= tol_mw * nb
    assert abs(total.imag - res.losses_mvar) <= tol_mw * nb
    assert abs(res.losses_mw - (sf + st).real.sum()) <= 1e-6 * max(1, len(sf))
    # 4. set-points
    on = gen["in_service"] == 1
    for i in np.flatnonzero(bus["type"] == 3):
        assert res.va_deg[i] == bus["va_deg"][i]
    for i in np.flatnonzero((res.bus_type == 2) | (res.bus_type == 3)):
        first = np.flatnonzero(on & (gen["bus"] == bus["id"][i]))[0]
        assert abs(res.vm_pu[i] - gen["vm_set_pu"][first]) <= 1e-12
    assert np.all(res.vm_pu[iso] == 0) and np.all(res.va_deg[iso] == 0)
    # 5. generators
    gbus = np.array([pos[int(b)] for b in gen["bus"]], dtype=int)
    dead = ~on | iso[gbus] if len(gbus) else np.zeros(0, bool)
    assert np.all(res.gen_p_mw[dead] == 0) and np.all(res.gen_q_mvar[dead] == 0)
    if enforce_q_limits:
        pv = on & (res.bus_type[gbus] == 2) if len(gbus) else np.zeros(0, bool)
        q_tol = 1e-4  # Mvar: limits are checked at 1e-6 pu
        assert np.all(res.gen_q_mvar[pv] <= gen["q_max_mvar"][pv] + q_tol)
        assert np.all(res.gen_q_mvar[pv] >= gen["q_min_mvar"][pv] - q_tol)
    return resid
