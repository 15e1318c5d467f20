"""Sparse LU backends: KLU (nbklu) and SciPy SuperLU solve the same random sparse systems.

Reference: each solution is checked by its residual |A x - b| (an invariant that needs no
other solver), and the two backends against each other.  Tolerances are relative to |b| and
the matrices are made diagonally dominant so their condition numbers stay small (< 1e3).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from casa_dyn.errors import CasaDynError
from casa_dyn.linalg.backend import (
    KLUBackend, SingularMatrixError, SuperLUBackend, available_backends, get_backend,
)

BACKENDS = ("klu", "superlu")
RTOL = 1e-12  # residual and cross-backend agreement, relative to max |b|


def random_system(n, density, seed, complex_values=False):
    """A random sparse matrix with a dominant diagonal (non-symmetric pattern and values)."""
    rng = np.random.default_rng(seed)
    a = sp.random(n, n, density=density, random_state=rng, format="csc")
    if complex_values:
        a = a + 1j * sp.random(n, n, density=density, random_state=rng, format="csc")
    rowsum = np.asarray(abs(a).sum(axis=1)).ravel()
    a = (a + sp.diags(rowsum + 1.0)).tocsc()
    b = rng.normal(size=n) + (1j * rng.normal(size=n) if complex_values else 0.0)
    return a, b


def test_both_backends_are_available_here():
    assert available_backends() == ["klu", "superlu"]
    assert isinstance(get_backend("auto"), KLUBackend)
    assert isinstance(get_backend("KLU"), KLUBackend)
    assert isinstance(get_backend("superlu"), SuperLUBackend)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("complex_values", [False, True])
def test_backends_agree_on_random_systems(seed, complex_values):
    a, b = random_system(300 + 50 * seed, 0.01, seed, complex_values)
    sols = {}
    for name in BACKENDS:
        lu = get_backend(name)
        lu.factor(a)
        x = lu.solve(b)
        assert np.max(np.abs(a @ x - b)) <= RTOL * np.max(np.abs(b)) * 10
        sols[name] = x
    assert np.max(np.abs(sols["klu"] - sols["superlu"])) <= RTOL * np.max(np.abs(b)) * 10


@pytest.mark.parametrize("name", BACKENDS)
def test_refactor_same_pattern_new_values(name):
    a, b = random_system(400, 0.01, 11)
    lu = get_backend(name)
    lu.factor(a)
    a2 = a.copy()
    a2.data = a2.data * np.random.default_rng(3).uniform(0.8, 1.2, a2.nnz)
    lu.refactor(a2.data)                      # values only
    x = lu.solve(b)
    assert np.max(np.abs(a2 @ x - b)) <= 1e-11 * np.max(np.abs(b))
    lu.refactor(a2)                           # or a matrix with the same pattern
    assert np.max(np.abs(lu.solve(b) - x)) <= 1e-13 * np.max(np.abs(x))


@pytest.mark.parametrize("name", BACKENDS)
def test_refactor_rejects_another_pattern(name):
    a, _ = random_system(50, 0.05, 1)
    lu = get_backend(name)
    lu.factor(a)
    other, _ = random_system(50, 0.05, 2)
    with pytest.raises(ValueError, match="pattern"):
        lu.refactor(other)
    with pytest.raises(ValueError, match="values for a pattern"):
        lu.refactor(a.data[:-1])


@pytest.mark.parametrize("name", BACKENDS)
def test_factor_detects_a_new_pattern(name):
    # the same object factors a second, differently shaped system correctly
    lu = get_backend(name)
    for seed, n in ((1, 60), (2, 90)):
        a, b = random_system(n, 0.05, seed)
        lu.factor(a)
        assert np.max(np.abs(a @ lu.solve(b) - b)) <= 1e-11 * np.max(np.abs(b))


@pytest.mark.parametrize("name", BACKENDS)
def test_several_right_hand_sides(name):
    a, b = random_system(200, 0.02, 5)
    rhs = np.column_stack([b, 2 * b, -b])
    lu = get_backend(name)
    lu.factor(a)
    x = lu.solve(rhs)
    assert x.shape == rhs.shape
    assert np.max(np.abs(a @ x - rhs)) <= 1e-11 * np.max(np.abs(rhs))


@pytest.mark.parametrize("name", BACKENDS)
def test_real_matrix_complex_rhs(name):
    a, b = random_system(100, 0.05, 8)
    lu = get_backend(name)
    lu.factor(a)
    rhs = b + 1j * b[::-1]
    assert np.max(np.abs(a @ lu.solve(rhs) - rhs)) <= 1e-11 * np.max(np.abs(rhs))


@pytest.mark.parametrize("name", BACKENDS)
def test_singular_matrix_raises(name):
    a = sp.csc_matrix(np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]))
    lu = get_backend(name)
    with pytest.raises(SingularMatrixError):
        lu.factor(a)
        lu.solve(np.ones(3))  # SuperLU may only notice when solving
    # the same object stays usable (nbklu 0.3.0 crashed here when freeing the failed factors)
    good = a.copy()
    good.data = np.array([1.0, 2.0, 2.0, 5.0, 1.0])
    lu.factor(good)
    assert np.max(np.abs(good @ lu.solve(np.ones(3)) - 1.0)) <= 1e-14


def test_unknown_backend_is_a_user_error():
    with pytest.raises(CasaDynError, match="unknown sparse LU backend 'mumps'"):
        get_backend("mumps")


def test_solve_before_factor_and_wrong_shapes():
    lu = get_backend("superlu")
    with pytest.raises(RuntimeError):
        lu.solve(np.ones(3))
    with pytest.raises(ValueError, match="square"):
        lu.factor(sp.csc_matrix(np.ones((2, 3))))
    a, b = random_system(20, 0.1, 0)
    lu.factor(a)
    with pytest.raises(ValueError, match="right-hand side"):
        lu.solve(np.ones(21))
