"""Library functions behind ``casa-dyn metrics`` and ``casa-dyn cct`` (the CLI only parses
and prints)."""
from __future__ import annotations

from casa_dyn.errors import ScenarioError
from casa_dyn.solver.options import SimOptions
from casa_dyn.study.spec import MetricOptions


def metrics_of_file(path: str, case_path: str | None = None, rocof_window_s: float = 0.5) -> tuple[dict, str]:
    """(metrics, how the COI was weighted) for a results file.  Weights: the ones a batch
    stored in the file, else H * S_base from ``case_path``, else equal weights."""
    from casa_dyn.io.h5results import read_results
    from casa_dyn.study.metrics import coi_weights_from_case, compute_metrics

    res = read_results(path)
    stored = (res.meta.get("study") or {}).get("coi_weights")
    if stored:
        weights, how = {int(k): float(v) for k, v in stored.items()}, "H * S_base (stored by the batch)"
    elif case_path:
        from casa_dyn.io import read_case

        weights, how = coi_weights_from_case(read_case(case_path)), f"H * S_base from {case_path}"
    else:
        weights, how = {}, "equal (give --case for H * S_base)"
    m = compute_metrics(res, MetricOptions(rocof_window_s=rocof_window_s,
                                           loss_of_sync_deg=res.meta.get("options", {}).get("loss_of_sync_deg", 180.0)),
                        weights)
    return m, how


def parse_trip(text: str | None):
    """``ID`` (a line) or ``transformer:ID`` / ``line:ID`` -> (table, id); None -> None."""
    if not text:
        return None
    parts = text.split(":")
    table = parts[0] if len(parts) == 2 else "line"
    if len(parts) > 2 or table not in ("line", "transformer"):
        raise ScenarioError(f"--trip-branch {text!r}: expected ID or transformer:ID")
    try:
        return table, int(parts[-1])
    except ValueError:
        raise ScenarioError(f"--trip-branch {text!r}: {parts[-1]!r} is not an integer id") from None


def cct_for_case(case, fault_bus: int, trip_text: str | None = None, *, tol_s: float = 1e-3, t_on_s: float = 1.0,
                 max_clearing_s: float = 1.0, t_end_s: float | None = None, dt_s: float | None = None,
                 dynamics: str | None = None):
    from casa_dyn.solver.events import check_events
    from casa_dyn.study.cct import fault_events, find_cct
    from casa_dyn.study.modify import prepare_case

    case = prepare_case(case, dynamics)
    trip = parse_trip(trip_text)
    opts = SimOptions(t_end_s=t_end_s or (t_on_s + max_clearing_s + 3.0), dt_s=dt_s)
    check_events(case, fault_events(fault_bus, max_clearing_s, t_on_s, trip), opts.t_end_s)
    return find_cct(case, fault_bus, trip, t_on_s=t_on_s, tol_s=tol_s, max_clearing_s=max_clearing_s, options=opts)
