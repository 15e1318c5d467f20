"""PSS/E machine saturation: the quadratic curve through S(1.0) and S(1.2).

PSS/E describes the open-circuit saturation of a machine by two numbers: S(1.0) and S(1.2),
the extra field current needed at 1.0 and 1.2 pu air-gap flux, relative to the field current
on the air-gap line.  GENROU and GENSAL turn them into the scaled quadratic

    Se(x) = B (x - A)^2 / x   for x > A,     Se(x) = 0 otherwise,

chosen so that x Se(x) equals 1.0 S(1.0) at x = 1.0 and 1.2 S(1.2) at x = 1.2; the machine
adds x Se(x) (projected on the axis concerned) to its field current XadIfd.  With
a = sqrt(1.0 S(1.0) / (1.2 S(1.2))):  A = (1.2 a - 1) / (a - 1),  B = 1.2 S(1.2) / (1.2 - A)^2.
Sources: PSS/E Model Library, GENROU/GENSAL ("quadratic saturation"); the same fit is written
out in OpenIPSL's PSS/E-verified ``NonElectrical.Functions.SE`` and in PowerSystems.jl's
``calculate_saturation_coefficients`` (facts only).  As in both, S(1.0) = 0 or S(1.2) = 0 means
no saturation; otherwise S(1.2) must exceed S(1.0) (a rising curve), which ``check_pair``
reports.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit

E1_PU, E2_PU = 1.0, 1.2


def quadratic_coeffs(s10, s12) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) of Se(x) = B (x - A)^2 / x for arrays of S(1.0), S(1.2); B = 0 means none."""
    s10 = np.atleast_1d(np.asarray(s10, dtype=float))
    s12 = np.atleast_1d(np.asarray(s12, dtype=float))
    a_sat = np.zeros_like(s10)
    b_sat = np.zeros_like(s10)
    on = (s10 > 0.0) & (s12 > s10)
    a = np.sqrt(E1_PU * s10[on] / (E2_PU * s12[on]))
    a_sat[on] = (E2_PU * a - E1_PU) / (a - 1.0)
    b_sat[on] = E2_PU * s12[on] / (E2_PU - a_sat[on]) ** 2
    return a_sat, b_sat


def check_pair(cols) -> list:
    """Row checks for a table with ``s10``/``s12``: the curve must rise (S(1.2) > S(1.0))."""
    out = []
    s10, s12 = cols["s10"], cols["s12"]
    for r in np.flatnonzero((s10 > 0.0) & (s12 > 0.0) & (s12 <= s10)):
        out.append((int(r), "s12", f"S(1.2) = {s12[r]:g} must exceed S(1.0) = {s10[r]:g} "
                                   "(or set both to 0 for no saturation)"))
    for r in np.flatnonzero((s10 > 0.0) & (s12 == 0.0)):
        out.append((int(r), "s12", f"S(1.0) = {s10[r]:g} > 0 needs S(1.2) > S(1.0)"))
    return out


@njit
def se_quadratic(x, a_sat, b_sat):
    """Se(x) and dSe/dx for the curve above (x is a flux magnitude, pu)."""
    if b_sat == 0.0 or x <= a_sat or x <= 0.0:
        return 0.0, 0.0
    d = x - a_sat
    se = b_sat * d * d / x
    return se, b_sat * (2.0 * d / x - d * d / (x * x))


def se_numpy(x, a_sat, b_sat) -> np.ndarray:
    """NumPy form of ``se_quadratic`` (initialization)."""
    x = np.asarray(x, dtype=float)
    d = np.maximum(x - a_sat, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where((b_sat > 0.0) & (x > 0.0), b_sat * d * d / np.where(x > 0.0, x, 1.0), 0.0)
    return se
