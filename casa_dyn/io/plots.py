"""Figures written to files (matplotlib's Agg canvas directly: headless, no pyplot state).

``plot_eigenvalues``: the eigenvalues of a modal analysis in the complex plane, real part
(1/s) against frequency (Hz), with lines of constant damping ratio; left the whole spectrum,
right the frequency band with the least-damped modes labelled.

``plot_channels``: time series of a results file, one panel per group of channel patterns,
each panel's y axis labelled with its quantity and unit, the event instants marked as
vertical lines (``casa-dyn plot``).  The format follows the file name (.png, .svg, .pdf).
"""
from __future__ import annotations

import os
from fnmatch import fnmatch

import numpy as np

from casa_dyn.errors import CasaDynError

#: file formats ``plot_channels`` writes (by extension)
FORMATS = (".png", ".svg", ".pdf")
#: keys of an event record that are instants (``casa_dyn.solver.events``)
EVENT_TIME_KEYS = ("t_s", "t_on_s", "t_off_s", "t_reclose_s", "t_deblock_s")
#: a panel with more curves than this gets no legend (it would hide the curves)
MAX_LEGEND = 12

#: damping ratios drawn as lines through the origin
ZETA_LINES = (0.0, 0.03, 0.05, 0.10, 0.20)
#: the band panel's real axis spans the modes damped less than this
BAND_ZETA = 0.3


def plot_eigenvalues(res, path: str, table: list | None = None, dpi: int = 120) -> None:
    """Write the eigenvalue plot of a ``study.modes.ModalResult`` to ``path`` (PNG, PDF, SVG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.8))
    FigureCanvasAgg(fig)
    ax_all, ax_band = fig.subplots(1, 2)
    v = np.asarray(res.values)
    f = v.imag / (2 * np.pi)
    lo, hi = res.band_hz
    ax_all.scatter(v.real, f, s=10, marker="x", color="tab:blue", linewidths=0.8)
    ax_all.axvline(0.0, color="0.3", linewidth=0.8)
    ax_all.set_xlim(_limits(v.real, pad=0.05))
    ax_all.set_title(f"{res.case_name}: {v.size} eigenvalues ({'all' if res.complete else 'band search'})")

    inb = (f >= lo) & (f <= hi)
    light = inb & (-v.real <= BAND_ZETA * np.abs(v))  # zoom on the lightly damped modes
    re_band = v.real[light] if light.any() else v.real[inb]
    left = 1.15 * min(re_band.min() if re_band.size else -1.0, -0.5)
    right = max(0.2 * abs(left), 1.15 * (re_band.max() if re_band.size else 0.0))
    ax_band.scatter(v.real[inb], f[inb], s=18, marker="x", color="tab:blue", linewidths=1.0)
    for r in table or []:
        ax_band.annotate(f"{r['freq_hz']:.3f} Hz\n{100 * r['zeta']:.1f} %", (r["real"], r["freq_hz"]),
                         textcoords="offset points", xytext=(4, 2), fontsize=7)
    ax_band.set_xlim(left, right)
    ax_band.set_ylim(lo, hi)
    ax_band.axvline(0.0, color="0.3", linewidth=0.8)
    hidden = int(np.sum(inb & (v.real < left)))
    ax_band.set_title(f"{lo:g}-{hi:g} Hz" + (f" ({hidden} better-damped modes off the left edge)" if hidden else ""))
    for ax in (ax_all, ax_band):
        _zeta_lines(ax)
        ax.set_xlabel("real part, 1/s")
        ax.set_ylabel("frequency, Hz")
        ax.grid(True, linewidth=0.3)
    ax_band.legend(loc="lower left", fontsize=7, title="damping ratio", title_fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi)


def _limits(x, pad):
    if x.size == 0:
        return -1.0, 1.0
    a, b = float(x.min()), float(max(x.max(), 0.0))
    w = max(b - a, 1e-3)
    return a - pad * w, b + pad * w


def _zeta_lines(ax):
    """Rays f = |sigma| sqrt(1 - zeta^2) / (2 pi zeta) of constant damping ratio."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for k, z in enumerate(ZETA_LINES):
        if z == 0.0:
            continue
        sig = np.linspace(min(x0, 0.0), 0.0, 50)
        fr = -sig * np.sqrt(1 - z * z) / (2 * np.pi * z)
        ax.plot(sig, fr, linestyle="--", linewidth=0.7, color=f"C{k + 1}", label=f"{100 * z:g} %")
        ax.plot(sig, -fr, linestyle="--", linewidth=0.7, color=f"C{k + 1}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


# ------------------------------------------------------------------ time series
def select_panels(names: list, panels: list) -> list:
    """Channel indices of each panel: ``panels`` is a list of lists of fnmatch patterns.
    Raises ``CasaDynError`` naming every pattern that matches nothing."""
    out, missing = [], []
    for pats in panels:
        idx = [k for k, n in enumerate(names) if any(fnmatch(n, p) for p in pats)]
        missing += [p for p in pats if not any(fnmatch(n, p) for n in names)]
        out.append(idx)
    if missing:
        kinds = sorted({n.rsplit("/", 1)[-1] for n in names})
        raise CasaDynError(f"no channel matches {', '.join(repr(p) for p in missing)}; the file has "
                           f"{len(names)} channels, quantities: {', '.join(kinds)}")
    return out


def event_marks(events: list) -> list:
    """``(time, label)`` of every instant in a results file's event list, in time order."""
    marks = []
    for e in events:
        kind = e.get("type", "event")
        what = next((f"{k} {e[k]}" for k in ("bus", "branch", "gen", "conv", "node", "load")
                     if k in e), "")
        for key in EVENT_TIME_KEYS:
            t = e.get(key)
            if t is not None:
                suffix = {"t_off_s": " cleared", "t_reclose_s": " reclosed",
                          "t_deblock_s": " deblocked"}.get(key, "")
                marks.append((float(t), f"{kind} {what}{suffix}".replace("  ", " ").strip()))
    return sorted(marks)


def quantity_label(names: list, units: list) -> str:
    """Y-axis label of a panel: the quantities without their unit suffix, then the unit(s)."""
    qty = []
    for n, u in zip(names, units):
        q = n.rsplit("/", 1)[-1]
        if u and q.endswith("_" + u.lower()):
            q = q[: -len(u) - 1]
        if q not in qty:
            qty.append(q)
    uu = [u or "-" for u in dict.fromkeys(units)]
    return f"{', '.join(qty)} ({', '.join(uu)})"


def plot_channels(res, panels: list, path: str, title: str | None = None,
                  t_range: tuple | None = None, dpi: int = 120) -> list:
    """Write the channels of ``res`` (a ``Results``) selected by ``panels`` (one list of
    fnmatch patterns per panel) against time to ``path``; returns the plotted names per panel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise CasaDynError(f"{path}: unknown figure format {ext or '(none)'!r}; use one of "
                           f"{', '.join(FORMATS)}")
    idx = select_panels(res.names, panels)
    t = np.asarray(res.t_s)
    keep = np.ones(t.size, dtype=bool) if t_range is None else (t >= t_range[0]) & (t <= t_range[1])
    marks = [m for m in event_marks(res.meta.get("events", []))
             if t_range is None or t_range[0] <= m[0] <= t_range[1]]
    fig = Figure(figsize=(9.0, 1.2 + 2.1 * len(panels)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    plotted = []
    for ax, cols in zip(axes, idx):
        names = [res.names[k] for k in cols]
        for k, n in zip(cols, names):
            ax.plot(t[keep], res.data[keep, k], linewidth=1.0, label=n)
        ax.set_ylabel(quantity_label(names, [res.units[k] for k in cols]))
        ax.grid(True, linewidth=0.3)
        if len(cols) <= MAX_LEGEND:
            ax.legend(loc="best", fontsize=7, ncol=1 + len(cols) // 6)
        for tm, _ in marks:
            ax.axvline(tm, color="0.35", linestyle="--", linewidth=0.8)
        plotted.append(names)
    for k, (tm, label) in enumerate(marks):  # labels once, along the top of the first panel
        axes[0].annotate(label, (tm, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2 - 9 * (k % 3)),
                         textcoords="offset points", fontsize=7, color="0.25", va="top")
    axes[-1].set_xlabel("time (s)")
    if t_range is not None:
        axes[-1].set_xlim(*t_range)
    head = title or f"{res.meta.get('case_name', '')}: {res.status}"
    fig.suptitle(head, fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text (searchable)
        fig.savefig(path, dpi=dpi)
    return plotted


def parse_t_range(text: str) -> tuple:
    """``"START:END"`` (s) -> (start, end)."""
    try:
        a, b = (float(x) for x in text.split(":"))
    except ValueError:
        raise CasaDynError(f"--t-range {text!r}: expected START:END in seconds, e.g. 0.9:3") from None
    if not b > a:
        raise CasaDynError(f"--t-range {text!r}: END must be after START")
    return a, b
