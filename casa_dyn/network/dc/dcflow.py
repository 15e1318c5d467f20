"""Steady state of DC networks with LCC converters, the DC half of the AC/DC power flow.

Given the AC voltage magnitudes at the converter buses, ``solve`` finds the DC node voltages,
branch currents, converter currents, firing / extinction angles, overlap and the P and Q
every converter draws from (or delivers to) its AC bus.  ``controls.settle`` then applies the
slow, discrete part of the PSS/E semantics at a converged AC point (tap moves and
control-mode switches) and says whether anything changed, so the AC power flow repeats;
``casa_dyn.network.dc.coupling`` joins both to the AC Newton solve.

Converter behaviour (PSS/E two-terminal and multi-terminal DC semantics, POM "DC lines" as
restated in REFERENCE.md 3.1, 3.2 and 5; QSS equations in ``casa_dyn.network.dc.qss``):

* **Current-controlled** (mode 2) and **power-controlled** (mode 1) converters draw or push
  their order: ``Id = i_set_ka`` or ``Id = p_set_mw / Vd`` (power at their own DC terminals).
  A power-controlled converter switches to the current ``p_set_mw / v_set_kv`` (scheduled
  power at scheduled voltage) when the DC voltage of its pole's voltage-setting inverter is
  below ``v_cmod_kv`` (VCMOD).  Power is scheduled at the converter's own DC terminals (PSS/E's
  positive SETVL; a negative SETVL, power scheduled at the inverter end of a two-terminal
  line, maps to a power order at the inverter-end value plus the line losses, which this
  power flow does not compute for the user).  The angle
  (alpha, or gamma for a current-controlled inverter) follows from ``Vd`` and ``Id``.
* The **voltage-setting** inverter (mode 3, one per pole and DC island) holds the compounded
  voltage ``Vd + r_comp_ohm * Id = v_set_kv`` (VSCHD, RCOMP); its current is whatever the
  others leave (``I_vst = sum I_rect - sum I_other_inv`` in a radial link).  With
  ``angle_min_deg == angle_max_deg`` it runs at **constant gamma** and its tap is set to the
  step nearest to the one that holds ``v_set_kv``, so the DC voltage floats a little with the
  tap step (an error is raised when it ends below ``v_min_kv``, DCVMIN).
* **Taps** (TAP, TMX, TMN, STP): when a converter's angle is outside
  [angle_min, angle_max] its tap is moved by whole steps (counted from the case's tap) just
  far enough to bring the angle inside, within the tap limits.
* Field meanings and the control rules above follow the PSS/E POM field descriptions as
  reproduced in GridCal's RAW reader (``SanPen/GridCal``, two-terminal DC line docstring:
  VCMOD, RCOMP "gamma and/or TAPI ... hold the compounded voltage VDCI + DCCUR*RCOMP at
  VSCHD", DELTI, DCVMIN, "TAPR is adjusted to keep alpha within limits") and in the
  ``power_flow_data`` crate docs.
* **Margin switch**: a rectifier that still needs an angle below ``angle_min`` with its tap at
  the limit is held at ``angle_min`` (it then fixes the DC voltage, a source ``Vd0 cos(alpha) -
  R Id``) and the voltage-setting inverter of its pole takes over current control at
  ``(1 - i_margin_pu)`` times the current it carried (DELTI / MARG).  A current- or
  power-controlled inverter at its limit is held at ``angle_min`` the same way.  An angle
  above ``angle_max`` with the tap at its limit is accepted (PSS/E's "nominal maximum") and
  reported.

The DC network is solved by modified nodal analysis: unknowns are the voltages of the DC
nodes of islands with converters, the current of every DC branch, of every ground
connection and of every converter acting as a voltage source; rows are Kirchhoff's current
law per node, ``V_from - V_to - R I = 0`` per branch (R = 0 allowed), ``V - R_g I_g = 0`` per
ground and ``V_p - V_n + R_s I - E = 0`` per voltage-source converter.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casa_dyn.errors import PowerFlowError
from casa_dyn.network.dc import qss as Q
from casa_dyn.network.dc.checks import dc_islands, dc_table
from casa_dyn.network.dc.tables import MODE_POWER, MODE_VOLTAGE, RECTIFIER

#: angle violations smaller than this (rad) are ignored (round-off of the AC solution)
ANGLE_TOL_RAD = 1e-7
#: iterations and tolerance (kA) of the fixed point Id = P / Vd of power-controlled converters
POWER_ITER, POWER_TOL_KA = 100, 1e-12
#: relative step of the finite differences of converter P, Q with respect to |V|
FD_REL = 1e-7


@dataclass(frozen=True)
class DcData:
    """Converter, node and branch data of a case, as arrays (all rows; ``on`` masks)."""

    conv_ids: np.ndarray
    on: np.ndarray
    bus_pos: np.ndarray      # AC bus position of each converter
    p: np.ndarray            # node position of dc_node_p / dc_node_n
    n: np.ndarray
    d: np.ndarray            # +1 rectifier, -1 inverter (direction of Id at dc_node_p)
    mode: np.ndarray
    p_set: np.ndarray
    i_set: np.ndarray
    v_set: np.ndarray
    r_comp: np.ndarray
    v_min: np.ndarray
    v_cmod: np.ndarray
    margin: np.ndarray
    nb: np.ndarray           # bridges in series (float)
    amin: np.ndarray         # rad
    amax: np.ndarray
    rc: np.ndarray
    xc: np.ndarray
    ebas: np.ndarray
    ratio: np.ndarray
    tap0: np.ndarray
    tmin: np.ndarray
    tmax: np.ndarray
    tstep: np.ndarray
    group: np.ndarray        # (island, pole) group of each converter, -1 off
    vst: np.ndarray          # converter row of each group's voltage-setting converter
    node_ids: np.ndarray
    node_active: np.ndarray  # in an island that has converters
    ground: np.ndarray       # grounded active node positions
    r_ground: np.ndarray
    br_ids: np.ndarray
    br_f: np.ndarray
    br_t: np.ndarray
    br_r: np.ndarray
    br_active: np.ndarray

    @property
    def r_src(self) -> np.ndarray:
        """Source resistance of a converter held at a fixed angle (ohm)."""
        return self.nb * (Q.K_RX * self.xc + self.d * 2.0 * self.rc)


@dataclass
class DcState:
    """The discrete control state of one power-flow solve (local to it, never global)."""

    tap: np.ndarray
    fixed: np.ndarray        # converter held at a fixed angle (voltage source)
    angle_fixed: np.ndarray  # rad
    cmode: np.ndarray        # power-controlled converter switched to current (VCMOD)
    vst_current: np.ndarray  # per group: voltage-setting converter in current control
    vst_order: np.ndarray    # per group: its current order then (kA)


@dataclass
class DcPoint:
    """A solved DC operating point (converter arrays in ``lcc_converter`` row order)."""

    vd_kv: np.ndarray
    id_ka: np.ndarray
    cos_angle: np.ndarray    # unclipped: outside [-1, 1] means no angle exists
    angle_rad: np.ndarray    # clipped to [0, pi]
    mu_rad: np.ndarray
    eac_kv: np.ndarray
    p_mw: np.ndarray         # AC active power (absorbed by rectifiers, delivered by inverters)
    q_mvar: np.ndarray       # AC reactive power absorbed
    v_node_kv: np.ndarray
    i_branch_ka: np.ndarray


@dataclass
class DcResult:
    """Per-converter and per-node results of the AC/DC power flow (row order of the tables)."""

    conv_ids: np.ndarray
    kind: np.ndarray
    in_service: np.ndarray
    alpha_deg: np.ndarray    # firing angle (rectifier alpha; inverter alpha = 180 - beta)
    gamma_deg: np.ndarray    # extinction angle (inverter); NaN for rectifiers
    mu_deg: np.ndarray
    tap_pu: np.ndarray
    vd_kv: np.ndarray
    id_ka: np.ndarray
    p_dc_mw: np.ndarray      # Vd Id at the converter's DC terminals
    p_ac_mw: np.ndarray      # active power drawn from the AC bus (negative at inverters)
    q_ac_mvar: np.ndarray    # reactive power drawn from the AC bus
    vac_pu: np.ndarray
    eac_kv: np.ndarray
    control: list            # effective control of each converter (text)
    node_ids: np.ndarray
    v_node_kv: np.ndarray
    branch_ids: np.ndarray
    i_branch_ka: np.ndarray
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        f = float
        return {
            "converters": [
                {"id": int(i), "kind": "rectifier" if k == RECTIFIER else "inverter",
                 "in_service": bool(on), "control": c, "alpha_deg": f(a),
                 "gamma_deg": None if np.isnan(g) else f(g), "mu_deg": f(m), "tap_pu": f(t),
                 "vd_kv": f(vd), "id_ka": f(i_), "p_dc_mw": f(pd), "p_ac_mw": f(p),
                 "q_ac_mvar": f(q), "vac_pu": f(v), "eac_kv": f(e)}
                for i, k, on, c, a, g, m, t, vd, i_, pd, p, q, v, e in zip(
                    self.conv_ids, self.kind, self.in_service, self.control, self.alpha_deg,
                    self.gamma_deg, self.mu_deg, self.tap_pu, self.vd_kv, self.id_ka,
                    self.p_dc_mw, self.p_ac_mw, self.q_ac_mvar, self.vac_pu, self.eac_kv)],
            "nodes": [{"id": int(i), "v_kv": f(v)} for i, v in zip(self.node_ids, self.v_node_kv)],
            "branches": [{"id": int(i), "i_ka": f(c)}
                         for i, c in zip(self.branch_ids, self.i_branch_ka)],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------- data
def has_dc(case) -> bool:
    return case.has("lcc_converter") and bool(np.any(case["lcc_converter"]["in_service"] == 1))


def prepare(case, bus_pos) -> DcData:
    """Arrays of the DC tables; ``bus_pos`` maps AC bus ids to positions (callable)."""
    nd, br, cv = (dc_table(case, t) for t in ("dc_node", "dc_branch", "lcc_converter"))
    node_index = {int(i): k for k, i in enumerate(nd["id"])}
    on = (cv["in_service"] == 1)
    labels, _ = dc_islands(case)
    p = np.array([node_index[int(x)] for x in cv["dc_node_p"]], dtype=np.int64)
    n = np.array([node_index[int(x)] for x in cv["dc_node_n"]], dtype=np.int64)
    keys = {}
    group = np.full(len(on), -1, dtype=np.int64)
    for r in np.flatnonzero(on):
        group[r] = keys.setdefault((int(labels[p[r]]), int(cv["pole"][r])), len(keys))
    vst = np.full(len(keys), -1, dtype=np.int64)
    for r in np.flatnonzero(on & (cv["mode"] == MODE_VOLTAGE)):
        vst[group[r]] = r
    if np.any(vst < 0):
        raise PowerFlowError("a DC pole has no voltage-setting converter (validate the case)")
    conv_isl = set(int(labels[k]) for k in p[on])
    node_active = np.array([int(l) in conv_isl for l in labels], dtype=bool) & (labels >= 0)
    ground = np.flatnonzero(node_active & (nd["grounded"] == 1))
    bf = np.array([node_index[int(x)] for x in br["from_node"]], dtype=np.int64)
    bt = np.array([node_index[int(x)] for x in br["to_node"]], dtype=np.int64)
    br_active = (br["in_service"] == 1) & node_active[bf] if len(bf) else np.zeros(0, bool)
    fl = lambda c: np.asarray(cv[c], dtype=float)  # noqa: E731
    return DcData(
        conv_ids=cv["id"].astype(np.int64), on=on, bus_pos=np.asarray(bus_pos(cv["bus"])),
        p=p, n=n, d=np.where(cv["kind"] == RECTIFIER, 1.0, -1.0), mode=cv["mode"].astype(np.int64),
        p_set=fl("p_set_mw"), i_set=fl("i_set_ka"), v_set=fl("v_set_kv"), r_comp=fl("r_comp_ohm"),
        v_min=fl("v_min_kv"), v_cmod=fl("v_cmod_kv"), margin=fl("i_margin_pu"),
        nb=fl("n_bridges"), amin=np.deg2rad(fl("angle_min_deg")),
        amax=np.deg2rad(fl("angle_max_deg")), rc=fl("rc_ohm"), xc=fl("xc_ohm"),
        ebas=fl("ebas_kv"), ratio=fl("ratio"), tap0=fl("tap_pu"), tmin=fl("tap_min_pu"),
        tmax=fl("tap_max_pu"), tstep=fl("tap_step_pu"), group=group, vst=vst,
        node_ids=nd["id"].astype(np.int64), node_active=node_active, ground=ground,
        r_ground=np.asarray(nd["r_ground_ohm"], dtype=float)[ground],
        br_ids=br["id"].astype(np.int64), br_f=bf, br_t=bt,
        br_r=np.asarray(br["r_ohm"], dtype=float), br_active=br_active)


def initial_state(data: DcData) -> DcState:
    ng = len(data.vst)
    fixed = np.zeros(len(data.on), dtype=bool)
    angle = np.zeros(len(data.on))
    # a constant-gamma voltage-setting inverter sits at its gamma; its tap holds the voltage
    const_g = data.on & (data.mode == MODE_VOLTAGE) & (data.amin == data.amax)
    fixed[const_g] = True
    angle[const_g] = data.amin[const_g]
    return DcState(tap=data.tap0.copy(), fixed=fixed, angle_fixed=angle,
                   cmode=np.zeros(len(data.on), dtype=bool),
                   vst_current=np.zeros(ng, dtype=bool), vst_order=np.zeros(ng))


# ---------------------------------------------------------------------------- DC network
def _roles(data: DcData, st: DcState, vac_pu):
    """Per converter: source kind (0 off, 1 current, 2 power, 3 voltage source), value and
    source resistance.  Voltage sources: E (kV); current: I (kA); power: P (MW)."""
    nconv = len(data.on)
    kind = np.zeros(nconv, dtype=np.int64)
    val, rs = np.zeros(nconv), np.zeros(nconv)
    eac = Q.eac_kv(vac_pu, data.ebas, data.ratio, st.tap)[0]
    vd0 = Q.vd0_kv(eac, data.nb)
    for k in np.flatnonzero(data.on):
        g = data.group[k]
        if st.fixed[k]:
            kind[k], val[k], rs[k] = 3, vd0[k] * np.cos(st.angle_fixed[k]), data.r_src[k]
        elif data.mode[k] == MODE_VOLTAGE:
            if st.vst_current[g]:
                kind[k], val[k] = 1, st.vst_order[g]
            else:
                kind[k], val[k], rs[k] = 3, data.v_set[k], data.r_comp[k]
        elif data.mode[k] == MODE_POWER and not st.cmode[k]:
            kind[k], val[k] = 2, data.p_set[k]
        elif data.mode[k] == MODE_POWER:
            kind[k], val[k] = 1, data.p_set[k] / data.v_set[data.vst[g]]
        else:
            kind[k], val[k] = 1, data.i_set[k]
    return kind, val, rs, eac, vd0


def _solve_network(data: DcData, kind, val, rs, i_power):
    """One linear solve of the DC network; power-controlled converters as currents
    ``i_power``.  Returns node voltages (kV, all nodes), branch currents, converter currents."""
    nn = len(data.node_ids)
    act = np.flatnonzero(data.node_active)
    vpos = -np.ones(nn, dtype=np.int64)
    vpos[act] = np.arange(len(act))
    brs = np.flatnonzero(data.br_active)
    vsrc = np.flatnonzero(kind == 3)
    n_v, n_b, n_g = len(act), len(brs), len(data.ground)
    size = n_v + n_b + n_g + len(vsrc)
    a = np.zeros((size, size))
    rhs = np.zeros(size)
    for j, b in enumerate(brs):           # branch current leaves from, enters to
        row = n_v + j
        f, t = vpos[data.br_f[b]], vpos[data.br_t[b]]
        a[f, row] += 1.0
        a[t, row] -= 1.0
        a[row, f], a[row, t], a[row, row] = 1.0, -1.0, -data.br_r[b]
    for j, nd in enumerate(data.ground):  # ground current leaves the node
        row = n_v + n_b + j
        a[vpos[nd], row] += 1.0
        a[row, vpos[nd]], a[row, row] = 1.0, -data.r_ground[j]
    # converters inject d*I into dc_node_p and -d*I into dc_node_n
    cur = np.where(kind == 1, val, 0.0) + np.where(kind == 2, i_power, 0.0)
    np.add.at(rhs, vpos[data.p[kind > 0]], (data.d * cur)[kind > 0])
    np.add.at(rhs, vpos[data.n[kind > 0]], (-data.d * cur)[kind > 0])
    for j, k in enumerate(vsrc):
        row = n_v + n_b + n_g + j
        pp, nn_ = vpos[data.p[k]], vpos[data.n[k]]
        a[pp, row] -= data.d[k]           # leaving current = -injection
        a[nn_, row] += data.d[k]
        a[row, pp], a[row, nn_], a[row, row] = 1.0, -1.0, rs[k]
        rhs[row] = val[k]
    try:
        x = np.linalg.solve(a, rhs)
    except np.linalg.LinAlgError:
        raise PowerFlowError("the DC network equations are singular: a DC island without a "
                             "ground reference or a loop of voltage sources") from None
    v = np.zeros(nn)
    v[act] = x[:n_v]
    ibr = np.zeros(len(data.br_ids))
    ibr[brs] = x[n_v:n_v + n_b]
    conv_i = cur.copy()
    conv_i[vsrc] = x[n_v + n_b + n_g:]
    return v, ibr, conv_i


def _check_balance(data: DcData, kind, conv_i):
    """A converter that is the only voltage source of its pole carries what
    the current orders leave; a negative value does not depend on the AC side: no solution."""
    for k in np.flatnonzero((kind == 3) & (conv_i < -1e-9)):
        g = data.group[k]
        if np.count_nonzero((data.group == g) & (kind == 3)) == 1:
            raise PowerFlowError(
                f"no DC operating point: converter {int(data.conv_ids[k])} would need a negative "
                f"current ({conv_i[k]:.4g} kA); the current orders of its pole do not balance "
                "(the inverters' orders exceed the rectifiers')")


def solve(data: DcData, st: DcState, vac_pu, exact_pf: bool = True) -> DcPoint:
    """DC operating point at the AC voltage magnitudes ``vac_pu`` (per converter)."""
    kind, val, rs, eac, vd0 = _roles(data, st, vac_pu)
    i_power = np.zeros(len(data.on))
    pw = kind == 2
    if pw.any():  # start from the scheduled voltage of each pole
        i_power[pw] = val[pw] / data.v_set[data.vst[data.group[pw]]]
    for _ in range(POWER_ITER):
        v, ibr, conv_i = _solve_network(data, kind, val, rs, i_power)
        if not pw.any():
            break
        vd = v[data.p] - v[data.n]
        if np.any(vd[pw] <= 0):
            raise PowerFlowError("a power-controlled converter has no positive DC voltage")
        new = val[pw] / vd[pw]
        done = np.max(np.abs(new - i_power[pw])) <= POWER_TOL_KA
        i_power[pw] = new
        if done:
            v, ibr, conv_i = _solve_network(data, kind, val, rs, i_power)
            break
    else:
        raise PowerFlowError("power-controlled DC converters: Id = P / Vd did not converge")
    vd = np.where(data.on, v[data.p] - v[data.n], 0.0)
    conv_i = np.where(data.on, conv_i, 0.0)
    _check_balance(data, kind, conv_i)
    cos_a = np.where(st.fixed, np.cos(st.angle_fixed),
                     Q.angle_for_vd(vd, np.where(vd0 > 0, vd0, 1.0), conv_i, data.nb, data.xc,
                                    data.rc, data.d))
    angle = np.arccos(np.clip(cos_a, -1.0, 1.0))
    # keep the overlap defined on the way to a solution; the final point is checked
    c_mu = np.clip(np.cos(angle) - np.sqrt(2.0) * data.xc * conv_i / np.where(eac > 0, eac, 1.0),
                   -1.0 + 1e-12, 1.0)
    mu = np.arccos(c_mu) - angle
    # beyond 180 deg of commutation (no solution) the current is capped for P and Q only
    i_cap = np.minimum(conv_i, (np.cos(angle) + 1.0 - 1e-12) * eac / (np.sqrt(2.0) * data.xc))
    pq = Q.pq_ac(eac, angle, i_cap, data.nb, data.xc, 1 if exact_pf else 0)
    on = data.on
    return DcPoint(vd_kv=vd, id_ka=conv_i, cos_angle=np.where(on, cos_a, 1.0), angle_rad=angle,
                   mu_rad=np.where(on, mu, 0.0), eac_kv=eac, p_mw=np.where(on, pq[0], 0.0),
                   q_mvar=np.where(on, pq[1], 0.0), v_node_kv=v, i_branch_ka=ibr)
