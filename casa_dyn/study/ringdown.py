"""Modes of a ringdown: fit damped sinusoids to uniformly sampled signals (matrix pencil).

Method: the matrix pencil method of Y. Hua and T. K. Sarkar, "Matrix pencil method for
estimating parameters of exponentially damped/undamped sinusoids in noise", IEEE Trans.
Acoust., Speech, Signal Process. 38(5), 1990 (SVD-truncated form, sec. IV), applied to several
channels at once by stacking their Hankel matrices (the channels share their poles, as the
rotor speeds of one system do).  Each signal is modelled as ``y_c(t_k) = sum_i R_ci z_i^k``,
``z_i = exp(lambda_i dt)``; the poles are the eigenvalues of ``V1^+ V2`` where ``V1``/``V2`` are
the right singular vectors of the stacked Hankel matrix without their last / first row; the
residues follow by least squares.  Used to check eigenvalues against time-domain runs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Ringdown:
    values: np.ndarray      # (m,) continuous-time poles lambda, 1/s
    residues: np.ndarray    # (n_channels, m) complex amplitudes at the first sample
    rms_error: float        # rms of the fit residual over all channels

    @property
    def freq_hz(self) -> np.ndarray:
        return np.abs(self.values.imag) / (2 * np.pi)

    @property
    def zeta(self) -> np.ndarray:
        return -self.values.real / np.maximum(np.abs(self.values), 1e-300)

    def energy(self) -> np.ndarray:
        """Size of each pole's contribution: summed |residue| over channels (conjugates kept)."""
        return np.abs(self.residues).sum(axis=0)

    def dominant(self) -> int:
        """Index of the oscillatory pole (Im > 0) with the largest contribution."""
        osc = np.flatnonzero(self.values.imag > 0)
        if not len(osc):
            raise ValueError("no oscillatory pole in the fit")
        return int(osc[np.argmax(self.energy()[osc])])


def fit_modes(t_s: np.ndarray, y: np.ndarray, order: int | None = None, rel_sv: float = 1e-7,
              pencil_frac: float = 1 / 3) -> Ringdown:
    """Fit ``y`` (n_t,) or (n_t, n_channels), sampled at uniform times ``t_s``, with ``order``
    damped exponentials (default: the singular values above ``rel_sv`` times the largest)."""
    t_s = np.asarray(t_s, dtype=float)
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    n = len(t_s)
    if n < 8 or y.shape[0] != n:
        raise ValueError("fit_modes: need at least 8 samples and one value per time")
    dt = np.diff(t_s)
    if np.ptp(dt) > 1e-6 * dt.mean():
        raise ValueError("fit_modes: samples must be uniformly spaced")
    dt = float(dt.mean())
    el = max(2, int(pencil_frac * n))  # pencil parameter L (Hua & Sarkar: N/3 to N/2)
    rows = n - el
    hank = np.vstack([np.lib.stride_tricks.sliding_window_view(y[:, c], el + 1)[:rows]
                      for c in range(y.shape[1])])
    _, sv, vh = np.linalg.svd(hank, full_matrices=False)
    m = int(order) if order else int(np.sum(sv > rel_sv * sv[0]))
    m = max(1, min(m, el))
    v = vh[:m].conj().T           # (L+1, m) right singular vectors
    z = np.linalg.eigvals(np.linalg.pinv(v[:-1]) @ v[1:])
    lam = np.log(z.astype(complex)) / dt
    k = np.arange(n)[:, None]
    basis = z[None, :] ** k       # (n, m) Vandermonde
    res, *_ = np.linalg.lstsq(basis, y.astype(complex), rcond=None)
    err = float(np.sqrt(np.mean(np.abs(basis @ res - y) ** 2)))
    return Ringdown(values=lam, residues=res.T, rms_error=err)
