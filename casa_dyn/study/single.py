"""One simulation from a case, a scenario and command-line overrides (what ``casa-dyn run``
and notebooks call)."""
from __future__ import annotations

import dataclasses

from casa_dyn.io.scenario import Scenario
from casa_dyn.solver.options import SimOptions
from casa_dyn.solver.results import Results


def merge_options(scenario: Scenario | None, **overrides) -> SimOptions:
    """Scenario options, then non-None overrides, on top of the defaults."""
    base = dict(scenario.options) if scenario else {}
    base.update({k: v for k, v in overrides.items() if v is not None})
    return dataclasses.replace(SimOptions(), **base)


def run_scenario(case, scenario: Scenario | None = None, extra_events=(), **overrides) -> Results:
    from casa_dyn.solver.simulate import simulate

    events = tuple(scenario.events if scenario else ()) + tuple(extra_events)
    return simulate(case, events, merge_options(scenario, **overrides))
