"""A study, as read from its TOML file (docs/studies.md): plain frozen dataclasses, no logic
beyond defaults.  ``casa_dyn.io.study_toml`` builds them and checks keys and types;
``casa_dyn.study.scenarios`` checks references against the cases and expands scenarios.
"""
from __future__ import annotations

from dataclasses import dataclass

from casa_dyn.errors import ScenarioError


class StudyError(ScenarioError):
    """A study file that cannot run: unknown keys, wrong types, missing elements.  The message
    lists every problem found, each naming its key and value."""


@dataclass(frozen=True)
class CaseRef:
    label: str
    path: str                      # absolute
    dynamics: str | None = None    # typical-data preset replacing the case's dynamic tables


@dataclass(frozen=True)
class Fault:
    """Timing and impedance of a generated three-phase fault."""

    t_on_s: float = 1.0
    clearing_time_s: float = 0.1   # fault duration: cleared at t_on_s + clearing_time_s
    r_pu: float = 0.0
    x_pu: float = 0.0


@dataclass(frozen=True)
class N1Branch:
    """Each in-service branch: a fault at each chosen end, cleared by tripping the branch."""

    where: str
    cases: tuple[str, ...]
    tables: tuple[str, ...] = ("line", "transformer")
    branches: tuple[int, ...] | None = None
    ends: tuple[str, ...] = ("from", "to")
    fault: Fault = Fault()


@dataclass(frozen=True)
class BusFaults:
    """A fault at every bus at or above ``min_kv`` (or at the listed buses), cleared without
    tripping anything."""

    where: str
    cases: tuple[str, ...]
    min_kv: float = 0.0
    buses: tuple[int, ...] | None = None
    fault: Fault = Fault()


@dataclass(frozen=True)
class GenTrips:
    where: str
    cases: tuple[str, ...]
    gens: tuple[int, ...] | None = None
    t_s: float = 1.0


@dataclass(frozen=True)
class Explicit:
    """One hand-written scenario: events (same keys as a scenario file) and option overrides."""

    where: str
    name: str
    cases: tuple[str, ...]
    events: tuple = ()
    options: tuple = ()            # sorted (key, value) pairs


@dataclass(frozen=True)
class Sweep:
    """One swept parameter; a study runs the cross product of its sweeps.

    ``parameter``: clearing_time_s | load_scale | inverter_scr | hvdc_power_order_mw | case_value.
    ``table``/``id``/``column``: the element changed (inverter_scr: the equivalent branch;
    hvdc_power_order_mw and case_value: any column of one element).  ``p_dc_mw`` and
    ``angle_deg`` define the SCR (see ``casa_dyn.study.modify``)."""

    where: str
    parameter: str
    values: tuple[float, ...]
    table: str | None = None
    id: int | None = None
    column: str | None = None
    p_dc_mw: float | None = None
    angle_deg: float | None = None


@dataclass(frozen=True)
class CctRequest:
    """Critical clearing time of faults at ``fault_buses``, each cleared by tripping
    ``trip_branch`` (or nothing), or of every branch fault (``all_branches``)."""

    where: str
    cases: tuple[str, ...]
    fault_buses: tuple[int, ...] = ()
    trip_table: str = "line"
    trip_branch: int | None = None
    all_branches: bool = False
    tables: tuple[str, ...] = ("line", "transformer")
    ends: tuple[str, ...] = ("from", "to")
    tol_s: float = 0.001
    t_on_s: float = 1.0
    max_clearing_s: float = 1.0
    r_pu: float = 0.0
    x_pu: float = 0.0


@dataclass(frozen=True)
class MetricOptions:
    rocof_window_s: float = 0.5
    loss_of_sync_deg: float = 180.0
    hvdc_recovery_fraction: float = 0.9

    def to_dict(self) -> dict:
        return {"rocof_window_s": self.rocof_window_s, "loss_of_sync_deg": self.loss_of_sync_deg,
                "hvdc_recovery_fraction": self.hvdc_recovery_fraction}


@dataclass(frozen=True)
class Criterion:
    metric: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class OutputOptions:
    keep: str = "all"              # trajectories kept for: all | violations | none
    channels: tuple[str, ...] = ()  # fnmatch patterns; empty = every channel
    decimation: int = 1


@dataclass(frozen=True)
class Study:
    name: str
    purpose: str
    source: str                    # the study file
    cases: tuple[CaseRef, ...]
    options: tuple = ()            # SimOptions overrides, sorted (key, value) pairs
    generators: tuple = ()         # N1Branch | BusFaults | GenTrips | Explicit, in file order
    sweeps: tuple[Sweep, ...] = ()
    cct: tuple[CctRequest, ...] = ()
    metrics: MetricOptions = MetricOptions()
    criteria: tuple[Criterion, ...] = ()
    output: OutputOptions = OutputOptions()

    def case(self, label: str) -> CaseRef:
        for c in self.cases:
            if c.label == label:
                return c
        raise KeyError(label)
