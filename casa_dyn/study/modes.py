"""Small-signal stability: linearization at the initialized operating point and modal analysis.

Method (Kundur, *Power System Stability and Control*, 1994, sec. 12.1-12.2; Milano, *Power
System Modelling and Scripting*, 2010, ch. 6):

* The engine's DAE ``dx/dt = f(x, y), 0 = g(x, y)`` is linearized with its own analytic
  Jacobian ``J = [[fx, fy], [gx, gy]]`` (``solver.workspace.evaluate``) at the initial point;
  the state matrix is ``A = fx - fy gy^-1 gx`` (``linalg.pencil``: a sparse LU of ``gy``, never
  a dense inverse).  Rows of lags with a zero time constant are algebraic.
* Eigenvalues ``lambda = sigma + j omega``: frequency ``omega / 2 pi``, damping ratio
  ``zeta = -sigma / |lambda|`` (Kundur eq. 12.49).  Right eigenvectors ``phi``, left
  eigenvectors ``psi`` (rows, ``psi A = lambda psi``) scaled so that ``psi phi = 1``;
  participation factors ``p_ki = phi_ki psi_ik`` (Kundur eq. 12.61; each mode's sum is 1).
  The speed mode shape is the ``omega`` entries of ``phi`` scaled so the largest is 1 at 0 deg.
* Up to ``dense_max_states`` states, every eigenvalue (dense QR on ``A``); above, the modes in a
  frequency band by sparse shift-invert on the pencil (``linalg.pencil.band_search``).

Limits active at the operating point.  The linearization sees the model equations exactly as
the time-domain kernels evaluate them at that point, which is what PSS/E's linearization does
(it perturbs the states of the same model code): an output (windup) limit that binds gives the
limited signal zero small-signal gain, and a state held at a non-windup limit (its flag set,
so the kernel writes d(state)/dt = 0 whatever the perturbation) stays at its limit; such a
state, like the states of a tripped machine, has an all-zero row and is removed from the state
vector (reported in ``frozen``) instead of showing up as a spurious zero eigenvalue.  A limit
exactly reached but not passed counts as not active.  At a point initialized from a power flow
no non-windup flag is set (a limit violated at t = 0 is an initialization error).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from casa_dyn.errors import CasaDynError, ModelInitError
from casa_dyn.linalg.pencil import SingularError, band_search, schur_state_matrix

#: the linearization point must satisfy every equation to this (as simulate's start check)
EQUILIBRIUM_TOL = 1e-6
#: |lambda| below this (1/s) counts as a zero eigenvalue (angle reference, uniform speed)
ZERO_TOL = 1e-6
METHODS = ("auto", "dense", "band")


class ModeAnalysisError(CasaDynError):
    """Modal analysis cannot be done (bad options, no dynamic states, ...)."""


@dataclass(frozen=True)
class ModeOptions:
    band_hz: tuple[float, float] = (0.1, 2.5)   # modes reported (band search: searched)
    method: str = "auto"                        # auto | dense | band
    dense_max_states: int = 3000                # auto: dense QR up to this many states
    zeta_max: float = 0.3                       # band search: damping ratios within +-zeta_max
    k_per_shift: int = 40                       # band search: eigenvalues per Arnoldi run (start)
    k_max: int = 160                            # band search: at most this many per run

    def check(self) -> None:
        lo, hi = self.band_hz
        if not (0.0 <= lo < hi):
            raise ModeAnalysisError(f"frequency band {lo:g}:{hi:g} Hz: need 0 <= low < high")
        if self.method not in METHODS:
            raise ModeAnalysisError(f"unknown method {self.method!r} (choose {', '.join(METHODS)})")
        if not 0.0 < self.zeta_max < 1.0:
            raise ModeAnalysisError(f"zeta_max = {self.zeta_max:g}: need 0 < zeta_max < 1")
        if not 2 <= self.k_per_shift <= self.k_max or self.dense_max_states < 1:
            raise ModeAnalysisError("need 2 <= k_per_shift <= k_max and dense_max_states >= 1")


def parse_band(text: str) -> tuple[float, float]:
    """``"0.1:2.5"`` -> (0.1, 2.5) Hz."""
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise ModeAnalysisError(f"frequency band {text!r}: expected LOW:HIGH in Hz, e.g. 0.1:2.5") from None
    if not (0.0 <= lo < hi):
        raise ModeAnalysisError(f"frequency band {text!r}: need 0 <= LOW < HIGH")
    return lo, hi


@dataclass
class Linearization:
    jac: sp.csc_matrix    # DAE Jacobian d(rhs)/dz; frozen-state rows replaced by 0 = dz
    e_diag: np.ndarray    # 1 on the rows of the states kept, 0 elsewhere
    states: np.ndarray    # global indices of the states (the order of A's rows and columns)
    algebs: np.ndarray    # global indices of everything else (frozen states included)
    frozen: np.ndarray    # global indices of states removed (held at a limit, tripped unit)
    names: list           # all variable names


@dataclass
class ModalResult:
    values: np.ndarray        # (m,) eigenvalues, 1/s
    right: np.ndarray         # (n_x, m) right eigenvectors phi
    left: np.ndarray          # (n_x, m) left eigenvectors psi, as columns (psi_i phi_i = 1)
    state_names: list
    gen_ids: np.ndarray       # (n_units,) generator id of each machine
    speed_rows: np.ndarray    # (n_units,) row of each machine's omega in the states (-1: none)
    state_unit: np.ndarray    # (n_x,) machine (unit index) each state belongs to, -1 if none
    method: str
    band_hz: tuple
    frozen: list = field(default_factory=list)
    timing_s: dict = field(default_factory=dict)
    case_name: str = ""
    complete: bool = True     # True: every eigenvalue of A; False: the band search's only
    zeta_max: float = 1.0     # band search: every mode in the band with |zeta| <= this was found
    shifts: list = field(default_factory=list)  # band search: (shift, radius, n found) per run

    @property
    def freq_hz(self) -> np.ndarray:
        return np.abs(self.values.imag) / (2 * np.pi)

    @property
    def zeta(self) -> np.ndarray:
        mag = np.abs(self.values)
        return np.where(mag > ZERO_TOL, -self.values.real / np.maximum(mag, ZERO_TOL), 1.0)

    @property
    def participation(self) -> np.ndarray:
        """Complex participation factors (n_x, m); each column sums to 1."""
        return self.right * self.left

    @property
    def speed_shape(self) -> np.ndarray:
        """(n_units, m) omega entries of each right eigenvector, largest scaled to 1 at 0 deg."""
        s = self.right[np.maximum(self.speed_rows, 0), :]
        s[self.speed_rows < 0, :] = 0.0  # a machine without a speed state (tripped)
        if s.size == 0:
            return s
        big = s[np.argmax(np.abs(s), axis=0), np.arange(s.shape[1])]
        return s / np.where(np.abs(big) > 0, big, 1.0)

    def in_band(self) -> np.ndarray:
        """Oscillatory modes (upper half plane) with frequencies in the band."""
        f = self.freq_hz
        return (self.values.imag > 0) & (f >= self.band_hz[0]) & (f <= self.band_hz[1])

    def summary(self) -> dict:
        v = self.values
        unstable = v.real > ZERO_TOL * np.maximum(1.0, np.abs(v))
        return {"case_name": self.case_name, "method": self.method, "n_states": len(self.state_names),
                "n_eigenvalues": int(v.size), "complete": self.complete, "band_hz": list(self.band_hz),
                "n_in_band": int(self.in_band().sum()), "n_unstable": int(unstable.sum()),
                "n_zero": int((np.abs(v) <= ZERO_TOL).sum()), "n_shifts": len(self.shifts),
                "zeta_searched": float(self.zeta_max),
                "frozen_states": list(self.frozen),
                "timing_s": {k: round(t, 4) for k, t in self.timing_s.items()}}


# ---------------------------------------------------------------------------- linearization
def linearize(sysm, z: np.ndarray | None = None, t: float = 0.0) -> Linearization:
    """The DAE Jacobian at ``z`` (default: the initial point), split into states and the rest."""
    from casa_dyn.solver.workspace import evaluate

    z = sysm.z0 if z is None else np.asarray(z, dtype=float)
    rg, jd = evaluate(sysm, z, float(t), jac=True)
    bad = np.flatnonzero(~(np.abs(rg) < EQUILIBRIUM_TOL))
    if len(bad):
        worst = bad[np.argsort(-np.nan_to_num(np.abs(rg[bad]), nan=np.inf))][:5]
        raise ModelInitError("cannot linearize: the point is not an equilibrium:\n" + "\n".join(
            f"  - {sysm.names[i]}: residual {rg[i]:.3e}" for i in worst))
    jac = sp.csc_matrix((jd, sysm.ai, sysm.ap), shape=(sysm.n, sysm.n))
    diff = sysm.is_diff.astype(bool)
    row_nnz = np.bincount(jac.indices[jac.data != 0.0], minlength=sysm.n)
    frozen = np.flatnonzero(diff & (row_nnz == 0))
    if len(frozen):
        jd = jd.copy()
        jd[sysm.diag[frozen]] = 1.0  # 0 = d(state): held where it is
        jac = sp.csc_matrix((jd, sysm.ai, sysm.ap), shape=(sysm.n, sysm.n))
        diff[frozen] = False
    return Linearization(jac=jac, e_diag=diff.astype(float), states=np.flatnonzero(diff),
                         algebs=np.flatnonzero(~diff), frozen=frozen, names=list(sysm.names))


def state_matrix(lin: Linearization) -> np.ndarray:
    """Dense state matrix A (rows and columns in the order of ``lin.states``)."""
    return schur_state_matrix(lin.jac, lin.states, lin.algebs)


# ---------------------------------------------------------------------------- eigen-analysis
def analyze_modes(case, options: ModeOptions | None = None, pf=None, system=None) -> ModalResult:
    """Linearize ``case`` at its initialized operating point and compute its modes."""
    from casa_dyn.solver.layout import build_system

    opts = options or ModeOptions()
    opts.check()
    t0 = time.perf_counter()
    if system is None:
        if pf is None:
            from casa_dyn.network.powerflow import solve_power_flow

            pf = solve_power_flow(case)
        system = build_system(case, pf)
    t_lin = time.perf_counter()
    lin = linearize(system)
    n_x = len(lin.states)
    if n_x == 0:
        raise ModeAnalysisError(f"case '{case.name}' has no dynamic states (no machine models?)")
    t1 = time.perf_counter()
    method = opts.method
    if method == "auto":
        method = "dense" if n_x <= opts.dense_max_states else "band"
    shifts, zeta_done = [], 1.0
    if method == "dense":
        try:
            a = state_matrix(lin)
        except SingularError:
            raise ModeAnalysisError(f"case '{case.name}': the algebraic equations (network and model "
                                    "algebraic variables) are singular at the operating point") from None
        values, right, left = _dense_modes(a)
    else:
        w = 2 * np.pi * np.asarray(opts.band_hz, dtype=float)
        try:
            res = band_search(lin.jac, lin.e_diag, w[0], w[1], opts.zeta_max, k=opts.k_per_shift,
                              k_max=opts.k_max)
        except (RuntimeError, SingularError) as e:  # ARPACK or the search itself gave up
            raise ModeAnalysisError(f"band search of '{case.name}': {e}") from None
        values, right = res.values, res.right
        left = _scaled_left(res.left, right)
        shifts = res.shifts
        zeta_done = min((z for _, _, z in res.coverage), default=opts.zeta_max)
    t2 = time.perf_counter()
    res = _result(system, lin, values, right, left, method, opts, case.name,
                  {"build": t_lin - t0, "linearize": t1 - t_lin, "eigen": t2 - t1})
    res.shifts, res.zeta_max = shifts, zeta_done
    return res


def _dense_modes(a: np.ndarray):
    values, vl, vr = sla.eig(a, left=True, right=True)
    # LAPACK's left vectors satisfy vl^H A = lambda vl^H; as columns of psi^T: conj(vl)
    return values, vr, _scaled_left(vl.conj(), vr)


def _scaled_left(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Scale each left eigenvector (transpose convention) so that psi_i phi_i = 1."""
    d = np.sum(left * right, axis=0)
    return left / np.where(d != 0, d, 1.0)


def _result(sysm, lin, values, right, left, method, opts, name, timing) -> ModalResult:
    pos = -np.ones(sysm.n, dtype=np.int64)
    pos[lin.states] = np.arange(len(lin.states))
    unit_of = -np.ones(sysm.n, dtype=np.int64)
    for u, d in enumerate(sysm.units):
        for key, g in d.items():
            if key not in ("vr", "vi"):
                unit_of[g] = u
    gen = sysm.case["generator"]
    gen_ids = np.array([gen["id"][r] for r in sysm.unit_gen_row], dtype=np.int64)
    speed = np.array([pos[d["omega"]] for d in sysm.units], dtype=np.int64)
    return ModalResult(values=np.asarray(values), right=right, left=left,
                       state_names=[lin.names[i] for i in lin.states], gen_ids=gen_ids,
                       speed_rows=speed, state_unit=unit_of[lin.states], method=method,
                       band_hz=tuple(float(b) for b in opts.band_hz),
                       frozen=[lin.names[i] for i in lin.frozen], timing_s=timing, case_name=name,
                       complete=method == "dense")


# ---------------------------------------------------------------------------- reporting
def mode_table(res: ModalResult, n: int = 10, n_states: int = 3, n_machines: int = 4) -> list[dict]:
    """The ``n`` least-damped oscillatory modes in the band, each with its dominant states
    (largest |participation|, scaled to the largest = 1) and machines (participation summed
    over each machine's states, with the phase of its speed in the mode shape)."""
    idx = np.flatnonzero(res.in_band())
    idx = idx[np.argsort(res.zeta[idx], kind="stable")][:n]
    p = np.abs(res.participation)
    shape = res.speed_shape
    owned = res.state_unit >= 0
    rows = []
    for i in idx:
        pi = p[:, i] / max(p[:, i].max(), 1e-300)
        top = np.argsort(-pi)[:n_states]
        per_unit = np.bincount(res.state_unit[owned], weights=pi[owned], minlength=len(res.gen_ids))
        per_unit = per_unit / max(per_unit.max(), 1e-300)
        machines = []
        for u in np.argsort(-per_unit)[:n_machines]:
            if per_unit[u] < 0.05:
                break
            machines.append({"gen": int(res.gen_ids[u]), "participation": float(per_unit[u]),
                             "speed_mag": float(abs(shape[u, i])),
                             "speed_phase_deg": float(np.degrees(np.angle(shape[u, i])))})
        rows.append({"mode": int(i), "real": float(res.values[i].real), "imag": float(res.values[i].imag),
                     "freq_hz": float(res.freq_hz[i]), "zeta": float(res.zeta[i]),
                     "states": [{"name": res.state_names[s], "participation": float(pi[s])} for s in top],
                     "machines": machines})
    return rows


def format_mode_table(res: ModalResult, rows: list[dict]) -> str:
    s = res.summary()
    head = (f"{s['case_name']}: {s['n_states']} states, {s['n_eigenvalues']} eigenvalues "
            f"({'all' if s['complete'] else 'band search'}, {s['method']}), "
            f"{s['n_in_band']} modes in {res.band_hz[0]:g}-{res.band_hz[1]:g} Hz, "
            f"{s['n_unstable']} unstable, {s['n_zero']} zero")
    lines = [head]
    if not s["complete"]:
        lines.append(f"band search: every mode in the band with |zeta| <= {s['zeta_searched']:.3f} found "
                     f"({s['n_shifts']} shift-invert runs)")
    if s["frozen_states"]:
        lines.append(f"held at a limit (removed): {', '.join(s['frozen_states'])}")
    lines.append(f"{'mode':>5} {'real 1/s':>9} {'imag rad/s':>10} {'f Hz':>7} {'zeta':>7}  "
                 f"dominant states (participation) | machines (participation, speed phase)")
    for r in rows:
        st = ", ".join(f"{x['name']} {x['participation']:.2f}" for x in r["states"])
        ma = ", ".join(f"G{m['gen']} {m['participation']:.2f} {round(m['speed_phase_deg']) + 0.0:+.0f}deg" for m in r["machines"])
        lines.append(f"{r['mode']:>5} {r['real']:>9.4f} {r['imag']:>10.4f} {r['freq_hz']:>7.4f} "
                     f"{r['zeta']:>7.4f}  {st} | {ma}")
    if not rows:
        lines.append("  (no oscillatory mode in the band)")
    return "\n".join(lines)
