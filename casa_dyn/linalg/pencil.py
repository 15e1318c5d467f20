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
* ``band_search``: repeated ``eigs_near`` with shifts placed by a quadtree over the wedge
  ``w_lo <= Im(lambda) <= w_hi, |Re(lambda)| <= c Im(lambda)`` until every cell lies inside a
  disk around a shift within which all eigenvalues are known (ARPACK returns the k nearest, so
  the disk up to the k-th is complete): the result is every eigenvalue of the wedge.
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
    right: np.ndarray    # (n, k) right eigenvectors of the pencil
    radius: float        # every eigenvalue closer to the shift than this is in ``values``


def eigs_near(j: sp.spmatrix, e_diag: np.ndarray, sigma: complex, k: int, tol: float = 1e-10,
              seed: int = 0) -> NearResult:
    """The finite eigenvalues of ``J v = lambda E v`` nearer ``sigma`` than the k-th nearest,
    with right eigenvectors (shift-invert Arnoldi, one complex sparse LU)."""
    n = j.shape[0]
    e = np.asarray(e_diag, dtype=float)
    k = int(min(k, int(e.sum()) - 2, n - 2))
    if k < 1:
        raise ValueError("eigs_near: the pencil has too few finite eigenvalues for ARPACK")
    lu = ComplexLU(_shifted(j, e, sigma))
    rng = np.random.default_rng(seed)
    v0 = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * e
    try:
        op = spla.LinearOperator((n, n), matvec=lambda x: lu.solve(e * x), dtype=np.complex128)
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
    """Left eigenvectors ``y`` (transpose convention: ``y^T (J - lambda E) = 0``) of known
    eigenvalues by inverse iteration ``(J - lambda E)^T y_new = E y`` with the shift at the
    eigenvalue itself (nudged by 1e-10 relative so the LU is not exactly singular): each step
    divides the error by about |shift - lambda| / gap.  One sparse LU per eigenvalue, the
    symbolic analysis shared."""
    n = j.shape[0]
    e = np.asarray(e_diag, dtype=float)
    out = np.zeros((n, len(values)), dtype=np.complex128)
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
            out[:, i] = y
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
    right: np.ndarray
    left: np.ndarray
    shifts: list          # (shift, radius, n found) per Arnoldi run


def band_search(j: sp.spmatrix, e_diag: np.ndarray, w_lo: float, w_hi: float, zeta_max: float,
                k: int = 40, max_shifts: int = 5000) -> BandResult:
    """Every eigenvalue with ``w_lo <= Im <= w_hi`` (rad/s) and damping ratio within
    ``+-zeta_max`` (the wedge |Re| <= c Im, c = zeta/sqrt(1 - zeta^2)), upper half plane only.

    The wedge is tiled with rectangular cells.  A cell is done when it lies inside the disk of
    some shift within which every eigenvalue is known; a cell that the disk of its own centre
    does not cover is split in four (quadtree), so cells shrink where eigenvalues crowd until
    each disk holds about ``k`` of them.  Every disk is also tried on all pending cells."""
    if not (0.0 < zeta_max < 1.0) or not (0.0 <= w_lo < w_hi):
        raise ValueError("band_search: need 0 <= w_lo < w_hi and 0 < zeta_max < 1")
    c = zeta_max / math.sqrt(1.0 - zeta_max * zeta_max)
    k_cap = int(np.sum(e_diag)) - 2
    cells = _initial_cells(w_lo, w_hi, c)
    keep_v, keep_r, shifts = [], [], []
    while cells:
        if len(shifts) >= max_shifts:
            raise RuntimeError(f"band_search: gave up after {max_shifts} shifts")
        cell = cells.pop()
        sigma = complex(0.5 * (cell[0] + cell[1]), 0.5 * (cell[2] + cell[3]))
        res = eigs_near(j, e_diag, sigma, k, seed=len(shifts))
        shifts.append((sigma, res.radius, len(res.values)))
        if _inside(cell, sigma, res.radius):
            todo = [cell]
        elif max(cell[1] - cell[0], cell[3] - cell[2]) < 1e-6 * max(1.0, abs(sigma)):
            # a tiny cell still not covered: more than k eigenvalues crowd here
            if k >= k_cap:
                raise RuntimeError("band_search: too many eigenvalues crowd one point; use the dense method")
            k = min(2 * k, k_cap)
            todo = [cell]
        else:
            todo = _split(cell, c, w_lo, w_hi)
        rest = []
        for q in todo + cells:
            if not _inside(q, sigma, res.radius):
                rest.append(q)
                continue
            sel = _in_cell(res.values, q, w_hi) & (np.abs(res.values.real) <= c * res.values.imag)
            keep_v.append(res.values[sel])
            keep_r.append(res.right[:, sel])
        cells = rest
    n = j.shape[0]
    if not keep_v:
        return BandResult(np.zeros(0, complex), np.zeros((n, 0), complex), np.zeros((n, 0), complex), shifts)
    v = np.concatenate(keep_v)
    order = np.argsort(v.imag, kind="stable")
    v = v[order]
    return BandResult(v, np.concatenate(keep_r, 1)[:, order], left_eigenvectors(j, e_diag, v), shifts)


def _initial_cells(w_lo, w_hi, c):
    """Rows of near-square cells (x0, x1, y0, y1) over the wedge's bounding shape."""
    cells = []
    y = w_lo
    h_min = (w_hi - w_lo) / 20.0
    while y < w_hi:
        h = max(2.0 * c * y, h_min)
        y1 = min(y + h, w_hi)
        half = c * y1
        nx = max(1, int(math.ceil(2.0 * half / h)))
        xs = np.linspace(-half, half, nx + 1)
        cells += [(float(xs[i]), float(xs[i + 1]), y, y1) for i in range(nx)]
        y = y1
    return cells


def _split(cell, c, w_lo, w_hi):
    """The four quarters of a cell that still touch the wedge."""
    x0, x1, y0, y1 = cell
    xm, ym = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    out = []
    for q in ((x0, xm, y0, ym), (xm, x1, y0, ym), (x0, xm, ym, y1), (xm, x1, ym, y1)):
        nearest = 0.0 if q[0] <= 0.0 <= q[1] else min(abs(q[0]), abs(q[1]))
        if nearest <= c * q[3] and q[3] >= w_lo and q[2] <= w_hi:
            out.append(q)
    return out


def _inside(cell, sigma, r):
    """The closed cell lies in the open disk |lambda - sigma| < r."""
    dx = max(abs(cell[0] - sigma.real), abs(cell[1] - sigma.real))
    dy = max(abs(cell[2] - sigma.imag), abs(cell[3] - sigma.imag))
    return dx * dx + dy * dy < r * r


def _in_cell(v, cell, w_hi):
    """Half-open membership, so cells that share an edge never both take an eigenvalue (the
    top edge of the band is closed)."""
    x0, x1, y0, y1 = cell
    top = (v.imag < y1) | ((y1 >= w_hi) & (v.imag <= w_hi))
    return (v.real >= x0) & (v.real < x1) & (v.imag >= y0) & top
