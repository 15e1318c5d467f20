"""Eigenvalues of a linearized DAE without inverting its algebraic block densely.

The linearized DAE ``E dz/dt = J z`` (``E = diag(is_diff)``: 1 on state rows, 0 on algebraic
rows) has the state matrix ``A = fx - fy gy^-1 gx`` (Kundur, *Power System Stability and
Control*, 1994, sec. 12.2; Milano, *Power System Modelling and Scripting*, 2010, ch. 6).  Two
ways to get its eigenvalues:

* ``schur_state_matrix``: the dense ``A`` (n_x by n_x) from a sparse LU of ``gy``, solving for
  the columns of ``gx`` in blocks (only the non-zero ones), so neither ``gy^-1`` nor
  ``gy^-1 gx`` is ever held whole; then dense QR (LAPACK) gives every eigenvalue.
* ``eigs_near``: shift-invert Arnoldi on the pencil ``(J, E)`` itself.  ``J - sigma E`` is
  sparse, so ``(J - sigma E)^-1 E`` is applied with one sparse complex LU; its eigenvalues
  ``mu = 1 / (lambda - sigma)`` of largest modulus are the ``lambda`` nearest ``sigma``, and
  the pencil's infinite eigenvalues (algebraic rows) map to ``mu = 0``, out of the way
  (Ericsson & Ruhe, Math. Comp. 35(152), 1980; Martins, Lima & Pinto, IEEE Trans. Power Syst.
  11(1), 1996, for power systems).  The state part of a right eigenvector of the pencil is a
  right eigenvector of ``A``; the state part of a left one (from the transposed pencil at the
  eigenvalue's own shift: inverse iteration) is a left eigenvector of ``A``.
* ``band_search``: repeated ``eigs_near`` with shifts up the imaginary axis until every row of
  the wedge ``w_lo <= Im(lambda) <= w_hi, |Re(lambda)| <= c Im(lambda)`` lies inside a disk
  around a shift within which all eigenvalues are known (ARPACK returns the k nearest, so the
  disk up to the k-th is complete): the result is every eigenvalue of the wedge.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: solve for this many columns of gx at a time (bounds the dense work array)
SCHUR_BLOCK = 256


# ---------------------------------------------------------------------------- sparse LU
class SingularError(ArithmeticError):
    """A shifted matrix that is singular (the shift is an eigenvalue)."""


class ComplexLU:
    """LU of a sparse square matrix (real or complex) with plain and transposed solves.

    KLU (through ``nbklu``) when available, SciPy SuperLU otherwise."""

    def __init__(self, a: sp.spmatrix):
        a = sp.csc_matrix(a)
        a.sort_indices()
        self.n = a.shape[0]
        self.dtype = np.complex128 if np.iscomplexobj(a.data) else np.float64
        self._pattern = (a.indptr, a.indices)
        self._klu = None
        self._slu = None
        try:
            import nbklu

            bits = 32 if a.nnz < 2**31 - 1 else 64
            self._klu = nbklu.KLUSolver(index_bits=bits, complex_values=self.dtype == np.complex128,
                                        singular_as_error=True)
            self._klu.analyze(self.n, a.indptr, a.indices)
        except ImportError:
            pass
        self.factor(a.data)

    def factor(self, data: np.ndarray) -> None:
        """Numeric factorization (with pivoting) of new values on the same pattern."""
        data = np.asarray(data, dtype=self.dtype)
        if self._klu is not None:
            import nbklu

            try:
                self._klu.factor(data)
            except nbklu.KLUSingularException:
                raise SingularError("sparse LU: the matrix is singular") from None
            return
        a = sp.csc_matrix((data, self._pattern[1], self._pattern[0]), shape=(self.n, self.n))
        try:
            self._slu = spla.splu(a, permc_spec="COLAMD")
        except RuntimeError as exc:
            raise SingularError(f"sparse LU: {exc}") from None

    def solve(self, b: np.ndarray, trans: bool = False) -> np.ndarray:
        """``A x = b`` (or ``A^T x = b``, plain transpose); ``b`` 1-D or (n, k)."""
        b = np.asarray(b, dtype=np.result_type(b, self.dtype))
        if self._slu is not None:
            return self._slu.solve(b.copy(), trans="T" if trans else "N")
        if b.dtype != self.dtype:  # real factors, complex right-hand side
            return self.solve(b.real, trans) + 1j * self.solve(b.imag, trans)
        rhs = np.ascontiguousarray(b.T) if b.ndim == 2 else b  # nbklu wants rows
        x = self._klu.tsolve(rhs, conj_solve=0) if trans else self._klu.solve(rhs)
        return x.T if b.ndim == 2 else x

    def close(self) -> None:
        if self._klu is not None:
            self._klu.close()
            self._klu = None


# ---------------------------------------------------------------------------- dense A
def schur_state_matrix(j: sp.spmatrix, states: np.ndarray, algebs: np.ndarray) -> np.ndarray:
    """Dense ``A = fx - fy gy^-1 gx`` from the sparse DAE Jacobian ``j`` (rows/columns split
    into ``states`` and ``algebs``)."""
    jr = sp.csr_matrix(j)
    fx = jr[states][:, states].toarray()
    if len(algebs) == 0:
        return fx
    fy = jr[states][:, algebs].tocsr()
    gx = jr[algebs][:, states].tocsc()
    gy = jr[algebs][:, algebs].tocsc()
    lu = ComplexLU(gy)
    try:
        nz = np.flatnonzero(np.diff(gx.indptr))  # states that enter the algebraic equations
        for lo in range(0, len(nz), SCHUR_BLOCK):
            cols = nz[lo:lo + SCHUR_BLOCK]
            x = lu.solve(gx[:, cols].toarray())
            fx[:, cols] -= fy @ x
    finally:
        lu.close()
    return fx


# ---------------------------------------------------------------------------- shift-invert
@dataclass
class NearResult:
    values: np.ndarray   # eigenvalues nearest the shift, by distance
    right: np.ndarray    # (n_x, k) right eigenvectors of A (the state rows of the pencil's)
    radius: float        # every eigenvalue closer to the shift than this is in ``values``


def eigs_near(j: sp.spmatrix, e_diag: np.ndarray, sigma: complex, k: int, tol: float = 1e-10,
              seed: int = 0) -> NearResult:
    """The finite eigenvalues of ``J v = lambda E v`` nearer ``sigma`` than the k-th nearest,
    with right eigenvectors (shift-invert Arnoldi, one complex sparse LU).

    ``(J - sigma E)^-1 E`` only ever sees the state rows of a vector, and its state rows are
    ``(A - sigma I)^-1`` applied to them, so the Arnoldi vectors live in the n_x-dimensional
    state space: the sparse solve is over all rows, ARPACK's orthogonalization and restarts
    only over the states (several times cheaper than working with full DAE vectors)."""
    n = j.shape[0]
    e = np.asarray(e_diag, dtype=float)
    states = np.flatnonzero(e)
    nx = len(states)
    k = int(min(k, nx - 2))
    if k < 1:
        raise ValueError("eigs_near: the pencil has too few finite eigenvalues for ARPACK")
    lu = ComplexLU(_shifted(j, e, sigma))
    full = np.zeros(n, dtype=np.complex128)

    def matvec(x):
        full[:] = 0.0
        full[states] = np.ravel(x)
        return lu.solve(full)[states]

    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal(nx) + 1j * rng.standard_normal(nx)
    try:
        op = spla.LinearOperator((nx, nx), matvec=matvec, dtype=np.complex128)
        mu, vr = spla.eigs(op, k=k, which="LM", v0=v0, tol=tol)
    finally:
        lu.close()
    lam = sigma + 1.0 / mu
    dist = np.abs(lam - sigma)
    # ARPACK returns the k eigenvalues of largest |mu|: the open disk up to the k-th is complete
    radius = float(dist.max())
    keep = np.flatnonzero(dist < radius)
    keep = keep[np.argsort(dist[keep])]
    return NearResult(values=lam[keep], right=vr[:, keep], radius=radius)


def _shifted(j, e, sigma) -> sp.csc_matrix:
    return sp.csc_matrix(j, dtype=np.complex128) - sigma * sp.diags(e.astype(np.complex128), format="csc")


def left_eigenvectors(j: sp.spmatrix, e_diag: np.ndarray, values: np.ndarray, steps: int = 2,
                      seed: int = 0) -> np.ndarray:
    """Left eigenvectors (state rows of ``y``, transpose convention ``y^T (J - lambda E) = 0``) of known
    eigenvalues by inverse iteration ``(J - lambda E)^T y_new = E y`` with the shift at the
    eigenvalue itself (nudged by 1e-10 relative so the LU is not exactly singular): each step
    divides the error by about |shift - lambda| / gap.  One sparse LU per eigenvalue, the
    symbolic analysis shared."""
    n = j.shape[0]
    e = np.asarray(e_diag, dtype=float)
    states = np.flatnonzero(e)
    out = np.zeros((len(states), len(values)), dtype=np.complex128)
    if not len(values):
        return out
    lu = None
    rng = np.random.default_rng(seed)
    try:
        for i, lam in enumerate(values):
            for nudge in (1e-10, 1e-7):
                try:
                    lu = _refactor(lu, _shifted(j, e, lam + nudge * max(1.0, abs(lam)) * (1 + 1j)))
                    break
                except SingularError:  # the nudged shift still hit the eigenvalue exactly
                    lu = None
            else:
                raise SingularError(f"left eigenvector of {lam:.6g}: the shifted matrix stays singular")
            y = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * e
            for _ in range(steps):
                y = lu.solve(e * y, trans=True)
                y /= np.linalg.norm(y)
            out[:, i] = y[states]
    finally:
        if lu is not None:
            lu.close()
    return out


def _refactor(lu, m):
    """Factor ``m``, reusing the symbolic analysis of ``lu`` when the pattern is the same."""
    m.sort_indices()
    if lu is not None and np.array_equal(lu._pattern[0], m.indptr) and np.array_equal(lu._pattern[1], m.indices):
        lu.factor(m.data)
        return lu
    if lu is not None:
        lu.close()
    return ComplexLU(m)


@dataclass
class BandResult:
    values: np.ndarray
    right: np.ndarray     # (n_x, m) state rows of the right eigenvectors
    left: np.ndarray      # (n_x, m) state rows of the left eigenvectors (transpose convention)
    shifts: list          # (shift, radius, n found) per Arnoldi run
    coverage: list        # (Im from, Im to rad/s, zeta): every eigenvalue there with |damping| <= zeta


def band_search(j: sp.spmatrix, e_diag: np.ndarray, w_lo: float, w_hi: float, zeta_max: float,
                k: int = 40, k_max: int = 160, max_shifts: int = 2000) -> BandResult:
    """The eigenvalues with ``w_lo <= Im <= w_hi`` (rad/s) and damping ratio within
    ``+-zeta_max`` (the wedge |Re| <= c Im, c = zeta/sqrt(1 - zeta^2)), upper half plane only.

    Shifts go up the imaginary axis.  The disk of a shift (every eigenvalue closer than the k-th
    is known) covers the wedge's rows ``y`` where the row's half-width ``c y`` fits in it; only
    eigenvalues in rows not covered before are taken, so overlapping disks never give one twice.
    A disk too narrow for the wedge asks for more eigenvalues (k grows with the width needed, up
    to ``k_max``); at ``k_max`` the disk's inscribed square is taken instead, complete over a
    narrower strip around the axis, and ``coverage`` says how wide.  Shifts stay on the axis,
    where lightly damped modes crowd: ARPACK separates the k nearest from the rest well there,
    while a shift far from a dense cluster sees nearly equal distances and converges badly."""
    if not (0.0 < zeta_max < 1.0) or not (0.0 <= w_lo < w_hi):
        raise ValueError("band_search: need 0 <= w_lo < w_hi and 0 < zeta_max < 1")
    c = zeta_max / math.sqrt(1.0 - zeta_max * zeta_max)
    k_cap = min(int(k_max), int(np.count_nonzero(e_diag)) - 2)
    k = min(k, k_cap)
    vals, rights, shifts, coverage = [], [], [], []
    done = w_lo      # every row below ``done`` has been searched
    step = 0.0       # distance from ``done`` up to the next shift
    while done < w_hi:
        if len(shifts) >= max_shifts:
            raise RuntimeError(f"band_search: gave up after {max_shifts} shifts at {done:.3f} rad/s")
        y0 = done + step
        res = eigs_near(j, e_diag, 1j * y0, k, seed=len(shifts))
        shifts.append((1j * y0, res.radius, len(res.values)))
        cov = _covered(y0, res.radius, c)
        if cov is None and k < k_cap:  # narrower than the wedge: more eigenvalues per run
            need = c * y0 / math.sqrt(1.0 + c * c)  # smallest radius that covers the row at y0
            k = max(2 * k, int(math.ceil(1.2 * k * need / max(res.radius, 1e-12))))
            k = k_cap if k >= 0.75 * k_cap else k  # no run for a handful more
            continue
        if cov is None:  # at k_max: the inscribed square, a strip narrower than the wedge
            half = res.radius / math.sqrt(2.0)
            cov, width = (y0 - half, y0 + half), half
        else:
            width = None
        if cov[0] > done:  # too far up: move the shift down by the gap (centred on done works)
            step = max(0.0, step - 1.25 * (cov[0] - done))
            continue
        top = min(cov[1], w_hi)
        v = res.values
        new = (v.imag >= done) & ((v.imag < top) | ((top >= w_hi) & (v.imag <= w_hi))) & \
              (np.abs(v.real) <= c * v.imag)
        vals.append(v[new])
        rights.append(res.right[:, new])
        zeta = zeta_max if width is None else min(zeta_max, width / math.hypot(width, top))
        coverage.append((done, top, zeta))
        done = cov[1]
        step = 0.8 * 0.5 * (cov[1] - cov[0])
    n = int(np.count_nonzero(e_diag))
    if not vals:
        return BandResult(np.zeros(0, complex), np.zeros((n, 0), complex), np.zeros((n, 0), complex),
                          shifts, coverage)
    v = np.concatenate(vals)
    order = np.argsort(v.imag, kind="stable")
    v = v[order]
    return BandResult(v, np.concatenate(rights, 1)[:, order], left_eigenvectors(j, e_diag, v), shifts, coverage)


def _covered(y0: float, r: float, c: float) -> tuple[float, float] | None:
    """Heights y whose whole wedge row ``|Re| <= c y`` lies in the open disk |lambda - j y0| < r
    (None if no row fits)."""
    a = 1.0 + c * c
    disc = r * r * a - c * c * y0 * y0
    if disc <= 0.0:
        return None
    s = math.sqrt(disc)
    return (y0 - s) / a, (y0 + s) / a


