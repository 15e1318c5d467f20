"""Stability metrics computed from one run's channels (``Results``); no file access.

Definitions (docs/studies.md lists them with units):

- Rotor angles are referred to the centre of inertia (COI):
  ``delta_coi = sum(w_i delta_i) / sum(w_i)`` with ``w_i = H_i * S_base,i`` (Kundur 1994,
  sec. 13.2 / Anderson & Fouad ch. 2, the inertia-weighted mean angle).  A unit tripped by an
  event (``GenTrip``) leaves the COI, the COI frequency and every angle metric from its trip
  on (the t+ sample of the trip instant): its states freeze, so its angle drifts away from
  the system's and its speed stays put; kept in, they would pull the COI (a false loss of
  synchronism; a nadir too shallow by the unit's share of the inertia).
  Each AC island has its own COI (the results' ``sync_islands`` metadata, written by the
  engine, ``casa_dyn.solver.sync``): machines joined only through DC links, or split apart by
  a branch trip, do not stay in step and are not compared.
  ``angle_coi_max_deg`` = max over time and units of ``|delta_i - delta_coi|``.
- ``angle_sep_max_deg`` = max over time of ``max_i delta_i - min_i delta_i`` (the largest
  separation of any two machines of one island), and the transient stability index
  ``tsi_pct = 100 (360 - angle_sep_max) / (360 + angle_sep_max)``: positive = stable, negative =
  a separation beyond 360 deg (the index as used by DSATools TSAT and much of the TSA
  literature; the definition was not checked against the TSAT manual itself).
- Loss of synchronism: the solver's own verdict (status ``unstable``) or the first recorded
  time any ``|delta_i - delta_coi|`` exceeds ``loss_of_sync_deg``.
- Frequency: the COI frequency of each AC island, from the ``gen/<id>/speed_pu`` channels of
  its units in service, ``f_coi = f_0 sum(w_i omega_i) / sum(w_i)`` with ``f_0`` = the
  ``system/coi_freq_hz`` channel at t = 0 over the weighted mean speed there; a tripped unit
  leaves its island's COI, and a unit separated by an event (alone in an island, running
  away) is left out.  Islands joined only by DC links have their own frequencies (after a
  CASA-1000 bipole block one side rises while the other falls): the nadir is the lowest of
  any island, the zenith the highest, RoCoF the largest in magnitude.  Without speed channels
  the ``system/coi_freq_hz`` channel itself is used.  Minimum (nadir) and maximum
  (zenith) and their times; RoCoF is the largest-magnitude change over a sliding window of
  ``rocof_window_s`` (``(f(t + W) - f(t)) / W``, the averaging-window definition of ENTSO-E's
  RoCoF withstand capability documents), signed, Hz/s.
- Voltage: the lowest bus voltage over the run (value, bus, time), the lowest after clearing,
  and the time after clearing at which every bus is back to >= 0.8 / 0.9 pu for good (linear
  interpolation between samples; 0 if never below; ``inf`` if not back by the end).
  "Clearing" is the last fault removal; without faults, the last event.
- HVDC, over converter channels ``conv/<id>/p_ac_mw`` (AC active power of converter id, MW)
  and ``conv/<id>/cf`` (1 during a commutation failure, else 0): the slowest converter's
  time after clearing to get |P| back to >= ``hvdc_recovery_fraction`` of its initial value
  for good, and the number of commutation failures (0 -> 1 transitions, all converters).
  ``None`` when the run has no such channels.

Metrics that do not apply (no frequency channel, no HVDC) are ``None``.
"""
from __future__ import annotations

import math
from fnmatch import fnmatch

import numpy as np

from casa_dyn.study.spec import MetricOptions

#: (name, unit, meaning), in summary-table order
METRICS = (
    ("angle_coi_max_deg", "deg", "largest rotor angle from the centre of inertia"),
    ("angle_sep_max_deg", "deg", "largest angle separation of any two machines"),
    ("tsi_pct", "%", "transient stability index 100 (360 - sep) / (360 + sep)"),
    ("loss_of_sync", "", "1 if synchronism was lost"),
    ("t_loss_of_sync_s", "s", "time synchronism was lost"),
    ("freq_nadir_hz", "Hz", "minimum COI frequency"),
    ("t_freq_nadir_s", "s", "time of the nadir"),
    ("freq_zenith_hz", "Hz", "maximum COI frequency"),
    ("t_freq_zenith_s", "s", "time of the zenith"),
    ("rocof_max_hz_s", "Hz/s", "largest windowed rate of change of the COI frequency"),
    ("vmin_pu", "pu", "lowest bus voltage over the run"),
    ("vmin_bus", "", "bus of the lowest voltage"),
    ("t_vmin_s", "s", "time of the lowest voltage"),
    ("vmin_post_pu", "pu", "lowest bus voltage after clearing"),
    ("v_recovery_0p8_s", "s", "time after clearing until every bus stays >= 0.8 pu"),
    ("v_recovery_0p9_s", "s", "time after clearing until every bus stays >= 0.9 pu"),
    ("hvdc_recovery_s", "s", "time after clearing until every converter's |P| stays >= 90 %"),
    ("cf_count", "", "number of commutation failures"),
)
METRIC_NAMES = tuple(m[0] for m in METRICS)
INT_METRICS = ("loss_of_sync", "vmin_bus", "cf_count")

HVDC_POWER_PATTERN = "conv/*/p_ac_mw"
HVDC_CF_PATTERN = "conv/*/cf"
COI_FREQ = "system/coi_freq_hz"


def compute_metrics(res, opts: MetricOptions = MetricOptions(), coi_weights: dict | None = None,
                    events: list | None = None) -> dict:
    """Every metric of ``METRICS`` for one run.  ``coi_weights``: {generator id: H * S_base};
    None = equal weights.  ``events``: dicts with a ``type`` key as in the results file's
    metadata (default: ``res.meta["events"]``)."""
    events = res.meta.get("events", []) if events is None else events
    t = np.asarray(res.t_s, dtype=float)
    out = dict.fromkeys(METRIC_NAMES)
    if t.size == 0:
        return out
    t_clear = clearing_time(events)
    trips = _trip_times(events)
    out.update(_angles(res, t, opts, coi_weights or {}, trips, res.meta.get("sync_islands")))
    separated = {int(x["gen"]): float(x["t_s"]) for x in res.meta.get("separated_generators", [])}
    out.update(_frequency(res, t, opts, coi_weights or {}, trips, res.meta.get("sync_islands"),
                          separated.items()))
    out.update(_voltage(res, t, t_clear))
    out.update(_hvdc(res, t, t_clear, opts))
    return {k: _plain(v) for k, v in out.items()}


def clearing_time(events: list) -> float:
    """The last fault removal; without faults the last event instant; 0 without events."""
    offs = [e["t_off_s"] for e in events if e.get("type") == "BusFault" and e.get("t_off_s") is not None]
    if offs:
        return float(max(offs))
    times = [e[k] for e in events for k in ("t_s", "t_on_s") if e.get(k) is not None]
    return float(max(times)) if times else 0.0


def _trip_times(events) -> dict:
    return {int(e["gen"]): float(e["t_s"]) for e in events if e.get("type") == "GenTrip"}


def _channels(res, pattern):
    idx = [k for k, n in enumerate(res.names) if fnmatch(n, pattern)]
    return idx, [res.names[k] for k in idx]


def after_event(t, t_event: float) -> np.ndarray:
    """Samples from an event on: ``t >= t_event`` except the t- sample of the instant (the
    first of the two samples the engine records there)."""
    t = np.asarray(t)
    after = t >= t_event
    same = np.flatnonzero(t == t_event)
    if same.size >= 2:
        after[same[0]] = False
    return after


def _units(res, t, quantity, weights, trips):
    """(values, in-service mask, weights) of the ``gen/*/<quantity>`` channels, one column
    per unit; None without such channels."""
    idx, names = _channels(res, f"gen/*/{quantity}")
    if not idx:
        return None
    gens = [int(n.split("/")[1]) for n in names]
    x = res.data[:, idx].astype(float)
    alive = np.ones_like(x, dtype=bool)
    for j, g in enumerate(gens):
        if g in trips:
            alive[after_event(t, trips[g]), j] = False
    return x, alive, np.array([float(weights.get(g, 1.0)) for g in gens])


def _coi(x, alive, w):
    """Weighted mean over the units in service at each sample (NaN where none is)."""
    wa = np.where(alive, w, 0.0)
    wsum = wa.sum(axis=1)
    ok = wsum > 0
    out = np.full(x.shape[0], np.nan)
    out[ok] = (np.where(alive, x, 0.0) * wa).sum(axis=1)[ok] / wsum[ok]
    return out


def _island_of(t, names, records) -> np.ndarray:
    """Island number of every unit column at every sample (all 0 without the metadata)."""
    gens = [int(n.split("/")[1]) for n in names]
    out = np.zeros((len(t), len(gens)), dtype=np.int64)
    for rec in records or []:
        where = dict(zip(rec["gen"], rec["island"]))
        rows = after_event(t, rec["t_s"]) if rec["t_s"] > 0 else np.ones(len(t), dtype=bool)
        out[rows] = [where.get(g, -1) for g in gens]
    return out


def _angles(res, t, opts, weights, trips, islands=None) -> dict:
    units = _units(res, t, "delta_deg", weights, trips)
    if units is None:
        return {}
    d, alive, w = units
    isl = _island_of(t, _channels(res, "gen/*/delta_deg")[1], islands)
    dev = np.full(d.shape, np.nan)
    sep = np.full(len(t), np.nan)
    for g in np.unique(isl):
        member = alive & (isl == g)
        coi = _coi(d, member, w)
        dev = np.where(member, np.abs(d - coi[:, None]), dev)
        hi = np.where(member, d, -np.inf).max(axis=1)
        lo = np.where(member, d, np.inf).min(axis=1)
        sep = np.fmax(sep, np.where(np.isfinite(coi), hi - lo, np.nan))
    dmax = np.nanmax(np.where(np.isnan(dev), -np.inf, dev), axis=1) if dev.size else np.array([])
    out = {"angle_coi_max_deg": _nanmax(dmax), "angle_sep_max_deg": _nanmax(sep)}
    if out["angle_sep_max_deg"] is not None:
        s = out["angle_sep_max_deg"]
        out["tsi_pct"] = 100.0 * (360.0 - s) / (360.0 + s)
    t_loss = None
    if opts.loss_of_sync_deg > 0:
        over = np.flatnonzero(dmax > opts.loss_of_sync_deg)
        t_loss = float(t[over[0]]) if over.size else None
    if res.status == "unstable":
        t_loss = float(res.t_stop_s) if t_loss is None else min(t_loss, float(res.t_stop_s))
    out["loss_of_sync"] = int(t_loss is not None)
    out["t_loss_of_sync_s"] = t_loss
    return out


def _frequency(res, t, opts, weights, trips, islands=None, separated=()) -> dict:
    if COI_FREQ not in res.names:
        return {}
    f_sys = res.data[:, res.names.index(COI_FREQ)].astype(float)
    series = [(t, f_sys)]
    units = _units(res, t, "speed_pu", weights, {**trips, **dict(separated)})
    if units is not None:
        speed, alive, w = units
        isl = _island_of(t, _channels(res, "gen/*/speed_pu")[1], islands)
        f0 = f_sys[0] / _coi(speed[:1], alive[:1], w)[0]
        series = []
        for g in np.unique(isl):
            coi = _coi(speed, alive & (isl == g), w)
            keep = np.isfinite(coi)   # (samples with no unit in service have no frequency)
            if keep.any():
                series.append((t[keep], f0 * coi[keep]))
        if not series:
            return {}
    out = {}
    for ti, fi in series:
        kn, kx = int(np.argmin(fi)), int(np.argmax(fi))
        if not out or fi[kn] < out["freq_nadir_hz"]:
            out["freq_nadir_hz"], out["t_freq_nadir_s"] = fi[kn], ti[kn]
        if "freq_zenith_hz" not in out or fi[kx] > out["freq_zenith_hz"]:
            out["freq_zenith_hz"], out["t_freq_zenith_s"] = fi[kx], ti[kx]
        r = rocof(ti, fi, opts.rocof_window_s)
        if r is not None and (out.get("rocof_max_hz_s") is None or abs(r) > abs(out["rocof_max_hz_s"])):
            out["rocof_max_hz_s"] = r
    out.setdefault("rocof_max_hz_s", None)
    return out


def rocof(t, f, window_s: float):
    """Largest-magnitude (signed) ``(f(t + W) - f(t)) / W`` over the recorded times."""
    tu, fu = unique_last(t, f)
    if tu.size < 2 or window_s <= 0 or tu[-1] - tu[0] < window_s:
        return None
    start = tu[tu + window_s <= tu[-1] + 1e-12]
    r = (np.interp(start + window_s, tu, fu) - np.interp(start, tu, fu)) / window_s
    return float(r[np.argmax(np.abs(r))])


def unique_last(t, y):
    """Drop the t- sample of every event instant (recorded twice): keep the last of equal times."""
    t = np.asarray(t, dtype=float)
    keep = np.ones(t.size, dtype=bool)
    keep[:-1] = t[1:] != t[:-1]
    return t[keep], np.asarray(y, dtype=float)[keep]


def _voltage(res, t, t_clear) -> dict:
    idx, names = _channels(res, "bus/*/vm_pu")
    if not idx:
        return {}
    v = res.data[:, idx].astype(float)
    k, j = np.unravel_index(int(np.argmin(v)), v.shape)
    vmin_t = v.min(axis=1)
    start = _post_index(t, t_clear)
    out = {"vmin_pu": v[k, j], "vmin_bus": int(names[j].split("/")[1]), "t_vmin_s": t[k]}
    out["vmin_post_pu"] = float(vmin_t[start:].min()) if start < t.size else None
    for level, key in ((0.8, "v_recovery_0p8_s"), (0.9, "v_recovery_0p9_s")):
        out[key] = recovery_time(t, vmin_t, level, t_clear, start)
    return out


def _post_index(t, t_clear) -> int:
    """First sample after clearing: the t+ sample of the clearing instant if it was recorded."""
    return max(int(np.searchsorted(t, t_clear, side="right")) - 1, 0)


def recovery_time(t, y, level, t_clear, start=None):
    """Time after ``t_clear`` from which ``y`` stays >= ``level`` to the end of the run:
    0 if never below, ``inf`` if still below at the last sample."""
    start = _post_index(t, t_clear) if start is None else start
    ys, ts = y[start:], t[start:]
    if ys.size == 0:
        return None
    below = np.flatnonzero(~(ys >= level))
    if below.size == 0:
        return 0.0
    k = int(below[-1])
    if k == ys.size - 1:
        return math.inf
    y0, y1, t0, t1 = ys[k], ys[k + 1], ts[k], ts[k + 1]
    tc = t0 + (level - y0) / (y1 - y0) * (t1 - t0) if y1 != y0 else t1
    return float(max(tc - t_clear, 0.0))


def _hvdc(res, t, t_clear, opts) -> dict:
    out = {}
    idx, _ = _channels(res, HVDC_POWER_PATTERN)
    if idx:
        start = _post_index(t, t_clear)
        rec = []
        for k in idx:
            p = np.abs(res.data[:, k].astype(float))
            if p[0] > 1e-6:
                rec.append(recovery_time(t, p, opts.hvdc_recovery_fraction * p[0], t_clear, start))
        out["hvdc_recovery_s"] = max(rec) if rec else None
    idx, _ = _channels(res, HVDC_CF_PATTERN)
    if idx:
        flags = res.data[:, idx] > 0.5
        out["cf_count"] = int((flags[1:] & ~flags[:-1]).sum())
    return out


def _nanmax(a):
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else None


def _plain(v):
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    return float(v)


def coi_weights_from_case(case) -> dict:
    """{generator id: H * S_base} from every generator-family model table of the case."""
    from casa_dyn.case import schema

    mbase = dict(zip(case["generator"]["id"].tolist(), case["generator"]["mbase_mva"].tolist()))
    out = {}
    for name, tab in case.tables.items():
        try:
            fam = schema.get(name).family
        except KeyError:
            continue
        if fam == "generator" and "h_s" in tab and "gen" in tab:
            for g, h in zip(tab["gen"].tolist(), tab["h_s"].tolist()):
                out[int(g)] = float(h) * float(mbase.get(int(g), 1.0))
    return out


def evaluate(status: str, metrics: dict, criteria) -> tuple[bool, str]:
    """Pass/fail: the run completed and every criterion on an available metric holds."""
    bad = [] if status == "completed" else [f"status={status}"]
    for c in criteria:
        v = metrics.get(c.metric)
        if v is None:
            continue
        if c.min is not None and not (v >= c.min):
            bad.append(f"{c.metric}={v:.6g}<{c.min:g}")
        if c.max is not None and not (v <= c.max):
            bad.append(f"{c.metric}={v:.6g}>{c.max:g}")
    return not bad, "; ".join(bad)
