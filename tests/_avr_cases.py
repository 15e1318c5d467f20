"""Cases for the exciter and stabilizer tests: the Kundur two-area case with its controller
tables swapped, and a single-machine-infinite-bus (SMIB) case built from Kundur's G1 data.

Controller data used here that are not in a reference case are *test inputs*: typical values
(sources named next to them) chosen to exercise every block; the tests derive their expected
numbers from these inputs by hand, never from a previous run.
"""
from __future__ import annotations

import importlib.util
import pathlib

import numpy as np

from casa_dyn.case import schema
from casa_dyn.case.case import Case, normalize_table
from casa_dyn.io import read_case

ROOT = pathlib.Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"


def kundur_source():
    spec = importlib.util.spec_from_file_location("kundur_src", CASES / "src" / "kundur2area.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def kundur() -> Case:
    return read_case(str(CASES / "kundur2area.h5"))


def set_table(case: Case, name: str, rows: list[dict]) -> Case:
    """Copy of ``case`` with model table ``name`` replaced by ``rows`` (one dict per row)."""
    out = case.copy()
    out.tables[name] = normalize_table(schema.get(name), {k: [r[k] for r in rows] for k in rows[0]})
    return out


def drop(case: Case, *names: str) -> Case:
    out = case.copy()
    for n in names:
        out.tables.pop(n, None)
    return out


def drop_rows(case: Case, name: str, gen: int) -> Case:
    out = case.copy()
    t = out.tables[name]
    keep = t["gen"] != gen
    out.tables[name] = {k: v[keep] for k, v in t.items()}
    return out


# ---------------------------------------------------------------- typical exciter data
# IEEET1: the typical values OpenIPSL uses as defaults of its PSS/E-verified IEEET1 (KA 40,
# TA 0.04, VRMAX/VRMIN +-7.3, KE 1, TE 0.8, KF 0.03, TF 1, E1 2.4, SE1 0.03, E2 5, SE2 0.5),
# with TR = 0.02 s.  At Kundur's operating point (efd0 ~ 2.05) the saturation is active
# (A = 1.869 pu < efd0).
IEEET1 = dict(tr_s=0.02, ka=40.0, ta_s=0.04, vrmax_pu=7.3, vrmin_pu=-7.3, ke=1.0, te_s=0.8, kf=0.03,
              tf_s=1.0, switch=0.0, e1_pu=2.4, se1=0.03, e2_pu=5.0, se2=0.5)
# EXST1: OpenIPSL's EXST1 defaults (TR 0.02, VIMAX 0.2, VIMIN 0, TC 1, TB 1, KA 80, TA 0.05,
# VRMAX 8, VRMIN -3, KC 0.2, KF 0.1, TF 1), with TC = 0.5 so the lead-lag is not unity.
EXST1 = dict(tr_s=0.02, vimax_pu=0.2, vimin_pu=0.0, tc_s=0.5, tb_s=1.0, ka=80.0, ta_s=0.05,
             vrmax_pu=8.0, vrmin_pu=-3.0, kc=0.2, kf=0.1, tf_s=1.0)
# ESST1A: PES-TR18's New England regulator (TR 0.01, TC 1, TB 10, KA 200, TA 0.015, VAMAX/VAMIN
# +-5; cases/src/ieee39.py) with OpenIPSL-default KC 0.2, KF 0.03, TF 1, KLR 4.54 so the rectifier
# regulation and rate feedback are exercised; per unit the variants below switch VOS, add a
# second lead-lag and make the field-current limiter active at t = 0 (ILR below XadIfd0 ~ 2.05).
ESST1A = dict(uel=1, vos=1, tr_s=0.01, vimax_pu=999.0, vimin_pu=-999.0, tc_s=1.0, tb_s=10.0,
              tc1_s=0.0, tb1_s=0.0, ka=200.0, ta_s=0.015, vamax_pu=5.0, vamin_pu=-5.0,
              vrmax_pu=9.0, vrmin_pu=-5.43, kc=0.2, kf=0.03, tf_s=1.0, klr=4.54, ilr_pu=4.4)
ESST1A_UNITS = {1: {}, 2: {"vos": 2, "uel": 2}, 3: {"ilr_pu": 1.8}, 4: {"tc1_s": 0.2, "tb1_s": 0.05}}


def rows(model_data: dict, per_unit: dict | None = None, gens=(1, 2, 3, 4)) -> list[dict]:
    out = []
    for g in gens:
        r = {"id": g, "gen": g, **model_data}
        r.update((per_unit or {}).get(g, {}))
        out.append(r)
    return out


def kundur_with(exciter: str, pss: bool = True) -> Case:
    """Kundur's case with its SEXS rows replaced by another exciter model (test data above)."""
    base = kundur() if pss else drop(kundur(), "ieeest")
    if exciter == "sexs":
        return base
    data = {"ieeet1": rows(IEEET1), "exst1": rows(EXST1), "esst1a": rows(ESST1A, ESST1A_UNITS)}[exciter]
    return set_table(drop(base, "sexs"), exciter, data)


# ---------------------------------------------------------------- SMIB from Kundur's G1
#: line reactance between the machine terminal and the infinite bus (pu on 100 MVA)
SMIB_X_PU = 0.05


def smib(models: dict | None = None, p_mw: float = 700.0) -> Case:
    """Kundur's G1 (GENROU, 900 MVA, 700 MW at 1.03 pu) on a 0.05 pu line to an infinite bus:
    a classical machine of 1e5 MVA with H = 1000 s and X'd = 0.001 pu (its voltage and speed
    do not move measurably).  ``models``: {table: row dict} for generator 1's controllers."""
    gr = dict(kundur_source().DYNAMIC["genrou"][0])
    tables = {
        "bus": {"id": [1, 2], "base_kv": [20.0, 230.0], "type": [2, 3], "vm_pu": [1.03, 1.0]},
        "line": {"id": [1021], "from_bus": [1], "to_bus": [2], "r_pu": [0.0], "x_pu": [SMIB_X_PU]},
        "generator": {"id": [1, 2], "bus": [1, 2], "p_mw": [p_mw, 0.0], "vm_set_pu": [1.03, 1.0],
                      "mbase_mva": [900.0, 1e5]},
        "genrou": {k: [v] for k, v in gr.items()},
        "gencls": {"id": [2], "gen": [2], "h_s": [1e3], "xdp_pu": [1e-3]},
    }
    for name, row in (models or {}).items():
        tables[name] = {k: [v] for k, v in {"id": 1, "gen": 1, **row}.items()}
    return Case.from_tables("smib", tables, base_mva=100.0, freq_hz=60.0)


def at(t_s: np.ndarray, x: np.ndarray, t: float) -> float:
    """Value of a recorded channel at the first sample at or after time t."""
    return float(x[np.searchsorted(t_s, t - 1e-9)])
