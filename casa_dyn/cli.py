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


def _note_compile() -> None:
    """Say on stderr why a first run is slow (the answer to 'is it hanging?')."""
    from casa_dyn._jit import kernels_cached

    if not kernels_cached():
        click.echo("first run with these sources: compiling the simulation kernels "
                   "(1-3 minutes, once; later runs load them from the cache)", err=True)


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
    _note_compile()
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


@cli.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.argument("patterns", nargs=-1, required=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), required=True,
              help="Figure file: .png, .svg or .pdf.")
@click.option("--title", help="Figure title (default: case name and run status).")
@click.option("--t-range", "t_range", help="Time window START:END in s.")
def plot(results, patterns, out, title, t_range):
    """Plot channels of a results file against time: one panel per PATTERN (shell-style
    wildcards; join several with commas to share a panel), event instants marked."""
    from casa_dyn.io.h5results import read_results
    from casa_dyn.io.plots import parse_t_range, plot_channels

    panels = [[p for p in pat.split(",") if p] for pat in patterns]
    plotted = plot_channels(read_results(results), panels, out, title=title,
                            t_range=parse_t_range(t_range) if t_range else None)
    click.echo(f"wrote {out}: {len(panels)} panel(s), {sum(map(len, plotted))} channel(s)")


@cli.command()
@click.argument("case", type=_CASE)
@click.option("--band", "band", default="0.1:2.5", show_default=True,
              help="Frequency band LOW:HIGH in Hz (table; band search for large systems).")
@click.option("--method", type=click.Choice(["auto", "dense", "band"]), default="auto", show_default=True,
              help="dense: every eigenvalue; band: sparse shift-invert search of the band.")
@click.option("--top", "n_top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Rows in the table of least-damped modes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), help="Modes HDF5 file.")
@click.option("--vectors", is_flag=True, help="Also write right and left eigenvectors to the HDF5 file.")
@click.option("--plot", "fig", type=click.Path(dir_okay=False), help="Eigenvalue plot (PNG, PDF, SVG).")
def modes(case, band, method, n_top, as_json, out, vectors, fig):
    """Small-signal stability: eigenvalues, damping, participation and mode shapes."""
    from casa_dyn.io import read_case
    from casa_dyn.study.modes import ModeOptions, analyze_modes, format_mode_table, mode_table, parse_band

    res = analyze_modes(read_case(case), ModeOptions(band_hz=parse_band(band), method=method))
    table = mode_table(res, n=n_top)
    if out:
        from casa_dyn.io.h5modes import write_modes

        write_modes(res, out, table=table, vectors=vectors)
    if fig:
        from casa_dyn.io.plots import plot_eigenvalues

        plot_eigenvalues(res, fig, table=table)
    if as_json:
        click.echo(json.dumps({**res.summary(), "modes": table, "output": out, "plot": fig}))
    else:
        click.echo(format_mode_table(res, table))


@cli.command()
@click.argument("study", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False), required=True, help="Output folder.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: the CPUs this process may use; 1 = run in this "
                   "process); with --scheduler local, the number of Dask workers.")
@click.option("--scheduler", help="Dask scheduler address (tcp://host:port), or 'local' for a local Dask cluster.")
@click.option("--shard", help="Run only the I-th of N disjoint slices (1-based), e.g. 3/8 (SLURM job arrays).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def batch(study, out_dir, workers, scheduler, shard, no_progress):
    """Run every scenario of a study once (resumable) and write the summary table."""
    import os

    from casa_dyn.study.batch import BatchOptions, parse_shard, run_batch

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = workers or cpus
    opts = BatchOptions(workers=n, scheduler=scheduler, shard=parse_shard(shard) if shard else None,
                        progress=not no_progress)
    _note_compile()
    report = run_batch(study, out_dir, opts)
    click.echo(report.line())
    if report.infra_errors:
        for e in report.infra_errors[:10]:
            click.echo(f"  no result: {e}", err=True)
        raise click.ClickException(f"{len(report.infra_errors)} task(s) have no result; run the same command "
                                   "again to retry them")


@cli.command()
@click.argument("results", type=click.Path(dir_okay=False))
@click.option("--case", "case_path", type=_CASE, help="Case file, for the inertia weights of the centre of "
              "inertia (not needed for batch result files, which store them).")
@click.option("--rocof-window", "rocof_window_s", type=click.FloatRange(min=0.0, min_open=True), default=0.5,
              show_default=True, help="RoCoF averaging window, s.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def metrics(results, case_path, rocof_window_s, as_json):
    """Stability metrics of a results file (angles, frequency, voltage, HVDC)."""
    from casa_dyn.study.metrics import METRICS
    from casa_dyn.study.commands import metrics_of_file

    m, weighting = metrics_of_file(results, case_path, rocof_window_s)
    if as_json:
        click.echo(json.dumps({**m, "coi_weighting": weighting}))
        return
    click.echo(f"{results}: COI weights: {weighting}")
    for name, unit, doc in METRICS:
        v = m[name]
        text = "n/a" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v))
        click.echo(f"  {name:<20} {text:>12} {unit:<5} {doc}")


@cli.command()
@click.argument("case", type=_CASE)
@click.option("--fault-bus", type=int, required=True, help="Bus of the three-phase fault.")
@click.option("--trip-branch", help="Branch opened at clearing: ID (a line) or transformer:ID; "
              "default: the fault is cleared without tripping anything.")
@click.option("--tol-ms", type=click.FloatRange(min=0.0, min_open=True), default=1.0, show_default=True,
              help="Tolerance (grid step) of the clearing time, ms.")
@click.option("--t-fault", "t_on_s", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Fault instant, s.")
@click.option("--max-clearing-ms", type=click.FloatRange(min=0.0, min_open=True), default=1000.0,
              show_default=True, help="Largest clearing time tried, ms.")
@click.option("--t-end", "t_end_s", type=click.FloatRange(min=0.0, min_open=True),
              help="Simulated time, s (default: fault + largest clearing time + 3 s).")
@click.option("--dt", "dt_s", type=click.FloatRange(min=0.0, min_open=True), help="Step, s (default half a cycle).")
@click.option("--dynamics", type=click.Choice(["classical", "full"]),
              help="Replace the case's dynamic data by a typical preset.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def cct(case, fault_bus, trip_branch, tol_ms, t_on_s, max_clearing_ms, t_end_s, dt_s, dynamics, as_json):
    """Critical clearing time of a fault, by bisection between a stable and an unstable run."""
    from casa_dyn.io import read_case
    from casa_dyn.study.commands import cct_for_case

    c = read_case(case)
    _note_compile()
    r = cct_for_case(c, fault_bus, trip_branch, tol_s=tol_ms / 1000.0, t_on_s=t_on_s,
                     max_clearing_s=max_clearing_ms / 1000.0, t_end_s=t_end_s, dt_s=dt_s, dynamics=dynamics)
    if as_json:
        click.echo(json.dumps(r.to_dict()))
    else:
        click.echo(f"{r.status}: {r.message}")
    if r.status != "found":
        raise SystemExit(1)


@cli.command()
@click.argument("raw", type=click.Path(dir_okay=False))
@click.argument("dyr", type=click.Path(dir_okay=False), required=False)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), required=True,
              help="Case HDF5 file to write.")
@click.option("--strict", is_flag=True, help="Fail if any RAW record or DYR model is not converted.")
@click.option("--check-pf", is_flag=True,
              help="Solve the power flow and report the largest difference from the RAW voltages.")
@click.option("--json", "as_json", is_flag=True, help="Print the conversion report as one JSON object.")
def convert(raw, dyr, out, strict, check_pf, as_json):
    """Convert a PSS/E RAW file (versions 32-35) and an optional DYR file into a case file."""
    from casa_dyn.io import write_case
    from casa_dyn.io.psse import ConvertOptions, psse_to_case
    from casa_dyn.io.psse.convert import compare_with_raw

    case, report = psse_to_case(raw, dyr, ConvertOptions(strict=strict))
    write_case(case, out)
    check = compare_with_raw(case, raw) if check_pf else None
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "output": out, "power_flow": check}))
        return
    click.echo("\n".join(report.lines()))
    if check is not None:
        click.echo(f"  power flow: {check['message']}")
        if check["converged"]:
            click.echo(f"  largest difference from the RAW voltages: {check['vm_pu']:.3g} pu "
                       f"(bus {check['vm_bus']}), {check['va_deg']:.3g} deg (bus {check['va_bus']})")
    click.echo(f"wrote {out}")


def main(argv=None):
    """Console-script entry point (``casa-dyn``)."""
    cli.main(args=argv, prog_name="casa-dyn")


if __name__ == "__main__":
    main()
