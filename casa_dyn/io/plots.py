"""Figures written to files (matplotlib's Agg canvas directly: headless, no pyplot state).

``plot_eigenvalues``: the eigenvalues of a modal analysis in the complex plane, real part
(1/s) against frequency (Hz), with lines of constant damping ratio; left the whole spectrum,
right the frequency band with the least-damped modes labelled.
"""
from __future__ import annotations

import os

import numpy as np

#: damping ratios drawn as lines through the origin
ZETA_LINES = (0.0, 0.03, 0.05, 0.10, 0.20)


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
    re_band = v.real[inb]
    left = 1.15 * min(re_band.min() if re_band.size else -1.0, -0.5)
    right = max(0.2 * abs(left), 1.15 * (re_band.max() if re_band.size else 0.0))
    ax_band.scatter(v.real[inb], f[inb], s=18, marker="x", color="tab:blue", linewidths=1.0)
    for r in table or []:
        ax_band.annotate(f"{r['freq_hz']:.3f} Hz\n{100 * r['zeta']:.1f} %", (r["real"], r["freq_hz"]),
                         textcoords="offset points", xytext=(4, 2), fontsize=7)
    ax_band.set_xlim(left, right)
    ax_band.set_ylim(lo, hi)
    ax_band.axvline(0.0, color="0.3", linewidth=0.8)
    ax_band.set_title(f"{lo:g}-{hi:g} Hz")
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
