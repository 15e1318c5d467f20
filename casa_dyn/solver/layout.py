"""Build the DAE system from a validated case and its power flow.

Lays out every variable (bus voltages first, then per family its units' states, algebraic
variables and unit signals), builds each family's parameter and index arrays, the one fixed
Jacobian sparsity pattern (CSC) for the whole run — every branch and every bus diagonal kept,
so faults and trips change values only — and the initial point from the power flow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casa_dyn.case.case import Case
from casa_dyn.errors import CaseError, ModelInitError, Problem
from casa_dyn.models import registry
from casa_dyn.models.base import BUS_VARS, SIGNALS
from casa_dyn.models.load import zip as zipload
from casa_dyn.network.ybus import branches, build_ybus, positions


@dataclass
class Family:
    spec: object
    p: np.ndarray       # (n, n_params + n_extra)
    col: np.ndarray     # (n, n_cols) global indices
    rowg: np.ndarray    # (n, n_rows) global rows
    ds: np.ndarray      # (n, n_disc)
    ids: np.ndarray     # element id of each unit (model-table id, load id, ...)
    unit: np.ndarray    # generating-unit index of each unit (-1 if none)
    pos: np.ndarray = None
    mr: np.ndarray = None
    mc: np.ndarray = None
    meta: object = None  # signal family: the (unit, signal) of each row

    @property
    def n(self) -> int:
        return self.p.shape[0]

    def pcol(self, name: str) -> int:
        names = self.spec.params + self.spec.extra
        return names.index(name)

    def as_tuple(self):
        s = self.spec
        nr, nc = len(s.rows), len(s.cols)
        r = np.zeros((self.n, nr))
        jl = np.zeros((self.n, nr, nc))
        # the arrays themselves (not copies): events change p in place between segments
        return (self.p, self.col, self.rowg, r, jl, self.ds, self.pos, self.mr, self.mc)

    def normalize(self) -> None:
        """C-contiguous arrays of the dtypes the compiled kernels' signature fixes."""
        c = np.ascontiguousarray
        self.p, self.ds = c(self.p, dtype=np.float64), c(self.ds, dtype=np.float64)
        self.col, self.rowg = c(self.col, dtype=np.int64), c(self.rowg, dtype=np.int64)
        self.pos, self.mr, self.mc = c(self.pos, dtype=np.int64), c(self.mr, dtype=np.int64), c(self.mc, dtype=np.int64)


@dataclass
class System:
    case: Case
    n: int
    names: list                  # variable names "bus/5/vr", "gencls/1/omega", ...
    is_diff: np.ndarray          # int8 per row
    z0: np.ndarray
    families: list
    units: list                  # per generating unit: dict var name -> global index
    unit_gen_row: np.ndarray     # generator-table row of each unit
    ybus: object                 # complex CSR with the full switchable pattern
    yg: np.ndarray
    yb: np.ndarray
    npos: np.ndarray             # (nnzY, 4) CSC positions of the network entries
    ap: np.ndarray
    ai: np.ndarray
    rowof: np.ndarray
    diag: np.ndarray
    branches: object
    branch_ypos: np.ndarray      # (n_branch, 4) Y data positions of ff, ft, tf, tt
    ydiag: np.ndarray            # Y data position of each bus diagonal
    meta: dict = field(default_factory=dict)

    def family(self, name: str) -> Family:
        for f in self.families:
            if f.spec.name == name:
                return f
        raise KeyError(name)

    def family_tuple(self):
        return tuple(f.as_tuple() for f in self.families)


class Alloc:
    """Variable allocation for families that lay out their own units (``ModelSpec.build``).

    ``var(name, diff, value)`` creates a variable (its row is its own equation) and returns its
    index; ``shared[key]`` maps names such as ``"dc_node/3/v"`` (or ``"gen/5/omega"``, every
    modelled machine's speed) to indices so that later families (in registry order) can read a
    variable and add into its row; ``bus(bus_id)``
    gives the (vr, vi) indices of an AC bus.
    """

    def __init__(self, case, n, names, diff_rows):
        self.case, self.n, self.names, self.diff_rows = case, n, names, diff_rows
        self.shared: dict[str, int] = {}
        self.init: dict[int, float] = {}
        self._bus = {int(b): k for k, b in enumerate(case["bus"]["id"])}

    def var(self, name: str, diff: bool, value: float = 0.0) -> int:
        i = self.n
        self.names.append(name)
        if diff:
            self.diff_rows.append(i)
        self.init[i] = float(value)
        self.n += 1
        return i

    def bus(self, bus_id: int) -> tuple[int, int]:
        k = self._bus[int(bus_id)]
        return 2 * k, 2 * k + 1


class _Ctx:
    """What a model's ``init`` sees: unit-level values for its units."""

    def __init__(self, z, units, unit_idx, v, s_gen, kb, wb, freq_hz):
        self._z, self._units, self._u = z, units, unit_idx
        self.v, self.s_gen, self.kb, self.wb, self.freq_hz = v, s_gen, kb, wb, freq_hz

    def value(self, name: str) -> np.ndarray:
        return np.array([self._z[self._units[u][name]] for u in self._u])


def build_system(case: Case, pf, wb_override: float | None = None) -> System:
    specs = registry.specs()
    nb = case.n("bus")
    names = [f"bus/{b}/{v}" for b in case["bus"]["id"] for v in BUS_VARS]
    gen = case["generator"]
    gen_index = {int(g): k for k, g in enumerate(gen["id"])}
    bus_pos = positions(case, gen["bus"]) if len(gen["id"]) else np.zeros(0, np.int64)

    # ---- which model rows belong to which generator
    machine_of, problems = {}, []
    ctrl_rows = {}  # (family, gen row) -> (spec, table row)
    for s in specs:
        if s.family in ("signal", "load") or s.build is not None or not case.has(s.name):
            continue
        t = case[s.name]
        for row in range(len(t["id"])):
            g = gen_index[int(t["gen"][row])]
            if gen["in_service"][g] != 1:
                continue
            key = (s.family, g)
            if key in ctrl_rows or (s.family == "generator" and g in machine_of):
                problems.append(Problem(s.name, row, "gen", f"generator {t['gen'][row]} already has a "
                                        f"{s.family} model", int(t["id"][row])))
                continue
            if s.family == "generator":
                machine_of[g] = (s, row)
            ctrl_rows[key] = (s, row)
    for (fam, g), (s, row) in ctrl_rows.items():
        if fam != "generator" and g not in machine_of:
            problems.append(Problem(s.name, row, "gen", f"generator {gen['id'][g]} has no machine model",
                                    int(case[s.name]["id"][row])))
    if problems:
        raise CaseError(problems)

    unit_rows = np.array(sorted(machine_of), dtype=np.int64)
    units = [{"vr": 2 * int(bus_pos[g]), "vi": 2 * int(bus_pos[g]) + 1} for g in unit_rows]
    unit_of_gen = {int(g): u for u, g in enumerate(unit_rows)}

    # ---- allocate variables family by family
    n = 2 * nb
    families = []
    diff_rows = []
    sig_owner = {}
    for s in specs:
        if s.family in ("signal", "load") or s.build is not None:
            continue
        rows = sorted((g, r) for (fam, g), (sp_, r) in ctrl_rows.items() if sp_ is s)
        for g, _ in rows:
            u = unit_of_gen[g]
            for v in s.states + s.algebs:
                units[u][v if s.family == "generator" else f"{s.name}.{v}"] = n
                names.append(f"{s.name}/{gen['id'][g]}/{v}")
                if v in s.states:
                    diff_rows.append(n)
                n += 1
            for v in s.outputs + s.inputs:
                if v in SIGNALS and v not in units[u]:
                    units[u][v] = n
                    names.append(f"unit/{gen['id'][g]}/{v}")
                    n += 1
            for v in s.outputs:
                sig_owner[(u, v)] = s.name
    # ---- families' index arrays
    for s in specs:
        if s.family in ("signal", "load") or s.build is not None:
            continue
        rows = sorted((g, r) for (fam, g), (sp_, r) in ctrl_rows.items() if sp_ is s)
        fam = _model_family(case, s, rows, units, unit_of_gen, problems)
        families.append(fam)
    if problems:
        raise CaseError(problems)
    # ---- families that lay out their own units (HVDC ...), in registry order
    alloc = Alloc(case, n, names, diff_rows)
    # machine speeds, for controllers that lay out their own units (HVDC damping control)
    for g, u in unit_of_gen.items():
        if "omega" in units[u]:
            alloc.shared[f"gen/{gen['id'][g]}/omega"] = units[u]["omega"]
    for s in specs:
        if s.build is not None:
            families.append(s.build(case, pf, alloc))
    n = alloc.n
    # signals without an owner: held constant
    free = [(u, v) for u in range(len(units)) for v in SIGNALS if v in units[u] and (u, v) not in sig_owner]
    sig_spec = next(s for s in specs if s.family == "signal")
    sig_fam = Family(sig_spec, np.zeros((len(free), 1)),
                     np.array([[units[u][v]] for u, v in free], dtype=np.int64).reshape(-1, 1),
                     np.array([[units[u][v]] for u, v in free], dtype=np.int64).reshape(-1, 1),
                     np.zeros((len(free), 0)), np.array([gen["id"][unit_rows[u]] for u, _ in free], dtype=np.int64),
                     np.array([u for u, _ in free], dtype=np.int64))
    sig_fam.meta = free
    # loads (and generators without a machine model)
    v_pf = pf.v_complex()
    no_model = np.array([g for g in range(len(gen["id"])) if gen["in_service"][g] == 1 and g not in machine_of],
                        dtype=np.int64)
    lp, lbus, lids = zipload.load_params(case, v_pf, no_model, pf)
    load_spec = next(s for s in specs if s.family == "load")
    load_cols = np.stack([2 * lbus, 2 * lbus + 1], axis=1) if len(lbus) else np.zeros((0, 2), np.int64)
    load_fam = Family(load_spec, lp, load_cols, load_cols.copy(), np.zeros((len(lbus), 0)), lids,
                      -np.ones(len(lbus), np.int64))
    ordered = []
    for s in specs:
        if s.family == "signal":
            ordered.append(sig_fam)
        elif s.family == "load":
            ordered.append(load_fam)
        else:
            ordered.append(next(f for f in families if f.spec is s))
    families = ordered

    # ---- network, pattern, initial point
    br = branches(case)
    y = build_ybus(case, br, keep_pattern=True)
    is_diff = np.zeros(n, dtype=np.int8)
    is_diff[diff_rows] = 1
    for f in families:  # lags with a zero time constant are algebraic (PSS/E bypass)
        if f.spec.diff_mask is not None and f.n:
            ns = len(f.spec.states)
            is_diff[f.col[:, :ns]] = f.spec.diff_mask(f.p).astype(np.int8)
    sysm = System(case=case, n=n, names=names, is_diff=is_diff, z0=np.zeros(n), families=families,
                  units=units, unit_gen_row=unit_rows, ybus=y, yg=y.data.real.copy(), yb=y.data.imag.copy(),
                  npos=None, ap=None, ai=None, rowof=None, diag=None, branches=br,
                  branch_ypos=_branch_positions(y, br), ydiag=_diag_positions(y))
    sysm.meta["shared"] = alloc.shared
    _isolated_buses(case, sysm)
    _pattern(sysm)
    for f in families:
        f.normalize()
    for i, value in alloc.init.items():
        sysm.z0[i] = value
    _initialize(sysm, pf, wb_override)
    return sysm


def _model_family(case, s, rows, units, unit_of_gen, problems) -> Family:
    t = case.tables.get(s.name, {})  # a registered model the case does not use: no units
    n_u = len(rows)
    npar = len(s.params) + len(s.extra)
    p = np.zeros((n_u, npar))
    col = np.zeros((n_u, len(s.cols)), dtype=np.int64)
    rowg = np.zeros((n_u, len(s.rows)), dtype=np.int64)
    ids = np.zeros(n_u, dtype=np.int64)
    uarr = np.zeros(n_u, dtype=np.int64)
    for k, (g, r) in enumerate(rows):
        u = unit_of_gen[g]
        uarr[k], ids[k] = u, t["id"][r]
        for j, name in enumerate(s.params):
            p[k, j] = t[name][r]
        for j, v in enumerate(s.cols):
            # a controller's own variables are qualified by its model name; machine variables,
            # bus voltages and unit signals are shared by the whole unit
            own = v in s.states + s.algebs
            key = f"{s.name}.{v}" if (own and s.family != "generator") else v
            if key not in units[u]:
                problems.append(Problem(s.name, r, "gen", f"the machine model of generator {t['gen'][r]} "
                                        f"does not provide '{v}', which {s.name} needs", int(t["id"][r])))
                continue
            col[k, j] = units[u][key]
        nown = len(s.states + s.algebs + s.outputs)
        rowg[k, :nown] = col[k, :nown]
        if s.injects:
            rowg[k, nown] = units[u]["vr"]
            rowg[k, nown + 1] = units[u]["vi"]
    return Family(s, p, col, rowg, np.zeros((n_u, s.n_disc)), ids, uarr)


def _branch_positions(y, br) -> np.ndarray:
    out = np.zeros((br.n, 4), dtype=np.int64)
    for k in range(br.n):
        f, t = br.f[k], br.t[k]
        for m, (i, j) in enumerate(((f, f), (f, t), (t, f), (t, t))):
            lo, hi = y.indptr[i], y.indptr[i + 1]
            out[k, m] = lo + np.searchsorted(y.indices[lo:hi], j)
    return out


def _diag_positions(y) -> np.ndarray:
    nb = y.shape[0]
    out = np.zeros(nb, dtype=np.int64)
    for i in range(nb):
        lo, hi = y.indptr[i], y.indptr[i + 1]
        out[i] = lo + np.searchsorted(y.indices[lo:hi], i)
    return out


def _isolated_buses(case, sysm) -> None:
    """Type-4 buses are held at zero voltage by a unit conductance to ground."""
    iso = np.flatnonzero(case["bus"]["type"] == 4)
    sysm.yg[sysm.ydiag[iso]] = 1.0
    sysm.yb[sysm.ydiag[iso]] = 0.0


def _pattern(sysm: System) -> None:
    y = sysm.ybus
    nb = y.shape[0]
    irow = np.repeat(np.arange(nb), np.diff(y.indptr))
    jcol = y.indices.astype(np.int64)
    rows = [2 * irow, 2 * irow, 2 * irow + 1, 2 * irow + 1]
    cols = [2 * jcol, 2 * jcol + 1, 2 * jcol, 2 * jcol + 1]
    for f in sysm.families:
        mask = f.spec.mask()
        f.mr, f.mc = (a.astype(np.int64) for a in np.nonzero(mask))
        rows.append(f.rowg[:, f.mr].ravel())
        cols.append(f.col[:, f.mc].ravel())
    rows.append(np.arange(sysm.n))
    cols.append(np.arange(sysm.n))
    n = sysm.n
    keys = np.unique(np.concatenate(cols).astype(np.int64) * n + np.concatenate(rows).astype(np.int64))
    sysm.ai = (keys % n).astype(np.int64)
    colv = keys // n
    sysm.ap = np.zeros(n + 1, dtype=np.int64)
    np.add.at(sysm.ap, colv + 1, 1)
    sysm.ap = np.cumsum(sysm.ap)
    sysm.rowof = sysm.ai.copy()
    find = lambda r, c: np.searchsorted(keys, np.asarray(c, np.int64) * n + np.asarray(r, np.int64))  # noqa: E731
    sysm.npos = np.stack([find(rows[m], cols[m]) for m in range(4)], axis=1)
    for f in sysm.families:
        f.pos = find(f.rowg[:, f.mr], f.col[:, f.mc]).reshape(f.n, len(f.mr))
    sysm.diag = find(np.arange(n), np.arange(n))


def _initialize(sysm: System, pf, wb_override) -> None:
    case = sysm.case
    z = sysm.z0
    v = pf.v_complex()
    z[0:2 * len(v):2] = v.real
    z[1:2 * len(v):2] = v.imag
    gen = case["generator"]
    wb = wb_override or 2 * np.pi * case.freq_hz
    order = {"generator": 0, "exciter": 1, "governor": 2, "pss": 3}
    fams = sorted((f for f in sysm.families if f.spec.family in order), key=lambda f: order[f.spec.family])
    problems = []
    for f in fams:
        if f.n == 0:
            continue
        rows = sysm.unit_gen_row[f.unit]
        vu = v[positions(case, gen["bus"][rows])]
        s_gen = (pf.gen_p_mw[rows] + 1j * pf.gen_q_mvar[rows]) / case.base_mva
        kb = gen["mbase_mva"][rows] / case.base_mva
        ctx = _Ctx(z, sysm.units, f.unit, vu, s_gen, kb, wb, case.freq_hz)
        values = f.spec.init(f.p, ctx)
        bad = values.pop("_problems", [])
        problems += [Problem(f.spec.name, None, col, f"id {f.ids[k]}: {msg}", int(f.ids[k])) for k, col, msg in bad]
        for name, arr in values.items():
            j = f.spec.cols.index(name)
            z[f.col[:, j]] = arr
    if problems:
        raise ModelInitError("models cannot start in equilibrium:\n" + "\n".join(f"  - {p}" for p in problems))
    sig = sysm.families[[f.spec.family for f in sysm.families].index("signal")]
    if sig.n:
        sig.p[:, 0] = z[sig.col[:, 0]]
