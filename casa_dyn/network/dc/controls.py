"""Discrete controls of the DC power flow: tap moves, mode switches (margin, VCMOD), the
final feasibility check and the result record.  Semantics: ``casa_dyn.network.dc.dcflow``.
"""
from __future__ import annotations

import numpy as np

from casa_dyn.errors import PowerFlowError
from casa_dyn.network.dc import qss as Q
from casa_dyn.network.dc.dcflow import ANGLE_TOL_RAD, DcData, DcPoint, DcResult, DcState
from casa_dyn.network.dc.tables import INVERTER, MODE_POWER, MODE_VOLTAGE, RECTIFIER


# ---------------------------------------------------------------------------- controls
def _on_grid(t_star, tap0, step, how):
    """The tap position on the grid ``tap0 + k step`` above (how > 0), below (< 0) or
    nearest to (0) ``t_star``; continuous when ``step`` is 0."""
    if step <= 0:
        return t_star
    k = (t_star - tap0) / step
    k = np.ceil(k - 1e-9) if how > 0 else (np.floor(k + 1e-9) if how < 0 else np.round(k))
    return tap0 + k * step


def settle(data: DcData, st: DcState, pt: DcPoint) -> list[str]:
    """Tap moves and mode switches the point ``pt`` calls for (applied to ``st``); returns
    a description of each change, empty when the controls are settled."""
    changes: list[str] = []
    eac_per_tap = pt.eac_kv * st.tap           # Eac(t) = eac_per_tap / t
    for k in np.flatnonzero(data.on):
        cid, g = int(data.conv_ids[k]), data.group[k]
        need = pt.vd_kv[k] + data.r_src[k] * pt.id_ka[k]      # = Vd0(t) cos(angle)
        vd0_per_tap = data.nb[k] * Q.K_VD0 * eac_per_tap[k]   # Vd0(t) = vd0_per_tap / t
        v_inv = pt.vd_kv[data.vst[g]]  # PSS/E compares the inverter's DC voltage with VCMOD
        if data.mode[k] == MODE_POWER and not st.cmode[k] and v_inv < data.v_cmod[k]:
            st.cmode[k] = True
            changes.append(f"converter {cid}: inverter DC voltage {v_inv:.4g} kV below VCMOD, "
                           "switched to current control")
        if data.mode[k] == MODE_VOLTAGE and data.amin[k] == data.amax[k] and not st.vst_current[g]:
            # constant gamma: the tap step nearest to the one that holds the scheduled voltage
            target = data.v_set[k] - data.r_comp[k] * pt.id_ka[k]
            need_t = target + data.r_src[k] * pt.id_ka[k]
            t_star = vd0_per_tap * np.cos(data.amin[k]) / need_t if need_t > 0 else data.tmax[k]
            _move(st, data, k, _on_grid(t_star, data.tap0[k], data.tstep[k], 0), changes,
                  "holds the DC voltage")
            continue
        if st.fixed[k]:
            continue
        # cos(angle) = need / Vd0(t): a smaller tap raises Vd0 and the angle
        if pt.cos_angle[k] > np.cos(data.amin[k] - ANGLE_TOL_RAD):       # angle < min
            t_star = vd0_per_tap * np.cos(data.amin[k]) / need if need > 0 else data.tmin[k]
            new = _on_grid(t_star, data.tap0[k], data.tstep[k], -1)
            if not _move(st, data, k, new, changes, "raises the angle above its minimum"):
                _hold_at_minimum(data, st, pt, k, g, changes)
        elif pt.cos_angle[k] < np.cos(data.amax[k] + ANGLE_TOL_RAD) and data.amax[k] < np.pi / 2:
            t_star = vd0_per_tap * np.cos(data.amax[k]) / need if need > 0 else data.tmax[k]
            _move(st, data, k, _on_grid(t_star, data.tap0[k], data.tstep[k], +1), changes,
                  "lowers the angle below its maximum")
    return changes


def _move(st, data, k, new, changes, why) -> bool:
    new = float(np.clip(new, data.tmin[k], data.tmax[k]))
    if abs(new - st.tap[k]) <= 1e-12:
        return False
    changes.append(f"converter {int(data.conv_ids[k])}: tap {st.tap[k]:.5f} -> {new:.5f} {why}")
    st.tap[k] = new
    return True


def _hold_at_minimum(data, st, pt, k, g, changes):
    """Tap at its limit and the angle still below minimum: hold the angle at its minimum; a
    rectifier hands current control to the voltage-setting inverter (current margin)."""
    st.fixed[k], st.angle_fixed[k] = True, data.amin[k]
    cid = int(data.conv_ids[k])
    v = data.vst[g]
    if data.d[k] > 0 and k != v and not st.vst_current[g]:
        st.vst_current[g] = True
        st.vst_order[g] = (1.0 - data.margin[v]) * pt.id_ka[v]
        st.fixed[v] = False  # a constant-gamma inverter leaves gamma free to control current
        changes.append(f"converter {cid}: at minimum alpha with the tap at its limit; "
                       f"converter {int(data.conv_ids[v])} takes current control at "
                       f"{st.vst_order[g]:.4g} kA (margin {data.margin[v]:g})")
    else:
        changes.append(f"converter {cid}: held at its minimum angle with the tap at its limit")


def final_check(data: DcData, st: DcState, pt: DcPoint) -> list[str]:
    """Raise ``PowerFlowError`` when the settled point is not a DC operating point; return
    notes on accepted deviations (angle above its nominal maximum)."""
    notes = []
    for k in np.flatnonzero(data.on):
        cid = int(data.conv_ids[k])
        what = "alpha" if data.d[k] > 0 else "gamma"
        if pt.id_ka[k] < -1e-9:
            raise PowerFlowError(
                f"no DC operating point: converter {cid} would need a negative current "
                f"({pt.id_ka[k]:.4g} kA); the current orders of its pole do not balance")
        if not -1.0 <= pt.cos_angle[k] <= 1.0:
            raise PowerFlowError(
                f"no DC operating point: converter {cid} needs cos({what}) = "
                f"{pt.cos_angle[k]:.4g} at tap {st.tap[k]:.4f} (Vd {pt.vd_kv[k]:.4g} kV, "
                f"Id {pt.id_ka[k]:.4g} kA, Eac {pt.eac_kv[k]:.4g} kV)")
        c_mu = np.cos(pt.angle_rad[k]) - np.sqrt(2.0) * data.xc[k] * pt.id_ka[k] / pt.eac_kv[k]
        if c_mu <= -1.0:
            raise PowerFlowError(f"no DC operating point: converter {cid} cannot commutate "
                                 f"{pt.id_ka[k]:.4g} kA (overlap beyond 180 deg)")
        if st.fixed[k] and data.mode[k] != MODE_VOLTAGE and pt.angle_rad[k] < data.amin[k] - 1e-9:
            raise PowerFlowError(f"no DC operating point: converter {cid} below minimum {what}")
        if data.mode[k] == MODE_VOLTAGE and data.v_min[k] > 0:
            v_comp = pt.vd_kv[k] + data.r_comp[k] * pt.id_ka[k]
            if v_comp < data.v_min[k]:
                raise PowerFlowError(
                    f"no DC operating point: compounded DC voltage {v_comp:.4g} kV of "
                    f"converter {cid} below its minimum v_min_kv {data.v_min[k]:g} (DCVMIN)")
        if pt.angle_rad[k] > data.amax[k] + ANGLE_TOL_RAD:
            notes.append(f"converter {cid}: {what} {np.degrees(pt.angle_rad[k]):.3f} deg above "
                         f"its nominal maximum {np.degrees(data.amax[k]):g} deg with the tap at "
                         f"{st.tap[k]:.4f}")
    return notes


def control_text(data: DcData, st: DcState) -> list[str]:
    out = []
    for k in range(len(data.on)):
        g = data.group[k]
        if not data.on[k]:
            out.append("out of service")
        elif data.mode[k] == MODE_VOLTAGE:
            if st.vst_current[g]:
                out.append("current (margin)")
            elif st.fixed[k]:
                out.append("voltage (constant gamma, tap)")
            else:
                out.append("voltage")
        elif st.fixed[k]:
            out.append("minimum alpha" if data.d[k] > 0 else "minimum gamma")
        elif data.mode[k] == MODE_POWER:
            out.append("current (VCMOD)" if st.cmode[k] else "power")
        else:
            out.append("current")
    return out


def make_result(data: DcData, st: DcState, pt: DcPoint, vac_pu, notes) -> DcResult:
    on = data.on
    ang = np.degrees(pt.angle_rad)
    rect = data.d > 0
    mu = np.degrees(pt.mu_rad)
    nan = np.full(len(on), np.nan)
    return DcResult(
        conv_ids=data.conv_ids, kind=np.where(rect, RECTIFIER, INVERTER), in_service=on,
        alpha_deg=np.where(on, np.where(rect, ang, 180.0 - ang - mu), 0.0),
        gamma_deg=np.where(on & ~rect, ang, nan), mu_deg=mu, tap_pu=st.tap.copy(),
        vd_kv=pt.vd_kv, id_ka=pt.id_ka, p_dc_mw=pt.vd_kv * pt.id_ka,
        p_ac_mw=data.d * pt.p_mw, q_ac_mvar=pt.q_mvar,
        vac_pu=np.where(on, vac_pu, 0.0), eac_kv=np.where(on, pt.eac_kv, 0.0),
        control=control_text(data, st), node_ids=data.node_ids, v_node_kv=pt.v_node_kv,
        branch_ids=data.br_ids, i_branch_ka=pt.i_branch_ka, notes=list(notes))
