"""Stabilizer input signals by PSS/E input code (the ICON codes of IEEEST, ST2CUT, PSS2A, ...).

PSS/E codes: 1 rotor speed deviation (pu), 2 bus frequency deviation (pu), 3 generator
electrical power on the machine base, 4 generator accelerating power (Pmech - Pelec, machine
base), 5 bus voltage (pu), 6 derivative of the bus voltage; ST2CUT also takes 0 (no signal).
What casa_dyn can measure at a unit: ``omega``, ``pe`` (air-gap power, the machine's electrical
power), ``pm`` and the terminal voltage from ``vr``/``vi``.  So codes 1, 3, 4 are supported, and
5 at the unit's own terminal (remote bus 0).  Code 2 needs a bus-frequency measurement, which
casa_dyn does not have yet; code 6 a differentiated bus voltage; a remote bus voltage is not a
unit signal: all three are rejected when the case is validated and again at build.
"""
from __future__ import annotations

import numpy as np

from casa_dyn._jit import njit
from casa_dyn.models.exciter._common import vmag

SUPPORTED = {0: "no signal", 1: "rotor speed deviation", 3: "electrical power",
             4: "accelerating power", 5: "terminal voltage"}
_WHY = {2: "bus frequency deviation needs a bus-frequency measurement, which casa_dyn does not "
           "have yet", 6: "the derivative of the bus voltage is not available"}
#: unit variables a stabilizer with these inputs reads, in local-column order
INPUTS = ("omega", "pe", "pm", "vr", "vi")


def problems(t, code_col, bus_col, allowed) -> list:
    """Rows whose input code is not usable: (row, column, message)."""
    out = []
    code, bus = np.asarray(t[code_col]), np.asarray(t[bus_col])
    for r in range(len(code)):
        c = int(code[r])
        if c not in allowed:
            why = _WHY.get(c, "not a PSS/E input code for this model")
            ok = ", ".join(f"{k} ({allowed[k]})" for k in sorted(allowed))
            out.append((r, code_col, f"input signal code {c} is not supported: {why}; "
                        f"supported codes: {ok}"))
        elif c == 5 and int(bus[r]) != 0:
            out.append((r, bus_col, f"input code 5 with remote bus {int(bus[r])}: only the unit's own "
                        "terminal voltage is available (remote bus 0)"))
    return out


@njit
def signal(code, z, col, u, c_w):
    """Value of input ``code`` and its derivatives with respect to the five input columns
    ``omega, pe, pm, vr, vi`` that start at local column ``c_w``."""
    if code == 1.0:
        return z[col[u, c_w]] - 1.0, 1.0, 0.0, 0.0, 0.0, 0.0
    if code == 3.0:
        return z[col[u, c_w + 1]], 0.0, 1.0, 0.0, 0.0, 0.0
    if code == 4.0:
        return z[col[u, c_w + 2]] - z[col[u, c_w + 1]], 0.0, -1.0, 1.0, 0.0, 0.0
    if code == 5.0:
        et, dr, di = vmag(z[col[u, c_w + 3]], z[col[u, c_w + 4]])
        return et, 0.0, 0.0, 0.0, dr, di
    return 0.0, 0.0, 0.0, 0.0, 0.0, 0.0


def initial(code, ctx) -> np.ndarray:
    """Initial value of each unit's input signal (NumPy)."""
    code = np.asarray(code).astype(int)
    values = {1: ctx.value("omega") - 1.0, 3: ctx.value("pe"), 4: ctx.value("pm") - ctx.value("pe"),
              5: np.abs(ctx.v)}
    out = np.zeros(len(code))
    for c, v in values.items():
        out = np.where(code == c, v, out)
    return out
