"""Typical dynamic data for cases that have none (synthetic grids, quick what-if studies).

Every in-service generator gets the same per-unit data on its own machine base.  Sources:
machine data are Kundur's two-area example (Kundur 1994, Example 12.6; REFERENCE.md §4.2),
the exciter is Kundur's thyristor exciter gain and transducer (KA 200, TR 0.01 s) in SEXS form,
and the governor uses PSS/E's TGOV1 example values (R 0.05, T1 0.5 s, T2 1 s, T3 3 s; the
PSS/E Model Library data sheet example).  Tables whose schema is not registered are skipped.
"""
from __future__ import annotations

import numpy as np

from casa_dyn.case import schema
from casa_dyn.case.case import Case, normalize_table

#: per-unit parameter sets; keys are table columns
GENCLS = {"h_s": 6.5, "d_pu": 0.0, "ra_pu": 0.0025, "xdp_pu": 0.3}
GENROU = {"t_d0p_s": 8.0, "t_d0pp_s": 0.03, "t_q0p_s": 0.4, "t_q0pp_s": 0.05, "h_s": 6.5, "d_pu": 0.0,
          "xd_pu": 1.8, "xq_pu": 1.7, "xdp_pu": 0.3, "xqp_pu": 0.55, "xdpp_pu": 0.25, "xl_pu": 0.2,
          "s10": 0.0392, "s12": 0.2227, "ra_pu": 0.0025}
# Kundur's thyristor exciter without transient gain reduction; the field-voltage limits are
# assumed (+/-5 pu: typical ceiling of a static exciter), the book gives none
SEXS = {"ta_tb": 1.0, "tb_s": 1.0, "k": 200.0, "te_s": 0.0, "emin_pu": -5.0, "emax_pu": 5.0, "tr_s": 0.01}
TGOV1 = {"r_pu": 0.05, "t1_s": 0.5, "v_max_pu": 1.2, "v_min_pu": 0.0, "t2_s": 1.0, "t3_s": 3.0, "dt_pu": 0.0}

PRESETS = {
    "classical": (("gencls", GENCLS),),
    "full": (("genrou", GENROU), ("sexs", SEXS), ("tgov1", TGOV1)),
}


def add_typical_dynamics(case: Case, preset: str = "full") -> Case:
    """Return a copy of ``case`` with one row per in-service generator in each model table of
    the preset (existing model tables are replaced)."""
    known = schema.tables()
    out = case.copy()
    gen = out["generator"]
    ids = gen["id"][gen["in_service"] == 1]
    for name, values in PRESETS[preset]:
        if name not in known:
            continue
        data = {"id": ids.copy(), "gen": ids.copy()}
        data.update({k: np.full(len(ids), v) for k, v in values.items()})  # unknown keys raise
        out.tables[name] = normalize_table(known[name], data)
    return out
