"""Plain-text reports of a power-flow result: bus voltages, generator outputs, branch flows, losses.

Formatting only; the numbers come from ``casa_dyn.network.powerflow``.  Branch arrays of the
result follow ``casa_dyn.network.ybus.branches``: lines first, then transformers, in table order.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from casa_dyn.case.case import Case

_TYPE_NAME = {1: "PQ", 2: "PV", 3: "slack", 4: "isolated"}


def format_table(headers: Sequence[str], rows: Sequence[Sequence], formats: Sequence[str] | None = None,
                 title: str | None = None) -> str:
    """Render rows as an aligned text table.

    ``formats`` holds one format spec per column (``".4f"``, ``"d"``, ``""``); numbers are
    right-aligned, text left-aligned.
    """
    formats = list(formats) if formats is not None else [""] * len(headers)
    if len(formats) != len(headers):
        raise ValueError(f"{len(headers)} headers but {len(formats)} formats")
    cells = [[format(v, f) if not isinstance(v, str) else v for v, f in zip(r, formats)] for r in rows]
    numeric = [bool(rows) and all(not isinstance(r[j], str) for r in rows) for j in range(len(headers))]
    widths = [max([len(h)] + [len(c[j]) for c in cells]) for j, h in enumerate(headers)]

    def line(values):
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    out = [title] if title else []
    out += [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(c) for c in cells]
    return "\n".join(out)


def power_flow_report(case: Case, res) -> str:
    """Bus, generator and branch tables plus a status and loss summary for ``res`` (a
    ``PowerFlowResult`` of ``case``)."""
    parts = [_status(case, res), _buses(case, res), _generators(case, res), _branches(case, res),
             f"losses: {res.losses_mw:.3f} MW, {res.losses_mvar:.3f} Mvar"]
    if getattr(res, "dc", None) is not None:
        parts.append(_hvdc(res.dc))
    return "\n\n".join(parts)


def _hvdc(dc) -> str:
    """LCC converters (angles, DC quantities, AC powers drawn) and DC node voltages."""
    rows = [(int(dc.conv_ids[k]), "rect" if dc.kind[k] == 1 else "inv", str(dc.control[k]),
             float(dc.alpha_deg[k]), float(dc.gamma_deg[k]) if dc.kind[k] == 2 else float("nan"),
             float(dc.mu_deg[k]), float(dc.tap_pu[k]), float(dc.vd_kv[k]), float(dc.id_ka[k]),
             float(dc.p_ac_mw[k]), float(dc.q_ac_mvar[k]))
            for k in range(len(dc.conv_ids)) if dc.in_service[k]]
    conv = format_table(("conv", "kind", "control", "alpha_deg", "gamma_deg", "mu_deg", "tap_pu",
                         "vd_kv", "id_ka", "p_ac_mw", "q_ac_mvar"), rows,
                        ("d", "", "", ".3f", ".3f", ".3f", ".5f", ".3f", ".4f", ".3f", ".3f"),
                        title="HVDC converters (P, Q drawn from the AC bus)")
    nodes = format_table(("dc_node", "v_kv"), [(int(i), float(v)) for i, v in
                                               zip(dc.node_ids, dc.v_node_kv)], ("d", ".3f"),
                         title="DC node voltages")
    notes = "\n".join(f"note: {n}" for n in dc.notes)
    return "\n\n".join([conv, nodes] + ([notes] if notes else []))


def _status(case: Case, res) -> str:
    state = "converged" if res.converged else "NOT converged"
    return f"power flow of {case.name}: {state}\n{res.message}"


def _buses(case: Case, res) -> str:
    bus = case["bus"]
    rows = [(int(bus["id"][i]), str(bus["name"][i]), _TYPE_NAME.get(int(res.bus_type[i]), "?"),
             float(bus["base_kv"][i]), float(res.vm_pu[i]), float(res.va_deg[i]))
            for i in range(case.n("bus"))]
    return format_table(("bus", "name", "type", "base_kv", "vm_pu", "va_deg"), rows,
                        ("d", "", "", "g", ".4f", ".3f"), title="Bus voltages")


def _generators(case: Case, res) -> str:
    g = case["generator"]
    rows = [(int(g["id"][k]), str(g["name"][k]), int(g["bus"][k]), "on" if g["in_service"][k] else "off",
             float(res.gen_p_mw[k]), float(res.gen_q_mvar[k]), float(g["q_min_mvar"][k]),
             float(g["q_max_mvar"][k]))
            for k in range(case.n("generator"))]
    return format_table(("gen", "name", "bus", "status", "p_mw", "q_mvar", "q_min_mvar", "q_max_mvar"),
                        rows, ("d", "", "d", "", ".2f", ".2f", ".2f", ".2f"), title="Generators")


def _branches(case: Case, res) -> str:
    rows = []
    k = 0
    for tname in ("line", "transformer"):
        t = case[tname]
        for r in range(case.n(tname)):
            pf, qf = float(res.branch_p_from_mw[k]), float(res.branch_q_from_mvar[k])
            pt, qt = float(res.branch_p_to_mw[k]), float(res.branch_q_to_mvar[k])
            rows.append((tname, int(t["id"][r]), int(t["from_bus"][r]), int(t["to_bus"][r]),
                         "on" if t["in_service"][r] else "off", pf, qf, pt, qt, pf + pt, qf + qt))
            k += 1
    if k != len(np.atleast_1d(res.branch_p_from_mw)):
        raise ValueError(f"result has {len(res.branch_p_from_mw)} branch flows, case has {k} branches")
    return format_table(("type", "id", "from", "to", "status", "p_from_mw", "q_from_mvar", "p_to_mw",
                         "q_to_mvar", "loss_mw", "loss_mvar"), rows,
                        ("", "d", "d", "d", "", ".2f", ".2f", ".2f", ".2f", ".3f", ".3f"),
                        title="Branch flows (power leaving each end)")
