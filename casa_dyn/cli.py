"""The ``casa-dyn`` command line: parse, delegate to the library, print.  No logic lives here.

Every ``CasaDynError`` becomes a message on stderr and exit code 1; click usage errors exit
with code 2.  Anything else escaping is a bug and keeps its traceback.
"""
from __future__ import annotations

import json

import click

from casa_dyn import __version__
from casa_dyn.errors import CasaDynError

_CASE = click.Path(dir_okay=False, path_type=str)


class _Group(click.Group):
    """Turns user errors raised by any command into a clean click error (exit code 1)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CasaDynError as e:
            raise click.ClickException(str(e)) from e


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="casa-dyn")
def cli():
    """casa_dyn: power-system transient stability with LCC HVDC."""


@cli.command()
@click.argument("case", type=_CASE)
def validate(case):
    """Check a case file and list every problem (exit 1 if there is any)."""
    from casa_dyn.io import read_case

    c = read_case(case)
    click.echo(f"{case}: valid casa_dyn case '{c.name}' (format version {c.format_version})")


@cli.command()
@click.argument("case", type=_CASE)
def info(case):
    """Summarize a case: element counts, totals, provenance."""
    from casa_dyn.case.summary import format_summary, summarize
    from casa_dyn.io import read_case

    click.echo(format_summary(summarize(read_case(case))))


@cli.command()
@click.argument("case", type=_CASE)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--tol", "tol_pu", type=click.FloatRange(min=0.0, min_open=True), default=1e-8,
              show_default=True, help="Largest power mismatch accepted, pu on the system base.")
@click.option("--max-iter", type=click.IntRange(min=1), default=30, show_default=True,
              help="Newton iterations before giving up.")
@click.option("--no-q-limits", is_flag=True, help="Ignore generator reactive limits.")
def pf(case, as_json, tol_pu, max_iter, no_q_limits):
    """Solve the AC power flow of a case and print voltages, outputs, flows and losses."""
    from casa_dyn.io import read_case
    from casa_dyn.network.powerflow import PowerFlowOptions, solve_power_flow
    from casa_dyn.network.report import power_flow_report

    c = read_case(case)
    opts = PowerFlowOptions(tol_pu=tol_pu, max_iter=max_iter, enforce_q_limits=not no_q_limits)
    res = solve_power_flow(c, opts, raise_on_failure=False)
    if as_json:
        click.echo(json.dumps(res.to_dict(c)))
    else:
        click.echo(power_flow_report(c, res))
    if not res.converged:
        raise click.ClickException(f"{case}: {res.message}")


@cli.command()
@click.argument("case", type=_CASE)
@click.option("--scenario", type=click.Path(dir_okay=False), help="Scenario TOML (events, options).")
@click.option("--fault", multiple=True, help="Bus fault BUS:T_ON:T_OFF[:R_PU:X_PU] (repeatable).")
@click.option("--trip-branch", multiple=True, help="Open a line ID:T or transformer:ID:T (repeatable).")
@click.option("--trip-gen", multiple=True, help="Trip a generator ID:T (repeatable).")
@click.option("--t-end", "t_end_s", type=click.FloatRange(min=0.0, min_open=True), help="Simulated time, s.")
@click.option("--dt", "dt_s", type=click.FloatRange(min=0.0, min_open=True), help="Step, s (default half a cycle).")
@click.option("--decimation", type=click.IntRange(min=1), help="Keep every k-th step.")
@click.option("--channels", multiple=True, help="Channel pattern to keep, e.g. 'bus/*/vm_pu' (repeatable).")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), required=True, help="Results HDF5 file.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as one JSON object.")
def run(case, scenario, fault, trip_branch, trip_gen, t_end_s, dt_s, decimation, channels, out, as_json):
    """Run a transient simulation and write its results (exit 1 unless it completes)."""
    from casa_dyn.io import read_case
    from casa_dyn.io.h5results import write_results
    from casa_dyn.io.scenario import read_scenario
    from casa_dyn.solver.event_text import parse_fault, parse_trip_branch, parse_trip_gen
    from casa_dyn.study.single import run_scenario

    c = read_case(case)
    sc = read_scenario(scenario) if scenario else None
    extra = ([parse_fault(x) for x in fault] + [parse_trip_branch(x) for x in trip_branch]
             + [parse_trip_gen(x) for x in trip_gen])
    res = run_scenario(c, sc, extra, t_end_s=t_end_s, dt_s=dt_s, decimation=decimation,
                       channels=tuple(channels) or None)
    write_results(res, out)
    summary = {**res.summary(), "output": out}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"{res.status}: {res.message}; {res.counters['steps']} steps, "
                   f"{res.counters['newton_iterations']} Newton iterations, "
                   f"{res.counters['factorizations']} factorizations, {res.wall_s:.3f} s wall; wrote {out}")
    if res.status != "completed":
        raise SystemExit(1)


def main(argv=None):
    """Console-script entry point (``casa-dyn``)."""
    cli.main(args=argv, prog_name="casa-dyn")


if __name__ == "__main__":
    main()
