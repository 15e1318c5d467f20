"""Sparse LU backends behind one small interface, used by the power flow.

A backend object holds the factors of one square sparse matrix::

    lu = get_backend("auto")      # KLU when nbklu imports, else SciPy SuperLU
    lu.factor(a_csc)              # symbolic analysis (skipped if the pattern is unchanged)
                                  # + numeric factorization with pivoting
    x = lu.solve(b)
    lu.refactor(new_data)         # same pattern, new values: numeric only
    x = lu.solve(b)

KLU (Davis & Palamadai Natarajan, "Algorithm 907: KLU, a direct sparse solver for circuit
simulation problems", ACM TOMS 37(3), 2010) orders with BTF + AMD once per pattern; its
``refactor`` keeps the pivot order of the last ``factor`` and is the fast path when a matrix's
values change but not its pattern.  SciPy's SuperLU has no numeric-only refactorization, so its
``refactor`` factors again (always correct, just slower); it is the always-available fallback.

``factor`` here always re-pivots (KLU ``klu_factor`` on the kept symbolic analysis), which is
what a Newton method whose Jacobian rows change character (PV <-> PQ switching) needs;
``refactor`` is for callers that know the values change smoothly.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from casa_dyn.errors import CasaDynError


class SingularMatrixError(ArithmeticError):
    """The matrix handed to a backend is (numerically) singular."""


class UnknownBackendError(CasaDynError, ValueError):
    """A backend name that is not one of ``auto``, ``klu``, ``superlu``."""


class LUBackend(ABC):
    """Factor once, solve many times.  Subclasses hold the factors of one matrix."""

    name: str = ""

    def __init__(self) -> None:
        self._indptr: np.ndarray | None = None
        self._indices: np.ndarray | None = None
        self._shape: tuple[int, int] | None = None

    # ------------------------------------------------------------------ public API
    def factor(self, a) -> None:
        """Factor ``a`` (any SciPy sparse matrix; converted to CSC with sorted indices)."""
        a = _as_csc(a)
        same = (self._shape == a.shape and self._indptr is not None
                and np.array_equal(self._indptr, a.indptr)
                and np.array_equal(self._indices, a.indices))
        if not same:
            self._indptr = a.indptr.copy()
            self._indices = a.indices.copy()
            self._shape = a.shape
        self._factor(a, new_pattern=not same)

    def refactor(self, data) -> None:
        """New values for the pattern of the last ``factor``: a CSC data array, or a sparse
        matrix with exactly that pattern."""
        if self._indptr is None:
            raise RuntimeError("refactor called before factor")
        if sp.issparse(data):
            a = _as_csc(data)
            if not (a.shape == self._shape and np.array_equal(a.indptr, self._indptr)
                    and np.array_equal(a.indices, self._indices)):
                raise ValueError("refactor: sparsity pattern differs from the factored matrix")
            data = a.data
        data = np.asarray(data)
        if data.shape != self._indices.shape:
            raise ValueError(f"refactor: {data.shape[0]} values for a pattern of "
                             f"{self._indices.shape[0]} entries")
        self._refactor(data)

    def solve(self, b) -> np.ndarray:
        """Solve ``A x = b`` with the current factors; ``b`` is not modified."""
        b = np.asarray(b)
        if self._shape is None:
            raise RuntimeError("solve called before factor")
        if b.shape[0] != self._shape[0]:
            raise ValueError(f"solve: right-hand side has {b.shape[0]} rows, matrix has "
                             f"{self._shape[0]}")
        x = self._solve(b)
        if not np.all(np.isfinite(x)):
            raise SingularMatrixError(f"{self.name}: solution is not finite (singular matrix?)")
        return x

    # ------------------------------------------------------------------ implementation
    @abstractmethod
    def _factor(self, a: sp.csc_matrix, new_pattern: bool) -> None: ...

    @abstractmethod
    def _refactor(self, data: np.ndarray) -> None: ...

    @abstractmethod
    def _solve(self, b: np.ndarray) -> np.ndarray: ...


def _as_csc(a) -> sp.csc_matrix:
    if not sp.issparse(a):
        raise TypeError("expected a SciPy sparse matrix")
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"matrix must be square, has shape {a.shape}")
    a = sp.csc_matrix(a)
    if not a.has_sorted_indices:
        a = a.sorted_indices()
    a.sum_duplicates()
    return a


class SuperLUBackend(LUBackend):
    """SciPy SuperLU (COLAMD ordering); always available."""

    name = "superlu"

    def __init__(self) -> None:
        super().__init__()
        self._lu = None
        self._dtype = None

    def _factor(self, a, new_pattern):
        self._dtype = a.dtype
        try:
            self._lu = spla.splu(a, permc_spec="COLAMD")
        except RuntimeError as exc:  # SuperLU reports exact singularity this way
            self._lu = None
            raise SingularMatrixError(f"superlu: {exc}") from None

    def _refactor(self, data):
        a = sp.csc_matrix((data, self._indices, self._indptr), shape=self._shape)
        self._factor(a, new_pattern=False)

    def _solve(self, b):
        if self._lu is None:
            raise RuntimeError("solve called before a successful factor")
        if np.iscomplexobj(b) and not np.iscomplexobj(np.empty(0, self._dtype)):
            return self._lu.solve(b.real.copy()) + 1j * self._lu.solve(b.imag.copy())
        return self._lu.solve(np.array(b, dtype=np.result_type(b, self._dtype), copy=True))


class KLUBackend(LUBackend):
    """KLU through ``nbklu`` (BSD-3): BTF + AMD ordering kept across factorizations."""

    name = "klu"

    def __init__(self) -> None:
        super().__init__()
        import nbklu  # raises ImportError when unavailable; get_backend handles that

        self._nbklu = nbklu
        self._solver = None
        self._complex = False
        self._factored = False

    def _new_solver(self, complex_values: bool):
        bits = 32 if self._indices.shape[0] < 2**31 - 1 else 64
        solver = self._nbklu.KLUSolver(index_bits=bits, complex_values=complex_values,
                                       singular_as_error=True)
        solver.analyze(self._shape[0], self._indptr, self._indices)
        return solver

    def _factor(self, a, new_pattern):
        is_complex = np.iscomplexobj(a.data)
        if new_pattern or self._solver is None or is_complex != self._complex:
            if self._solver is not None:
                self._solver.close()
            self._complex = is_complex
            self._solver = self._new_solver(is_complex)
        self._factored = False
        try:
            self._solver.factor(a.data)
        except self._nbklu.KLUSingularException:
            # nbklu 0.3.0 keeps the null handle klu_factor returned; freeing it later
            # (on the next factor or on close) crashes, so drop it unfreed
            self._solver.numeric = None
            raise SingularMatrixError("klu: matrix is singular") from None
        self._factored = True

    def _refactor(self, data):
        if not self._factored or np.iscomplexobj(data) != self._complex:
            self._factor(sp.csc_matrix((data, self._indices, self._indptr), shape=self._shape),
                         new_pattern=False)
            return
        self._factored = False
        try:
            self._solver.refactor(data)
        except self._nbklu.KLUSingularException:
            raise SingularMatrixError("klu: matrix is singular (refactor)") from None
        self._factored = True

    def _solve(self, b):
        if not self._factored:
            raise RuntimeError("solve called before a successful factor")
        if np.iscomplexobj(b) and not self._complex:
            return self._solve(b.real) + 1j * self._solve(b.imag)
        dtype = complex if self._complex else float
        if b.ndim == 2:  # nbklu wants right-hand sides as rows
            return self._solver.solve(np.ascontiguousarray(b.T, dtype=dtype)).T
        return self._solver.solve(np.asarray(b, dtype=dtype))

    def __del__(self):
        if getattr(self, "_solver", None) is not None:
            self._solver.close()


BACKENDS = {"klu": KLUBackend, "superlu": SuperLUBackend}


def available_backends() -> list[str]:
    """Names of the backends that work in this environment, fastest first."""
    out = []
    for name, cls in BACKENDS.items():
        try:
            cls()
        except ImportError:
            continue
        out.append(name)
    return out


def get_backend(name: str = "auto") -> LUBackend:
    """A fresh backend object: ``"klu"``, ``"superlu"`` or ``"auto"`` (KLU if importable)."""
    key = name.lower()
    if key == "auto":
        try:
            return KLUBackend()
        except ImportError:
            return SuperLUBackend()
    if key not in BACKENDS:
        raise UnknownBackendError(f"unknown sparse LU backend {name!r} (choose auto, "
                         f"{', '.join(BACKENDS)})")
    return BACKENDS[key]()
